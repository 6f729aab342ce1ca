//! `ldstore relay`: a foreground loop that streams from LaunchDarkly and keeps store prefixes
//! current, through faults.
//!
//! Per environment two tasks share the in-memory data set (always the newest LaunchDarkly sent):
//! - the reader connects to `{stream}/all`, applies `put`/`patch`/`delete` to memory (patches and
//!   deletes only when newer) and hands the matching store operation to the writer;
//! - the writer owns the store: `put` → full `init`, patch/delete → version-guarded `upsert`.
//!   When a write fails the store is marked down; queued operations are dropped (memory has
//!   them) and the store is reopened with backoff, then the FULL memory is written back with
//!   `init`. Every `--check-interval` it checks the `$inited` marker and re-inits a wiped prefix.
//!
//! Memory is always at least as new as anything the store holds from us, so a full init from it
//! never replaces newer data with older.

mod big_segments;
mod http;
pub mod log;
mod reader;
mod state;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use self::http::{Endpoints, serve};
use self::reader::reader;
use self::state::{Env, Metrics, SinceLastEvent};
use self::writer::writer;

use super::Ctx;
use crate::config::envs::{RelaySettings, env_prefix};
use crate::exit::{ExitCode, UsageError};
use tracing::Instrument;

/// How long shutdown waits for in-flight writes.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------------------------
// The command.

/// Run until SIGINT/SIGTERM (exit 0) or, with `--exit-on-error`, a rejected SDK key (exit 4).
///
/// With `--log-format json` an error that ends the relay is logged as a JSON line by the one
/// printer (`exit::log_report`), with its hint and the same exit code.
pub async fn run(args: RelaySettings, ctx: &Ctx) -> Result<ExitCode> {
    let (plans, sel) = (args.plans, args.sel);
    // A prefix the store cannot hold and read back: refused before anything starts (exit 2).
    for p in &plans {
        p.store.check_prefix(&env_prefix(&p.spec, &sel, &p.store))?;
    }

    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = Metrics::new(&mut registry);
    let mut envs = Vec::new();
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut readers: JoinSet<Result<()>> = JoinSet::new();
    let mut writers: JoinSet<()> = JoinSet::new();
    let mut big_syncs: JoinSet<()> = JoinSet::new();
    for p in plans {
        let db_prefix = p.spec.prefix.clone().or_else(|| sel.prefix.clone()).unwrap_or_default();
        let env = Arc::new(Env::new(
            p.spec.name.clone(),
            p.ld.masked_key(),
            p.store.clone(),
            db_prefix,
            args.allow_empty,
            &metrics,
        ));
        tracing::info!(env = %env.name, "starting: LaunchDarkly {} ({}), store {}", p.ld.stream_uri, env.masked_key, p.store.backend());
        let (tx, rx) = mpsc::unbounded_channel();
        // Every line logged by this environment's tasks (store code included) names it.
        let span = tracing::error_span!("env", env = %env.name);
        if args.big_segments {
            let timing = big_segments::Timing { refresh: args.big_segments_interval, retry: args.big_segments_retry };
            let prefix = env_prefix(&p.spec, &sel, &p.store);
            let sync =
                big_segments::synchronizer(env.clone(), p.ld.clone(), p.store.clone(), prefix, timing, stop_rx.clone());
            big_syncs.spawn(sync.instrument(span.clone()));
        }
        readers.spawn(
            reader(env.clone(), p.ld, tx, args.read_timeout, args.exit_on_error, stop_rx.clone())
                .instrument(span.clone()),
        );
        writers.spawn(writer(env.clone(), p.store, p.spec, sel.clone(), rx, args.check_interval).instrument(span));
        envs.push(env);
    }
    let envs = Arc::new(envs);
    registry.register_collector(Box::new(SinceLastEvent(envs.clone())));
    registry.register_collector(Box::new(big_segments::BigSegmentsMetrics(envs.clone())));

    // The HTTP server stops last: /status answers while the writers finish.
    let (http_stop, http_stop_rx) = watch::channel(false);
    let mut server = None;
    if let Some(addr) = &args.listen {
        let addr = if addr.contains(':') { addr.clone() } else { format!("127.0.0.1:{addr}") };
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|e| UsageError::new(format!("cannot listen on {addr}: {e}")))?;
        tracing::info!("serving /status and /metrics on http://{}", listener.local_addr()?);
        let endpoints = Arc::new(Endpoints { envs: envs.clone(), registry });
        server = Some(tokio::spawn(serve(listener, endpoints, args.max_connections, http_stop_rx, SHUTDOWN_GRACE)));
    }

    let outcome: Result<()> = tokio::select! {
        sig = ctx.shutdown.recv() => { tracing::info!("{}: shutting down", sig.name()); Ok(()) }
        Some(r) = readers.join_next() => match r {
            Ok(Err(e)) => Err(e),
            Ok(Ok(())) => Ok(()),
            Err(e) => Err(anyhow::anyhow!("relay task failed: {e}")),
        },
    };
    // Stop reading; the writers finish what the readers handed them, then stop.
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while readers.join_next().await.is_some() {}
        while writers.join_next().await.is_some() {}
        while big_syncs.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("some store writes did not finish in time (the store is down?)");
    }
    // Environments whose store never got the newest data (the store was down when the relay
    // stopped, or its writes did not finish): not a clean stop.
    let behind: Vec<String> = envs
        .iter()
        .filter(|e| e.has_data() && (drained.is_err() || e.st().store_state == state::StoreState::Interrupted))
        .map(|e| match &e.st().store_error {
            Some(err) => format!("\"{}\" ({})", e.name, err.message),
            None => format!("\"{}\"", e.name),
        })
        .collect();
    // Then the HTTP server: no new connection; the requests already taken are answered.
    let _ = http_stop.send(true);
    if let Some(server) = server {
        let _ = server.await;
    }
    outcome?;
    if !behind.is_empty() {
        return Err(crate::store::StoreError::Other(format!(
            "stopped before the store got the newest data of environment {}: it holds older data than LaunchDarkly sent; run ldstore sync (or relay) once the store is back",
            behind.join(", ")
        ))
        .into());
    }
    Ok(ExitCode::Success)
}

pub(super) async fn stopped(rx: &mut watch::Receiver<bool>) {
    if rx.wait_for(|v| *v).await.is_err() {
        std::future::pending::<()>().await;
    }
}
