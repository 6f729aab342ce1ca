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
//! - [`table`]: the `dynamodb` command's table settings.

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
