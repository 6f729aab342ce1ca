//! The store-contract conformance suite: each scenario is written once, against a [`Harness`] that
//! gives access to one backend, and instantiated for every backend by [`store_conformance!`](crate::store_conformance):
//! the in-memory store here (`cargo test --lib`, no server), and Redis, DynamoDB Local and the
//! Consul test server in `tests/it/conformance.rs` (through the built binary, as a user runs it).
//!
//! A harness drives the store the way a user and an SDK do: a full init from a flag file
//! (`ldstore sync --from-file`), `dump`, `inspect`, raw reads and writes at the addresses the SDKs
//! use (to check the layout, and to store what other SDKs write), and the library's [`Store`] for
//! what no command reaches (upsert). Backend-specific layout facts (Redis key types, DynamoDB
//! attributes, `inspect`'s key listing) are checked by the harness's hooks, so every backend is
//! held to the same scenarios and to its own layout.
//!
//! Adding a backend means one harness and one line of `store_conformance!`; adding a contract
//! scenario means one function here and one line in the macro.

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use serde_json::Value;

use super::big_segments::{Membership, Metadata, context_hash};
use super::big_segments_patch::{Applied, Changes, Patch, SetChanges};
use super::memory::MemoryStore;
use super::{Admin, Store, Upserted};
use crate::data::{DataSet, Item, Kind};
use crate::shutdown::Shutdown;

/// Access to one backend for the conformance scenarios.
pub trait Harness {
    /// The backend's name, for assertion messages.
    fn name(&self) -> String;
    /// A prefix no other test uses.
    fn fresh_prefix(&self, name: &str) -> String;
    /// A full init of `prefix` from a JSON flag file's text, as `ldstore sync --from-file`:
    /// the exit code and standard error.
    fn sync(&self, prefix: &str, file: &str) -> (i32, String);
    /// `ldstore dump` of the prefix (exit 0 expected): standard output.
    fn dump(&self, prefix: &str, include_deleted: bool) -> String;
    /// The `stats` object of `ldstore inspect --output json` for the prefix.
    fn stats(&self, prefix: &str) -> Value;
    /// The value stored at an item's address, as stored.
    fn raw_item(&self, prefix: &str, kind: Kind, key: &str) -> Option<String>;
    /// Store a value at an item's address as another writer (an SDK) would.
    fn put_raw_item(&self, prefix: &str, kind: Kind, key: &str, value: &str);
    /// Write the prefix's `$inited` marker as an SDK would.
    fn put_marker(&self, prefix: &str);
    /// Every key under the prefix, backend-neutral: `features/<key>`, `segments/<key>`, `$inited`,
    /// and the names [`Harness::put_other_key`] gave.
    fn layout(&self, prefix: &str) -> BTreeSet<String>;
    /// Store a key under the prefix that is not LaunchDarkly data (another tool's, or Big
    /// Segments data); returns its name as [`Harness::layout`] lists it.
    fn put_other_key(&self, prefix: &str) -> String;
    /// The value of the key [`Harness::put_other_key`] stored, as text.
    fn other_key(&self, prefix: &str) -> Option<String>;
    /// Store a key outside every LaunchDarkly prefix whose name starts with `prefix` (another
    /// application's), with `value`.
    fn put_beside(&self, prefix: &str, value: &str);
    /// The value [`Harness::put_beside`] stored.
    fn beside(&self, prefix: &str) -> Option<String>;
    /// Backend-specific checks of the layout after the prefix was synced from `items` (in
    /// `(kind, key, version, JSON)` form): key types, attributes, marker value, `inspect`'s keys.
    fn check_layout(&self, prefix: &str, items: &[(Kind, &str, u64, &str)]);
    /// Backend-specific checks of one stored item after an upsert wrote it.
    fn check_upserted(&self, prefix: &str, kind: Kind, key: &str, version: u64);
    /// Forget the writes seen so far ([`Harness::writes`]).
    fn reset_writes(&self);
    /// The writes of the prefix since [`Harness::reset_writes`], in order, backend-neutral
    /// (`features/<key>`, `segments/<key>`, `$inited`), when the backend lets a test see them;
    /// `None` when it does not (a Redis MULTI/EXEC, DynamoDB Local).
    fn writes(&self, prefix: &str) -> Option<Vec<String>>;
    /// The store, opened through the library (inside the caller's runtime).
    fn open(&self) -> BoxFuture<'_, Box<dyn Admin>>;
    /// Whether the backend holds Big Segments (Consul holds none: the hooks below are then never
    /// called).
    fn holds_big_segments(&self) -> bool;
    /// Store a context's Big Segments membership at its address as the Relay Proxy (and the SDKs'
    /// own test fixtures) write it.
    fn put_raw_membership(&self, prefix: &str, hash: &str, included: &[&str], excluded: &[&str]);
    /// Store the Big Segments metadata as the Relay Proxy writes it: the sync time (Unix ms, as
    /// text) and the cursor.
    fn put_raw_big_metadata(&self, prefix: &str, synchronized_on: &str, cursor: &str);
    /// The refs stored at a context's address, `(included, excluded)`; `None` when nothing is.
    fn raw_membership(&self, prefix: &str, hash: &str) -> Option<(BTreeSet<String>, BTreeSet<String>)>;
    /// The stored Big Segments metadata, `(sync time, cursor)`, as text.
    fn raw_big_metadata(&self, prefix: &str) -> (Option<String>, Option<String>);
}

/// A flag file's text, `{"flags":{…},"segments":{…}}`, holding each item's JSON as given (byte
/// for byte), keyed by its `key`.
pub fn flag_file(flags: &[&str], segments: &[&str]) -> String {
    let m = |items: &[&str]| -> String {
        let entries: Vec<String> = items
            .iter()
            .map(|j| {
                let v: Value = serde_json::from_str(j).expect("test item JSON");
                let key = v["key"].as_str().expect("test item key");
                format!("{}:{j}", Value::from(key))
            })
            .collect();
        entries.join(",")
    };
    format!("{{\"flags\":{{{}}},\"segments\":{{{}}}}}", m(flags), m(segments))
}

fn sync_ok<H: Harness + ?Sized>(h: &H, prefix: &str, file: &str) {
    let (code, err) = h.sync(prefix, file);
    assert_eq!(code, 0, "{}: sync into {prefix:?} failed: {err}", h.name());
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime")
}

/// The examples shipped in the repository.
fn examples() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/flags.json")).expect("examples/flags.json")
}

const FLAG_A: &str = r#"{"key":"a","version":3,"on":true,"prerequisites":[{"key":"b","variation":0}],"variations":[true,false],"salt":"salt-a","futureField":{"nested":[1.50,2e3,"x"]},"zz":null}"#;
const FLAG_B: &str =
    r#"{"key":"b","version":1,"on":false,"prerequisites":[],"variations":[true,false],"salt":"salt-b"}"#;
const SEGMENT_S: &str = r#"{"key":"s","version":2,"included":["u1"],"excluded":[],"rules":[],"salt":"salt-s"}"#;

/// A full init writes exactly the SDKs' layout: one stored value per item at its address, holding
/// the item's JSON byte for byte (unknown fields kept), the `$inited` marker, and nothing else.
pub fn layout_written<H: Harness + ?Sized>(h: &H) {
    let p = h.fresh_prefix("layout");
    sync_ok(h, &p, &flag_file(&[FLAG_A, FLAG_B], &[SEGMENT_S]));
    let want: BTreeSet<String> =
        ["$inited", "features/a", "features/b", "segments/s"].iter().map(|k| k.to_string()).collect();
    assert_eq!(h.layout(&p), want, "{}", h.name());
    for (kind, key, json) in [(Kind::Flags, "a", FLAG_A), (Kind::Flags, "b", FLAG_B), (Kind::Segments, "s", SEGMENT_S)]
    {
        assert_eq!(h.raw_item(&p, kind, key).as_deref(), Some(json), "{}: {kind}/{key} stored byte for byte", h.name());
    }
    h.check_layout(
        &p,
        &[(Kind::Flags, "a", 3, FLAG_A), (Kind::Flags, "b", 1, FLAG_B), (Kind::Segments, "s", 2, SEGMENT_S)],
    );
    let stats = h.stats(&p);
    assert_eq!((stats["flags"].as_u64(), stats["segments"].as_u64()), (Some(2), Some(1)), "{}: {stats}", h.name());
    assert_eq!(stats["initialized"], true, "{}", h.name());
}

/// What `dump` writes syncs back into another prefix, and dumps again byte for byte; the dump holds
/// every item of the source exactly (the repository's examples, and keys with non-ASCII letters,
/// spaces and dots).
pub fn round_trip_is_byte_identical<H: Harness + ?Sized>(h: &H) {
    let unicode = flag_file(
        &[FLAG_A, FLAG_B, r#"{"key":"ü-ñ key.1","version":2,"on":true,"variations":["x","y"],"salt":""}"#],
        &[SEGMENT_S],
    );
    for (name, file) in [("examples", examples()), ("unicode", unicode)] {
        let a = h.fresh_prefix(&format!("rt-{name}-a"));
        let b = h.fresh_prefix(&format!("rt-{name}-b"));
        sync_ok(h, &a, &file);
        let first = h.dump(&a, false);
        let got: Value = serde_json::from_str(&first).expect("dump is JSON");
        let want: Value = serde_json::from_str(&file).expect("flag file is JSON");
        assert_eq!(got["flags"], want["flags"], "{}: {name}", h.name());
        assert_eq!(got["segments"], want["segments"], "{}: {name}", h.name());
        sync_ok(h, &b, &first);
        assert_eq!(h.dump(&b, false), first, "{}: {name}", h.name());
    }
}

/// A second full init replaces the first: items it no longer has are removed (a kind left with
/// none holds nothing), keys under the prefix that are not LaunchDarkly data stay.
pub fn resync_removes_stale_items<H: Harness + ?Sized>(h: &H) {
    let p = h.fresh_prefix("resync");
    sync_ok(
        h,
        &p,
        &flag_file(
            &[r#"{"key":"a","version":1}"#, r#"{"key":"b","version":1}"#, r#"{"key":"c","version":1}"#],
            &[r#"{"key":"s","version":1}"#],
        ),
    );
    let other = h.put_other_key(&p);
    let other_value = h.other_key(&p);
    assert!(other_value.is_some(), "{}", h.name());
    sync_ok(h, &p, &flag_file(&[r#"{"key":"b","version":2}"#], &[]));
    // The flag data byte for byte; where the other key is Big Segments data (DynamoDB's), the dump
    // carries it after the flag data.
    let want = "{\"flags\":{\"b\":{\"key\":\"b\",\"version\":2}},\"segments\":{}";
    for include_deleted in [false, true] {
        let got = h.dump(&p, include_deleted);
        assert!(
            got == format!("{want}}}\n") || got.starts_with(&format!("{want},\"bigSegments\":{{")),
            "{}: {got}",
            h.name()
        );
    }
    assert_eq!(h.other_key(&p), other_value, "{}", h.name());
    let want: BTreeSet<String> = ["$inited".to_string(), "features/b".to_string(), other].into_iter().collect();
    assert_eq!(h.layout(&p), want, "{}", h.name());
    assert_eq!(h.raw_item(&p, Kind::Flags, "b").as_deref(), Some(r#"{"key":"b","version":2}"#), "{}", h.name());
}

/// A full init touches its own prefix only: a sibling prefix whose name starts the same (`p2` next
/// to `p`), and another application's key named like the prefix, are left as they were, also by a
/// second init.
pub fn sibling_prefix_untouched<H: Harness + ?Sized>(h: &H) {
    let p = h.fresh_prefix("sib");
    let sibling = format!("{p}2");
    let keep = r#"{"key":"keep","version":1}"#;
    h.put_raw_item(&sibling, Kind::Flags, "keep", keep);
    h.put_marker(&sibling);
    h.put_beside(&p, "theirs");
    let other = h.put_other_key(&p);
    let other_value = h.other_key(&p);
    assert!(other_value.is_some(), "{}", h.name());
    for _ in 0..2 {
        sync_ok(h, &p, &examples());
    }
    assert_eq!(
        h.raw_item(&sibling, Kind::Flags, "keep").as_deref(),
        Some(keep),
        "{}: sibling prefix lost a key",
        h.name()
    );
    assert_eq!(
        h.layout(&sibling),
        ["$inited", "features/keep"].iter().map(|k| k.to_string()).collect::<BTreeSet<_>>(),
        "{}",
        h.name()
    );
    assert_eq!(h.beside(&p).as_deref(), Some("theirs"), "{}", h.name());
    assert!(h.layout(&p).contains(&other), "{}: {other} under the prefix was removed", h.name());
    assert_eq!(h.other_key(&p), other_value, "{}", h.name());
}

/// Every tombstone shape the SDKs write is read as a tombstone keyed by its store address (never
/// by the `key` inside it): Go/Relay's (`"key":"$deleted"`), Python's and old Node's (the real
/// key), Node 9's (no key). `dump` leaves them out unless asked; `inspect` counts them.
pub fn every_tombstone_shape_is_read<H: Harness + ?Sized>(h: &H) {
    let p = h.fresh_prefix("tomb");
    let live = r#"{"key":"live","version":1}"#;
    let go_flag = r#"{"key":"$deleted","on":false,"prerequisites":[],"targets":[],"rules":[],"fallthrough":{},"offVariation":null,"variations":[],"salt":"","version":5,"deleted":true}"#;
    let go_seg = Kind::Segments.tombstone_json(8);
    for (kind, key, json) in [
        (Kind::Flags, "live", live),
        (Kind::Flags, "go-flag", go_flag),
        (Kind::Flags, "py-flag", r#"{"key":"py-flag","version":6,"deleted":true}"#),
        (Kind::Flags, "node-flag", r#"{"version":7,"deleted":true}"#),
        (Kind::Segments, "go-seg", go_seg.as_str()),
        (Kind::Segments, "py-seg", r#"{"key":"py-seg","version":9,"deleted":true}"#),
    ] {
        h.put_raw_item(&p, kind, key, json);
    }
    h.put_marker(&p);
    assert_eq!(
        h.dump(&p, false),
        "{\"flags\":{\"live\":{\"key\":\"live\",\"version\":1}},\"segments\":{}}\n",
        "{}",
        h.name()
    );
    let all: Value = serde_json::from_str(&h.dump(&p, true)).expect("dump is JSON");
    let flags: Vec<&String> = all["flags"].as_object().expect("flags").keys().collect();
    assert_eq!(flags, ["go-flag", "live", "node-flag", "py-flag"], "{}", h.name());
    assert_eq!(all["flags"]["go-flag"]["key"], "$deleted");
    assert_eq!(all["flags"]["go-flag"]["version"], 5);
    assert_eq!(all["flags"]["py-flag"]["deleted"], true);
    assert_eq!(all["flags"]["node-flag"]["version"], 7);
    assert_eq!(all["segments"].as_object().expect("segments").len(), 2);
    assert_eq!(all["segments"]["go-seg"]["version"], 8);
    assert_eq!(all["segments"]["go-seg"]["deleted"], true);
    let stats = h.stats(&p);
    assert_eq!(stats["tombstones"], 5, "{}: {stats}", h.name());
    assert_eq!(stats["flags"], 1);
    assert_eq!(stats["segments"], 0);
    assert_eq!(stats["initialized"], true);
    assert_eq!(stats["highest_version"], 9);
}

/// An upsert applies only a strictly newer version (a tombstone included) and says which version
/// the store kept otherwise; it creates an item that did not exist, and leaves the marker alone.
pub fn upsert_is_version_guarded<H: Harness + ?Sized>(h: &H) {
    let p = h.fresh_prefix("upsert");
    let flag = |v: u64| format!(r#"{{"key":"f","version":{v},"on":true,"variations":[true,false],"salt":"s"}}"#);
    sync_ok(h, &p, &flag_file(&[&flag(5)], &[]));
    runtime().block_on(async {
        let s = h.open().await;
        let item = |v: u64| Item::parse(Kind::Flags, "f", flag(v)).expect("a flag");
        assert_eq!(s.upsert(&p, Kind::Flags, &item(4)).await.unwrap(), Upserted::Stale { stored_version: 5 });
        assert_eq!(s.upsert(&p, Kind::Flags, &item(5)).await.unwrap(), Upserted::Stale { stored_version: 5 });
        assert_eq!(s.get(&p, Kind::Flags, "f").await.unwrap().map(|i| i.version), Some(5), "{}", h.name());
        assert_eq!(s.upsert(&p, Kind::Flags, &item(6)).await.unwrap(), Upserted::Applied);
        let tomb = Item::tombstone(Kind::Flags, "f", 7);
        assert_eq!(s.upsert(&p, Kind::Flags, &tomb).await.unwrap(), Upserted::Applied);
        let got = s.get(&p, Kind::Flags, "f").await.unwrap().expect("f is stored");
        assert!(got.deleted, "{}", h.name());
        assert_eq!(got.version, 7);
        assert_eq!(s.upsert(&p, Kind::Flags, &item(7)).await.unwrap(), Upserted::Stale { stored_version: 7 });
        let seg = r#"{"key":"new-seg","version":1,"included":[],"excluded":[],"rules":[],"salt":"x"}"#;
        let new = Item::parse(Kind::Segments, "new-seg", seg.to_string()).expect("a segment");
        assert_eq!(s.upsert(&p, Kind::Segments, &new).await.unwrap(), Upserted::Applied);
        assert!(s.is_initialized(&p).await.unwrap());
        assert_eq!(s.get(&p, Kind::Segments, "missing").await.unwrap().map(|i| i.version), None);
    });
    h.check_upserted(&p, Kind::Flags, "f", 7);
    assert_eq!(
        h.raw_item(&p, Kind::Flags, "f").as_deref(),
        Some(Kind::Flags.tombstone_json(7).as_str()),
        "{}",
        h.name()
    );
}

/// A full init writes segments before flags, prerequisites before their dependants, and the
/// `$inited` marker last (where the backend lets a test see the order); a prefix written by an
/// init is initialized.
pub fn marker_written_last<H: Harness + ?Sized>(h: &H) {
    let p = h.fresh_prefix("order");
    let c = r#"{"key":"c","version":1,"prerequisites":[{"key":"a","variation":0}]}"#;
    h.reset_writes();
    sync_ok(h, &p, &flag_file(&[FLAG_A, FLAG_B, c], &[SEGMENT_S]));
    assert_eq!(h.stats(&p)["initialized"], true, "{}", h.name());
    let Some(writes) = h.writes(&p) else { return };
    assert_eq!(writes.last().map(String::as_str), Some("$inited"), "{}: {writes:?}", h.name());
    assert_eq!(writes.iter().filter(|w| *w == "$inited").count(), 1, "{}: {writes:?}", h.name());
    let at = |k: &str| {
        writes.iter().position(|w| w == k).unwrap_or_else(|| panic!("{}: {k} not written: {writes:?}", h.name()))
    };
    assert!(at("segments/s") < at("features/b"), "{}: segments first: {writes:?}", h.name());
    assert!(at("features/b") < at("features/a"), "{}: prerequisite first: {writes:?}", h.name());
    assert!(at("features/a") < at("features/c"), "{}: prerequisite first: {writes:?}", h.name());
}

/// A full init that fails (an item late in the source is invalid) leaves the prefix as it was:
/// the old items and the marker; into a new prefix it writes nothing, not even the marker.
pub fn failed_init_leaves_old_data<H: Harness + ?Sized>(h: &H) {
    let p = h.fresh_prefix("failed");
    sync_ok(h, &p, &examples());
    let before = h.dump(&p, true);
    let layout = h.layout(&p);
    let mut flags: Vec<String> = (0..50).map(|i| format!(r#"{{"key":"f{i:02}","version":{}}}"#, i + 1)).collect();
    flags.push(r#"{"key":"zz-bad","version":"7"}"#.to_string());
    let refs: Vec<&str> = flags.iter().map(String::as_str).collect();
    let bad = flag_file(&refs, &[SEGMENT_S]);
    let (code, err) = h.sync(&p, &bad);
    assert_eq!(code, 4, "{}: {err}", h.name());
    assert!(err.contains("zz-bad") && err.contains("version"), "{}: the error names the item: {err}", h.name());
    assert_eq!(h.dump(&p, true), before, "{}", h.name());
    assert_eq!(h.layout(&p), layout, "{}", h.name());
    let fresh = h.fresh_prefix("failed-new");
    let (code, _) = h.sync(&fresh, &bad);
    assert_eq!(code, 4, "{}", h.name());
    assert!(h.layout(&fresh).is_empty(), "{}: {:?}", h.name(), h.layout(&fresh));
}

/// The hashes of `userkey`, `test-user` and the empty key (the SDKs' test vectors).
const H1: &str = "72cBpXPyn4N6TqqlS8Tti37jEcoNhFzL9ZdG1jXkILE=";
const H2: &str = "+FrIJdECufLVRqoWeeqZGuhFmUwTQ3MNVk8/zQohaMM=";
const H3: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

fn set(refs: &[&str]) -> BTreeSet<String> {
    refs.iter().map(|r| r.to_string()).collect()
}

/// Whether the backend's Big Segments capability is present exactly when the harness says it holds
/// Big Segments (Consul: absent).
fn big_segments_capability<H: Harness + ?Sized>(h: &H) -> bool {
    let present = runtime().block_on(async { h.open().await.big_segments().is_some() });
    assert_eq!(present, h.holds_big_segments(), "{}: Big Segments capability", h.name());
    present
}

/// Big Segments data the Relay Proxy wrote (memberships, the sync time, the cursor) is read as the
/// SDKs read it: a context's refs (include beating exclude), the metadata, and every membership of
/// the prefix once (never a sibling prefix's); a prefix with none reads as never synchronized with
/// no membership; a full init of the flag data leaves it all in place. Consul has no such
/// capability.
pub fn big_segments_written_by_relay_are_read<H: Harness + ?Sized>(h: &H) {
    if !big_segments_capability(h) {
        return;
    }
    let p = h.fresh_prefix("bigseg-read");
    let rt = runtime();
    rt.block_on(async {
        let s = h.open().await;
        let b = s.big_segments().expect("capability");
        assert_eq!(b.metadata(&p).await.unwrap(), Metadata::default(), "{}", h.name());
        assert!(b.membership(&p, H1).await.unwrap().is_empty(), "{}", h.name());
    });
    h.put_raw_membership(&p, H1, &["beta.g1"], &["alpha.g2"]);
    h.put_raw_membership(&p, H2, &["beta.g1"], &["beta.g1", "alpha.g2"]);
    h.put_raw_membership(&p, H3, &[], &["beta.g1"]);
    h.put_raw_big_metadata(&p, "1700000000000", "42");
    h.put_raw_membership(&format!("{p}2"), "c2libGluZw==", &["sibling.g1"], &[]);
    let check = || {
        rt.block_on(async {
            let s = h.open().await;
            let b = s.big_segments().expect("capability");
            let meta = b.metadata(&p).await.unwrap();
            assert_eq!(meta.synchronized_on.as_deref(), Some("1700000000000"), "{}", h.name());
            assert_eq!(meta.cursor.as_deref(), Some("42"), "{}", h.name());
            assert_eq!(meta.synchronized_on_ms(), Ok(Some(1_700_000_000_000)));
            assert_eq!(b.membership(&p, H1).await.unwrap(), Membership::new(["beta.g1"], ["alpha.g2"]), "{}", h.name());
            let m2 = b.membership(&p, H2).await.unwrap();
            assert_eq!((m2.check("beta.g1"), m2.check("alpha.g2"), m2.check("x.g1")), (Some(true), Some(false), None));
            assert_eq!(b.membership(&p, H3).await.unwrap(), Membership::new([], ["beta.g1"]), "{}", h.name());
            let mut all = std::collections::BTreeMap::new();
            b.read_memberships(&p, &mut |hash, m| {
                assert!(all.insert(hash.clone(), m).is_none(), "{hash} passed twice");
                Ok(())
            })
            .await
            .unwrap();
            assert_eq!(all.keys().map(String::as_str).collect::<Vec<_>>(), [H2, H3, H1], "{}", h.name());
            assert_eq!(all[H3], Membership::new([], ["beta.g1"]));
        })
    };
    check();
    sync_ok(h, &p, &examples());
    check();
}

/// Big Segments data ldstore writes is stored exactly as the Relay Proxy stores it (so every SDK
/// reads it): a membership replaces the context's refs, an empty one removes the record, the
/// metadata sets or removes the sync time and cursor; writes of more contexts than one batch all
/// land; a sync time that is not a number, or a hash given twice, is refused with nothing written.
pub fn big_segments_written_are_stored_as_relay_does<H: Harness + ?Sized>(h: &H) {
    if !big_segments_capability(h) {
        return;
    }
    let p = h.fresh_prefix("bigseg-write");
    let rt = runtime();
    rt.block_on(async {
        let s = h.open().await;
        let b = s.big_segments().expect("capability");
        let ms = [
            (H1.to_string(), Membership::new(["beta.g1", "gamma.g1"], ["alpha.g2"])),
            (H2.to_string(), Membership::new([], ["beta.g1"])),
        ];
        b.write_memberships(&p, &ms).await.unwrap();
        let meta = Metadata { synchronized_on: Some("1700000000001".into()), cursor: Some("7".into()) };
        b.write_metadata(&p, &meta).await.unwrap();
    });
    assert_eq!(h.raw_membership(&p, H1), Some((set(&["beta.g1", "gamma.g1"]), set(&["alpha.g2"]))), "{}", h.name());
    assert_eq!(h.raw_membership(&p, H2), Some((set(&[]), set(&["beta.g1"]))), "{}", h.name());
    assert_eq!(h.raw_big_metadata(&p), (Some("1700000000001".into()), Some("7".into())), "{}", h.name());
    rt.block_on(async {
        let s = h.open().await;
        let b = s.big_segments().expect("capability");
        b.write_memberships(&p, &[(H1.to_string(), Membership::new(["delta.g3"], []))]).await.unwrap();
        b.write_memberships(&p, &[(H2.to_string(), Membership::default())]).await.unwrap();
        b.write_metadata(&p, &Metadata { synchronized_on: Some("1700000000002".into()), cursor: None }).await.unwrap();
        let bad = Metadata { synchronized_on: Some("soon".into()), cursor: Some("8".into()) };
        assert!(b.write_metadata(&p, &bad).await.is_err(), "{}", h.name());
        let twice = [(H3.to_string(), Membership::new(["a.g1"], [])), (H3.to_string(), Membership::default())];
        assert!(b.write_memberships(&p, &twice).await.is_err(), "{}", h.name());
    });
    assert_eq!(h.raw_membership(&p, H1), Some((set(&["delta.g3"]), set(&[]))), "{}", h.name());
    assert_eq!(h.raw_membership(&p, H2), None, "{}", h.name());
    assert_eq!(h.raw_membership(&p, H3), None, "{}", h.name());
    assert_eq!(h.raw_big_metadata(&p), (Some("1700000000002".into()), None), "{}", h.name());
    // More contexts than one batch (Redis 1,000 per transaction, DynamoDB 25 per request).
    let many: Vec<(String, Membership)> = (0..1100)
        .map(|i| (context_hash(&format!("user-{i}")), Membership::new([format!("big.g{}", i % 3)], [])))
        .collect();
    rt.block_on(async {
        let s = h.open().await;
        let b = s.big_segments().expect("capability");
        b.write_memberships(&p, &many).await.unwrap();
        let mut n = 0;
        b.read_memberships(&p, &mut |hash, m| {
            if hash != H1 {
                assert_eq!(m.included.len(), 1, "{hash}");
                n += 1;
            }
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(n, 1100, "{}", h.name());
    });
    assert_eq!(h.raw_membership(&p, &many[1099].0), Some((set(&["big.g1"]), set(&[]))), "{}", h.name());
    // Removing refs (prune) touches only those refs; a context left with none holds nothing (DynamoDB
    // keeps an item with no set, as the Relay Proxy does); no record is created.
    let (h4, h5) = (context_hash("h4"), context_hash("h5"));
    h.put_raw_membership(&p, &h4, &["a.g1", "b.g1"], &["c.g1", "d.g1"]);
    rt.block_on(async {
        let s = h.open().await;
        let b = s.big_segments().expect("capability");
        let removals = [
            (h4.clone(), Membership::new(["a.g1"], ["c.g1", "zz.g9"])),
            (H1.to_string(), Membership::new(["delta.g3"], [])),
            (h5.clone(), Membership::new(["x.g1"], [])),
        ];
        b.remove_refs(&p, &removals).await.unwrap();
    });
    let nothing = |m: Option<(BTreeSet<String>, BTreeSet<String>)>| m.filter(|(i, e)| !i.is_empty() || !e.is_empty());
    assert_eq!(h.raw_membership(&p, &h4), Some((set(&["b.g1"]), set(&["d.g1"]))), "{}", h.name());
    assert_eq!(nothing(h.raw_membership(&p, H1)), None, "{}", h.name());
    assert_eq!(h.raw_membership(&p, &h5), None, "{}: no record created", h.name());
}

/// A patch as LaunchDarkly sends it, for the patch scenarios.
fn patch(version: &str, previous: &str, inc: (&[&str], &[&str]), exc: (&[&str], &[&str])) -> Patch {
    let v = |h: &[&str]| h.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    Patch {
        environment_id: "env".into(),
        segment_id: "beta.g1".into(),
        version: version.into(),
        previous_version: previous.into(),
        changes: Changes {
            included: SetChanges { add: v(inc.0), remove: v(inc.1) },
            excluded: SetChanges { add: v(exc.0), remove: v(exc.1) },
        },
    }
}

/// Big Segments patches are applied as the Relay Proxy applies them: in `previousVersion` order
/// only (a patch that does not follow the cursor, or an empty `previousVersion` once a cursor is
/// stored, writes nothing and reports the cursor), adds and removes in Relay's order (a hash both
/// added and removed ends without the ref), other refs of a context kept, the cursor moved with the
/// memberships, the sync time written on its own; a patch of more changes than one DynamoDB
/// transaction holds lands whole.
pub fn big_segments_patches_applied_in_order<H: Harness + ?Sized>(h: &H) {
    if !big_segments_capability(h) {
        return;
    }
    let p = h.fresh_prefix("bigseg-patch");
    let (h4, h5) = (context_hash("h4"), context_hash("h5"));
    let rt = runtime();
    let apply = |patch: &Patch| {
        rt.block_on(async {
            let s = h.open().await;
            s.big_segments().expect("capability").apply_patch(&p, patch).await.unwrap()
        })
    };
    let first = patch("1", "", (&[H1, H2], &[]), (&[H3], &[]));
    assert_eq!(apply(&first), Applied::Applied, "{}", h.name());
    assert_eq!(h.raw_membership(&p, H1), Some((set(&["beta.g1"]), set(&[]))), "{}", h.name());
    assert_eq!(h.raw_membership(&p, H3), Some((set(&[]), set(&["beta.g1"]))), "{}", h.name());
    assert_eq!(h.raw_big_metadata(&p), (None, Some("1".into())), "{}", h.name());
    for out_of_order in [patch("6", "5", (&[&h4], &[]), (&[], &[])), patch("1b", "", (&[&h4], &[]), (&[], &[]))] {
        assert_eq!(apply(&out_of_order), Applied::OutOfOrder { cursor: Some("1".into()) }, "{}", h.name());
    }
    assert_eq!(h.raw_membership(&p, &h4), None, "{}: an out-of-order patch writes nothing", h.name());
    assert_eq!(h.raw_big_metadata(&p), (None, Some("1".into())), "{}", h.name());
    h.put_raw_membership(&p, &h5, &["other.g1"], &[]);
    let second = patch("2", "1", (&[&h4, &h5], &[&h4, H2]), (&[H2], &[H3]));
    assert_eq!(apply(&second), Applied::Applied, "{}", h.name());
    let nothing = |m: Option<(BTreeSet<String>, BTreeSet<String>)>| m.filter(|(i, e)| !i.is_empty() || !e.is_empty());
    assert_eq!(h.raw_membership(&p, H1), Some((set(&["beta.g1"]), set(&[]))), "{}", h.name());
    assert_eq!(h.raw_membership(&p, H2), Some((set(&[]), set(&["beta.g1"]))), "{}", h.name());
    assert_eq!(nothing(h.raw_membership(&p, H3)), None, "{}", h.name());
    assert_eq!(nothing(h.raw_membership(&p, &h4)), None, "{}: added then removed", h.name());
    assert_eq!(h.raw_membership(&p, &h5), Some((set(&["beta.g1", "other.g1"]), set(&[]))), "{}", h.name());
    rt.block_on(async {
        let s = h.open().await;
        s.big_segments().expect("capability").mark_synchronized(&p, 1_700_000_000_123).await.unwrap();
    });
    assert_eq!(h.raw_big_metadata(&p), (Some("1700000000123".into()), Some("2".into())), "{}", h.name());
    // More changes than one DynamoDB transaction (24 updates).
    let many: Vec<String> = (0..60).map(|i| context_hash(&format!("m{i}"))).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(apply(&patch("3", "2", (&many[..40], &[]), (&many[40..], &[H2]))), Applied::Applied, "{}", h.name());
    assert_eq!(h.raw_membership(&p, many[39]), Some((set(&["beta.g1"]), set(&[]))), "{}", h.name());
    assert_eq!(h.raw_membership(&p, many[59]), Some((set(&[]), set(&["beta.g1"]))), "{}", h.name());
    assert_eq!(nothing(h.raw_membership(&p, H2)), None, "{}", h.name());
    assert_eq!(h.raw_big_metadata(&p), (Some("1700000000123".into()), Some("3".into())), "{}", h.name());
}

/// Without a stored cursor: a first patch (`previousVersion` `""`) is applied everywhere; a patch
/// with another `previousVersion` is applied by Redis (as the Relay Proxy does: no cursor, no
/// check) and refused elsewhere (as Relay's DynamoDB store does), nothing written.
pub fn big_segments_patch_without_cursor<H: Harness + ?Sized>(h: &H) {
    if !big_segments_capability(h) {
        return;
    }
    let rt = runtime();
    let apply = |p: &str, patch: &Patch| {
        rt.block_on(async {
            let s = h.open().await;
            (s.backend(), s.big_segments().expect("capability").apply_patch(p, patch).await.unwrap())
        })
    };
    let p = h.fresh_prefix("bigseg-nocursor");
    h.put_raw_big_metadata(&p, "1700000000000", "");
    let (_, applied) = apply(&p, &patch("1", "", (&[H1], &[]), (&[], &[])));
    assert_eq!(applied, Applied::Applied, "{}: an empty cursor takes a first patch", h.name());
    let q = h.fresh_prefix("bigseg-nocursor2");
    let (backend, applied) = apply(&q, &patch("8", "7", (&[H1], &[]), (&[], &[])));
    if backend == super::Backend::Redis {
        assert_eq!(applied, Applied::Applied, "{}", h.name());
        assert_eq!(h.raw_big_metadata(&q), (None, Some("8".into())), "{}", h.name());
    } else {
        assert_eq!(applied, Applied::OutOfOrder { cursor: None }, "{}", h.name());
        assert_eq!(h.raw_membership(&q, H1), None, "{}", h.name());
        assert_eq!(apply(&q, &patch("1", "", (&[H1], &[]), (&[], &[]))).1, Applied::Applied, "{}", h.name());
        assert_eq!(h.raw_big_metadata(&q), (None, Some("1".into())), "{}", h.name());
    }
    assert_eq!(h.raw_membership(&q, H1), Some((set(&["beta.g1"]), set(&[]))), "{}", h.name());
}

/// `upsert_many` answers for each item as `upsert` would, writes only the newer ones (a tombstone
/// included, an item that did not exist created), and leaves the older ones alone.
pub fn upsert_many_is_version_guarded_per_item<H: Harness + ?Sized>(h: &H) {
    let p = h.fresh_prefix("upsert-many");
    let flag =
        |k: &str, v: u64| format!(r#"{{"key":"{k}","version":{v},"on":true,"variations":[true,false],"salt":"s"}}"#);
    sync_ok(h, &p, &flag_file(&[&flag("a", 5), &flag("b", 5), &flag("c", 5)], &[]));
    runtime().block_on(async {
        let s = h.open().await;
        let item = |k: &str, v: u64| Item::parse(Kind::Flags, k, flag(k, v)).expect("a flag");
        let batch = [item("a", 4), item("b", 6), Item::tombstone(Kind::Flags, "c", 9), item("new", 1)];
        let got = s.upsert_many(&p, Kind::Flags, &batch).await.unwrap();
        assert_eq!(
            got,
            [Upserted::Stale { stored_version: 5 }, Upserted::Applied, Upserted::Applied, Upserted::Applied],
            "{}",
            h.name()
        );
        let version = |k: &'static str| {
            let s = &s;
            let p = &p;
            async move { s.get(p, Kind::Flags, k).await.unwrap().map(|i| (i.version, i.deleted)) }
        };
        assert_eq!(version("a").await, Some((5, false)), "{}", h.name());
        assert_eq!(version("b").await, Some((6, false)), "{}", h.name());
        assert_eq!(version("c").await, Some((9, true)), "{}", h.name());
        assert_eq!(version("new").await, Some((1, false)), "{}", h.name());
        // All stale: nothing written, each says what the store holds.
        let got = s.upsert_many(&p, Kind::Flags, &[item("a", 5), item("b", 2)]).await.unwrap();
        assert_eq!(got, [Upserted::Stale { stored_version: 5 }, Upserted::Stale { stored_version: 6 }], "{}", h.name());
        assert_eq!(s.upsert_many(&p, Kind::Flags, &[]).await.unwrap(), [], "{}", h.name());
        assert!(s.is_initialized(&p).await.unwrap());
    });
}

/// A scenario and its name.
pub type Scenario<H> = (&'static str, fn(&H));

/// Every scenario by name, for running them all in one test (over a list of targets). The same
/// list as [`store_conformance!`](crate::store_conformance) below: keep the two in step.
pub fn scenarios<H: Harness + ?Sized>() -> [Scenario<H>; 13] {
    [
        ("layout_written", layout_written::<H>),
        ("round_trip_is_byte_identical", round_trip_is_byte_identical::<H>),
        ("resync_removes_stale_items", resync_removes_stale_items::<H>),
        ("sibling_prefix_untouched", sibling_prefix_untouched::<H>),
        ("every_tombstone_shape_is_read", every_tombstone_shape_is_read::<H>),
        ("upsert_is_version_guarded", upsert_is_version_guarded::<H>),
        ("upsert_many_is_version_guarded_per_item", upsert_many_is_version_guarded_per_item::<H>),
        ("marker_written_last", marker_written_last::<H>),
        ("failed_init_leaves_old_data", failed_init_leaves_old_data::<H>),
        ("big_segments_written_by_relay_are_read", big_segments_written_by_relay_are_read::<H>),
        ("big_segments_written_are_stored_as_relay_does", big_segments_written_are_stored_as_relay_does::<H>),
        ("big_segments_patches_applied_in_order", big_segments_patches_applied_in_order::<H>),
        ("big_segments_patch_without_cursor", big_segments_patch_without_cursor::<H>),
    ]
}

/// One `#[test]` per conformance scenario for the harness `$harness` builds (a fresh harness per
/// test). Use it inside a module named after the backend.
#[macro_export]
macro_rules! store_conformance {
    ($harness:expr) => {
        $crate::store_conformance!(@tests $harness;
            layout_written,
            round_trip_is_byte_identical,
            resync_removes_stale_items,
            sibling_prefix_untouched,
            every_tombstone_shape_is_read,
            upsert_is_version_guarded,
            upsert_many_is_version_guarded_per_item,
            marker_written_last,
            failed_init_leaves_old_data,
            big_segments_written_by_relay_are_read,
            big_segments_written_are_stored_as_relay_does,
            big_segments_patches_applied_in_order,
            big_segments_patch_without_cursor,
        );
    };
    (@tests $harness:expr; $($scenario:ident,)*) => {
        $(
            #[test]
            fn $scenario() {
                let h = $harness;
                $crate::store::conformance::$scenario(&h);
            }
        )*
    };
}

/// [`Harness`] over a [`MemoryStore`]: a sync reads the flag file with the same reader as
/// `ldstore sync --from-file` and inits the store; dump and inspect go through the same code as
/// the commands' (`dump`'s writer, [`Admin::stats`]).
pub struct MemoryHarness {
    pub store: MemoryStore,
    rt: tokio::runtime::Runtime,
    reset_at: std::sync::atomic::AtomicUsize,
}

impl Default for MemoryHarness {
    fn default() -> Self {
        MemoryHarness::new()
    }
}

impl MemoryHarness {
    pub fn new() -> MemoryHarness {
        MemoryHarness { store: MemoryStore::new(), rt: runtime(), reset_at: Default::default() }
    }

    fn read(&self, prefix: &str) -> DataSet {
        self.rt.block_on(self.store.read_data_set(prefix)).expect("memory store read")
    }
}

impl Harness for MemoryHarness {
    fn name(&self) -> String {
        "memory store".into()
    }

    fn fresh_prefix(&self, name: &str) -> String {
        name.to_string()
    }

    fn sync(&self, prefix: &str, file: &str) -> (i32, String) {
        let data = match crate::source::file::parse_json(file) {
            Ok(d) => d,
            Err(e) => return (4, e),
        };
        match self.rt.block_on(self.store.init(prefix, &data, &super::NoProgress, &Shutdown::never())) {
            Ok(_) => (0, String::new()),
            Err(e) => (3, e.to_string()),
        }
    }

    fn dump(&self, prefix: &str, include_deleted: bool) -> String {
        let mut out = Vec::new();
        crate::commands::dump::write_data_set(&mut out, &self.read(prefix), &Kind::ALL, include_deleted, None)
            .expect("writing to memory");
        String::from_utf8(out).expect("dump is UTF-8")
    }

    fn stats(&self, prefix: &str) -> Value {
        serde_json::to_value(self.rt.block_on(self.store.stats(prefix)).expect("stats")).expect("stats as JSON")
    }

    fn raw_item(&self, prefix: &str, kind: Kind, key: &str) -> Option<String> {
        self.store.raw(prefix, kind, key)
    }

    fn put_raw_item(&self, prefix: &str, kind: Kind, key: &str, value: &str) {
        self.store.put_raw(prefix, kind, key, value)
    }

    fn put_marker(&self, prefix: &str) {
        self.store.set_marker(prefix, true)
    }

    fn layout(&self, prefix: &str) -> BTreeSet<String> {
        self.store.layout(prefix)
    }

    fn put_other_key(&self, prefix: &str) -> String {
        self.store.put_other(prefix, "other-tool");
        "other-tool".into()
    }

    fn other_key(&self, prefix: &str) -> Option<String> {
        self.store.layout(prefix).take("other-tool")
    }

    fn put_beside(&self, prefix: &str, value: &str) {
        self.store.put_other(&format!("{prefix}-other-app"), value)
    }

    fn beside(&self, prefix: &str) -> Option<String> {
        self.store.layout(&format!("{prefix}-other-app")).into_iter().next()
    }

    fn check_layout(&self, _prefix: &str, _items: &[(Kind, &str, u64, &str)]) {}

    fn check_upserted(&self, _prefix: &str, _kind: Kind, _key: &str, _version: u64) {}

    fn reset_writes(&self) {
        self.reset_at.store(self.store.writes().len(), std::sync::atomic::Ordering::SeqCst);
    }

    fn writes(&self, prefix: &str) -> Option<Vec<String>> {
        let from = self.reset_at.load(std::sync::atomic::Ordering::SeqCst);
        let mine = format!("{prefix}/");
        Some(self.store.writes()[from..].iter().filter_map(|w| w.strip_prefix(&mine)).map(str::to_string).collect())
    }

    fn open(&self) -> BoxFuture<'_, Box<dyn Admin>> {
        let store = self.store.clone();
        Box::pin(async move { Box::new(store) as Box<dyn Admin> })
    }

    fn holds_big_segments(&self) -> bool {
        true
    }

    fn put_raw_membership(&self, prefix: &str, hash: &str, included: &[&str], excluded: &[&str]) {
        self.store.put_raw_membership(prefix, hash, Membership::new(included.iter().copied(), excluded.iter().copied()))
    }

    fn put_raw_big_metadata(&self, prefix: &str, synchronized_on: &str, cursor: &str) {
        self.store.put_raw_big_metadata(
            prefix,
            Metadata { synchronized_on: Some(synchronized_on.into()), cursor: Some(cursor.into()) },
        )
    }

    fn raw_membership(&self, prefix: &str, hash: &str) -> Option<(BTreeSet<String>, BTreeSet<String>)> {
        use super::big_segments::BigSegmentStore;
        let m = self.rt.block_on(self.store.membership(prefix, hash)).expect("memory store read");
        (!m.is_empty()).then_some((m.included, m.excluded))
    }

    fn raw_big_metadata(&self, prefix: &str) -> (Option<String>, Option<String>) {
        use super::big_segments::BigSegmentStore;
        let m = self.rt.block_on(self.store.metadata(prefix)).expect("memory store read");
        (m.synchronized_on, m.cursor)
    }
}
