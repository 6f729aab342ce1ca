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

use super::big_segments::{self, BigSegmentStore, Membership, MembershipVisitor, Metadata};
use super::big_segments_patch::{Applied, Patch};
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
    /// Big Segments metadata and memberships (by context hash).
    big_metadata: Metadata,
    memberships: BTreeMap<String, Membership>,
}

impl Prefix {
    fn is_empty(&self) -> bool {
        !self.inited && self.items.iter().all(BTreeMap::is_empty) && self.big_metadata.synchronized_on.is_none()
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

    /// Store a context's membership as another writer (the Relay Proxy) would.
    pub fn put_raw_membership(&self, prefix: &str, hash: &str, membership: Membership) {
        self.lock().prefixes.entry(prefix.to_string()).or_default().memberships.insert(hash.to_string(), membership);
    }

    /// Store Big Segments metadata as it is (any text), as another writer would.
    pub fn put_raw_big_metadata(&self, prefix: &str, metadata: Metadata) {
        self.lock().prefixes.entry(prefix.to_string()).or_default().big_metadata = metadata;
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

    fn big_segments(&self) -> Option<&dyn BigSegmentStore> {
        Some(self)
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
impl BigSegmentStore for MemoryStore {
    async fn metadata(&self, prefix: &str) -> Result<Metadata, StoreError> {
        Ok(self.lock().prefixes.get(prefix).map(|p| p.big_metadata.clone()).unwrap_or_default())
    }

    async fn membership(&self, prefix: &str, hash: &str) -> Result<Membership, StoreError> {
        Ok(self.lock().prefixes.get(prefix).and_then(|p| p.memberships.get(hash).cloned()).unwrap_or_default())
    }

    async fn read_memberships(&self, prefix: &str, visit: &mut MembershipVisitor<'_>) -> anyhow::Result<()> {
        // A copy, so the visitor runs without the lock held.
        let all = self.lock().prefixes.get(prefix).map(|p| p.memberships.clone()).unwrap_or_default();
        for (hash, m) in all {
            visit(hash, m)?;
        }
        Ok(())
    }

    async fn write_memberships(&self, prefix: &str, memberships: &[(String, Membership)]) -> Result<(), StoreError> {
        big_segments::check_unique(BACKEND, memberships)?;
        let mut inner = self.lock();
        let p = inner.prefixes.entry(prefix.to_string()).or_default();
        for (hash, m) in memberships {
            if m.is_empty() {
                p.memberships.remove(hash);
            } else {
                p.memberships.insert(hash.clone(), m.clone());
            }
        }
        Ok(())
    }

    async fn write_metadata(&self, prefix: &str, metadata: &Metadata) -> Result<(), StoreError> {
        big_segments::check_metadata(BACKEND, metadata)?;
        self.lock().prefixes.entry(prefix.to_string()).or_default().big_metadata = metadata.clone();
        Ok(())
    }

    async fn remove_refs(&self, prefix: &str, removals: &[(String, Membership)]) -> Result<(), StoreError> {
        big_segments::check_unique(BACKEND, removals)?;
        let mut inner = self.lock();
        let p = inner.prefixes.entry(prefix.to_string()).or_default();
        for (hash, r) in removals {
            if let Some(m) = p.memberships.get_mut(hash) {
                m.included.retain(|x| !r.included.contains(x));
                m.excluded.retain(|x| !r.excluded.contains(x));
                if m.is_empty() {
                    p.memberships.remove(hash);
                }
            }
        }
        Ok(())
    }

    async fn apply_patch(&self, prefix: &str, patch: &Patch) -> Result<Applied, StoreError> {
        let mut inner = self.lock();
        let p = inner.prefixes.entry(prefix.to_string()).or_default();
        if !patch.follows(p.big_metadata.cursor.as_deref()) {
            return Ok(Applied::OutOfOrder { cursor: p.big_metadata.cursor.clone() });
        }
        patch.apply_to(&mut p.memberships);
        p.big_metadata.cursor = Some(patch.version.clone());
        Ok(Applied::Applied)
    }

    async fn mark_synchronized(&self, prefix: &str, now_ms: i64) -> Result<(), StoreError> {
        self.lock().prefixes.entry(prefix.to_string()).or_default().big_metadata.synchronized_on =
            Some(now_ms.to_string());
        Ok(())
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

        /// The list of scenarios (for loops over targets) runs too.
        #[test]
        fn every_listed_scenario() {
            use crate::store::conformance::{MemoryHarness, scenarios};
            for (_name, scenario) in scenarios::<MemoryHarness>() {
                scenario(&MemoryHarness::new());
            }
        }
    }

    use super::*;
    use crate::store::{NoProgress, conformance::flag_file};

    fn data(flags: &[&str], segments: &[&str]) -> DataSet {
        crate::source::file::parse_json(&flag_file(flags, segments)).expect("a valid data set")
    }

    async fn init(s: &MemoryStore, prefix: &str, d: &DataSet) {
        s.init(prefix, d, &NoProgress, &Shutdown::never()).await.expect("init");
    }

    /// What `sync --dry-run` reports: the plan from the store's current contents to the new data.
    #[tokio::test]
    async fn sync_plan_from_the_stored_contents() {
        let s = MemoryStore::new();
        init(
            &s,
            "p",
            &data(&[r#"{"key":"a","version":1}"#, r#"{"key":"b","version":1}"#], &[r#"{"key":"s","version":1}"#]),
        )
        .await;
        let old = crate::commands::sync::current_contents(&s, "p").await.unwrap();
        let plan = crate::data::plan_changes(
            &old,
            &data(&[r#"{"key":"a","version":1}"#, r#"{"key":"b","version":2}"#, r#"{"key":"c","version":1}"#], &[]),
        );
        assert_eq!(plan.added, ["flags/c"]);
        assert_eq!(plan.updated, ["flags/b"]);
        assert_eq!(plan.removed, ["segments/s"]);
        assert_eq!(plan.unchanged, 1);
    }

    /// The emptiness rule: an empty source never replaces a prefix holding items (a tombstone
    /// counts) unless allowed; an empty prefix may be written.
    #[tokio::test]
    async fn sync_refuses_to_empty_a_prefix_that_holds_items() {
        let s = MemoryStore::new();
        let empty = DataSet::default();
        assert!(crate::source::refuse_to_empty(&s, "p", &empty, "the file", false).await.is_ok());
        s.put_raw("p", Kind::Segments, "gone", r#"{"version":3,"deleted":true}"#);
        let e = crate::source::refuse_to_empty(&s, "p", &empty, "the file", false).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "the source (the file) holds no flags or segments; refusing to empty Memory prefix \"p\", which holds 1 tombstone"
        );
        assert!(crate::source::refuse_to_empty(&s, "p", &empty, "the file", true).await.is_ok());
        let refusal = crate::commands::sync::would_refuse(&s, "p", &empty, "the file", false).await.unwrap();
        assert!(refusal.is_some_and(|r| r.contains("refusing to empty")));
        // A failed init leaves the prefix as it was.
        s.fail_next_init_after(0);
        assert!(
            s.init("p", &data(&[r#"{"key":"a","version":1}"#], &[]), &NoProgress, &Shutdown::never()).await.is_err()
        );
        assert_eq!(s.layout("p").into_iter().collect::<Vec<_>>(), ["segments/gone"]);
    }

    /// `validate` of one prefix: the missing marker, items that are not usable, broken references
    /// and keys that are not LaunchDarkly data.
    #[tokio::test]
    async fn validate_reports_what_the_sdks_would_trip_on() {
        let s = MemoryStore::new();
        s.put_raw("p", Kind::Flags, "a", r#"{"key":"a","version":1,"on":true,"prerequisites":[{"key":"missing","variation":0}],"variations":[true,false],"offVariation":1,"fallthrough":{"variation":0},"salt":"x"}"#);
        s.put_raw("p", Kind::Flags, "bad", "not json");
        s.put_other("p", "other-tool");
        let found =
            crate::commands::validate::validate_prefix(&s, "p", big_segments::DEFAULT_STALE_AFTER).await.unwrap();
        let checks: Vec<(&str, Option<&str>)> = found.iter().map(|f| (f.check, f.key.as_deref())).collect();
        assert!(checks.contains(&("not-initialized", None)), "{checks:?}");
        assert!(checks.contains(&("bad-item", Some("bad"))), "{checks:?}");
        assert!(checks.contains(&("unknown-key", Some("p/other-tool"))), "{checks:?}");
        assert!(checks.iter().any(|(c, k)| c.contains("prerequisite") && *k == Some("a")), "{checks:?}");
        // A clean, initialized prefix has nothing to report.
        init(&s, "q", &data(&[r#"{"key":"ok","version":1,"on":true,"prerequisites":[],"targets":[],"contextTargets":[],"rules":[],"fallthrough":{"variation":0},"offVariation":1,"variations":[true,false],"salt":"x","trackEvents":false,"trackEventsFallthrough":false,"debugEventsUntilDate":null,"clientSide":false,"deleted":false}"#], &[])).await;
        let found =
            crate::commands::validate::validate_prefix(&s, "q", big_segments::DEFAULT_STALE_AFTER).await.unwrap();
        assert!(found.iter().all(|f| f.severity != crate::model_check::Severity::Error), "{found:?}");
    }

    /// `diff` of two prefixes read from a store: added, removed and changed items.
    #[tokio::test]
    async fn diff_of_two_stored_prefixes() {
        use crate::commands::diff::diff_data_sets;
        let s = MemoryStore::new();
        init(&s, "a", &data(&[r#"{"key":"x","version":1,"on":true}"#, r#"{"key":"y","version":1}"#], &[])).await;
        init(&s, "b", &data(&[r#"{"key":"x","version":2,"on":false}"#, r#"{"key":"z","version":1}"#], &[])).await;
        let (a, b) = (s.read_data_set("a").await.unwrap(), s.read_data_set("b").await.unwrap());
        let r = diff_data_sets(&a, &b, None, None);
        let keys: Vec<&str> = r.differences.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, ["x", "y", "z"]);
        assert_eq!(r.unchanged, 0);
        assert!(diff_data_sets(&a, &a, None, None).differences.is_empty());
    }

    /// Upserts after an init (what relay does with stream patches, and its recovery init from
    /// memory when the store comes back): a stale patch never overwrites, a re-init replaces all.
    #[tokio::test]
    async fn relay_style_patches_then_recovery_init() {
        let s = MemoryStore::new();
        let d = data(&[r#"{"key":"f","version":3}"#], &[]);
        init(&s, "p", &d).await;
        let newer = Item::parse(Kind::Flags, "f", r#"{"key":"f","version":4}"#.into()).unwrap();
        let older = Item::parse(Kind::Flags, "f", r#"{"key":"f","version":2}"#.into()).unwrap();
        assert_eq!(s.upsert("p", Kind::Flags, &newer).await.unwrap(), Upserted::Applied);
        assert_eq!(s.upsert("p", Kind::Flags, &older).await.unwrap(), Upserted::Stale { stored_version: 4 });
        // Recovery writes the memory's whole data set again: the marker last, the old state replaced.
        init(&s, "p", &d).await;
        assert_eq!(s.get("p", Kind::Flags, "f").await.unwrap().map(|i| i.version), Some(3));
        assert_eq!(s.writes().last().map(String::as_str), Some("p/$inited"));
    }
}
