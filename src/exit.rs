//! Exit codes (stable, documented in `--help` and the README) and the one place errors are printed.
//!
//! Each error type says its own exit code and hint by implementing [`Classified`] in its own module
//! ([`UsageError`] and [`Interrupted`] here, `StoreError` in `store`, `SourceError` in `source`,
//! `clap::Error` in `cli`). The printer ([`report`]) walks the `anyhow` cause chain and asks each
//! cause through the list of [`Classify`] functions it is given (assembled once, in `lib.rs`); this
//! module depends on nothing above it.
//!
//! **The rule for an error nothing classifies**: it is exit 70 ([`ExitCode::Internal`]), printed as
//! it is with a hint asking for a bug report. Every error ldstore expects to meet has a type that
//! says its code; an unclassified one is an OS failure outside any store or source (the async
//! runtime or the signal handlers cannot be set up) or a bug (a task that panicked), never a
//! store error by default.

use crate::secrets;

/// The process exit codes, with their documented meanings (`--help`, the README's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ExitCode {
    /// Everything went as asked.
    Success = 0,
    /// The answer is "no": differences found, validation failed.
    No = 1,
    /// Usage or configuration error (also: an output file or standard output cannot be written).
    Usage = 2,
    /// Store error: unreachable, denied, wrong schema, write failed.
    Store = 3,
    /// LaunchDarkly (or other data source) error: bad SDK key, malformed payload.
    Source = 4,
    /// Partial success: some items could not be stored and were named.
    Partial = 5,
    /// Internal error: a bug in ldstore (a panic, an error nothing classifies), in one line.
    Internal = 70,
    /// Interrupted (SIGINT).
    Interrupted = 130,
    /// Stopped by SIGTERM.
    Terminated = 143,
}

impl ExitCode {
    /// The number the process exits with.
    pub const fn code(self) -> i32 {
        self as i32
    }

    /// How bad an outcome is, for "the worst exit code" of many (a multi-environment sync):
    /// success < no < partial < source < store < usage < anything else.
    pub fn severity(self) -> u8 {
        match self {
            ExitCode::Success => 0,
            ExitCode::No => 1,
            ExitCode::Partial => 2,
            ExitCode::Source => 3,
            ExitCode::Store => 4,
            ExitCode::Usage => 5,
            ExitCode::Internal | ExitCode::Interrupted | ExitCode::Terminated => 6,
        }
    }
}

impl From<ExitCode> for i32 {
    fn from(c: ExitCode) -> i32 {
        c.code()
    }
}

impl std::fmt::Display for ExitCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code())
    }
}

/// Shorthands for the exit codes (`Ok(exit::SUCCESS)`).
pub const SUCCESS: ExitCode = ExitCode::Success;
pub const NO: ExitCode = ExitCode::No;
pub const USAGE: ExitCode = ExitCode::Usage;
pub const STORE: ExitCode = ExitCode::Store;
pub const SOURCE: ExitCode = ExitCode::Source;
pub const PARTIAL: ExitCode = ExitCode::Partial;
pub const INTERNAL: ExitCode = ExitCode::Internal;
pub const INTERRUPTED: ExitCode = ExitCode::Interrupted;
pub const TERMINATED: ExitCode = ExitCode::Terminated;

/// An error that knows its exit code and, where one helps, a hint for the user.
pub trait Classified {
    fn exit_code(&self) -> ExitCode;
    fn hint(&self) -> Option<String> {
        None
    }
}

/// Finds the [`Classified`] view of one cause, when it is of the type this function knows.
pub type Classify = for<'a> fn(&'a (dyn std::error::Error + 'static)) -> Option<&'a (dyn Classified + 'a)>;

/// The [`Classify`] function of one error type: `exit::classify::<StoreError>`.
pub fn classify<'a, T: Classified + std::error::Error + 'static>(
    cause: &'a (dyn std::error::Error + 'static),
) -> Option<&'a dyn Classified> {
    cause.downcast_ref::<T>().map(|t| t as &dyn Classified)
}

fn classified<'a>(cause: &'a (dyn std::error::Error + 'static), by: &[Classify]) -> Option<&'a dyn Classified> {
    by.iter().find_map(|f| f(cause))
}

/// The hint printed for an error nothing classifies.
pub const UNCLASSIFIED_HINT: &str =
    "ldstore has no exit code for this error (exit 70), which is a bug; please report it with the command you ran";

/// The exit code of an error: the first cause in its chain that a [`Classify`] function of `by`
/// recognizes decides; when none does, [`ExitCode::Internal`] (the rule in the module docs).
pub fn code_for(err: &anyhow::Error, by: &[Classify]) -> ExitCode {
    err.chain().find_map(|c| classified(c, by)).map_or(ExitCode::Internal, |c| c.exit_code())
}

/// The hint of an error: the first hint any classified cause gives; for an error nothing
/// classifies, [`UNCLASSIFIED_HINT`].
pub fn hint_for(err: &anyhow::Error, by: &[Classify]) -> Option<String> {
    let mut any = false;
    for cause in err.chain() {
        if let Some(c) = classified(cause, by) {
            any = true;
            if let Some(h) = c.hint() {
                return Some(h);
            }
        }
    }
    if any { None } else { Some(UNCLASSIFIED_HINT.to_string()) }
}

/// An error's causes joined on one line, `top: cause: cause`, leaving out a cause whose text the
/// previous part already holds (common with wrappers); secrets masked, newlines made spaces. The
/// one joiner for every message that names an error with its causes.
pub fn chain_text(err: &anyhow::Error) -> String {
    join_causes(err.chain())
}

/// [`chain_text`] for a plain error and its `source()` chain (an HTTP client's error, say).
pub fn causes_text(err: &(dyn std::error::Error + 'static)) -> String {
    join_causes(std::iter::successors(Some(err), |e| e.source()))
}

fn join_causes<'a>(causes: impl Iterator<Item = &'a (dyn std::error::Error + 'static)>) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in causes {
        let s = cause.to_string();
        if parts.last().is_some_and(|p| p.contains(&s)) {
            continue;
        }
        parts.push(s);
    }
    secrets::mask(&parts.join(": ")).replace('\n', " ")
}

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success
  1    the answer is \"no\" (differences found, validation failed)
  2    usage or configuration error; an output file cannot be written
  3    store error (unreachable, denied, wrong schema, write failed)
  4    LaunchDarkly or data-source error (rejected SDK key, malformed data)
  5    partial success (some items could not be stored, or eval skipped some; named)
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

impl Classified for UsageError {
    fn exit_code(&self) -> ExitCode {
        ExitCode::Usage
    }
    fn hint(&self) -> Option<String> {
        self.hint.clone()
    }
}

/// Shorthand for returning a usage error from a function returning `anyhow::Result`.
#[macro_export]
macro_rules! usage {
    ($($arg:tt)*) => { ::anyhow::Error::new($crate::exit::UsageError::new(format!($($arg)*))) };
}

/// One line on standard error that never fails the command: `eprintln!` panics when standard
/// error cannot be written (a closed pipe, as in `2>&1 | head`); this drops the line instead.
#[macro_export]
macro_rules! stderr_line {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stderr(), $($arg)*);
    }};
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

impl Classified for Interrupted {
    fn exit_code(&self) -> ExitCode {
        self.signal.exit_code()
    }
}

/// The one place errors are printed: `ldstore: error: top: cause: cause` on one line, then a hint.
/// `by`: how to recognize the classified error types (see [`Classify`]).
pub fn report(err: &anyhow::Error, by: &[Classify]) -> ExitCode {
    use std::io::Write;
    // Standard error that cannot be written (a closed pipe) changes nothing: the code still says it.
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "ldstore: error: {}", chain_text(err));
    if let Some(h) = hint_for(err, by) {
        let _ = writeln!(e, "hint: {}", secrets::mask(&h));
    }
    code_for(err, by)
}

/// [`report`] as one log line (`relay --log-format json`: every line the process writes is a
/// JSON log record, the final error too), with the hint as a field; returns the exit code.
pub fn log_report(err: &anyhow::Error, by: &[Classify]) -> ExitCode {
    match hint_for(err, by) {
        Some(hint) => tracing::error!(hint = %secrets::mask(&hint), "{}", chain_text(err)),
        None => tracing::error!("{}", chain_text(err)),
    }
    code_for(err, by)
}

static PANIC_EXIT: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(INTERNAL as i32);

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
/// [`panic_exit_code`] gives the code. `backtrace`: print the backtrace too (`RUST_BACKTRACE` set
/// and not `0`, as the settings layer reads it).
pub fn install_panic_hook(backtrace: bool) {
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        // Never `eprintln!` here: standard error may be the closed pipe (`2>&1 | head`), and a
        // panic inside the hook aborts the process.
        let say = |line: &str| {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "{line}");
        };
        // std's own words when `print!`/`println!` (or `eprint!`/`eprintln!`) cannot write.
        let failed = msg
            .strip_prefix("failed printing to stdout: ")
            .map(|w| ("standard output", w))
            .or_else(|| msg.strip_prefix("failed printing to stderr: ").map(|w| ("standard error", w)));
        if let Some((what, why)) = failed {
            if why.starts_with("Broken pipe") {
                PANIC_EXIT.store(SUCCESS.code(), std::sync::atomic::Ordering::SeqCst);
            } else {
                PANIC_EXIT.store(USAGE.code(), std::sync::atomic::Ordering::SeqCst);
                say(&format!("ldstore: error: cannot write {what}: {why}"));
            }
            return;
        }
        let at = info.location().map(|l| format!(" (at {}:{})", l.file(), l.line())).unwrap_or_default();
        say(&format!("ldstore: error: internal error: {}{at}", secrets::mask(&msg).replace('\n', " ")));
        say(
            "hint: this is a bug in ldstore; please report it with the command you ran (RUST_BACKTRACE=1 shows where it happened)",
        );
        if backtrace {
            say(&std::backtrace::Backtrace::force_capture().to_string());
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("store down")]
    struct Down;

    impl Classified for Down {
        fn exit_code(&self) -> ExitCode {
            ExitCode::Store
        }
        fn hint(&self) -> Option<String> {
            Some("start it".into())
        }
    }

    /// A usage error (no hint) caused by a store error.
    #[derive(Debug, thiserror::Error)]
    #[error("bad flag")]
    struct BadFlag(#[source] Down);

    impl Classified for BadFlag {
        fn exit_code(&self) -> ExitCode {
            ExitCode::Usage
        }
    }

    const BY: &[Classify] = &[classify::<UsageError>, classify::<Interrupted>, classify::<Down>, classify::<BadFlag>];

    #[test]
    fn codes_are_the_documented_numbers() {
        let all = [
            (ExitCode::Success, 0),
            (ExitCode::No, 1),
            (ExitCode::Usage, 2),
            (ExitCode::Store, 3),
            (ExitCode::Source, 4),
            (ExitCode::Partial, 5),
            (ExitCode::Internal, 70),
            (ExitCode::Interrupted, 130),
            (ExitCode::Terminated, 143),
        ];
        for (c, n) in all {
            assert_eq!(c.code(), n);
            assert!(EXIT_CODES_HELP.contains(&format!("\n  {n} ")), "{n} is documented in --help");
        }
    }

    #[test]
    fn the_first_classified_cause_decides() {
        let e = anyhow::Error::new(BadFlag(Down)).context("while syncing");
        assert_eq!(code_for(&e, BY), ExitCode::Usage);
        assert_eq!(hint_for(&e, BY).as_deref(), Some("start it"), "the first hint in the chain is shown");
        let e = anyhow::Error::new(Down).context("while syncing");
        assert_eq!(code_for(&e, BY), ExitCode::Store);
        let e = anyhow::Error::new(Interrupted::new(crate::shutdown::Signal::Term, None));
        assert_eq!(code_for(&e, BY), ExitCode::Terminated);
        assert_eq!(hint_for(&e, BY), None);
    }

    #[test]
    fn an_error_nothing_classifies_is_internal_with_a_report_hint() {
        let e = anyhow::anyhow!("cannot listen for signals: no such device").context("starting");
        assert_eq!(code_for(&e, BY), ExitCode::Internal);
        assert_eq!(hint_for(&e, BY).as_deref(), Some(UNCLASSIFIED_HINT));
        let io = anyhow::Error::new(std::io::Error::other("boom"));
        assert_eq!(code_for(&io, BY), ExitCode::Internal, "never a store error by default");
        // A classified error without a hint gets none (not the report hint).
        assert_eq!(hint_for(&anyhow::Error::new(UsageError::new("x")), BY), None);
    }

    #[test]
    fn chains_are_joined_once_without_repeats() {
        let e = anyhow::anyhow!("inner cause").context("outer: inner cause").context("top\nline");
        assert_eq!(chain_text(&e), "top line: outer: inner cause");
    }
}
