//! `ldstore completions` and `ldstore man`: generated from the clap definitions.

use std::path::Path;

use std::path::PathBuf;

use anyhow::Result;

use crate::exit::{self, ExitCode};
use crate::output;

/// The completion script of `cmd` (ldstore's clap definition) for `shell`.
pub fn completions(shell: clap_complete::Shell, mut cmd: clap::Command) -> Result<ExitCode> {
    // Generated into memory first: clap_complete panics when its output fails.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "ldstore", &mut script);
    output::write_stdout(|w| Ok(w.write_all(&script)?))?;
    Ok(exit::SUCCESS)
}

fn render(cmd: &clap::Command) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    Ok(buf)
}

/// Every man page: `ldstore.1` and `ldstore-<sub>.1` for each subcommand (recursively).
pub fn man_pages(mut cmd: clap::Command) -> Result<Vec<(String, Vec<u8>)>> {
    cmd.build();
    let mut pages = vec![("ldstore.1".to_string(), render(&cmd)?)];
    fn walk(parent: &str, cmd: &clap::Command, pages: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
        for sub in cmd.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let name = format!("{parent}-{}", sub.get_name());
            let named = sub.clone().name(name.clone());
            pages.push((format!("{name}.1"), render(&named)?));
            walk(&name, sub, pages)?;
        }
        Ok(())
    }
    walk("ldstore", &cmd, &mut pages)?;
    Ok(pages)
}

/// The man pages of `cmd`: `ldstore.1` on standard output, or every page into `dir`.
pub fn man(dir: Option<PathBuf>, cmd: clap::Command) -> Result<ExitCode> {
    let pages = man_pages(cmd)?;
    match dir {
        None => output::write_stdout(|w| Ok(w.write_all(&pages[0].1)?))?,
        Some(dir) => {
            output::create_dir(&dir)?;
            for (name, bytes) in pages {
                output::write_file_blocking(&Path::new(&dir).join(name), |w| Ok(w.write_all(&bytes)?))?;
            }
        }
    }
    Ok(exit::SUCCESS)
}
