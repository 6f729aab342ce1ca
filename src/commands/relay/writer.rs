//! The writer: memory → store, through outages and wipes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::state::{Env, FullWrite, Op, StoreState, WriteOp};
use crate::config::envs::{EnvSpec, env_prefix};
use crate::config::{StoreConfig, StoreSelection};
use crate::data::{Item, Kind};
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
    let mut stash: Option<Op> = None;
    // The newest `put` a full write of memory has written (0: none yet).
    let mut written_put = 0;
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
            stash = None;
            while rx.try_recv().is_ok() {}
            match recover(&env, &cfg, &spec, &sel, first).await {
                Ok((st, prefix, put)) => {
                    backoff.reset();
                    written_put = put;
                    store = Some((st, prefix));
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
        // An operation a batch took from the queue but could not join goes first.
        let next = match stash.take() {
            Some(op) => Next::Op(op),
            None => tokio::select! {
                op = rx.recv() => match op {
                    None => return,
                    Some(op) => Next::Op(op),
                },
                _ = check.tick() => Next::Check,
            },
        };
        let result: Result<(), store::StoreError> = match next {
            // A put that arrived while the store was being opened is in what its opening wrote.
            Next::Op(Op::Init(put)) if put <= written_put => {
                tracing::debug!("put {put} was written with memory already");
                Ok(())
            }
            Next::Op(Op::Init(_)) => init_from_memory(&env, st.as_ref(), prefix, FullWrite::Put)
                .await
                .map(|put| written_put = written_put.max(put)),
            Next::Op(Op::Upsert(kind, item)) => {
                let batch = Batch::gather(kind, item, &mut rx, &mut stash);
                write_batch(&env, st.as_ref(), prefix, batch).await
            }
            Next::Check => {
                if !env.has_data() {
                    Ok(())
                } else {
                    match st.is_initialized(prefix).await {
                        Ok(true) => Ok(()),
                        Ok(false) => {
                            tracing::warn!(
                                "prefix \"{prefix}\" lost its $inited marker (store wiped?); repopulating from memory"
                            );
                            env.count_reinit(FullWrite::Wiped);
                            init_from_memory(&env, st.as_ref(), prefix, FullWrite::Wiped)
                                .await
                                .map(|put| written_put = written_put.max(put))
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

enum Next {
    Op(Op),
    Check,
}

/// Upserts of one kind taken from the queue together, at most one per key (the newest version
/// queued), in the order their keys first came, written with one [`Store::upsert_many`].
///
/// Why batches: a Redis upsert is a WATCH of the whole hash, a read and a MULTI/EXEC, so writers
/// on several connections would abort each other's transactions on the one hash; and one patch at
/// a time at three round trips each cannot keep up with 500 patches/s once a round trip costs
/// 5 ms (measured: the backlog grew for the whole run). A batch costs two round trips however many
/// patches it holds, so it keeps up and stays near that floor (relay::bench_relay_sustained_slow_redis).
/// Only the newest version of a key matters (the store keeps only that, and the version guard
/// would refuse the older one after it), so folding a key's queued patches into the newest loses
/// nothing; patches of one key keep their order, and every patch is written by the batch it is in
/// or a later one.
struct Batch {
    kind: Kind,
    items: Vec<Item>,
}

/// At most this many items, or about this many bytes of JSON, per batch (one MULTI/EXEC).
const BATCH_MAX_ITEMS: usize = 1_000;
const BATCH_MAX_BYTES: usize = 1024 * 1024;

impl Batch {
    /// `first`, and the upserts of the same kind already queued behind it (an operation of another
    /// kind, or an init, ends the batch and is kept in `stash` for next).
    fn gather(kind: Kind, first: Item, rx: &mut mpsc::UnboundedReceiver<Op>, stash: &mut Option<Op>) -> Batch {
        let mut bytes = first.json.len();
        let mut at: HashMap<String, usize> = HashMap::new();
        at.insert(first.key.clone(), 0);
        let mut items = vec![first];
        while items.len() < BATCH_MAX_ITEMS && bytes < BATCH_MAX_BYTES {
            let Ok(op) = rx.try_recv() else { break };
            match op {
                Op::Upsert(k, item) if k == kind => {
                    bytes += item.json.len();
                    match at.get(&item.key) {
                        // Memory hands over only newer versions, so the later one is newer; the
                        // comparison keeps that true whatever the order.
                        Some(&i) if items[i].version < item.version => items[i] = item,
                        Some(_) => {}
                        None => {
                            at.insert(item.key.clone(), items.len());
                            items.push(item);
                        }
                    }
                }
                other => {
                    *stash = Some(other);
                    break;
                }
            }
        }
        Batch { kind, items }
    }
}

async fn write_batch(env: &Env, st: &dyn Store, prefix: &str, batch: Batch) -> Result<(), store::StoreError> {
    let Batch { kind, items } = batch;
    let results = st.upsert_many(prefix, kind, &items).await?;
    for (item, r) in items.iter().zip(results) {
        match r {
            Upserted::Applied => env.count_write(WriteOp::Upsert),
            Upserted::Stale { stored_version } => {
                tracing::debug!("{kind} \"{}\": store holds v{stored_version}", item.key);
            }
        }
    }
    Ok(())
}

/// Open the store and write all of memory (if any) back, with the number of the `put` written.
/// On the first opening memory holds data only when the stream's `put` came first: that is the
/// put's own write, not a recovery.
async fn recover(
    env: &Env,
    cfg: &StoreConfig,
    spec: &EnvSpec,
    sel: &StoreSelection,
    first: bool,
) -> Result<(Box<dyn Store>, String, u64), store::StoreError> {
    let st = store::open(cfg).await?;
    let prefix = env_prefix(spec, sel, cfg);
    {
        let mut s = env.st();
        s.db_server = st.address();
        s.db_prefix = prefix.clone();
    }
    st.ping().await?;
    let why = if first { FullWrite::Put } else { FullWrite::Recovered };
    let put = init_from_memory(env, st.as_ref(), &prefix, why).await?;
    if put > 0 && !first {
        env.count_reinit(FullWrite::Recovered);
    }
    if !first {
        tracing::info!("store is back ({}, prefix \"{prefix}\")", st.address());
    }
    env.set_store(StoreState::Valid, None);
    Ok((st, prefix, put))
}

/// Write all of memory: a shared reference to it, not a copy (patches meanwhile copy on write). The
/// number of the `put` memory came from (0: no data yet, nothing written).
async fn init_from_memory(env: &Env, st: &dyn Store, prefix: &str, why: FullWrite) -> Result<u64, store::StoreError> {
    let Some((data, put)) = env.data_and_put() else { return Ok(0) };
    // Nothing from LaunchDarkly never replaces items in the store (unless --allow-empty): logged,
    // not written, and not a store failure (the store is fine; memory keeps following the stream).
    let source = if why == FullWrite::Put { "LaunchDarkly stream put" } else { "LaunchDarkly data in memory" };
    if let Err(e) = crate::source::refuse_to_empty(st, prefix, &data, source, env.allow_empty).await {
        if matches!(e.downcast_ref(), Some(crate::source::SourceError::Empty { .. })) {
            tracing::error!("{}; {} to relay", chain_text(&e), crate::source::ALLOW_EMPTY_HINT);
            return Ok(put);
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
    Ok(put)
}

fn skipped_note(r: &store::InitReport) -> String {
    if r.skipped.is_empty() { String::new() } else { format!(", {} skipped", r.skipped.len()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag(key: &str, version: u64) -> Item {
        let json = format!(r#"{{"key":"{key}","version":{version},"on":true,"variations":[true,false],"salt":"s"}}"#);
        Item::parse(Kind::Flags, key, json).expect("a flag")
    }

    fn queue(ops: Vec<Op>) -> mpsc::UnboundedReceiver<Op> {
        let (tx, rx) = mpsc::unbounded_channel();
        for op in ops {
            tx.send(op).unwrap();
        }
        rx
    }

    fn keys(b: &Batch) -> Vec<(String, u64)> {
        b.items.iter().map(|i| (i.key.clone(), i.version)).collect()
    }

    #[test]
    fn a_batch_keeps_one_item_per_key_at_its_newest_version_in_first_come_order() {
        let mut ops = Vec::new();
        for v in 2..=200 {
            ops.push(Op::Upsert(Kind::Flags, flag("hot", v)));
            ops.push(Op::Upsert(Kind::Flags, flag(&format!("f{}", v % 3), v)));
        }
        let mut rx = queue(ops);
        let mut stash = None;
        let b = Batch::gather(Kind::Flags, flag("first", 1), &mut rx, &mut stash);
        assert_eq!(b.kind, Kind::Flags);
        let want = [("first", 1), ("hot", 200), ("f2", 200), ("f0", 198), ("f1", 199)];
        assert_eq!(keys(&b), want.map(|(k, v)| (k.to_string(), v)));
        assert!(stash.is_none());
        assert!(rx.try_recv().is_err(), "everything queued was taken");
    }

    #[test]
    fn an_older_version_queued_later_never_replaces_a_newer_one_in_the_batch() {
        let mut rx = queue(vec![Op::Upsert(Kind::Flags, flag("a", 3)), Op::Upsert(Kind::Flags, flag("a", 9))]);
        let mut stash = None;
        let b = Batch::gather(Kind::Flags, flag("a", 5), &mut rx, &mut stash);
        assert_eq!(keys(&b), [("a".to_string(), 9)]);
        let mut rx = queue(vec![Op::Upsert(Kind::Flags, flag("a", 3))]);
        let b = Batch::gather(Kind::Flags, flag("a", 5), &mut rx, &mut stash);
        assert_eq!(keys(&b), [("a".to_string(), 5)]);
    }

    #[test]
    fn another_kind_or_an_init_ends_the_batch_and_goes_next() {
        let seg = Item::parse(Kind::Segments, "s", r#"{"key":"s","version":1}"#.to_string()).expect("a segment");
        let mut rx = queue(vec![
            Op::Upsert(Kind::Flags, flag("b", 1)),
            Op::Upsert(Kind::Segments, seg),
            Op::Upsert(Kind::Flags, flag("c", 1)),
        ]);
        let mut stash = None;
        let b = Batch::gather(Kind::Flags, flag("a", 1), &mut rx, &mut stash);
        assert_eq!(keys(&b), [("a".to_string(), 1), ("b".to_string(), 1)]);
        assert!(matches!(stash.take(), Some(Op::Upsert(Kind::Segments, ref i)) if i.key == "s"));
        let mut rx = queue(vec![Op::Init(1), Op::Upsert(Kind::Flags, flag("b", 1))]);
        let b = Batch::gather(Kind::Flags, flag("a", 1), &mut rx, &mut stash);
        assert_eq!(keys(&b), [("a".to_string(), 1)]);
        assert!(matches!(stash.take(), Some(Op::Init(1))));
        assert!(matches!(rx.try_recv(), Ok(Op::Upsert(_, ref i)) if i.key == "b"), "left queued");
    }

    #[test]
    fn a_batch_holds_at_most_its_item_limit() {
        let ops = (0..BATCH_MAX_ITEMS + 10).map(|i| Op::Upsert(Kind::Flags, flag(&format!("f{i}"), 1))).collect();
        let mut rx = queue(ops);
        let mut stash = None;
        let b = Batch::gather(Kind::Flags, flag("first", 1), &mut rx, &mut stash);
        assert_eq!(b.items.len(), BATCH_MAX_ITEMS);
        let rest = std::iter::from_fn(|| rx.try_recv().ok()).count();
        assert_eq!(rest, 11, "the rest stays queued for the next batch");
    }
}
