//! An in-memory store: a real [`Store`] and [`Admin`] held in the process, for unit tests of the
//! logic above the store layer (sync, diff, validate, relay recovery) and for the store-contract
//! conformance suite ([`super::conformance`]) with no server running.
//!
//! It keeps each item as the bytes it was given (raw JSON, unknown fields and all), keyed by its
//! store address (prefix, kind, key) like the real backends, with the `$inited` marker per prefix.
//! A full init is atomic: the new items are staged, then replace the prefix's items at once with
//! the marker. Every write is also logged in order (`<prefix>/<namespace>/<key>`,
//! `<prefix>/$inited`), so a test can see the write order. Tests can store any value at an item's
//! address (a tombstone of another SDK, a value that is not JSON), keys that are not LaunchDarkly
//! data, and make the next init fail part-way.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use super::lease::{self, Halt};
use super::{Admin, Backend, InitReport, KeyInfo, Progress, Store, StoreError, Upserted, Visitor, entry, prefix_or};
use crate::data::{DataSet, Item, Kind};
use crate::shutdown::Shutdown;

const BACKEND: &str = Backend::Memory.as_str();
/// The default prefix, as Redis and Consul.
pub const DEFAULT_PREFIX: &str = "launchdarkly";

#[derive(Debug, Default, Clone)]
struct Prefix {
    /// Per kind ([`Kind::index`]): key -> stored value.
    items: [BTreeMap<String, String>; 2],
    inited: bool,
    /// Keys under the prefix that are not LaunchDarkly data (another tool's).
    other: BTreeSet<String>,
}

impl Prefix {
    fn is_empty(&self) -> bool {
        !self.inited && self.items.iter().all(BTreeMap::is_empty)
    }
}

#[derive(Debug, Default)]
struct Inner {
    prefixes: BTreeMap<String, Prefix>,
    /// Every write, in order.
    log: Vec<String>,
    /// Make the next init fail after staging this many items (nothing is committed).
    fail_next_init_after: Option<usize>,
}

/// The in-memory store. Clones share the same data (one store, many handles).
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

fn item_address(prefix: &str, kind: Kind, key: &str) -> String {
    format!("{prefix}/{}/{key}", kind.namespace())
}

fn marker_address(prefix: &str) -> String {
    format!("{prefix}/$inited")
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A test that panicked while holding the lock leaves data that is still consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Store `value` at an item's address as it is (any bytes another writer may have stored).
    pub fn put_raw(&self, prefix: &str, kind: Kind, key: &str, value: &str) {
        let mut inner = self.lock();
        inner.log.push(item_address(prefix, kind, key));
        inner.prefixes.entry(prefix.to_string()).or_default().items[kind.index()]
            .insert(key.to_string(), value.to_string());
    }

    /// The value stored at an item's address.
    pub fn raw(&self, prefix: &str, kind: Kind, key: &str) -> Option<String> {
        self.lock().prefixes.get(prefix).and_then(|p| p.items[kind.index()].get(key).cloned())
    }

    /// The keys stored under a prefix, as `features/<key>`, `segments/<key>`, `$inited` and the
    /// other keys as stored.
    pub fn layout(&self, prefix: &str) -> BTreeSet<String> {
        let inner = self.lock();
        let mut out = BTreeSet::new();
        if let Some(p) = inner.prefixes.get(prefix) {
            for kind in Kind::ALL {
                out.extend(p.items[kind.index()].keys().map(|k| format!("{}/{k}", kind.namespace())));
            }
            if p.inited {
                out.insert("$inited".to_string());
            }
            out.extend(p.other.iter().cloned());
        }
        out
    }

    /// Write or remove the `$inited` marker.
    pub fn set_marker(&self, prefix: &str, inited: bool) {
        let mut inner = self.lock();
        inner.log.push(marker_address(prefix));
        inner.prefixes.entry(prefix.to_string()).or_default().inited = inited;
    }

    /// Store a key under the prefix that is not LaunchDarkly data.
    pub fn put_other(&self, prefix: &str, key: &str) {
        self.lock().prefixes.entry(prefix.to_string()).or_default().other.insert(key.to_string());
    }

    /// Every write so far, in order: `<prefix>/<namespace>/<key>` or `<prefix>/$inited`.
    pub fn writes(&self) -> Vec<String> {
        self.lock().log.clone()
    }

    /// Make the next init fail after staging `items` items (so nothing of it is committed).
    pub fn fail_next_init_after(&self, items: usize) {
        self.lock().fail_next_init_after = Some(items);
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn backend(&self) -> Backend {
        Backend::Memory
    }

    fn effective_prefix(&self, requested: Option<&str>) -> String {
        prefix_or(requested, DEFAULT_PREFIX)
    }

    async fn read_all(&self, prefix: &str, kind: Kind, visit: &mut Visitor<'_>) -> anyhow::Result<()> {
        // A copy, so the visitor runs without the lock held.
        let items = self.lock().prefixes.get(prefix).map(|p| p.items[kind.index()].clone()).unwrap_or_default();
        for (key, json) in items {
            visit(entry(kind, &key, json))?;
        }
        Ok(())
    }

    async fn get(&self, prefix: &str, kind: Kind, key: &str) -> Result<Option<Item>, StoreError> {
        match self.raw(prefix, kind, key) {
            None => Ok(None),
            Some(json) => entry(kind, key, json).map(Some).map_err(|b| StoreError::BadItem(b.error, BACKEND)),
        }
    }

    async fn is_initialized(&self, prefix: &str) -> Result<bool, StoreError> {
        Ok(self.lock().prefixes.get(prefix).is_some_and(|p| p.inited))
    }

    async fn has_items(&self, prefix: &str, kind: Kind) -> Result<bool, StoreError> {
        Ok(self.lock().prefixes.get(prefix).is_some_and(|p| !p.items[kind.index()].is_empty()))
    }

    async fn init(
        &self,
        prefix: &str,
        data: &DataSet,
        progress: &dyn Progress,
        shutdown: &Shutdown,
    ) -> Result<InitReport, StoreError> {
        if let Some(sig) = shutdown.signal() {
            return Err(lease::stopped_before_writing(BACKEND, prefix, Halt::Signal(sig)));
        }
        let fail_after = self.lock().fail_next_init_after.take();
        progress.set_total(data.len() as u64);
        let mut report = InitReport::default();
        let mut staged: [BTreeMap<String, String>; 2] = Default::default();
        let mut order = Vec::with_capacity(data.len() + 1);
        for kind in Kind::INIT_ORDER {
            for item in data.write_order(kind) {
                if fail_after.is_some_and(|n| report.items_written >= n) {
                    return Err(StoreError::Command {
                        store: BACKEND,
                        during: "init".into(),
                        reason: format!("failing on purpose after {} items (a test asked)", report.items_written),
                    });
                }
                staged[kind.index()].insert(item.key.clone(), item.json.to_string());
                order.push(item_address(prefix, kind, &item.key));
                report.items_written += 1;
                report.bytes_written += item.json.len();
                progress.advance(1);
            }
        }
        order.push(marker_address(prefix));
        let mut inner = self.lock();
        let p = inner.prefixes.entry(prefix.to_string()).or_default();
        p.items = staged;
        p.inited = true;
        inner.log.extend(order);
        Ok(report)
    }

    async fn upsert(&self, prefix: &str, kind: Kind, item: &Item) -> Result<Upserted, StoreError> {
        let mut inner = self.lock();
        let items = &mut inner.prefixes.entry(prefix.to_string()).or_default().items[kind.index()];
        if let Some(old) = items.get(&item.key) {
            // An unreadable stored value is replaced, as the SDKs do.
            let old_version = crate::data::facts(kind, &item.key, old).ok().and_then(|f| f.version).unwrap_or(0);
            if old_version >= item.version {
                return Ok(Upserted::Stale { stored_version: old_version });
            }
        }
        items.insert(item.key.clone(), item.json.to_string());
        inner.log.push(item_address(prefix, kind, &item.key));
        Ok(Upserted::Applied)
    }
}

#[async_trait]
impl Admin for MemoryStore {
    fn address(&self) -> String {
        "in this process".to_string()
    }

    fn keys(&self, prefix: &str) -> Vec<KeyInfo> {
        vec![
            KeyInfo { role: "flags".into(), key: format!("{prefix}/features/<flag key>") },
            KeyInfo { role: "segments".into(), key: format!("{prefix}/segments/<segment key>") },
            KeyInfo { role: "initialized marker".into(), key: marker_address(prefix) },
        ]
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn list_prefixes(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.lock().prefixes.iter().filter(|(_, p)| !p.is_empty()).map(|(k, _)| k.clone()).collect())
    }

    async fn unknown_keys(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .lock()
            .prefixes
            .get(prefix)
            .map(|p| p.other.iter().map(|k| format!("{prefix}/{k}")).collect())
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    /// The store-contract scenarios ([`crate::store::conformance`]) on the in-memory store.
    mod conformance {
        crate::store_conformance!(crate::store::conformance::MemoryHarness::new());
    }
}
