//! One module per subcommand, plus what they share: output format and progress display.

pub mod big_segments_file;
pub mod diff;
pub mod docs;
pub mod dump;
pub mod dynamodb;
pub mod eval;
pub mod inspect;
pub mod membership;
pub mod prune;
pub mod relay;
pub mod sync;
pub mod sync_envs;
pub mod validate;

use std::io::IsTerminal;

use crate::shutdown::Shutdown;
use crate::store::Progress;

/// What every command gets besides its own arguments.
pub struct Ctx {
    /// `--output json`.
    pub json: bool,
    pub quiet: bool,
    /// SIGINT/SIGTERM, for commands that stop cleanly by themselves (`sync`).
    pub shutdown: Shutdown,
}

impl Ctx {
    pub fn new(json: bool, quiet: bool) -> Ctx {
        Ctx { json, quiet, shutdown: Shutdown::never() }
    }

    pub fn json(&self) -> bool {
        self.json
    }

    /// A progress bar on stderr when it is a terminal (and not quiet); nothing otherwise.
    pub fn progress(&self, what: &str) -> Box<dyn Progress> {
        if self.quiet || !std::io::stderr().is_terminal() {
            return Box::new(crate::store::NoProgress);
        }
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(bar_style());
        bar.set_message(what.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Box::new(Bar(bar))
    }

    /// A line for people on stderr (suppressed by --quiet).
    pub fn note(&self, msg: &str) {
        if !self.quiet {
            crate::stderr_line!("{}", crate::secrets::mask(msg));
        }
    }
}

struct Bar(indicatif::ProgressBar);

fn bar_style() -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} items ({elapsed})")
        .expect("valid template")
        .progress_chars("=> ")
}

impl Progress for Bar {
    fn set_total(&self, items: u64) {
        self.0.set_style(bar_style());
        self.0.set_length(items);
        self.0.set_position(0);
    }
    fn set_total_unknown(&self) {
        self.0.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} {pos} items ({elapsed})").expect("valid template"),
        );
    }
    fn advance(&self, items: u64) {
        self.0.inc(items);
    }
    fn message(&self, msg: &str) {
        self.0.set_message(msg.to_string());
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// Human-readable byte count.
pub fn human_bytes(n: usize) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

/// A table in the project's style.
pub fn table(header: &[&str]) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(header.iter().map(comfy_table::Cell::new));
    t
}

/// Print JSON to stdout (secrets and URL passwords masked, as everywhere). A reader that went
/// away is no error (the command's exit code stands); a full disk is exit 2.
pub fn print_json(v: &serde_json::Value) -> anyhow::Result<()> {
    print_text(&format!("{}\n", serde_json::to_string_pretty(v).expect("serializable")))
}

/// Print text to stdout, masked, by the rules of [`print_json`].
pub fn print_text(text: &str) -> anyhow::Result<()> {
    let text = crate::secrets::mask(text);
    crate::output::write_stdout(|w| Ok(w.write_all(text.as_bytes())?))
}
