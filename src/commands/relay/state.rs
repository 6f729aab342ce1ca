//! Per-environment state shared by the reader, the writer and the HTTP endpoints: the newest
//! data LaunchDarkly sent (one copy, shared), the status behind /status and the metrics behind
//! /metrics.
//!
//! Memory is an `Arc<DataSet>`: a full write to the store takes a reference, not a copy. A patch
//! that arrives while such a write is in flight copies the data set once (copy on write, see
//! [`Env::upsert`]); every other patch changes it in place.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::registry::Registry;

use crate::config::StoreConfig;
use crate::data::{DataSet, Item, Kind};
use crate::secrets;

pub(super) fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The stream connection's state, as the Relay Proxy names it in /status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ConnState {
    /// Not connected yet, or no data yet.
    Initializing,
    /// Connected, with data.
    Valid,
    /// Had data; the stream broke and is being reconnected.
    Interrupted,
    /// LaunchDarkly rejected the SDK key.
    Off,
}

impl ConnState {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            ConnState::Initializing => "INITIALIZING",
            ConnState::Valid => "VALID",
            ConnState::Interrupted => "INTERRUPTED",
            ConnState::Off => "OFF",
        }
    }
}

/// The store's state, as the Relay Proxy names it in /status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StoreState {
    Valid,
    Interrupted,
}

impl StoreState {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            StoreState::Valid => "VALID",
            StoreState::Interrupted => "INTERRUPTED",
        }
    }
}

/// What kind of error a `lastError` in /status is (the Relay Proxy's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ErrorKind {
    NetworkError,
    ErrorResponse,
    StoreError,
}

impl ErrorKind {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NetworkError => "NETWORK_ERROR",
            ErrorKind::ErrorResponse => "ERROR_RESPONSE",
            ErrorKind::StoreError => "STORE_ERROR",
        }
    }
}

/// A stream event, as counted in `ldstore_relay_events_total{type}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EventKind {
    Put,
    Patch,
    Delete,
    Unknown,
    Malformed,
}

impl EventKind {
    const ALL: [EventKind; 5] =
        [EventKind::Put, EventKind::Patch, EventKind::Delete, EventKind::Unknown, EventKind::Malformed];
    fn as_str(self) -> &'static str {
        match self {
            EventKind::Put => "put",
            EventKind::Patch => "patch",
            EventKind::Delete => "delete",
            EventKind::Unknown => "unknown",
            EventKind::Malformed => "malformed",
        }
    }
}

/// A successful store write, as counted in `ldstore_relay_store_writes_total{op}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WriteOp {
    Init,
    Upsert,
}

impl WriteOp {
    const ALL: [WriteOp; 2] = [WriteOp::Init, WriteOp::Upsert];
    fn as_str(self) -> &'static str {
        match self {
            WriteOp::Init => "init",
            WriteOp::Upsert => "upsert",
        }
    }
}

/// Why all of memory is written to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FullWrite {
    /// LaunchDarkly sent a `put`.
    Put,
    /// The store answers again after an outage (or at start).
    Recovered,
    /// The prefix lost its `$inited` marker.
    Wiped,
}

impl FullWrite {
    /// As logged ("wrote N items to "p" (put)") and as the `reason` label of
    /// `ldstore_relay_store_reinits_total` (recovered, wiped).
    pub(super) fn as_str(self) -> &'static str {
        match self {
            FullWrite::Put => "put",
            FullWrite::Recovered => "recovered",
            FullWrite::Wiped => "wiped",
        }
    }
    const REINITS: [FullWrite; 2] = [FullWrite::Recovered, FullWrite::Wiped];
}

#[derive(Debug, Clone)]
pub(super) struct LastError {
    pub(super) kind: ErrorKind,
    pub(super) message: String,
    pub(super) time: SystemTime,
}

#[derive(Debug)]
pub(super) struct Status {
    pub(super) conn_state: ConnState,
    pub(super) conn_since: SystemTime,
    pub(super) conn_error: Option<LastError>,
    pub(super) store_state: StoreState,
    pub(super) store_since: SystemTime,
    pub(super) store_error: Option<LastError>,
    pub(super) db_server: String,
    pub(super) db_prefix: String,
    pub(super) last_event: Option<SystemTime>,
    pub(super) last_event_instant: Option<Instant>,
}

// ---------------------------------------------------------------------------------------------
// Metrics: one family per metric, one series per environment (and label value).

type Labels = Vec<(&'static str, String)>;

/// Every relay metric, registered once; environments take their series with [`Metrics::env`].
pub(super) struct Metrics {
    events: Family<Labels, Counter>,
    writes: Family<Labels, Counter>,
    write_failures: Family<Labels, Counter>,
    reinits: Family<Labels, Counter>,
    reconnects: Family<Labels, Counter>,
    items: Family<Labels, Gauge>,
    store_up: Family<Labels, Gauge>,
    stream_connected: Family<Labels, Gauge>,
}

impl Metrics {
    /// The metrics, registered in `registry` (names and help as /metrics shows them; counters get
    /// their `_total` suffix from the encoder).
    pub(super) fn new(registry: &mut Registry) -> Metrics {
        let m = Metrics {
            events: Family::default(),
            writes: Family::default(),
            write_failures: Family::default(),
            reinits: Family::default(),
            reconnects: Family::default(),
            items: Family::default(),
            store_up: Family::default(),
            stream_connected: Family::default(),
        };
        registry.register("ldstore_relay_events", "Stream events received, by type", m.events.clone());
        registry.register("ldstore_relay_store_writes", "Successful store writes, by operation", m.writes.clone());
        registry.register("ldstore_relay_store_write_failures", "Failed store operations", m.write_failures.clone());
        registry.register(
            "ldstore_relay_store_reinits",
            "Full rewrites from memory, by reason (recovered store, wiped prefix)",
            m.reinits.clone(),
        );
        registry.register("ldstore_relay_reconnects", "Stream reconnects after a broken stream", m.reconnects.clone());
        registry.register("ldstore_relay_items", "Items in memory (tombstones excluded), by kind", m.items.clone());
        registry.register("ldstore_relay_store_up", "1 when the store answers, 0 while it is down", m.store_up.clone());
        registry.register(
            "ldstore_relay_stream_connected",
            "1 when the stream is connected and has data",
            m.stream_connected.clone(),
        );
        m
    }

    /// One environment's series, all present from the start (at 0).
    fn env(&self, name: &str) -> EnvMetrics {
        let env = |extra: Option<(&'static str, &str)>| {
            let mut l: Labels = vec![("env", name.to_string())];
            l.extend(extra.map(|(k, v)| (k, v.to_string())));
            l
        };
        EnvMetrics {
            events: EventKind::ALL.map(|k| self.events.get_or_create_owned(&env(Some(("type", k.as_str()))))),
            writes: WriteOp::ALL.map(|o| self.writes.get_or_create_owned(&env(Some(("op", o.as_str()))))),
            write_failures: self.write_failures.get_or_create_owned(&env(None)),
            reinits: FullWrite::REINITS.map(|r| self.reinits.get_or_create_owned(&env(Some(("reason", r.as_str()))))),
            reconnects: self.reconnects.get_or_create_owned(&env(None)),
            flags: self.items.get_or_create_owned(&env(Some(("kind", "flags")))),
            segments: self.items.get_or_create_owned(&env(Some(("kind", "segments")))),
            store_up: self.store_up.get_or_create_owned(&env(None)),
            stream_connected: self.stream_connected.get_or_create_owned(&env(None)),
        }
    }
}

/// One environment's series (handles on the registered families' counters and gauges).
struct EnvMetrics {
    events: [Counter; 5],
    writes: [Counter; 2],
    write_failures: Counter,
    reinits: [Counter; 2],
    reconnects: Counter,
    flags: Gauge,
    segments: Gauge,
    store_up: Gauge,
    stream_connected: Gauge,
}

/// `ldstore_relay_seconds_since_last_event`, computed when scraped (absent before the first event).
pub(super) struct SinceLastEvent(pub(super) Arc<Vec<Arc<Env>>>);

impl std::fmt::Debug for SinceLastEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SinceLastEvent")
    }
}

impl Collector for SinceLastEvent {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        encode_per_env(
            &mut encoder,
            "ldstore_relay_seconds_since_last_event",
            "Seconds since the last stream event (absent before the first).",
            MetricType::Gauge,
            self.0.iter(),
            |e| e.st().last_event_instant.map(|t| ConstGauge::new(t.elapsed().as_secs_f64())),
        )
    }
}

/// One metric family computed when scraped: a series labelled `env` for each environment
/// `value` gives one (an environment it gives `None` is left out).
pub(super) fn encode_per_env<'a, M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    metric_type: MetricType,
    envs: impl Iterator<Item = &'a Arc<Env>>,
    value: impl Fn(&Env) -> Option<M>,
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, metric_type)?;
    for e in envs {
        let Some(v) = value(e) else { continue };
        let labels = [("env", e.name.as_str())];
        v.encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------

pub(super) struct Env {
    pub(super) name: String,
    pub(super) masked_key: String,
    /// The store's configuration: which keys it can hold.
    pub(super) store: StoreConfig,
    pub(super) database: String,
    pub(super) db_table: String,
    /// The newest data LaunchDarkly sent (None before the first `put`).
    mem: Mutex<Option<Arc<DataSet>>>,
    /// How many `put`s memory has taken (changed under the `mem` lock): a full write records the
    /// number it wrote, so a queued write of an older or the same `put` is known to be done.
    puts: std::sync::atomic::AtomicU64,
    /// `--allow-empty`: memory with no items may replace a prefix that holds some.
    pub(super) allow_empty: bool,
    status: Mutex<Status>,
    metrics: EnvMetrics,
    /// The Big Segments synchronizer's state.
    pub(super) big: super::big_segments::BigSync,
}

/// How an item counts in `flags`/`segments` (tombstones do not).
fn live(kind: Kind, item: Option<&Item>) -> (i64, i64) {
    match (kind, item) {
        (Kind::Flags, Some(i)) if !i.deleted => (1, 0),
        (Kind::Segments, Some(i)) if !i.deleted => (0, 1),
        _ => (0, 0),
    }
}

impl Env {
    pub(super) fn new(
        name: String,
        masked_key: String,
        store: StoreConfig,
        db_prefix: String,
        allow_empty: bool,
        metrics: &Metrics,
    ) -> Env {
        let now = SystemTime::now();
        let db_table = match &store {
            StoreConfig::DynamoDb(d) => d.table.clone(),
            _ => String::new(),
        };
        let env = Env {
            metrics: metrics.env(&name),
            big: Default::default(),
            name,
            masked_key,
            database: store.backend().to_ascii_lowercase(),
            store,
            db_table,
            mem: Mutex::new(None),
            puts: std::sync::atomic::AtomicU64::new(0),
            allow_empty,
            status: Mutex::new(Status {
                conn_state: ConnState::Initializing,
                conn_since: now,
                conn_error: None,
                store_state: StoreState::Valid,
                store_since: now,
                store_error: None,
                db_server: String::new(),
                db_prefix,
                last_event: None,
                last_event_instant: None,
            }),
        };
        env.metrics.store_up.set(1);
        env
    }

    pub(super) fn st(&self) -> MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn mem_lock(&self) -> MutexGuard<'_, Option<Arc<DataSet>>> {
        self.mem.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The newest data (shared, not copied), None before the first `put`.
    pub(super) fn data(&self) -> Option<Arc<DataSet>> {
        self.mem_lock().clone()
    }

    /// [`Env::data`] and the number of the `put` it comes from (patches since included).
    pub(super) fn data_and_put(&self) -> Option<(Arc<DataSet>, u64)> {
        let mem = self.mem_lock();
        mem.clone().map(|d| (d, self.puts.load(std::sync::atomic::Ordering::SeqCst)))
    }

    pub(super) fn has_data(&self) -> bool {
        self.mem_lock().is_some()
    }

    /// A `put`: the new data replaces memory. Its number (from 1), for [`Op::Init`].
    pub(super) fn replace(&self, data: DataSet) -> u64 {
        let (flags, segments) =
            (data.flags.values().filter(|i| !i.deleted).count(), data.segments.values().filter(|i| !i.deleted).count());
        let mut mem = self.mem_lock();
        *mem = Some(Arc::new(data));
        let put = self.puts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        drop(mem);
        self.metrics.flags.set(flags as i64);
        self.metrics.segments.set(segments as i64);
        put
    }

    /// A patch or delete: applied when newer than what memory holds. Err(None) before the first
    /// `put`, Err(Some(held version)) when not newer.
    pub(super) fn upsert(&self, kind: Kind, item: &Item) -> Result<(), Option<u64>> {
        let mut mem = self.mem_lock();
        let Some(data) = mem.as_mut() else { return Err(None) };
        if let Some(cur) = data.items(kind).get(&item.key)
            && cur.version >= item.version
        {
            return Err(Some(cur.version));
        }
        // Copy on write: only when a full write still holds the previous data set.
        let items = Arc::make_mut(data).items_mut(kind);
        let old = items.insert(item.key.clone(), item.clone());
        let (was_f, was_s) = live(kind, old.as_ref());
        let (is_f, is_s) = live(kind, Some(item));
        drop(mem);
        self.metrics.flags.inc_by(is_f - was_f);
        self.metrics.segments.inc_by(is_s - was_s);
        Ok(())
    }

    pub(super) fn set_conn(&self, state: ConnState, error: Option<(ErrorKind, String)>) {
        let mut s = self.st();
        if s.conn_state != state {
            s.conn_state = state;
            s.conn_since = SystemTime::now();
        }
        if let Some((kind, message)) = error {
            s.conn_error = Some(LastError { kind, message: secrets::mask(&message), time: SystemTime::now() });
        }
        self.metrics.stream_connected.set(i64::from(state == ConnState::Valid));
    }

    pub(super) fn set_store(&self, state: StoreState, error: Option<String>) {
        let mut s = self.st();
        if s.store_state != state {
            s.store_state = state;
            s.store_since = SystemTime::now();
        }
        if let Some(message) = error {
            s.store_error = Some(LastError {
                kind: ErrorKind::StoreError,
                message: secrets::mask(&message),
                time: SystemTime::now(),
            });
        }
        self.metrics.store_up.set(i64::from(state == StoreState::Valid));
    }

    pub(super) fn count_event(&self, kind: EventKind) {
        self.metrics.events[kind as usize].inc();
        let mut s = self.st();
        s.last_event = Some(SystemTime::now());
        s.last_event_instant = Some(Instant::now());
    }

    pub(super) fn count_write(&self, op: WriteOp) {
        self.metrics.writes[op as usize].inc();
    }

    pub(super) fn count_write_failure(&self) {
        self.metrics.write_failures.inc();
    }

    pub(super) fn count_reinit(&self, why: FullWrite) {
        if let Some(i) = FullWrite::REINITS.iter().position(|r| *r == why) {
            self.metrics.reinits[i].inc();
        }
    }

    pub(super) fn count_reconnect(&self) {
        self.metrics.reconnects.inc();
    }

    /// Items in memory, tombstones excluded: (flags, segments).
    pub(super) fn sizes(&self) -> (i64, i64) {
        (self.metrics.flags.get(), self.metrics.segments.get())
    }
}

/// A store operation for the writer.
#[derive(Debug)]
pub(super) enum Op {
    /// Write the whole current memory, after `put` number .0 (skipped when a full write of memory
    /// since that `put` already wrote it).
    Init(u64),
    Upsert(Kind, Item),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exposition keeps the names, TYPE lines and labels relay served before
    /// prometheus-client: counters as `<name>_total`, every series present from the start.
    #[test]
    fn metrics_keep_their_names_types_and_labels() {
        let mut registry = Registry::default();
        let metrics = Metrics::new(&mut registry);
        let m = metrics.env("Staging \"Env\"");
        m.events[EventKind::Patch as usize].inc();
        m.writes[WriteOp::Init as usize].inc();
        m.flags.set(2);
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry).unwrap();
        let env = r#"env="Staging \"Env\"""#;
        for line in [
            "# HELP ldstore_relay_events_total Stream events received, by type.".to_string(),
            "# TYPE ldstore_relay_events_total counter".to_string(),
            format!(r#"ldstore_relay_events_total{{{env},type="patch"}} 1"#),
            format!(r#"ldstore_relay_events_total{{{env},type="malformed"}} 0"#),
            "# TYPE ldstore_relay_store_writes_total counter".to_string(),
            format!(r#"ldstore_relay_store_writes_total{{{env},op="init"}} 1"#),
            format!(r#"ldstore_relay_store_writes_total{{{env},op="upsert"}} 0"#),
            format!("ldstore_relay_store_write_failures_total{{{env}}} 0"),
            format!(r#"ldstore_relay_store_reinits_total{{{env},reason="wiped"}} 0"#),
            format!("ldstore_relay_reconnects_total{{{env}}} 0"),
            "# TYPE ldstore_relay_items gauge".to_string(),
            format!(r#"ldstore_relay_items{{{env},kind="flags"}} 2"#),
            format!(r#"ldstore_relay_items{{{env},kind="segments"}} 0"#),
            format!("ldstore_relay_store_up{{{env}}} 0"),
            format!("ldstore_relay_stream_connected{{{env}}} 0"),
        ] {
            assert!(text.lines().any(|l| l == line), "no line {line}\n{text}");
        }
        assert!(!text.contains("# EOF"), "{text}");
    }
}
