//! The settings layer: everything resolved before a command runs. Command-line flags (`cli`), the
//! Relay Proxy's environment variables (read only through [`vars`]) and its configuration file
//! ([`relay_conf`]) become plain values the commands, sources and stores consume.
//!
//! - [`store`]: which store and prefix (`--redis`/`USE_REDIS`/`[Redis]` …);
//! - [`vars`]: the process environment, and the one boolean parser for switches;
//! - [`relay_conf`]: the Relay Proxy configuration file reader;
//! - [`source_spec`]: source operands (`ld`, files, `redis://…?prefix=` …);
//! - [`ld`]: LaunchDarkly's SDK key, endpoints, filter and timeout;
//! - [`envs`]: the environments of a Relay config and `LD_ENV_<name>` variables (multi-environment
//!   `sync`, `relay`), and `relay`'s settings;
//! - [`table`]: the `dynamodb` command's table settings;
//! - [`commands`]: each command's settings, resolved from its clap arguments.

pub mod commands;
pub mod envs;
pub mod ld;
pub mod relay_conf;
pub mod source_spec;
pub mod store;
pub mod table;
pub mod vars;

pub use source_spec::{ResolvedSource, SourceSpec, ld_source, parse_spec, resolve_source};
pub use store::*;
pub use vars::{Env, ProcessEnv};

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// The layering rules of the settings layer, checked on the source: only `cli.rs`, `lib.rs` and
    /// this tree use the clap types; only `config/vars.rs` reads the process environment.
    #[test]
    fn only_the_settings_layer_sees_clap_and_the_environment() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let mut violations = Vec::new();
        for f in files {
            let rel = f.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&f).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                let clap_types = code.contains("crate::cli") || code.contains("cli::");
                // The clap crate itself: only the definitions, the settings layer, and the
                // completion/man generator (which renders the clap definition it is given).
                let clap_crate = code.contains(concat!("clap", "::")) && rel != "commands/docs.rs";
                // The fuzz targets (src/fuzz/) drive the settings layer the way the command line does.
                let settings_side =
                    rel == "cli.rs" || rel == "lib.rs" || rel.starts_with("config/") || rel.starts_with("fuzz/");
                if (clap_types || clap_crate) && !settings_side {
                    violations.push(format!("src/{rel}:{}: clap types outside cli/config/lib: {line}", n + 1));
                }
                // (Spelled in pieces so this line does not match itself.)
                let env_read = [concat!("std::", "env::"), concat!("env::", "var"), concat!("var_", "os(")]
                    .iter()
                    .any(|p| code.contains(p));
                // (The fuzz driver, a separate binary, reads its own command line.)
                if env_read && rel != "config/vars.rs" && rel != "bin/fuzz.rs" {
                    violations.push(format!("src/{rel}:{}: environment read outside config/vars.rs: {line}", n + 1));
                }
            }
        }
        assert!(violations.is_empty(), "{}", violations.join("\n"));
    }
}
