//! Per-environment state shared by the reader, the writer and the HTTP endpoints: the newest
//! data LaunchDarkly sent, and the status and counters behind /status and /metrics.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::Log;
use crate::config::StoreConfig;
use crate::data::{DataSet, Item, Kind};
use crate::secrets;

pub(super) fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

#[derive(Debug, Clone)]
pub(super) struct LastError {
    pub(super) kind: &'static str,
    pub(super) message: String,
    pub(super) time: SystemTime,
}

#[derive(Debug)]
pub(super) struct Status {
    /// VALID | INITIALIZING | INTERRUPTED | OFF
    pub(super) conn_state: &'static str,
    pub(super) conn_since: SystemTime,
    pub(super) conn_error: Option<LastError>,
    /// VALID | INTERRUPTED
    pub(super) store_state: &'static str,
    pub(super) store_since: SystemTime,
    pub(super) store_error: Option<LastError>,
    pub(super) db_server: String,
    pub(super) db_prefix: String,
    pub(super) last_event: Option<SystemTime>,
    pub(super) last_event_instant: Option<Instant>,
    pub(super) events: BTreeMap<&'static str, u64>,
    pub(super) writes: BTreeMap<&'static str, u64>,
    pub(super) write_failures: u64,
    pub(super) reinits: BTreeMap<&'static str, u64>,
    pub(super) reconnects: u64,
}

pub(super) struct Env {
    pub(super) name: String,
    pub(super) masked_key: String,
    /// The store's configuration: which keys it can hold.
    pub(super) store: StoreConfig,
    pub(super) database: String,
    pub(super) db_table: String,
    /// The newest data LaunchDarkly sent (None before the first `put`).
    pub(super) mem: Mutex<Option<DataSet>>,
    /// `--allow-empty`: memory with no items may replace a prefix that holds some.
    pub(super) allow_empty: bool,
    pub(super) status: Mutex<Status>,
    pub(super) log: Log,
}

impl Env {
    pub(super) fn st(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub(super) fn mem(&self) -> std::sync::MutexGuard<'_, Option<DataSet>> {
        self.mem.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub(super) fn set_conn(&self, state: &'static str, error: Option<(&'static str, String)>) {
        let mut s = self.st();
        if s.conn_state != state {
            s.conn_state = state;
            s.conn_since = SystemTime::now();
        }
        if let Some((kind, message)) = error {
            s.conn_error = Some(LastError { kind, message: secrets::mask(&message), time: SystemTime::now() });
        }
    }
    pub(super) fn set_store(&self, up: bool, error: Option<String>) {
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
    pub(super) fn count_event(&self, kind: &'static str) {
        let mut s = self.st();
        *s.events.entry(kind).or_default() += 1;
        s.last_event = Some(SystemTime::now());
        s.last_event_instant = Some(Instant::now());
    }
    pub(super) fn count_write(&self, op: &'static str) {
        *self.st().writes.entry(op).or_default() += 1;
    }
    pub(super) fn sizes(&self) -> (usize, usize, usize) {
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
pub(super) enum Op {
    /// Write the whole current memory.
    Init,
    Upsert(Kind, Item),
}
