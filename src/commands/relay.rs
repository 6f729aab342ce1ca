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

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::Ctx;
use crate::config::envs::{EnvSpec, RelaySettings, env_prefix};
use crate::config::{StoreConfig, StoreSelection};
use crate::data::{DataSet, Item, Kind};
use crate::exit::{UsageError, chain_text};
use crate::secrets;
use crate::shutdown::Shutdown;
use crate::source::ld::{Backoff, Failure, LdConfig};
use crate::source::stream::{EventReader, LdEvent, StreamEnd, StreamSource};
use crate::store::{self, NoProgress, Store, Upserted};

/// How long a connection must stay good before the backoff starts over.
const HEALTHY_RESET: Duration = Duration::from_secs(60);
/// How long shutdown waits for in-flight writes.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------------------------
// Logging: one line per event on stderr, text or JSON, secrets masked.

#[derive(Debug, Clone, Copy)]
pub struct Log {
    json: bool,
    quiet: bool,
}

impl Log {
    fn emit(&self, level: &str, env: &str, msg: &str) {
        if self.quiet && level != "ERROR" {
            return;
        }
        let time = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
        let msg = secrets::mask(msg);
        let line = if self.json {
            json!({"time": time, "level": level, "env": env, "msg": msg}).to_string()
        } else {
            format!("{time} {level:<5} [{env}] {msg}")
        };
        eprintln!("{line}");
    }
    fn info(&self, env: &str, msg: &str) {
        self.emit("INFO", env, msg)
    }
    fn warn(&self, env: &str, msg: &str) {
        self.emit("WARN", env, msg)
    }
    fn error(&self, env: &str, msg: &str) {
        self.emit("ERROR", env, msg)
    }
}

// ---------------------------------------------------------------------------------------------
// Shared per-environment state (status and metrics).

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

#[derive(Debug, Clone)]
struct LastError {
    kind: &'static str,
    message: String,
    time: SystemTime,
}

#[derive(Debug)]
struct Status {
    /// VALID | INITIALIZING | INTERRUPTED | OFF
    conn_state: &'static str,
    conn_since: SystemTime,
    conn_error: Option<LastError>,
    /// VALID | INTERRUPTED
    store_state: &'static str,
    store_since: SystemTime,
    store_error: Option<LastError>,
    db_server: String,
    db_prefix: String,
    last_event: Option<SystemTime>,
    last_event_instant: Option<Instant>,
    events: BTreeMap<&'static str, u64>,
    writes: BTreeMap<&'static str, u64>,
    write_failures: u64,
    reinits: BTreeMap<&'static str, u64>,
    reconnects: u64,
}

struct Env {
    name: String,
    masked_key: String,
    /// The store's configuration: which keys it can hold.
    store: StoreConfig,
    database: String,
    db_table: String,
    /// The newest data LaunchDarkly sent (None before the first `put`).
    mem: Mutex<Option<DataSet>>,
    /// `--allow-empty`: memory with no items may replace a prefix that holds some.
    allow_empty: bool,
    status: Mutex<Status>,
    log: Log,
}

impl Env {
    fn st(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn mem(&self) -> std::sync::MutexGuard<'_, Option<DataSet>> {
        self.mem.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn set_conn(&self, state: &'static str, error: Option<(&'static str, String)>) {
        let mut s = self.st();
        if s.conn_state != state {
            s.conn_state = state;
            s.conn_since = SystemTime::now();
        }
        if let Some((kind, message)) = error {
            s.conn_error = Some(LastError { kind, message: secrets::mask(&message), time: SystemTime::now() });
        }
    }
    fn set_store(&self, up: bool, error: Option<String>) {
        let mut s = self.st();
        let state = if up { "VALID" } else { "INTERRUPTED" };
        if s.store_state != state {
            s.store_state = state;
            s.store_since = SystemTime::now();
        }
        if let Some(message) = error {
            s.store_error =
                Some(LastError { kind: "STORE_ERROR", message: secrets::mask(&message), time: SystemTime::now() });
        }
    }
    fn count_event(&self, kind: &'static str) {
        let mut s = self.st();
        *s.events.entry(kind).or_default() += 1;
        s.last_event = Some(SystemTime::now());
        s.last_event_instant = Some(Instant::now());
    }
    fn count_write(&self, op: &'static str) {
        *self.st().writes.entry(op).or_default() += 1;
    }
    fn sizes(&self) -> (usize, usize, usize) {
        match self.mem().as_ref() {
            Some(d) => (
                d.flags.values().filter(|i| !i.deleted).count(),
                d.segments.values().filter(|i| !i.deleted).count(),
                d.len(),
            ),
            None => (0, 0, 0),
        }
    }
}

/// A store operation for the writer.
#[derive(Debug)]
enum Op {
    /// Write the whole current memory.
    Init,
    Upsert(Kind, Item),
}

// ---------------------------------------------------------------------------------------------
// The command.

/// Run until SIGINT/SIGTERM (exit 0) or, with `--exit-on-error`, a rejected SDK key (exit 4).
pub async fn run(args: RelaySettings, ctx: &Ctx) -> Result<crate::exit::ExitCode> {
    let log = Log { json: args.log_json, quiet: ctx.quiet };
    let (plans, sel) = (args.plans, args.sel);
    // A prefix the store cannot hold and read back: refused before anything starts (exit 2).
    for p in &plans {
        p.store.check_prefix(&env_prefix(&p.spec, &sel, &p.store))?;
    }
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;

    let mut envs = Vec::new();
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut readers: JoinSet<Result<()>> = JoinSet::new();
    let mut writers: JoinSet<()> = JoinSet::new();
    for p in plans {
        let now = SystemTime::now();
        let db_table = match &p.store {
            StoreConfig::DynamoDb(d) => d.table.clone(),
            _ => String::new(),
        };
        let env = Arc::new(Env {
            name: p.spec.name.clone(),
            masked_key: p.ld.masked_key(),
            store: p.store.clone(),
            database: p.store.backend().to_ascii_lowercase(),
            db_table,
            mem: Mutex::new(None),
            allow_empty: args.allow_empty,
            status: Mutex::new(Status {
                conn_state: "INITIALIZING",
                conn_since: now,
                conn_error: None,
                store_state: "VALID",
                store_since: now,
                store_error: None,
                db_server: String::new(),
                db_prefix: p.spec.prefix.clone().or_else(|| sel.prefix.clone()).unwrap_or_default(),
                last_event: None,
                last_event_instant: None,
                events: BTreeMap::new(),
                writes: BTreeMap::new(),
                write_failures: 0,
                reinits: BTreeMap::new(),
                reconnects: 0,
            }),
            log,
        });
        log.info(
            &env.name,
            &format!("starting: LaunchDarkly {} ({}), store {}", p.ld.stream_uri, env.masked_key, p.store.backend()),
        );
        let (tx, rx) = mpsc::unbounded_channel();
        readers.spawn(reader(env.clone(), p.ld, tx, args.read_timeout, args.exit_on_error, stop_rx.clone()));
        writers.spawn(writer(env.clone(), p.store, p.spec, sel.clone(), rx, args.check_interval));
        envs.push(env);
    }
    let envs = Arc::new(envs);

    if let Some(addr) = &args.listen {
        let addr = if addr.contains(':') { addr.clone() } else { format!("127.0.0.1:{addr}") };
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|e| UsageError::new(format!("cannot listen on {addr}: {e}")))?;
        log.info("-", &format!("serving /status and /metrics on http://{}", listener.local_addr()?));
        let envs = envs.clone();
        tokio::spawn(serve(listener, envs));
    }

    let outcome: Result<()> = tokio::select! {
        _ = sigterm.recv() => { log.info("-", "SIGTERM: shutting down"); Ok(()) }
        _ = sigint.recv() => { log.info("-", "SIGINT: shutting down"); Ok(()) }
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
    })
    .await;
    if drained.is_err() {
        log.warn("-", "some store writes did not finish in time (the store is down?)");
    }
    outcome.map(|()| crate::exit::SUCCESS)
}

async fn stopped(rx: &mut watch::Receiver<bool>) {
    if rx.wait_for(|v| *v).await.is_err() {
        std::future::pending::<()>().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Reader: LaunchDarkly stream → memory → writer.

async fn reader(
    env: Arc<Env>,
    cfg: LdConfig,
    tx: mpsc::UnboundedSender<Op>,
    read_timeout: Duration,
    exit_on_error: bool,
    mut stop: watch::Receiver<bool>,
) -> Result<()> {
    let source = StreamSource { cfg };
    let mut schedule = Reconnect::default();
    let log = env.log;
    let name = env.name.clone();
    loop {
        let attempt = tokio::select! {
            r = source.connect() => r,
            _ = stopped(&mut stop) => return Ok(()),
        };
        let delay = match attempt {
            Ok(resp) => {
                log.info(&name, "stream connected");
                schedule.connected();
                let connected_at = Instant::now();
                let mut events = EventReader::new(resp).with_read_timeout(read_timeout);
                let why = loop {
                    let next = tokio::select! {
                        r = events.next() => r,
                        _ = stopped(&mut stop) => return Ok(()),
                    };
                    match next {
                        Err(StreamEnd::Broken(why)) => break why,
                        Err(StreamEnd::Malformed(why)) => {
                            env.count_event("malformed");
                            log.warn(&name, &format!("malformed event ({why}); reconnecting for a fresh put"));
                            break why;
                        }
                        Ok(ev) => apply(&env, ev, &tx),
                    }
                };
                env.st().reconnects += 1;
                env.set_conn("INTERRUPTED", Some(("NETWORK_ERROR", why.clone())));
                let d = schedule.after_stream(connected_at.elapsed());
                log.warn(&name, &format!("stream interrupted: {why}; reconnecting in {:.1} s", d.as_secs_f64()));
                d
            }
            Err(Failure::Retry(why)) => {
                let state = if env.mem().is_some() { "INTERRUPTED" } else { "INITIALIZING" };
                env.set_conn(state, Some(("NETWORK_ERROR", why.clone())));
                let d = schedule.after_failure();
                log.warn(&name, &format!("cannot connect: {why}; retrying in {:.1} s", d.as_secs_f64()));
                d
            }
            Err(Failure::Fatal(e)) => {
                let msg = chain_text(&e);
                env.set_conn("OFF", Some(("ERROR_RESPONSE", msg.clone())));
                if exit_on_error {
                    log.error(&name, &format!("{msg}; exiting (--exit-on-error)"));
                    return Err(e.context(format!("environment \"{name}\"")));
                }
                let d = schedule.after_rejection();
                log.error(
                    &name,
                    &format!(
                        "{msg}: this environment's store is left untouched; retrying in {}",
                        humantime::format_duration(Duration::from_secs(d.as_secs()))
                    ),
                );
                d
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stopped(&mut stop) => return Ok(()),
        }
    }
}

/// The reader's reconnect schedule (protocol reference): recoverable failures and broken streams
/// on the normal backoff (1 s doubling to 30 s, jitter), which starts over once a connection stayed
/// good for [`HEALTHY_RESET`]; a rejected SDK key (401/403) on the slow one (5 min doubling to 1 h),
/// which starts over once a connection succeeds.
#[derive(Debug, Clone)]
struct Reconnect {
    normal: Backoff,
    slow: Backoff,
}

impl Default for Reconnect {
    fn default() -> Self {
        let mut slow = Backoff::default();
        slow.initial = Duration::from_secs(300);
        slow.max = Duration::from_secs(3600);
        Reconnect { normal: Backoff::default(), slow }
    }
}

impl Reconnect {
    /// The stream answered 200.
    fn connected(&mut self) {
        self.slow.reset();
    }
    /// A stream that was connected for `lasted` ended (or broke).
    fn after_stream(&mut self, lasted: Duration) -> Duration {
        if lasted >= HEALTHY_RESET {
            self.normal.reset();
        }
        self.normal.next_delay()
    }
    /// A connection attempt failed recoverably (network error, 5xx...).
    fn after_failure(&mut self) -> Duration {
        self.normal.next_delay()
    }
    /// LaunchDarkly rejected the SDK key.
    fn after_rejection(&mut self) -> Duration {
        self.slow.next_delay()
    }
}

/// Apply one event to memory and hand the store operation to the writer.
fn apply(env: &Env, ev: LdEvent, tx: &mpsc::UnboundedSender<Op>) {
    let log = env.log;
    match ev {
        LdEvent::Put(mut data) => {
            env.count_event("put");
            // Items whose key the store cannot hold and read back are left out (and said).
            for kind in Kind::ALL {
                data.items_mut(kind).retain(|key, _| match env.store.key_problem(key) {
                    None => true,
                    Some(why) => {
                        log.error(&env.name, &cannot_hold(env, kind, key, &why));
                        false
                    }
                });
            }
            log.info(&env.name, &format!("put: {} flags, {} segments", data.flags.len(), data.segments.len()));
            *env.mem() = Some(data);
            env.set_conn("VALID", None);
            let _ = tx.send(Op::Init);
        }
        LdEvent::Patch { kind, item } => {
            env.count_event("patch");
            upsert_memory(env, kind, item, tx);
        }
        LdEvent::Delete { kind, key, version } => {
            env.count_event("delete");
            upsert_memory(env, kind, Item::tombstone(kind, &key, version), tx);
        }
        LdEvent::Unknown { event, path } => {
            env.count_event("unknown");
            log.info(&env.name, &format!("ignoring event \"{event}\" (path {})", path.as_deref().unwrap_or("-")));
        }
    }
}

/// "skipping flag "a//b": Consul cannot hold its key and read it back: …".
fn cannot_hold(env: &Env, kind: Kind, key: &str, why: &str) -> String {
    let what = if kind == Kind::Flags { "flag" } else { "segment" };
    format!(
        "skipping {what} {}: {} cannot hold its key and read it back: {why}",
        store::shown_key(key),
        env.store.backend()
    )
}

fn upsert_memory(env: &Env, kind: Kind, item: Item, tx: &mpsc::UnboundedSender<Op>) {
    if let Some(why) = env.store.key_problem(&item.key) {
        env.log.error(&env.name, &cannot_hold(env, kind, &item.key, &why));
        return;
    }
    let mut mem = env.mem();
    let Some(data) = mem.as_mut() else {
        env.log.warn(&env.name, &format!("{kind} \"{}\" received before the first put; ignored", item.key));
        return;
    };
    let items = data.items_mut(kind);
    if let Some(cur) = items.get(&item.key)
        && cur.version >= item.version
    {
        tracing::debug!("{kind} \"{}\" v{} is not newer than v{}; ignored", item.key, item.version, cur.version);
        return;
    }
    items.insert(item.key.clone(), item.clone());
    drop(mem);
    let _ = tx.send(Op::Upsert(kind, item));
}

// ---------------------------------------------------------------------------------------------
// Writer: memory → store, through outages and wipes.

async fn writer(
    env: Arc<Env>,
    cfg: StoreConfig,
    spec: EnvSpec,
    sel: StoreSelection,
    mut rx: mpsc::UnboundedReceiver<Op>,
    check_interval: Duration,
) {
    let log = env.log;
    let name = env.name.clone();
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
                    if first || env.st().store_state == "VALID" {
                        log.error(&name, &format!("store unavailable: {msg}; keeping data in memory and retrying"));
                    }
                    env.st().write_failures += 1;
                    env.set_store(false, Some(msg));
                }
            }
            first = false;
            continue;
        };
        let result: Result<(), store::StoreError> = tokio::select! {
            op = rx.recv() => match op {
                None => return,
                Some(Op::Init) => init_from_memory(&env, st.as_ref(), prefix, "put").await,
                Some(Op::Upsert(kind, item)) => match st.upsert(prefix, kind, &item).await {
                    Ok(Upserted::Applied) => { env.count_write("upsert"); Ok(()) }
                    Ok(Upserted::Stale { stored_version }) => {
                        tracing::debug!("{kind} \"{}\": store holds v{stored_version}", item.key);
                        Ok(())
                    }
                    Err(e) => Err(e),
                },
            },
            _ = check.tick() => {
                if env.mem().is_none() {
                    Ok(())
                } else {
                    match st.is_initialized(prefix).await {
                        Ok(true) => Ok(()),
                        Ok(false) => {
                            log.warn(&name, &format!("prefix \"{prefix}\" lost its $inited marker (store wiped?); repopulating from memory"));
                            *env.st().reinits.entry("wiped").or_default() += 1;
                            init_from_memory(&env, st.as_ref(), prefix, "wiped").await
                        }
                        Err(e) => Err(e),
                    }
                }
            }
        };
        if let Err(e) = result {
            env.st().write_failures += 1;
            log.error(&name, &format!("store write failed: {e}; keeping data in memory and retrying"));
            env.set_store(false, Some(e.to_string()));
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
    if env.mem().is_some() {
        init_from_memory(env, st.as_ref(), &prefix, "recovered").await?;
        *env.st().reinits.entry("recovered").or_default() += 1;
    }
    if !first {
        env.log.info(&env.name, &format!("store is back ({}, prefix \"{prefix}\")", st.address()));
    }
    env.set_store(true, None);
    Ok((st, prefix))
}

async fn init_from_memory(env: &Env, st: &dyn Store, prefix: &str, why: &str) -> Result<(), store::StoreError> {
    let Some(data) = env.mem().clone() else { return Ok(()) };
    // Nothing from LaunchDarkly never replaces items in the store (unless --allow-empty): logged,
    // not written, and not a store failure (the store is fine; memory keeps following the stream).
    let source = if why == "put" { "LaunchDarkly stream put" } else { "LaunchDarkly data in memory" };
    if let Err(e) = crate::source::refuse_to_empty(st, prefix, &data, source, env.allow_empty).await {
        if matches!(e.downcast_ref(), Some(crate::source::SourceError::Empty { .. })) {
            env.log.error(&env.name, &format!("{}; {} to relay", chain_text(&e), crate::source::ALLOW_EMPTY_HINT));
            return Ok(());
        }
        return Err(e.downcast::<store::StoreError>().unwrap_or_else(|e| store::StoreError::Other(chain_text(&e))));
    }
    // The relay stops on signals itself (finishing the writes in flight, within a grace period).
    let report = st.init(prefix, &data, &NoProgress, &Shutdown::never()).await?;
    env.count_write("init");
    env.log.info(
        &env.name,
        &format!("wrote {} items to \"{prefix}\" ({why}){}", report.items_written, skipped_note(&report)),
    );
    for s in &report.skipped {
        env.log.warn(&env.name, &format!("skipped {} \"{}\": {}", s.kind, s.key, s.reason));
    }
    Ok(())
}

fn skipped_note(r: &store::InitReport) -> String {
    if r.skipped.is_empty() { String::new() } else { format!(", {} skipped", r.skipped.len()) }
}

// ---------------------------------------------------------------------------------------------
// /status and /metrics.

fn status_json(envs: &[Arc<Env>]) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    let mut healthy = true;
    for e in envs {
        let (flags, segments, _) = e.sizes();
        let s = e.st();
        let connected = s.conn_state == "VALID";
        healthy &= connected && s.store_state == "VALID";
        let err = |le: &Option<LastError>| {
            le.as_ref().map(|l| json!({"kind": l.kind, "message": l.message, "time": unix_ms(l.time)}))
        };
        let mut conn = json!({"state": s.conn_state, "stateSince": unix_ms(s.conn_since)});
        if let Some(le) = err(&s.conn_error) {
            conn["lastError"] = le;
        }
        let mut store = json!({
            "state": s.store_state,
            "stateSince": unix_ms(s.store_since),
            "database": e.database,
            "dbServer": s.db_server,
            "dbPrefix": s.db_prefix,
            "dbTable": e.db_table,
        });
        if let Some(le) = err(&s.store_error) {
            store["lastError"] = le;
        }
        out.insert(
            e.name.clone(),
            json!({
                "sdkKey": e.masked_key,
                "status": if connected { "connected" } else { "disconnected" },
                "connectionStatus": conn,
                "dataStoreStatus": store,
                "lastEventTime": s.last_event.map(unix_ms),
                "flags": flags,
                "segments": segments,
            }),
        );
    }
    json!({
        "status": if healthy { "healthy" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "environments": out,
    })
}

fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn metrics_text(envs: &[Arc<Env>]) -> String {
    use std::fmt::Write;
    let mut m = String::new();
    let mut family = |name: &str, kind: &str, help: &str, rows: &mut dyn FnMut(&mut String, &str)| {
        let _ = writeln!(m, "# HELP {name} {help}\n# TYPE {name} {kind}");
        rows(&mut m, name);
    };
    family("ldstore_relay_events_total", "counter", "Stream events received, by type.", &mut |m, n| {
        for e in envs {
            let s = e.st();
            for t in ["put", "patch", "delete", "unknown", "malformed"] {
                let v = s.events.get(t).copied().unwrap_or(0);
                let _ = writeln!(m, "{n}{{env=\"{}\",type=\"{t}\"}} {v}", label(&e.name));
            }
        }
    });
    family("ldstore_relay_store_writes_total", "counter", "Successful store writes, by operation.", &mut |m, n| {
        for e in envs {
            let s = e.st();
            for op in ["init", "upsert"] {
                let v = s.writes.get(op).copied().unwrap_or(0);
                let _ = writeln!(m, "{n}{{env=\"{}\",op=\"{op}\"}} {v}", label(&e.name));
            }
        }
    });
    family("ldstore_relay_store_write_failures_total", "counter", "Failed store operations.", &mut |m, n| {
        for e in envs {
            let _ = writeln!(m, "{n}{{env=\"{}\"}} {}", label(&e.name), e.st().write_failures);
        }
    });
    family(
        "ldstore_relay_store_reinits_total",
        "counter",
        "Full rewrites from memory, by reason (recovered store, wiped prefix).",
        &mut |m, n| {
            for e in envs {
                let s = e.st();
                for r in ["recovered", "wiped"] {
                    let v = s.reinits.get(r).copied().unwrap_or(0);
                    let _ = writeln!(m, "{n}{{env=\"{}\",reason=\"{r}\"}} {v}", label(&e.name));
                }
            }
        },
    );
    family("ldstore_relay_reconnects_total", "counter", "Stream reconnects after a broken stream.", &mut |m, n| {
        for e in envs {
            let _ = writeln!(m, "{n}{{env=\"{}\"}} {}", label(&e.name), e.st().reconnects);
        }
    });
    family("ldstore_relay_items", "gauge", "Items in memory (tombstones excluded), by kind.", &mut |m, n| {
        for e in envs {
            let (f, s, _) = e.sizes();
            let _ = writeln!(m, "{n}{{env=\"{}\",kind=\"flags\"}} {f}", label(&e.name));
            let _ = writeln!(m, "{n}{{env=\"{}\",kind=\"segments\"}} {s}", label(&e.name));
        }
    });
    family(
        "ldstore_relay_seconds_since_last_event",
        "gauge",
        "Seconds since the last stream event (absent before the first).",
        &mut |m, n| {
            for e in envs {
                if let Some(t) = e.st().last_event_instant {
                    let _ = writeln!(m, "{n}{{env=\"{}\"}} {:.3}", label(&e.name), t.elapsed().as_secs_f64());
                }
            }
        },
    );
    family("ldstore_relay_store_up", "gauge", "1 when the store answers, 0 while it is down.", &mut |m, n| {
        for e in envs {
            let up = u8::from(e.st().store_state == "VALID");
            let _ = writeln!(m, "{n}{{env=\"{}\"}} {up}", label(&e.name));
        }
    });
    family("ldstore_relay_stream_connected", "gauge", "1 when the stream is connected and has data.", &mut |m, n| {
        for e in envs {
            let up = u8::from(e.st().conn_state == "VALID");
            let _ = writeln!(m, "{n}{{env=\"{}\"}} {up}", label(&e.name));
        }
    });
    m
}

async fn serve(listener: tokio::net::TcpListener, envs: Arc<Vec<Arc<Env>>>) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else { continue };
        let envs = envs.clone();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 2048];
            let read_head = async {
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
                    let n = sock.read(&mut chunk).await?;
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                std::io::Result::Ok(())
            };
            if !matches!(tokio::time::timeout(Duration::from_secs(10), read_head).await, Ok(Ok(()))) {
                return;
            }
            let head = String::from_utf8_lossy(&buf);
            let mut parts = head.split_whitespace();
            let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let path = target.split('?').next().unwrap_or("");
            let (code, ctype, body) = match (method, path) {
                ("GET", "/status") => {
                    let body = serde_json::to_string_pretty(&status_json(&envs)).unwrap_or_default();
                    (200, "application/json", body)
                }
                ("GET", "/metrics") => (200, "text/plain; version=0.0.4", metrics_text(&envs)),
                ("GET", _) => (404, "text/plain", "not found\n".to_string()),
                _ => (405, "text/plain", "method not allowed\n".to_string()),
            };
            let reason = match code {
                200 => "OK",
                404 => "Not Found",
                _ => "Method Not Allowed",
            };
            let body = secrets::mask(&body);
            let resp = format!(
                "HTTP/1.1 {code} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
            let _ = sock.shutdown().await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every delay is the schedule's base minus at most 50 % jitter (the protocol reference).
    #[track_caller]
    fn assert_jittered(d: Duration, base_secs: f64) {
        let d = d.as_secs_f64();
        assert!(d <= base_secs && d >= base_secs * 0.5, "{d} s is not within [{}, {base_secs}] s", base_secs * 0.5);
    }

    #[test]
    fn reconnects_double_from_1s_to_30s_minus_up_to_half_jitter() {
        let bases = [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0];
        let mut fractions = Vec::new();
        for _ in 0..200 {
            let mut r = Reconnect::default();
            for base in bases {
                let d = r.after_failure();
                assert_jittered(d, base);
                fractions.push(1.0 - d.as_secs_f64() / base);
            }
        }
        // The jitter is random and spans its range (1,600 draws: the chance of missing either end
        // by chance is below 1e-150).
        let lo = fractions.iter().copied().fold(f64::MAX, f64::min);
        let hi = fractions.iter().copied().fold(f64::MIN, f64::max);
        assert!(lo < 0.1 && hi > 0.4, "jitter fractions from {lo} to {hi}");
    }

    #[test]
    fn broken_streams_continue_the_schedule_until_a_connection_stayed_good_for_60s() {
        let mut r = Reconnect::default();
        assert_jittered(r.after_failure(), 1.0);
        assert_jittered(r.after_failure(), 2.0);
        // A stream that broke after a short while: no reset, the schedule goes on.
        assert_jittered(r.after_stream(Duration::from_secs(5)), 4.0);
        assert_jittered(r.after_stream(HEALTHY_RESET - Duration::from_millis(1)), 8.0);
        // A stream that stayed good for 60 s: back to 1 s.
        assert_eq!(HEALTHY_RESET, Duration::from_secs(60));
        assert_jittered(r.after_stream(HEALTHY_RESET), 1.0);
        assert_jittered(r.after_failure(), 2.0);
        assert_jittered(r.after_stream(Duration::from_secs(3600)), 1.0);
        // A successful connect alone does not reset the normal schedule (only staying up does).
        r.connected();
        assert_jittered(r.after_stream(Duration::ZERO), 2.0);
    }

    #[test]
    fn rejected_keys_retry_from_5min_doubling_to_1h_and_start_over_after_a_connection() {
        for _ in 0..50 {
            let mut r = Reconnect::default();
            for base in [300.0, 600.0, 1200.0, 2400.0, 3600.0, 3600.0, 3600.0] {
                assert_jittered(r.after_rejection(), base);
            }
            // The slow schedule is separate from the normal one...
            assert_jittered(r.after_failure(), 1.0);
            // ...and starts over once LaunchDarkly accepts the key again.
            r.connected();
            assert_jittered(r.after_rejection(), 300.0);
            assert_jittered(r.after_rejection(), 600.0);
        }
    }
}
