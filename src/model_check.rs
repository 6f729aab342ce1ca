//! Structural checks of flags and segments, done on `serde_json::Value` so each finding names
//! exactly what is wrong (`rules[1].rollout.variations[0].variation 7 is out of range …`), plus
//! the "can the official evaluator's model parse it" check with
//! `launchdarkly-server-sdk-evaluation`. Used by `validate`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::data::{Item, Kind};

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
    fn index(&mut self, path: &str, v: &Value, n: usize) {
        let ok = v.as_u64().is_some_and(|i| (i as usize) < n);
        if !ok && (v.is_i64() || v.is_u64()) {
            self.error(
                "variation-out-of-range",
                format!("{path} {v} is out of range ({n} variation{})", if n == 1 { "" } else { "s" }),
            );
        }
    }

    /// A rule's or the fallthrough's `variation` / `rollout`.
    fn variation_or_rollout(&mut self, path: &str, obj: &Value, n: usize) {
        if let Some(v) = obj.get("variation").filter(|v| !v.is_null()) {
            self.index(&format!("{path}.variation"), v, n);
            return;
        }
        let wvs = obj.get("rollout").and_then(|r| r.get("variations")).and_then(Value::as_array);
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
            sum += wv.get("weight").and_then(Value::as_f64).unwrap_or(0.0);
        }
        if sum != 100_000.0 {
            self.warning("rollout-weights", format!("{path}.rollout weights sum to {sum} instead of 100000"));
        }
    }

    fn clauses(&mut self, path: &str, rule: &Value) {
        let Some(clauses) = rule.get("clauses").and_then(Value::as_array) else { return };
        for (j, c) in clauses.iter().enumerate() {
            let cpath = format!("{path}.clauses[{j}]");
            if c.get("op").and_then(Value::as_str) == Some("segmentMatch") {
                for s in c.get("values").and_then(Value::as_array).into_iter().flatten() {
                    if let Some(s) = s.as_str() {
                        self.segment_refs.push((s.to_string(), cpath.clone()));
                    }
                }
            } else if c.get("attribute").and_then(Value::as_str).is_some_and(str::is_empty) {
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

fn check_flag(key: &str, v: &Value, out: &mut Vec<Finding>) -> Refs {
    let mut c = ItemCheck { kind: Kind::Flags, key, out, segment_refs: Vec::new() };
    let variations = v.get("variations").and_then(Value::as_array);
    let n = variations.map_or(0, Vec::len);
    let arr = |name: &str| v.get(name).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
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
        arr("prerequisites").iter().filter_map(|p| p.get("key").and_then(Value::as_str).map(str::to_string)).collect();
    Refs { prerequisites, segments: c.segment_refs }
}

fn check_segment(key: &str, v: &Value, out: &mut Vec<Finding>) -> Refs {
    let mut c = ItemCheck { kind: Kind::Segments, key, out, segment_refs: Vec::new() };
    if v.get("unbounded").and_then(Value::as_bool) == Some(true) && v.get("generation").is_none_or(Value::is_null) {
        c.error(
            "big-segment-without-generation",
            "unbounded (Big) segment has no generation: SDKs report NOT_CONFIGURED and it never matches".into(),
        );
    }
    for (i, r) in v.get("rules").and_then(Value::as_array).into_iter().flatten().enumerate() {
        c.clauses(&format!("rules[{i}]"), r);
    }
    Refs { prerequisites: Vec::new(), segments: c.segment_refs }
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

/// Every structural finding for one prefix's items (live and tombstones), sorted by kind and key.
pub fn check_items(flags: &BTreeMap<String, Item>, segments: &BTreeMap<String, Item>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut flag_refs: BTreeMap<&str, Refs> = BTreeMap::new();
    let mut seg_refs: BTreeMap<&str, Refs> = BTreeMap::new();
    for (kind, items) in [(Kind::Flags, flags), (Kind::Segments, segments)] {
        for (key, item) in items {
            if item.deleted {
                continue;
            }
            if let Some(e) = model_parse_error(kind, &item.json) {
                out.push(Finding::error(
                    Some(kind),
                    Some(key),
                    "unparseable",
                    format!("the SDK evaluator cannot parse it: {e}"),
                ));
            }
            let Ok(v) = serde_json::from_str::<Value>(&item.json) else { continue };
            match kind {
                Kind::Flags => {
                    flag_refs.insert(key, check_flag(key, &v, &mut out));
                }
                Kind::Segments => {
                    seg_refs.insert(key, check_segment(key, &v, &mut out));
                }
            }
        }
    }
    // Tombstones older than every live item of their kind: versions only grow, so a deletion
    // below the lowest live version predates all current data (a leftover a restore or a
    // non-replacing writer kept); it still blocks a re-created item until its version passes it.
    for (kind, items) in [(Kind::Flags, flags), (Kind::Segments, segments)] {
        let Some(oldest_live) = items.values().filter(|i| !i.deleted).map(|i| i.version).min() else { continue };
        for (key, item) in items.iter().filter(|(_, i)| i.deleted && i.version < oldest_live) {
            out.push(Finding::warning(
                Some(kind),
                Some(key),
                "old-tombstone",
                format!(
                    "tombstone at version {} is older than every live {} (lowest live version {oldest_live}): a leftover that blocks a re-created \"{key}\" until its version passes {}",
                    item.version,
                    if kind == Kind::Flags { "flag" } else { "segment" },
                    item.version
                ),
            ));
        }
    }
    let missing = |items: &BTreeMap<String, Item>, k: &str| -> Option<String> {
        match items.get(k) {
            None => Some("does not exist".to_string()),
            Some(i) if i.deleted => Some(format!("is deleted (tombstone at version {})", i.version)),
            Some(_) => None,
        }
    };
    for (kind, refs) in [(Kind::Flags, &flag_refs), (Kind::Segments, &seg_refs)] {
        for (key, r) in refs {
            let mut seen = BTreeSet::new();
            for p in &r.prerequisites {
                if seen.insert(p.as_str())
                    && let Some(why) = missing(flags, p)
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
                    && let Some(why) = missing(segments, s)
                {
                    out.push(Finding::error(
                        Some(kind),
                        Some(key),
                        "missing-segment",
                        format!("{path}: segmentMatch names segment \"{s}\", which {why}: the clause never matches"),
                    ));
                }
            }
        }
    }
    let graph: BTreeMap<&str, Vec<&str>> =
        flag_refs.iter().map(|(k, r)| (*k, r.prerequisites.iter().map(String::as_str).collect())).collect();
    for c in cycles(&graph) {
        out.push(Finding::error(
            Some(Kind::Flags),
            Some(&c[0]),
            "prerequisite-cycle",
            format!("prerequisite cycle among {}: SDKs return MALFORMED_FLAG", c.join(", ")),
        ));
    }
    let graph: BTreeMap<&str, Vec<&str>> =
        seg_refs.iter().map(|(k, r)| (*k, r.segments.iter().map(|(s, _)| s.as_str()).collect())).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

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
