//! The writer: memory → store, through outages and wipes.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::state::{Env, FullWrite, Op, StoreState, WriteOp};
use crate::config::envs::{EnvSpec, env_prefix};
use crate::config::{StoreConfig, StoreSelection};
use crate::exit::chain_text;
use crate::shutdown::Shutdown;
use crate::source::ld::Backoff;
use crate::store::{self, NoProgress, Store, Upserted};

pub(super) async fn writer(
    env: Arc<Env>,
    cfg: StoreConfig,
    spec: EnvSpec,
    sel: StoreSelection,
    mut rx: mpsc::UnboundedReceiver<Op>,
    check_interval: Duration,
) {
    let mut store: Option<(Box<dyn Store>, String)> = None;
    let mut backoff = Backoff::default();
    let mut first = true;
    let mut check = tokio::time::interval(check_interval);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    check.tick().await;
    loop {
        let Some((st, prefix)) = store.as_ref() else {
            // Down (or not opened yet): reopen with backoff; queued operations are dropped since
            // memory holds them and the recovery writes all of memory.
            if !first {
                let delay = backoff.next_delay();
                let sleep = tokio::time::sleep(delay);
                tokio::pin!(sleep);
                loop {
                    tokio::select! {
                        op = rx.recv() => if op.is_none() { return },
                        _ = &mut sleep => break,
                    }
                }
            }
            while rx.try_recv().is_ok() {}
            match recover(&env, &cfg, &spec, &sel, first).await {
                Ok(s) => {
                    backoff.reset();
                    store = Some(s);
                }
                Err(e) => {
                    let msg = e.to_string();
                    if first || env.st().store_state == StoreState::Valid {
                        tracing::error!("store unavailable: {msg}; keeping data in memory and retrying");
                    }
                    env.count_write_failure();
                    env.set_store(StoreState::Interrupted, Some(msg));
                }
            }
            first = false;
            continue;
        };
        let result: Result<(), store::StoreError> = tokio::select! {
            op = rx.recv() => match op {
                None => return,
                Some(Op::Init) => init_from_memory(&env, st.as_ref(), prefix, FullWrite::Put).await,
                Some(Op::Upsert(kind, item)) => match st.upsert(prefix, kind, &item).await {
                    Ok(Upserted::Applied) => { env.count_write(WriteOp::Upsert); Ok(()) }
                    Ok(Upserted::Stale { stored_version }) => {
                        tracing::debug!("{kind} \"{}\": store holds v{stored_version}", item.key);
                        Ok(())
                    }
                    Err(e) => Err(e),
                },
            },
            _ = check.tick() => {
                if !env.has_data() {
                    Ok(())
                } else {
                    match st.is_initialized(prefix).await {
                        Ok(true) => Ok(()),
                        Ok(false) => {
                            tracing::warn!("prefix \"{prefix}\" lost its $inited marker (store wiped?); repopulating from memory");
                            env.count_reinit(FullWrite::Wiped);
                            init_from_memory(&env, st.as_ref(), prefix, FullWrite::Wiped).await
                        }
                        Err(e) => Err(e),
                    }
                }
            }
        };
        if let Err(e) = result {
            env.count_write_failure();
            tracing::error!("store write failed: {e}; keeping data in memory and retrying");
            env.set_store(StoreState::Interrupted, Some(e.to_string()));
            store = None;
        }
    }
}

/// Open the store and write all of memory (if any) back.
async fn recover(
    env: &Env,
    cfg: &StoreConfig,
    spec: &EnvSpec,
    sel: &StoreSelection,
    first: bool,
) -> Result<(Box<dyn Store>, String), store::StoreError> {
    let st = store::open(cfg).await?;
    let prefix = env_prefix(spec, sel, cfg);
    {
        let mut s = env.st();
        s.db_server = st.address();
        s.db_prefix = prefix.clone();
    }
    st.ping().await?;
    if env.has_data() {
        init_from_memory(env, st.as_ref(), &prefix, FullWrite::Recovered).await?;
        env.count_reinit(FullWrite::Recovered);
    }
    if !first {
        tracing::info!("store is back ({}, prefix \"{prefix}\")", st.address());
    }
    env.set_store(StoreState::Valid, None);
    Ok((st, prefix))
}

/// Write all of memory: a shared reference to it, not a copy (patches meanwhile copy on write).
async fn init_from_memory(env: &Env, st: &dyn Store, prefix: &str, why: FullWrite) -> Result<(), store::StoreError> {
    let Some(data) = env.data() else { return Ok(()) };
    // Nothing from LaunchDarkly never replaces items in the store (unless --allow-empty): logged,
    // not written, and not a store failure (the store is fine; memory keeps following the stream).
    let source = if why == FullWrite::Put { "LaunchDarkly stream put" } else { "LaunchDarkly data in memory" };
    if let Err(e) = crate::source::refuse_to_empty(st, prefix, &data, source, env.allow_empty).await {
        if matches!(e.downcast_ref(), Some(crate::source::SourceError::Empty { .. })) {
            tracing::error!("{}; {} to relay", chain_text(&e), crate::source::ALLOW_EMPTY_HINT);
            return Ok(());
        }
        return Err(e.downcast::<store::StoreError>().unwrap_or_else(|e| store::StoreError::Other(chain_text(&e))));
    }
    // The relay stops on signals itself (finishing the writes in flight, within a grace period).
    let report = st.init(prefix, &data, &NoProgress, &Shutdown::never()).await?;
    env.count_write(WriteOp::Init);
    tracing::info!("wrote {} items to \"{prefix}\" ({}){}", report.items_written, why.as_str(), skipped_note(&report));
    for s in &report.skipped {
        tracing::warn!("skipped {} \"{}\": {}", s.kind, s.key, s.reason);
    }
    Ok(())
}

fn skipped_note(r: &store::InitReport) -> String {
    if r.skipped.is_empty() { String::new() } else { format!(", {} skipped", r.skipped.len()) }
}
