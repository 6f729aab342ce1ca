//! The data ldstore moves around: items kept as raw JSON, with just enough parsed to route them
//! (version, deleted, prerequisites).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use serde::Deserialize;

/// The two kinds of item LaunchDarkly keeps in persistent stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Feature flags (`features` in store layouts, `flags` in payloads).
    Flags,
    /// Segments.
    Segments,
}

impl Kind {
    /// Both kinds, in init order: segments before flags.
    pub const INIT_ORDER: [Kind; 2] = [Kind::Segments, Kind::Flags];
    /// Both kinds in display order.
    pub const ALL: [Kind; 2] = [Kind::Flags, Kind::Segments];

    /// This kind's position in [`Kind::ALL`], for per-kind arrays.
    pub fn index(self) -> usize {
        match self {
            Kind::Flags => 0,
            Kind::Segments => 1,
        }
    }

    /// The store namespace: `features` or `segments`.
    pub fn namespace(self) -> &'static str {
        match self {
            Kind::Flags => "features",
            Kind::Segments => "segments",
        }
    }

    /// The payload name: `flags` or `segments` (also the stream path segment).
    pub fn payload_name(self) -> &'static str {
        match self {
            Kind::Flags => "flags",
            Kind::Segments => "segments",
        }
    }

    /// The Go/Relay tombstone body for this kind.
    pub fn tombstone_json(self, version: u64) -> String {
        match self {
            Kind::Flags => format!(
                r#"{{"key":"$deleted","on":false,"prerequisites":[],"targets":[],"contextTargets":[],"rules":[],"fallthrough":{{}},"offVariation":null,"variations":[],"clientSide":false,"salt":"","trackEvents":false,"trackEventsFallthrough":false,"debugEventsUntilDate":null,"version":{version},"deleted":true}}"#
            ),
            Kind::Segments => format!(
                r#"{{"key":"$deleted","included":[],"excluded":[],"includedContexts":[],"excludedContexts":[],"salt":"","rules":[],"version":{version},"generation":null,"deleted":true}}"#
            ),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.payload_name())
    }
}

/// Why an item's JSON could not be used.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ItemError {
    #[error("{kind} item \"{key}\" is not valid JSON: {reason}")]
    NotJson { kind: Kind, key: String, reason: String },
    #[error("{kind} item \"{key}\" is not a JSON object")]
    NotObject { kind: Kind, key: String },
    #[error("{kind} item \"{key}\" has an invalid \"version\" ({found}); it must be a non-negative integer")]
    BadVersion { kind: Kind, key: String, found: String },
    #[error("{kind} item \"{key}\" has no \"version\"")]
    MissingVersion { kind: Kind, key: String },
    /// Stored bytes that are not UTF-8: the key (shown with the bad bytes escaped) or the JSON.
    #[error("{kind} item \"{key}\": {what}")]
    NotUtf8 { kind: Kind, key: String, what: String },
}

/// One flag or segment: its store address (`key`), a few parsed facts, and the JSON exactly as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub key: String,
    pub version: u64,
    pub deleted: bool,
    /// Keys of prerequisite flags (flags only; empty for tombstones and segments).
    pub prerequisites: Vec<String>,
    /// The item's JSON, byte for byte as read from the store or source.
    pub json: Json,
}

/// An item's JSON text: owned, or a range of a buffer that many items share (a flag file read in
/// one piece, whose compact items are not copied out of it). Reads as a `&str`.
#[derive(Clone)]
pub struct Json(JsonRepr);

#[derive(Clone)]
enum JsonRepr {
    Owned(String),
    Shared { buf: Arc<String>, start: usize, end: usize },
}

impl Json {
    /// `buf[start..end]` (a range on character boundaries), without copying it.
    pub(crate) fn shared(buf: &Arc<String>, start: usize, end: usize) -> Json {
        Json(JsonRepr::Shared { buf: Arc::clone(buf), start, end })
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            JsonRepr::Owned(s) => s,
            JsonRepr::Shared { buf, start, end } => &buf[*start..*end],
        }
    }

    pub fn into_string(self) -> String {
        match self.0 {
            JsonRepr::Owned(s) => s,
            JsonRepr::Shared { .. } => self.as_str().to_string(),
        }
    }
}

impl std::ops::Deref for Json {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Json {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json(JsonRepr::Owned(s))
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json(JsonRepr::Owned(s.to_string()))
    }
}

impl fmt::Debug for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for Json {
    fn eq(&self, other: &Json) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Json {}

impl PartialEq<str> for Json {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Json {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Json {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Json> for String {
    fn eq(&self, other: &Json) -> bool {
        self == other.as_str()
    }
}

impl serde::Serialize for Json {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Deserialize)]
struct Meta {
    /// `Some(Value::Null)` for `"version": null` (an invalid version), `None` only when absent.
    #[serde(default, deserialize_with = "present")]
    version: Option<serde_json::Value>,
    #[serde(default)]
    deleted: Option<serde_json::Value>,
    #[serde(default)]
    prerequisites: Option<Vec<PrereqMeta>>,
}

/// A member that is present, whatever its value (`null` included): serde's `Option` would read
/// `null` as absent.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct PrereqMeta {
    #[serde(default)]
    key: Option<String>,
}

/// The routing facts of an item's JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub version: Option<u64>,
    pub deleted: bool,
    pub prerequisites: Vec<String>,
}

impl Facts {
    /// An item's facts from what [`crate::json_scan`] found at its top level.
    pub(crate) fn from_raw(kind: Kind, raw: crate::json_scan::RawFacts) -> Facts {
        let prerequisites = if raw.deleted || kind != Kind::Flags { Vec::new() } else { raw.prerequisites };
        Facts { version: raw.version, deleted: raw.deleted, prerequisites }
    }
}

/// Parse the routing facts out of an item's JSON.
pub fn facts(kind: Kind, key: &str, json: &str) -> Result<Facts, ItemError> {
    // One validating pass for ordinary items; serde (below) for everything else, so results and
    // error messages are serde's.
    if let Some(raw) = crate::json_scan::item_facts(json) {
        return Ok(Facts::from_raw(kind, raw));
    }
    facts_serde(kind, key, json)
}

pub(crate) fn facts_serde(kind: Kind, key: &str, json: &str) -> Result<Facts, ItemError> {
    let trimmed = json.trim_start();
    if !trimmed.starts_with('{') {
        // Distinguish "not JSON" from "JSON but not an object".
        return match serde_json::from_str::<serde::de::IgnoredAny>(json) {
            Ok(_) => Err(ItemError::NotObject { kind, key: key.to_string() }),
            Err(e) => Err(ItemError::NotJson { kind, key: key.to_string(), reason: e.to_string() }),
        };
    }
    let meta = serde_json::from_str::<Meta>(json).map_err(|e| ItemError::NotJson {
        kind,
        key: key.to_string(),
        reason: e.to_string(),
    })?;
    let version = meta.version.as_ref().map(|v| version_of(kind, key, v)).transpose()?;
    let deleted = meta.deleted.as_ref().and_then(|d| d.as_bool()).unwrap_or(false);
    let prerequisites = if deleted || kind != Kind::Flags {
        Vec::new()
    } else {
        meta.prerequisites.unwrap_or_default().into_iter().filter_map(|p| p.key).collect()
    };
    Ok(Facts { version, deleted, prerequisites })
}

impl Item {
    /// Parse the routing facts out of `json`, keeping `json` unchanged. `version` is required.
    pub fn parse(kind: Kind, key: &str, json: String) -> Result<Item, ItemError> {
        let f = facts(kind, key, &json)?;
        let version = f.version.ok_or_else(|| ItemError::MissingVersion { kind, key: key.to_string() })?;
        Ok(Item {
            key: key.to_string(),
            version,
            deleted: f.deleted,
            prerequisites: f.prerequisites,
            json: json.into(),
        })
    }

    /// Like [`Item::parse`], but an item without `version` gets version 1 (the SDK file-data-source
    /// rule): `"version":1` is added as the object's first property.
    pub fn parse_defaulting_version(kind: Kind, key: &str, json: String) -> Result<Item, ItemError> {
        let f = facts(kind, key, &json)?;
        Item::with_facts_defaulting_version(kind, key, json.into(), f)
    }

    /// [`Item::parse_defaulting_version`] with the facts of `json` already known.
    pub(crate) fn with_facts_defaulting_version(
        kind: Kind,
        key: &str,
        json: Json,
        f: Facts,
    ) -> Result<Item, ItemError> {
        if let Some(version) = f.version {
            return Ok(Item {
                key: key.to_string(),
                version,
                deleted: f.deleted,
                prerequisites: f.prerequisites,
                json,
            });
        }
        if f.deleted {
            // A tombstone without a version can never be ordered against anything.
            return Err(ItemError::MissingVersion { kind, key: key.to_string() });
        }
        let json = with_default_version(&json);
        Ok(Item { key: key.to_string(), version: 1, deleted: false, prerequisites: f.prerequisites, json: json.into() })
    }

    /// A tombstone in the Go/Relay form.
    pub fn tombstone(kind: Kind, key: &str, version: u64) -> Item {
        Item {
            key: key.to_string(),
            version,
            deleted: true,
            prerequisites: Vec::new(),
            json: kind.tombstone_json(version).into(),
        }
    }
}

/// An item object's JSON with `"version":1` added as its first property (the SDK file-data-source
/// rule for items without a version).
pub(crate) fn with_default_version(json: &str) -> String {
    let rest = json.trim_start()[1..].trim_start();
    let sep = if rest.starts_with('}') { "" } else { "," };
    format!("{{\"version\":1{sep}{rest}")
}

fn version_of(kind: Kind, key: &str, v: &serde_json::Value) -> Result<u64, ItemError> {
    if let Some(n) = v.as_u64() {
        return Ok(n);
    }
    // Some writers emit versions as floats with no fraction (e.g. 3.0); accept those.
    if let Some(f) = v.as_f64()
        && f >= 0.0
        && f.fract() == 0.0
        && f < 9.0e15
    {
        return Ok(f as u64);
    }
    Err(ItemError::BadVersion { kind, key: key.to_string(), found: v.to_string() })
}

/// A full data set: every flag and segment, keyed by store address, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataSet {
    pub flags: BTreeMap<String, Item>,
    pub segments: BTreeMap<String, Item>,
}

impl DataSet {
    pub fn items(&self, kind: Kind) -> &BTreeMap<String, Item> {
        match kind {
            Kind::Flags => &self.flags,
            Kind::Segments => &self.segments,
        }
    }

    pub fn items_mut(&mut self, kind: Kind) -> &mut BTreeMap<String, Item> {
        match kind {
            Kind::Flags => &mut self.flags,
            Kind::Segments => &mut self.segments,
        }
    }

    pub fn len(&self) -> usize {
        self.flags.len() + self.segments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn total_bytes(&self) -> usize {
        self.flags.values().chain(self.segments.values()).map(|i| i.json.len()).sum()
    }

    /// Items of one kind in write order: for segments, key order; for flags, prerequisites before
    /// the flags that depend on them (cycles and missing prerequisites are tolerated: such flags
    /// are written in key order after what could be ordered).
    pub fn write_order(&self, kind: Kind) -> Vec<&Item> {
        let items: Vec<&Item> = self.items(kind).values().collect();
        if kind == Kind::Segments {
            return items;
        }
        if items.iter().all(|i| i.prerequisites.is_empty()) {
            return items;
        }
        flag_order(&items, &KeyIndex::new(&items)).into_iter().map(|i| items[i]).collect()
    }

    /// Items of one kind in dependency levels, for stores that write many items at once with no
    /// ordering between them (DynamoDB's parallel batches): every item's prerequisites are in an
    /// earlier level, so writing level after level keeps "prerequisites before dependants" while
    /// each level is written in parallel. Segments are one level. Cycles and missing prerequisites
    /// are tolerated as in [`DataSet::write_order`].
    pub fn write_levels(&self, kind: Kind) -> Vec<Vec<&Item>> {
        let items: Vec<&Item> = self.items(kind).values().collect();
        if kind == Kind::Segments {
            return if items.is_empty() { Vec::new() } else { vec![items] };
        }
        if items.iter().all(|i| i.prerequisites.is_empty()) {
            return if items.is_empty() { Vec::new() } else { vec![items] };
        }
        let index = KeyIndex::new(&items);
        let mut level: Vec<Option<usize>> = vec![None; items.len()];
        let mut levels: Vec<Vec<&Item>> = Vec::new();
        for i in flag_order(&items, &index) {
            // flag_order puts every orderable prerequisite before its dependant.
            let l = items[i]
                .prerequisites
                .iter()
                .filter_map(|p| index.get(p).and_then(|j| level[j]))
                .map(|l| l + 1)
                .max()
                .unwrap_or(0);
            level[i] = Some(l);
            if levels.len() <= l {
                levels.resize_with(l + 1, Vec::new);
            }
            levels[l].push(items[i]);
        }
        levels
    }

    /// Both kinds in write order: segments first, then flags, dependencies first.
    pub fn all_in_write_order(&self) -> Vec<(Kind, &Item)> {
        let mut v = Vec::with_capacity(self.len());
        for kind in Kind::INIT_ORDER {
            v.extend(self.write_order(kind).into_iter().map(|i| (kind, i)));
        }
        v
    }
}

/// Positions of items by key, for following prerequisites (a hash map: binary searches through
/// 100,000 items cost a cache miss per comparison).
struct KeyIndex<'a>(HashMap<&'a str, usize, BuildHasherDefault<Fnv>>);

impl<'a> KeyIndex<'a> {
    fn new(items: &[&'a Item]) -> KeyIndex<'a> {
        let mut map = HashMap::with_capacity_and_hasher(items.len(), BuildHasherDefault::default());
        map.extend(items.iter().enumerate().map(|(i, item)| (item.key.as_str(), i)));
        KeyIndex(map)
    }

    fn get(&self, key: &str) -> Option<usize> {
        self.0.get(key).copied()
    }
}

/// FNV-1a: fast for short keys, and the keys here are not chosen by an attacker who could profit
/// from collisions.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Indices of `items` (flags sorted by key) in write order: each flag in key order, after its
/// not yet written prerequisites (depth first, in their listed order). An iterative depth-first
/// search, so long prerequisite chains cannot overflow the stack; flags reached again through a
/// cycle are skipped while they are being visited.
fn flag_order(items: &[&Item], index: &KeyIndex) -> Vec<usize> {
    let mut out = Vec::with_capacity(items.len());
    let mut done = vec![false; items.len()];
    let mut visiting = vec![false; items.len()];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for root in 0..items.len() {
        if done[root] {
            continue;
        }
        if items[root].prerequisites.is_empty() {
            done[root] = true;
            out.push(root);
            continue;
        }
        visiting[root] = true;
        stack.push((root, 0));
        while let Some((cur, idx)) = stack.pop() {
            if let Some(pk) = items[cur].prerequisites.get(idx) {
                stack.push((cur, idx + 1));
                if let Some(p) = index.get(pk)
                    && !done[p]
                    && !visiting[p]
                {
                    visiting[p] = true;
                    stack.push((p, 0));
                }
            } else {
                visiting[cur] = false;
                if !done[cur] {
                    done[cur] = true;
                    out.push(cur);
                }
            }
        }
    }
    out
}

/// Remove insignificant whitespace from JSON text without touching anything else (string
/// contents, number spellings and property order are kept byte for byte).
pub fn minify_json(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_str = false;
    let mut escaped = false;
    for c in s.chars() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    out
}

/// Counts of what a full replace would do to a store.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ChangeSummary {
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
}

/// What a full replace of `old` by `new` changes, per kind (keys as `flags/<key>`).
pub fn plan_changes(old: &HashMap<Kind, HashMap<String, String>>, new: &DataSet) -> ChangeSummary {
    let mut s = ChangeSummary::default();
    for kind in Kind::ALL {
        let empty = HashMap::new();
        let old_items = old.get(&kind).unwrap_or(&empty);
        for (k, item) in new.items(kind) {
            match old_items.get(k) {
                None => s.added.push(format!("{kind}/{k}")),
                Some(old_json) if *old_json == item.json => s.unchanged += 1,
                Some(_) => s.updated.push(format!("{kind}/{k}")),
            }
        }
        let mut removed: Vec<&String> = old_items.keys().filter(|k| !new.items(kind).contains_key(*k)).collect();
        removed.sort();
        s.removed.extend(removed.into_iter().map(|k| format!("{kind}/{k}")));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag(key: &str, prereqs: &[&str]) -> Item {
        let p: Vec<String> = prereqs.iter().map(|p| format!(r#"{{"key":"{p}","variation":0}}"#)).collect();
        let json = format!(r#"{{"key":"{key}","version":1,"prerequisites":[{}]}}"#, p.join(","));
        Item::parse(Kind::Flags, key, json).unwrap()
    }

    #[test]
    fn prerequisites_come_first_and_cycles_terminate() {
        let mut d = DataSet::default();
        for (k, p) in [("a", vec!["c"]), ("b", vec![]), ("c", vec!["b", "missing"]), ("x", vec!["y"]), ("y", vec!["x"])]
        {
            d.flags.insert(k.into(), flag(k, &p));
        }
        let order: Vec<&str> = d.write_order(Kind::Flags).iter().map(|i| i.key.as_str()).collect();
        assert_eq!(order.len(), 5);
        let pos = |k| order.iter().position(|o| *o == k).unwrap();
        assert!(pos("b") < pos("c") && pos("c") < pos("a"));
        // Levels: every prerequisite is in an earlier level than its dependant; all items once.
        let levels: Vec<Vec<&str>> =
            d.write_levels(Kind::Flags).iter().map(|l| l.iter().map(|i| i.key.as_str()).collect()).collect();
        let at = |k: &str| levels.iter().position(|l| l.contains(&k)).unwrap();
        assert_eq!(levels.iter().map(Vec::len).sum::<usize>(), 5);
        assert!(at("b") < at("c") && at("c") < at("a"), "{levels:?}");
        assert_eq!(at("b"), 0);
    }

    /// The hash-set depth-first search `write_order` used before it worked on indices.
    fn reference_order(items: &BTreeMap<String, Item>) -> Vec<&str> {
        use std::collections::HashSet;
        let mut out: Vec<&str> = Vec::new();
        let mut done: HashSet<&str> = HashSet::new();
        let mut visiting: HashSet<&str> = HashSet::new();
        for item in items.values() {
            if done.contains(item.key.as_str()) {
                continue;
            }
            let mut stack: Vec<(&Item, usize)> = vec![(item, 0)];
            visiting.insert(item.key.as_str());
            while let Some((cur, idx)) = stack.pop() {
                if idx < cur.prerequisites.len() {
                    stack.push((cur, idx + 1));
                    let pk = cur.prerequisites[idx].as_str();
                    if let Some(p) = items.get(pk)
                        && !done.contains(pk)
                        && !visiting.contains(pk)
                    {
                        visiting.insert(p.key.as_str());
                        stack.push((p, 0));
                    }
                } else {
                    visiting.remove(cur.key.as_str());
                    if done.insert(cur.key.as_str()) {
                        out.push(cur.key.as_str());
                    }
                }
            }
        }
        out
    }

    #[test]
    fn write_order_matches_the_reference_on_random_graphs() {
        use rand::{Rng, SeedableRng};
        let mut r = rand::rngs::StdRng::seed_from_u64(5);
        for _ in 0..300 {
            let n = r.random_range(1..40);
            let mut d = DataSet::default();
            for i in 0..n {
                // Prerequisites anywhere (cycles, self-references, repeats) and some missing.
                let p: Vec<String> =
                    (0..r.random_range(0..4)).map(|_| format!("f{}", r.random_range(0..n + 3))).collect();
                let p: Vec<&str> = p.iter().map(String::as_str).collect();
                d.flags.insert(format!("f{i}"), flag(&format!("f{i}"), &p));
            }
            let order: Vec<&str> = d.write_order(Kind::Flags).iter().map(|i| i.key.as_str()).collect();
            assert_eq!(order, reference_order(&d.flags));
            let levels = d.write_levels(Kind::Flags);
            assert_eq!(levels.iter().map(Vec::len).sum::<usize>(), n);
            let at = |k: &str| levels.iter().position(|l| l.iter().any(|i| i.key == k));
            for pos in 0..order.len() {
                let item = &d.flags[order[pos]];
                for p in &item.prerequisites {
                    // A prerequisite written earlier is in an earlier level.
                    if order[..pos].contains(&p.as_str()) {
                        assert!(at(p) < at(&item.key), "{p} before {}", item.key);
                    }
                }
            }
        }
    }

    #[test]
    fn versions_and_tombstones() {
        let i = Item::parse(Kind::Flags, "f", r#"{"version":3,"deleted":true}"#.into()).unwrap();
        assert!(i.deleted && i.version == 3);
        assert!(matches!(Item::parse(Kind::Flags, "f", "[1]".into()), Err(ItemError::NotObject { .. })));
        assert!(matches!(
            Item::parse(Kind::Flags, "f", r#"{"version":"3"}"#.into()),
            Err(ItemError::BadVersion { .. })
        ));
        assert!(matches!(
            Item::parse(Kind::Flags, "f", r#"{"key":"f"}"#.into()),
            Err(ItemError::MissingVersion { .. })
        ));
        let d = Item::parse_defaulting_version(Kind::Flags, "f", r#"{"key":"f"}"#.into()).unwrap();
        assert_eq!(d.json, r#"{"version":1,"key":"f"}"#);
        let t = Item::tombstone(Kind::Segments, "s", 9);
        assert!(Item::parse(Kind::Segments, "s", t.json.into_string()).unwrap().deleted);
    }

    /// `"version": null` is an invalid version, never a missing one (which files default to 1).
    #[test]
    fn null_version_is_invalid_not_missing() {
        for json in
            [r#"{"key":"f","version":null}"#, r#"{"version" : null,"key":"f"}"#, r#"{"version":null,"deleted":true}"#]
        {
            for r in [
                Item::parse(Kind::Flags, "f", json.into()),
                Item::parse_defaulting_version(Kind::Flags, "f", json.into()),
            ] {
                match r {
                    Err(ItemError::BadVersion { found, .. }) => assert_eq!(found, "null", "{json}"),
                    other => panic!("{json}: {other:?}"),
                }
            }
            let e = crate::store::entry(Kind::Segments, "s", json.into()).unwrap_err();
            assert!(matches!(e.error, ItemError::BadVersion { .. }), "{json}: {:?}", e.error);
        }
    }

    #[test]
    fn minify_keeps_strings() {
        assert_eq!(minify_json("{ \"a b\" : [ 1 , \"x \\\" y\" ] }\n"), r#"{"a b":[1,"x \" y"]}"#);
    }
}
