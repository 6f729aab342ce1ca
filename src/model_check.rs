//! Structural checks of flags and segments, done on a JSON tree ([`Node`]) so each finding names
//! exactly what is wrong (`rules[1].rollout.variations[0].variation 7 is out of range …`), plus
//! the "can the official evaluator's model parse it" check with
//! `launchdarkly-server-sdk-evaluation`. Used by `validate`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError, mpsc};

use serde::Serialize;
use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

use crate::data::{Item, Json, Kind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem. `check` is a stable identifier of the rule that found it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub kind: Option<Kind>,
    pub key: Option<String>,
    pub check: &'static str,
    pub reason: String,
}

impl Finding {
    pub fn error(kind: Option<Kind>, key: Option<&str>, check: &'static str, reason: String) -> Finding {
        Finding { severity: Severity::Error, kind, key: key.map(str::to_string), check, reason }
    }
    pub fn warning(kind: Option<Kind>, key: Option<&str>, check: &'static str, reason: String) -> Finding {
        Finding { severity: Severity::Warning, kind, key: key.map(str::to_string), check, reason }
    }
}

/// Collects the findings of one item.
struct ItemCheck<'a> {
    kind: Kind,
    key: &'a str,
    out: &'a mut Vec<Finding>,
    /// Segment keys named by segmentMatch clauses, with the clause path.
    segment_refs: Vec<(String, String)>,
}

impl ItemCheck<'_> {
    fn error(&mut self, check: &'static str, reason: String) {
        self.out.push(Finding::error(Some(self.kind), Some(self.key), check, reason));
    }
    fn warning(&mut self, check: &'static str, reason: String) {
        self.out.push(Finding::warning(Some(self.kind), Some(self.key), check, reason));
    }

    /// A variation index at `path` must be an integer in 0..n.
    fn index(&mut self, path: &str, v: &Node<'_>, n: usize) {
        let ok = v.as_u64().is_some_and(|i| (i as usize) < n);
        if !ok && (v.is_i64() || v.is_u64()) {
            self.error(
                "variation-out-of-range",
                format!("{path} {v} is out of range ({n} variation{})", if n == 1 { "" } else { "s" }),
            );
        }
    }

    /// A rule's or the fallthrough's `variation` / `rollout`.
    fn variation_or_rollout(&mut self, path: &str, obj: &Node<'_>, n: usize) {
        if let Some(v) = obj.get("variation").filter(|v| !v.is_null()) {
            self.index(&format!("{path}.variation"), v, n);
            return;
        }
        let wvs = obj.get("rollout").and_then(|r| r.get("variations")).and_then(Node::as_array);
        let Some(wvs) = wvs.filter(|w| !w.is_empty()) else {
            self.error(
                "no-variation-or-rollout",
                format!("{path} has neither a variation nor a rollout (SDKs return MALFORMED_FLAG when it is reached)"),
            );
            return;
        };
        let mut sum = 0.0;
        for (i, wv) in wvs.iter().enumerate() {
            if let Some(v) = wv.get("variation") {
                self.index(&format!("{path}.rollout.variations[{i}].variation"), v, n);
            }
            sum += wv.get("weight").and_then(Node::as_f64).unwrap_or(0.0);
        }
        if sum != 100_000.0 {
            self.warning("rollout-weights", format!("{path}.rollout weights sum to {sum} instead of 100000"));
        }
    }

    fn clauses(&mut self, path: &str, rule: &Node<'_>) {
        let Some(clauses) = rule.get("clauses").and_then(Node::as_array) else { return };
        for (j, c) in clauses.iter().enumerate() {
            let cpath = format!("{path}.clauses[{j}]");
            if c.get("op").and_then(Node::as_str) == Some("segmentMatch") {
                for s in c.get("values").and_then(Node::as_array).into_iter().flatten() {
                    if let Some(s) = s.as_str() {
                        self.segment_refs.push((s.to_string(), cpath.clone()));
                    }
                }
            } else if c.get("attribute").and_then(Node::as_str).is_some_and(str::is_empty) {
                self.error("empty-attribute", format!("{cpath} has an empty attribute (SDKs return MALFORMED_FLAG)"));
            }
        }
    }
}

/// What the graph checks need from one live item.
#[derive(Debug, Default)]
struct Refs {
    /// Prerequisite flag keys (flags only).
    prerequisites: Vec<String>,
    /// (segment key, clause path) of segmentMatch clauses.
    segments: Vec<(String, String)>,
}

fn check_flag(key: &str, v: &Node<'_>, out: &mut Vec<Finding>) -> Refs {
    let mut c = ItemCheck { kind: Kind::Flags, key, out, segment_refs: Vec::new() };
    let variations = v.get("variations").and_then(Node::as_array);
    let n = variations.map_or(0, Vec::len);
    let arr = |name: &str| v.get(name).and_then(Node::as_array).map(Vec::as_slice).unwrap_or(&[]);
    if variations.is_some_and(|x| x.is_empty()) {
        c.warning(
            "empty-variations",
            "the flag has no variations: every evaluation serves the application's default value".into(),
        );
    } else {
        if let Some(off) = v.get("offVariation").filter(|o| !o.is_null()) {
            c.index("offVariation", off, n);
        }
        for (field, list) in [("targets", arr("targets")), ("contextTargets", arr("contextTargets"))] {
            for (i, t) in list.iter().enumerate() {
                if let Some(var) = t.get("variation") {
                    c.index(&format!("{field}[{i}].variation"), var, n);
                }
            }
        }
        for (i, r) in arr("rules").iter().enumerate() {
            c.variation_or_rollout(&format!("rules[{i}]"), r, n);
        }
        if let Some(ft) = v.get("fallthrough") {
            c.variation_or_rollout("fallthrough", ft, n);
        }
    }
    for (i, r) in arr("rules").iter().enumerate() {
        c.clauses(&format!("rules[{i}]"), r);
    }
    let prerequisites =
        arr("prerequisites").iter().filter_map(|p| p.get("key").and_then(Node::as_str).map(str::to_string)).collect();
    Refs { prerequisites, segments: c.segment_refs }
}

fn check_segment(key: &str, v: &Node<'_>, out: &mut Vec<Finding>) -> Refs {
    let mut c = ItemCheck { kind: Kind::Segments, key, out, segment_refs: Vec::new() };
    if v.get("unbounded").and_then(Node::as_bool) == Some(true) && v.get("generation").is_none_or(Node::is_null) {
        c.error(
            "big-segment-without-generation",
            "unbounded (Big) segment has no generation: SDKs report NOT_CONFIGURED and it never matches".into(),
        );
    }
    for (i, r) in v.get("rules").and_then(Node::as_array).into_iter().flatten().enumerate() {
        c.clauses(&format!("rules[{i}]"), r);
    }
    Refs { prerequisites: Vec::new(), segments: c.segment_refs }
}

/// A parsed JSON document for the checks: what `serde_json::Value` gives them (objects answer
/// `get` with the last value of a repeated name, numbers are `serde_json::Number`s, the same texts
/// fail to parse), at a fraction of the cost: strings borrowed from the text where possible, and
/// objects as lists (no hashing).
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl<'a> Node<'a> {
    pub fn get(&self, name: &str) -> Option<&Node<'a>> {
        match self {
            Node::Object(members) => members.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&Vec<Node<'a>>> {
        match self {
            Node::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Node::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Node::Number(n) => n.as_u64(),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Node::Number(n) => n.as_f64(),
            _ => None,
        }
    }
    pub fn is_i64(&self) -> bool {
        matches!(self, Node::Number(n) if n.is_i64())
    }
    pub fn is_u64(&self) -> bool {
        matches!(self, Node::Number(n) if n.is_u64())
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    fn into_owned(self) -> Node<'static> {
        match self {
            Node::Null => Node::Null,
            Node::Bool(b) => Node::Bool(b),
            Node::Number(n) => Node::Number(n),
            Node::String(s) => Node::String(Cow::Owned(s.into_owned())),
            Node::Array(a) => Node::Array(a.into_iter().map(Node::into_owned).collect()),
            Node::Object(m) => {
                Node::Object(m.into_iter().map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned())).collect())
            }
        }
    }
}

/// As `serde_json::Value` shows itself: JSON (numbers are all the checks print).
impl fmt::Display for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Null => f.write_str("null"),
            Node::Bool(b) => write!(f, "{b}"),
            Node::Number(n) => write!(f, "{n}"),
            Node::String(s) => write!(f, "{}", serde_json::to_string(s.as_ref()).map_err(|_| fmt::Error)?),
            Node::Array(a) => {
                f.write_str("[")?;
                for (i, v) in a.iter().enumerate() {
                    write!(f, "{}{v}", if i > 0 { "," } else { "" })?;
                }
                f.write_str("]")
            }
            Node::Object(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    let k = serde_json::to_string(k.as_ref()).map_err(|_| fmt::Error)?;
                    write!(f, "{}{k}:{v}", if i > 0 { "," } else { "" })?;
                }
                f.write_str("}")
            }
        }
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Node<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node<'a>, D::Error> {
        d.deserialize_any(NodeVisitor(std::marker::PhantomData))
    }
}

struct NodeVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for NodeVisitor<'a> {
    type Value = Node<'a>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Node<'a>, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node<'a>, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node<'a>, D::Error> {
        serde::Deserialize::deserialize(d)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Node<'a>, E> {
        Ok(Node::Bool(b))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Node<'a>, E> {
        Ok(Node::Number(n.into()))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Node<'a>, E> {
        Ok(Node::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Node<'a>, E> {
        Ok(Number::from_f64(n).map_or(Node::Null, Node::Number))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Node<'a>, E> {
        Ok(Node::String(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Node<'a>, E> {
        Ok(Node::String(Cow::Owned(s.to_string())))
    }
    fn visit_string<E>(self, s: String) -> Result<Node<'a>, E> {
        Ok(Node::String(Cow::Owned(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'a>, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Node::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'a>, A::Error> {
        let mut out = Vec::new();
        while let Some(Name(k)) = map.next_key()? {
            // serde_json's Value reads an object whose first name is this token as the JSON text
            // in its string value (serde_json's raw_value feature is on); so does this.
            if out.is_empty() && k == "$serde_json::private::RawValue" {
                let text: String = map.next_value()?;
                return serde_json::from_str::<Node<'_>>(&text).map(Node::into_owned).map_err(de::Error::custom);
            }
            out.push((k, map.next_value()?));
        }
        Ok(Node::Object(out))
    }
}

/// An object member's name, borrowed when it has no escapes.
struct Name<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Name<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name<'a>, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Name<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object member name")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Name<'a>, E> {
                Ok(Name(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Name<'a>, E> {
                Ok(Name(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Name<'a>, E> {
                Ok(Name(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// Whether the official evaluator's model parses the item; the parse error otherwise.
pub fn model_parse_error(kind: Kind, json: &str) -> Option<String> {
    let r = match kind {
        Kind::Flags => serde_json::from_str::<launchdarkly_server_sdk_evaluation::Flag>(json).err(),
        Kind::Segments => serde_json::from_str::<launchdarkly_server_sdk_evaluation::Segment>(json).err(),
    };
    r.map(|e| e.to_string())
}

/// Strongly connected components with a cycle (size > 1, or a self-reference), each sorted;
/// iterative Tarjan so long chains cannot overflow the stack.
pub fn cycles(graph: &BTreeMap<&str, Vec<&str>>) -> Vec<Vec<String>> {
    let nodes: Vec<&str> = graph.keys().copied().collect();
    let idx: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let adj: Vec<Vec<usize>> =
        nodes.iter().map(|n| graph[n].iter().filter_map(|m| idx.get(m).copied()).collect()).collect();
    let count = nodes.len();
    let (mut index, mut low, mut on_stack) = (vec![usize::MAX; count], vec![0; count], vec![false; count]);
    let mut stack = Vec::new();
    let mut next = 0;
    let mut out = Vec::new();
    for root in 0..count {
        if index[root] != usize::MAX {
            continue;
        }
        let mut call: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut ei)) = call.last_mut() {
            if *ei < adj[v].len() {
                let w = adj[v][*ei];
                *ei += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    loop {
                        let w = stack.pop().expect("on stack");
                        on_stack[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    if comp.len() > 1 || adj[v].contains(&v) {
                        let mut names: Vec<String> = comp.iter().map(|i| nodes[*i].to_string()).collect();
                        names.sort();
                        out.push(names);
                    }
                }
            }
        }
    }
    out.sort();
    out
}

/// What one live item contributes on its own: its findings, and (when its JSON parses) the items
/// it references, for [`CrossChecks`].
#[derive(Debug, Default)]
pub struct ItemChecks {
    findings: Vec<Finding>,
    refs: Option<Refs>,
}

/// The checks of one live (not deleted) item that need nothing but the item.
pub fn check_item(kind: Kind, key: &str, json: &str) -> ItemChecks {
    let mut findings = Vec::new();
    if let Some(e) = model_parse_error(kind, json) {
        findings.push(Finding::error(
            Some(kind),
            Some(key),
            "unparseable",
            format!("the SDK evaluator cannot parse it: {e}"),
        ));
    }
    let refs = serde_json::from_str::<Node<'_>>(json).ok().map(|v| match kind {
        Kind::Flags => check_flag(key, &v, &mut findings),
        Kind::Segments => check_segment(key, &v, &mut findings),
    });
    ItemChecks { findings, refs }
}

/// Collects every item of a prefix (tombstones too) and the per-item results of the live ones, in
/// any order, then adds what needs them all: references to missing or deleted items, and cycles.
#[derive(Default)]
pub struct CrossChecks {
    /// Every item by key: whether it is a tombstone, and its version.
    flags: HashMap<String, (bool, u64)>,
    segments: HashMap<String, (bool, u64)>,
    flag_refs: Vec<(String, Refs)>,
    seg_refs: Vec<(String, Refs)>,
    findings: Vec<Finding>,
}

impl CrossChecks {
    /// An item of the prefix, live or deleted.
    pub fn item(&mut self, kind: Kind, key: &str, deleted: bool, version: u64) {
        let map = if kind == Kind::Flags { &mut self.flags } else { &mut self.segments };
        map.insert(key.to_string(), (deleted, version));
    }

    /// The [`check_item`] results of a live item.
    pub fn checked(&mut self, kind: Kind, key: String, c: ItemChecks) {
        self.findings.extend(c.findings);
        if let Some(r) = c.refs {
            if kind == Kind::Flags { self.flag_refs.push((key, r)) } else { self.seg_refs.push((key, r)) }
        }
    }

    /// Every finding, sorted by kind and key (for one key: in the order they were found).
    pub fn finish(mut self) -> Vec<Finding> {
        // Items come in any order: the stable sort at the end puts their findings in key order,
        // and one item's findings (all found by one check_item) stay in the order they were found.
        let mut out = std::mem::take(&mut self.findings);
        self.flag_refs.sort_by(|a, b| a.0.cmp(&b.0));
        self.seg_refs.sort_by(|a, b| a.0.cmp(&b.0));
        // Tombstones older than every live item of their kind: versions only grow, so a deletion
        // below the lowest live version predates all current data (a leftover a restore or a
        // non-replacing writer kept); it still blocks a re-created item until its version passes it.
        for (kind, items) in [(Kind::Flags, &self.flags), (Kind::Segments, &self.segments)] {
            let Some(oldest_live) = items.values().filter(|(deleted, _)| !deleted).map(|(_, v)| *v).min() else {
                continue;
            };
            for (key, (_, version)) in items.iter().filter(|(_, (deleted, v))| *deleted && *v < oldest_live) {
                out.push(Finding::warning(
                    Some(kind),
                    Some(key),
                    "old-tombstone",
                    format!(
                        "tombstone at version {version} is older than every live {} (lowest live version {oldest_live}): a leftover that blocks a re-created \"{key}\" until its version passes {version}",
                        if kind == Kind::Flags { "flag" } else { "segment" },
                    ),
                ));
            }
        }
        let missing = |items: &HashMap<String, (bool, u64)>, k: &str| -> Option<String> {
            match items.get(k) {
                None => Some("does not exist".to_string()),
                Some((true, version)) => Some(format!("is deleted (tombstone at version {version})")),
                Some(_) => None,
            }
        };
        for (kind, refs) in [(Kind::Flags, &self.flag_refs), (Kind::Segments, &self.seg_refs)] {
            for (key, r) in refs {
                let mut seen = BTreeSet::new();
                for p in &r.prerequisites {
                    if seen.insert(p.as_str())
                        && let Some(why) = missing(&self.flags, p)
                    {
                        out.push(Finding::error(
                            Some(kind),
                            Some(key),
                            "missing-prerequisite",
                            format!(
                                "prerequisite flag \"{p}\" {why}: the prerequisite always fails (off variation served)"
                            ),
                        ));
                    }
                }
                let mut seen = BTreeSet::new();
                for (s, path) in &r.segments {
                    if seen.insert(s.as_str())
                        && let Some(why) = missing(&self.segments, s)
                    {
                        out.push(Finding::error(
                            Some(kind),
                            Some(key),
                            "missing-segment",
                            format!(
                                "{path}: segmentMatch names segment \"{s}\", which {why}: the clause never matches"
                            ),
                        ));
                    }
                }
            }
        }
        // Only items that reference something can be on a cycle.
        let graph: BTreeMap<&str, Vec<&str>> = self
            .flag_refs
            .iter()
            .filter(|(_, r)| !r.prerequisites.is_empty())
            .map(|(k, r)| (k.as_str(), r.prerequisites.iter().map(String::as_str).collect()))
            .collect();
        for c in cycles(&graph) {
            out.push(Finding::error(
                Some(Kind::Flags),
                Some(&c[0]),
                "prerequisite-cycle",
                format!("prerequisite cycle among {}: SDKs return MALFORMED_FLAG", c.join(", ")),
            ));
        }
        let graph: BTreeMap<&str, Vec<&str>> = self
            .seg_refs
            .iter()
            .filter(|(_, r)| !r.segments.is_empty())
            .map(|(k, r)| (k.as_str(), r.segments.iter().map(|(s, _)| s.as_str()).collect()))
            .collect();
        for c in cycles(&graph) {
            out.push(Finding::error(
                Some(Kind::Segments),
                Some(&c[0]),
                "segment-cycle",
                format!("segment rules reference each other in a cycle ({}): SDKs fail the evaluation", c.join(", ")),
            ));
        }
        out.sort_by(|a, b| (a.kind, &a.key, a.severity, a.check).cmp(&(b.kind, &b.key, b.severity, b.check)));
        out
    }
}

/// [`check_item`] on worker threads (one per core), fed while the items are still being read.
pub struct CheckPool {
    tx: Option<mpsc::Sender<Vec<(Kind, String, Json)>>>,
    batch: Vec<(Kind, String, Json)>,
    workers: Vec<std::thread::JoinHandle<Vec<(Kind, String, ItemChecks)>>>,
    /// Results of checks done on the calling thread (when no worker could be started).
    inline: Vec<(Kind, String, ItemChecks)>,
}

/// Items handed to a worker at once.
const POOL_BATCH: usize = 64;

impl CheckPool {
    pub fn new() -> CheckPool {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
        let (tx, rx) = mpsc::channel::<Vec<(Kind, String, Json)>>();
        let rx = Arc::new(Mutex::new(rx));
        let workers: Vec<_> = (0..n)
            .filter_map(|i| {
                let rx = Arc::clone(&rx);
                std::thread::Builder::new()
                    .name(format!("check-{i}"))
                    .spawn(move || {
                        let mut out = Vec::new();
                        loop {
                            let batch = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
                            let Ok(batch) = batch else { return out };
                            for (kind, key, json) in batch {
                                let c = check_item(kind, &key, &json);
                                out.push((kind, key, c));
                            }
                        }
                    })
                    .ok()
            })
            .collect();
        let tx = (!workers.is_empty()).then_some(tx);
        CheckPool { tx, batch: Vec::with_capacity(POOL_BATCH), workers, inline: Vec::new() }
    }

    /// Check a live item.
    pub fn push(&mut self, kind: Kind, key: String, json: Json) {
        if self.tx.is_none() {
            let c = check_item(kind, &key, &json);
            self.inline.push((kind, key, c));
            return;
        }
        self.batch.push((kind, key, json));
        if self.batch.len() >= POOL_BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if let Some(tx) = &self.tx
            && !self.batch.is_empty()
        {
            // A worker only stops once the channel is closed, so this send cannot fail.
            let _ = tx.send(std::mem::replace(&mut self.batch, Vec::with_capacity(POOL_BATCH)));
        }
    }

    /// Wait for every check and hand the results to `cross`.
    pub fn finish(mut self, cross: &mut CrossChecks) {
        self.flush();
        self.tx = None;
        for (kind, key, c) in std::mem::take(&mut self.inline) {
            cross.checked(kind, key, c);
        }
        for w in std::mem::take(&mut self.workers) {
            match w.join() {
                Ok(results) => {
                    for (kind, key, c) in results {
                        cross.checked(kind, key, c);
                    }
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    }
}

impl Default for CheckPool {
    fn default() -> CheckPool {
        CheckPool::new()
    }
}

/// Every structural finding for one prefix's items (live and tombstones), sorted by kind and key.
pub fn check_items(flags: &BTreeMap<String, Item>, segments: &BTreeMap<String, Item>) -> Vec<Finding> {
    let mut cross = CrossChecks::default();
    for (kind, items) in [(Kind::Flags, flags), (Kind::Segments, segments)] {
        for (key, item) in items {
            cross.item(kind, key, item.deleted, item.version);
            if !item.deleted {
                cross.checked(kind, key.clone(), check_item(kind, key, &item.json));
            }
        }
    }
    cross.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooled_checks_in_any_order_find_what_check_items_finds() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/validate-defects.json"))
                .unwrap();
        let data = crate::source::file::parse_json(&text).unwrap();
        let expected = check_items(&data.flags, &data.segments);
        assert!(expected.len() > 10, "{expected:?}");
        let mut pool = CheckPool::new();
        let mut cross = CrossChecks::default();
        for (kind, items) in [(Kind::Segments, &data.segments), (Kind::Flags, &data.flags)] {
            for item in items.values().rev() {
                cross.item(kind, &item.key, item.deleted, item.version);
                if !item.deleted {
                    pool.push(kind, item.key.clone(), item.json.clone());
                }
            }
        }
        pool.finish(&mut cross);
        assert_eq!(cross.finish(), expected);
    }

    /// `node` holds what `value` holds, as the checks see it.
    fn same(value: &serde_json::Value, node: &Node<'_>) -> bool {
        use serde_json::Value;
        match (value, node) {
            (Value::Null, Node::Null) => true,
            (Value::Bool(a), Node::Bool(b)) => a == b,
            (Value::Number(a), Node::Number(b)) => a == b && a.to_string() == node.to_string(),
            (Value::String(a), Node::String(b)) => a == b,
            (Value::Array(a), Node::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
            (Value::Object(a), Node::Object(b)) => {
                let names: BTreeSet<&str> = b.iter().map(|(k, _)| k.as_ref()).collect();
                a.len() == names.len() && a.iter().all(|(k, v)| node.get(k).is_some_and(|n| same(v, n)))
            }
            _ => false,
        }
    }

    #[test]
    fn nodes_parse_what_values_parse() {
        use rand::SeedableRng;
        let mut r = rand::rngs::StdRng::seed_from_u64(11);
        let fixed = [
            r#"{"a":1,"a":[2,-3,4.5e1,18446744073709551615,-9223372036854775808]}"#,
            r#"{"k\u0061":"\ud83d\ude00","":{"x":null}}"#,
            r#"{"$serde_json::private::RawValue":"{\"offVariation\":7}"}"#,
            r#"{"$serde_json::private::RawValue":5}"#,
            "1e400",
            "[1,]",
        ];
        let mut texts: Vec<String> = fixed.iter().map(|s| s.to_string()).collect();
        for i in 0..20_000 {
            let mut t = String::new();
            crate::json_scan::tests::value(&mut r, 0, &mut t);
            if i % 2 == 1 {
                t = crate::json_scan::tests::mutate(&mut r, &t);
            }
            texts.push(t);
        }
        let mut parsed = 0;
        for t in &texts {
            let v = serde_json::from_str::<serde_json::Value>(t);
            let n = serde_json::from_str::<Node<'_>>(t);
            match (&v, &n) {
                (Ok(v), Ok(n)) => {
                    assert!(same(v, n), "{t:?}: {v:?} vs {n:?}");
                    parsed += 1;
                }
                (Err(_), Err(_)) => {}
                _ => panic!("{t:?}: {v:?} vs {n:?}"),
            }
        }
        assert!(parsed > 5_000, "{parsed}");
    }

    #[test]
    fn finds_cycles() {
        let mut g: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        g.insert("a", vec!["b"]);
        g.insert("b", vec!["c"]);
        g.insert("c", vec!["a"]);
        g.insert("d", vec!["d"]);
        g.insert("e", vec!["a", "x"]);
        assert_eq!(cycles(&g), vec![vec!["a", "b", "c"], vec!["d"]]);
    }
}
