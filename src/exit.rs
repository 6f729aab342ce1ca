//! Exit codes (stable, documented in `--help` and the README) and the one place errors are printed.

use crate::secrets;

/// Everything went as asked.
pub const SUCCESS: i32 = 0;
/// The answer is "no": differences found, validation failed.
pub const NO: i32 = 1;
/// Usage or configuration error (also: an output file or standard output cannot be written).
pub const USAGE: i32 = 2;
/// Store error: unreachable, denied, wrong schema, write failed.
pub const STORE: i32 = 3;
/// LaunchDarkly (or other data source) error: bad SDK key, malformed payload.
pub const SOURCE: i32 = 4;
/// Partial success: some items could not be stored and were named.
pub const PARTIAL: i32 = 5;
/// Internal error: a bug in ldstore (a panic), reported in one line instead of a backtrace.
pub const INTERNAL: i32 = 70;
/// Interrupted (SIGINT).
pub const INTERRUPTED: i32 = 130;
/// Stopped by SIGTERM.
pub const TERMINATED: i32 = 143;

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success
  1    the answer is \"no\" (differences found, validation failed)
  2    usage or configuration error; an output file cannot be written
  3    store error (unreachable, denied, wrong schema, write failed)
  4    LaunchDarkly or data-source error (rejected SDK key, malformed data)
  5    partial success (some items could not be stored; they are named)
  70   internal error (a bug in ldstore; please report it)
  130  interrupted (SIGINT)
  143  stopped by SIGTERM";

/// A usage or configuration error (exit 2), with an optional hint.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    pub message: String,
    pub hint: Option<String>,
}

impl UsageError {
    pub fn new(message: impl Into<String>) -> Self {
        UsageError { message: message.into(), hint: None }
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Shorthand for returning a usage error from a function returning `anyhow::Result`.
#[macro_export]
macro_rules! usage {
    ($($arg:tt)*) => { ::anyhow::Error::new($crate::exit::UsageError::new(format!($($arg)*))) };
}

/// Interrupted by a signal (exit 130 for SIGINT, 143 for SIGTERM), with what was left behind.
#[derive(Debug, thiserror::Error)]
#[error("interrupted by {}{}", .signal.name(), .detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
pub struct Interrupted {
    pub signal: crate::shutdown::Signal,
    /// What the command did before it stopped (what was written, what is left to do).
    pub detail: Option<String>,
}

impl Interrupted {
    pub fn new(signal: crate::shutdown::Signal, detail: Option<String>) -> Interrupted {
        Interrupted { signal, detail }
    }
}

/// The exit code an error maps to: the first classified error in the cause chain decides.
pub fn code_for(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if cause.downcast_ref::<UsageError>().is_some() {
            return USAGE;
        }
        if let Some(i) = cause.downcast_ref::<Interrupted>() {
            return i.signal.exit_code();
        }
        if let Some(s) = cause.downcast_ref::<crate::store::StoreError>() {
            return match s {
                crate::store::StoreError::Interrupted(i) => i.signal.exit_code(),
                _ => STORE,
            };
        }
        if cause.downcast_ref::<crate::source::SourceError>().is_some() {
            return SOURCE;
        }
        if cause.downcast_ref::<clap::Error>().is_some() {
            return USAGE;
        }
    }
    STORE
}

pub fn hint_for(err: &anyhow::Error) -> Option<String> {
    for cause in err.chain() {
        if let Some(u) = cause.downcast_ref::<UsageError>()
            && let Some(h) = &u.hint
        {
            return Some(h.clone());
        }
        if let Some(s) = cause.downcast_ref::<crate::store::StoreError>()
            && let Some(h) = s.hint()
        {
            return Some(h);
        }
        if let Some(s) = cause.downcast_ref::<crate::source::SourceError>()
            && let Some(h) = s.hint()
        {
            return Some(h);
        }
    }
    None
}

/// The one place errors are printed: `ldstore: error: top: cause: cause` on one line, then a hint.
pub fn report(err: &anyhow::Error) -> i32 {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let s = cause.to_string();
        // Skip causes whose text is already contained in the previous part (common with wrappers).
        if parts.last().is_some_and(|p| p.contains(&s)) {
            continue;
        }
        parts.push(s);
    }
    let line = secrets::mask(&parts.join(": "));
    eprintln!("ldstore: error: {}", line.replace('\n', " "));
    if let Some(h) = hint_for(err) {
        eprintln!("hint: {}", secrets::mask(&h));
    }
    code_for(err)
}

static PANIC_EXIT: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(INTERNAL);

/// The exit code after a panic: [`INTERNAL`] for a bug, or what the panic hook decided for standard
/// output that could not be written.
pub fn panic_exit_code() -> i32 {
    PANIC_EXIT.load(std::sync::atomic::Ordering::SeqCst)
}

/// Print panics as one `ldstore: error: internal error: ...` line (secrets masked) with a hint,
/// instead of Rust's message; `RUST_BACKTRACE=1` adds the backtrace for a bug report.
///
/// Standard output that fails under `println!` (a full disk; a reader that went away) is no bug:
/// it is "cannot write standard output: …" (exit 2), or nothing at all for a broken pipe (exit 0).
/// [`panic_exit_code`] gives the code.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        // std's own words when `print!`/`println!` cannot write.
        if let Some(why) = msg.strip_prefix("failed printing to stdout: ") {
            if why.starts_with("Broken pipe") {
                PANIC_EXIT.store(SUCCESS, std::sync::atomic::Ordering::SeqCst);
            } else {
                PANIC_EXIT.store(USAGE, std::sync::atomic::Ordering::SeqCst);
                eprintln!("ldstore: error: cannot write standard output: {why}");
            }
            return;
        }
        let at = info.location().map(|l| format!(" (at {}:{})", l.file(), l.line())).unwrap_or_default();
        eprintln!("ldstore: error: internal error: {}{at}", secrets::mask(&msg).replace('\n', " "));
        eprintln!(
            "hint: this is a bug in ldstore; please report it with the command you ran (RUST_BACKTRACE=1 shows where it happened)"
        );
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            eprintln!("{}", std::backtrace::Backtrace::force_capture());
        }
    }));
}
