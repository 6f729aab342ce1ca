//! ldstore: administer and inspect LaunchDarkly flag data in persistent stores.

// `unsafe` only where a measurement justifies it, module by module (see `json_simd`, and the
// system calls of `processor`).
#![deny(unsafe_code)]

pub mod cli;
pub mod commands;
pub mod config;
pub mod data;
pub mod defects;
pub mod exit;
#[cfg(any(test, feature = "fuzz"))]
#[doc(hidden)]
pub mod fuzz;
mod json_scan;
#[allow(unsafe_code)]
mod json_simd;
pub mod model_check;
pub mod output;
mod processor;
pub mod secrets;
pub mod shutdown;
pub mod source;
pub mod store;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::commands::Ctx;
use crate::exit::{Classify, ExitCode, classify};

/// Every error type that knows its exit code and hint ([`exit::Classified`]), for the printer.
pub const CLASSIFIED: &[Classify] = &[
    classify::<exit::UsageError>,
    classify::<exit::Interrupted>,
    classify::<store::StoreError>,
    classify::<source::SourceError>,
    classify::<clap::Error>,
];

/// The exit code of an error (see [`exit::code_for`]: an error nothing classifies is
/// [`ExitCode::Internal`]).
pub fn exit_code(err: &anyhow::Error) -> ExitCode {
    exit::code_for(err, CLASSIFIED)
}

/// Print an error (the one `ldstore: error: …` line and its hint); returns its exit code.
fn report(err: &anyhow::Error) -> i32 {
    exit::report(err, CLASSIFIED).code()
}

/// Parse the command line, run the command, print any error once; returns the exit code.
/// A panic (a bug) is printed as one line by the panic hook and exits with [`exit::INTERNAL`]
/// (standard output that cannot be written: see [`exit::install_panic_hook`]).
pub fn run() -> i32 {
    exit::install_panic_hook(config::vars::backtrace_wanted());
    std::panic::catch_unwind(run_command).unwrap_or_else(|_| exit::panic_exit_code())
}

fn run_command() -> i32 {
    // Test hook for the crash path (tests/it/cli.rs): a panic must still be one clear line.
    if config::vars::debug_panic() {
        panic!("LDSTORE_DEBUG_PANIC is set");
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        // Help and --version go to standard output as clap prints them; a mistake is reported
        // like every other error: `ldstore: error: …`, then clap's usage lines (plain text).
        Err(e) if e.use_stderr() => {
            let text = e.render().to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text);
            crate::stderr_line!("ldstore: error: {}", text.trim_end());
            return exit::USAGE.code();
        }
        Err(e) => {
            let _ = e.print();
            return exit::SUCCESS.code();
        }
    };
    // One rustls crypto provider for the whole process (TLS to Redis, HTTPS to LaunchDarkly).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let relay_log = match &cli.command {
        Command::Relay(a) => Some(a.log_format),
        _ => None,
    };
    init_logging(cli.global.verbose, cli.global.quiet, relay_log);

    // `sync` gets one worker thread instead of one per core: its work is one feed at a time, and
    // a 10k-flag sync into Redis took 1.5 ms less wall time (median 24.8 -> 23.3 ms, 120 runs
    // alternating with `redis-cli --pipe`; 60 more: 26.0 -> 23.5 ms, 1.1 ms less processor time)
    // with one fewer thread to start, to wake and to end at exit. No worker at all (a
    // current-thread runtime) measured the same, but the Big Segments paths need
    // `block_in_place`, which only a multi-thread runtime has. Other commands keep the default.
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if matches!(cli.command, Command::Sync(_)) {
        builder.worker_threads(1);
    }
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => return report(&anyhow::Error::new(e).context("cannot start the async runtime")),
    };
    let mut ctx = Ctx::new(cli.global.output == cli::OutputFormat::Json, cli.global.quiet);
    let result = runtime.block_on(async {
        ctx.shutdown = shutdown::Shutdown::listen().map_err(|e| anyhow::anyhow!("cannot listen for signals: {e}"))?;
        // sync stops its writes cleanly itself (between batches) and says what it left behind;
        // relay finishes its writes and requests in flight and exits 0; every other command only
        // reads, and is dropped where it is.
        if matches!(cli.command, Command::Sync(_) | Command::Relay(_)) {
            return dispatch(cli.command, &ctx).await;
        }
        let shutdown = ctx.shutdown.clone();
        tokio::select! {
            r = dispatch(cli.command, &ctx) => r,
            sig = shutdown.recv() => Err(anyhow::Error::new(exit::Interrupted::new(sig, None))),
        }
    });
    // Do not wait for background tasks (connection drivers) or for the worker threads to exit
    // after the command is done: the process exits next. (Waiting cost a 10k-flag sync into Redis
    // up to 3.3 ms, a scheduler tick, while Redis freed the old data on the other core.)
    runtime.shutdown_background();
    match result {
        Ok(code) => code.code(),
        // relay --log-format json: the final error is a JSON log line too.
        Err(e) if relay_log == Some(cli::LogFormat::Json) => exit::log_report(&e, CLASSIFIED).code(),
        Err(e) => report(&e),
    }
}

/// Resolve the command's settings (`config`), then run it.
async fn dispatch(command: Command, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    use config::commands as settings;
    let env = &config::ProcessEnv;
    match command {
        Command::Sync(a) => commands::sync::run(settings::sync(a, env)?, ctx).await,
        Command::Inspect(a) => commands::inspect::run(settings::inspect(a, env)?, ctx).await,
        Command::Dump(a) => commands::dump::run(settings::dump(a, env)?, ctx).await,
        Command::Dynamodb(a) => commands::dynamodb::run(settings::dynamodb(a, env)?, ctx).await,
        Command::Diff(a) => commands::diff::run(settings::diff(a, env)?, ctx).await,
        Command::Validate(a) => commands::validate::run(settings::validate(a, env)?, ctx).await,
        Command::Eval(a) => commands::eval::run(settings::eval(a, env)?, ctx).await,
        Command::Membership(a) => commands::membership::run(settings::membership(a, env)?, ctx).await,
        Command::Prune(a) => commands::prune::run(settings::prune(a, env)?, ctx).await,
        Command::Relay(a) => commands::relay::run(config::envs::relay_settings(&a, env)?, ctx).await,
        Command::Completions(a) => commands::docs::completions(a.shell, Cli::command()),
        Command::Man(a) => commands::docs::man(a.dir, Cli::command()),
    }
}

/// Logs go to stderr, with secrets masked; relay's in its own line format (`--log-format`).
fn init_logging(verbose: u8, quiet: bool, relay: Option<cli::LogFormat>) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn,aws_config=error,aws_smithy_runtime=error",
        (false, 1) => "ldstore=info",
        (false, 2) => "ldstore=debug",
        _ => "debug",
    };
    let filter = config::vars::process_var("LDSTORE_LOG")
        .and_then(|f| tracing_subscriber::EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new(default));
    if let Some(format) = relay {
        return commands::relay::log::init(filter, format == cli::LogFormat::Json, quiet);
    }
    // Colour only for a person at a terminal (and never with NO_COLOR set to something).
    let colour = {
        use std::io::IsTerminal;
        std::io::stderr().is_terminal() && config::vars::process_var("NO_COLOR").is_none_or(|v| v.is_empty())
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(|| MaskingWriter(std::io::stderr()))
        .with_target(false)
        .try_init();
}

/// Writes log lines with every registered secret masked.
struct MaskingWriter<W: std::io::Write>(W);

impl<W: std::io::Write> std::io::Write for MaskingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(secrets::mask(&text).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
