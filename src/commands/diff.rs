//! `ldstore diff A B`: compare two sources item by item, semantically.
//!
//! Two items are equal when their JSON values are equal (key order, whitespace and number
//! spelling such as `1.0` vs `1` aside from serde_json's own equality do not count), and two
//! tombstones are equal when their versions are (whatever their shape). A tombstone and a live
//! item always differ.
//!
//! # JSON output (`--output json`), stable schema
//!
//! ```text
//! {
//!   "a": "<description of A>",            // e.g. "file backup.json", "Redis prefix ld:prod"
//!   "b": "<description of B>",
//!   "identical": bool,                    // true exactly when "differences" is empty and no
//!                                         // membership differs (exit 0)
//!   "summary": {"added": N, "removed": N, "changed": N, "unchanged": N},
//!   "differences": [                      // sorted by kind (flags, segments) then key
//!     {
//!       "kind": "flags" | "segments",
//!       "key": "<item key>",
//!       "change": "added" | "removed" | "changed",   // added: only in B; removed: only in A
//!       "from": {"version": N, "deleted": bool} | null,   // A's side (null when absent)
//!       "to":   {"version": N, "deleted": bool} | null,   // B's side (null when absent)
//!       "fields": [                       // "changed" only; [] for added/removed and for a
//!                                         // version-only change ("version" is never listed)
//!         {"path": "rules[0].clauses[1].values",
//!          "from": <JSON>, "to": <JSON>}  // from/to only with --show-values, each omitted when
//!                                         // that side has no such field
//!       ]
//!     }
//!   ]
//! }
//! ```
//! When both operands are store prefixes and one holds Big Segments (and neither `--kind` nor
//! `--key` is given), `"big_segments": {"added", "removed", "changed", "unchanged"}` counts the
//! contexts whose membership differs (added: only in B), with `"hashes": {"added": [...],
//! "removed": [...], "changed": [...]}` under `--show-values`.
//! A tombstone on one side and a live item on the other gives one field, `deleted`.
//! Paths: object members as `.name` (or `["name"]` when the name is not a plain identifier),
//! array elements as `[i]`; arrays of the same length are compared element by element, an array
//! whose length changed is one field (the whole array).

use anyhow::Result;
use serde_json::{Map, Value, json};

use crate::source::ResolvedSource;
use crate::store::{self, big_segments, big_segments::MembershipDiff};

use super::{Ctx, print_json};
use crate::config::commands::DiffSettings;
use crate::data::{DataSet, Item, Kind};
use crate::exit::{self, ExitCode};
use crate::source;

/// One changed field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    pub path: String,
    pub from: Option<Value>,
    pub to: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    Removed,
    Changed,
}

impl Change {
    fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
        }
    }
}

/// One side's state of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Side {
    pub version: u64,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub kind: Kind,
    pub key: String,
    pub change: Change,
    pub from: Option<Side>,
    pub to: Option<Side>,
    pub fields: Vec<FieldChange>,
}

#[derive(Debug, Default)]
pub struct DiffResult {
    pub differences: Vec<Difference>,
    pub unchanged: usize,
}

fn side(i: &Item) -> Side {
    Side { version: i.version, deleted: i.deleted }
}

/// Compare two items present on both sides; `None` when semantically equal.
pub fn compare_items(kind: Kind, a: &Item, b: &Item) -> Option<Difference> {
    let diff = |fields| Difference {
        kind,
        key: a.key.clone(),
        change: Change::Changed,
        from: Some(side(a)),
        to: Some(side(b)),
        fields,
    };
    if a.json == b.json {
        return None;
    }
    match (a.deleted, b.deleted) {
        (true, true) => (a.version != b.version).then(|| diff(Vec::new())),
        (true, false) | (false, true) => Some(diff(vec![FieldChange {
            path: "deleted".into(),
            from: Some(Value::Bool(a.deleted)),
            to: Some(Value::Bool(b.deleted)),
        }])),
        (false, false) => {
            let va: Value = serde_json::from_str(&a.json).unwrap_or(Value::Null);
            let vb: Value = serde_json::from_str(&b.json).unwrap_or(Value::Null);
            if va == vb {
                return None;
            }
            let mut fields = Vec::new();
            match (va, vb) {
                (Value::Object(mut ma), Value::Object(mut mb)) => {
                    ma.remove("version");
                    mb.remove("version");
                    diff_objects(String::new(), &ma, &mb, &mut fields);
                }
                (x, y) => diff_values(String::new(), Some(&x), Some(&y), &mut fields),
            }
            if fields.is_empty() && a.version == b.version {
                // Only the version spelling differed (e.g. 3 vs 3.0).
                return None;
            }
            Some(diff(fields))
        }
    }
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

fn member_path(base: &str, name: &str) -> String {
    if is_ident(name) {
        if base.is_empty() { name.to_string() } else { format!("{base}.{name}") }
    } else {
        format!("{base}[{}]", serde_json::to_string(name).expect("string"))
    }
}

fn diff_objects(base: String, a: &Map<String, Value>, b: &Map<String, Value>, out: &mut Vec<FieldChange>) {
    let mut names: Vec<&String> = a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))).collect();
    names.sort();
    for name in names {
        diff_values(member_path(&base, name), a.get(name), b.get(name), out);
    }
}

fn diff_values(path: String, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<FieldChange>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Some(Value::Object(ma)), Some(Value::Object(mb))) => diff_objects(path, ma, mb, out),
        (Some(Value::Array(xa)), Some(Value::Array(xb))) if xa.len() == xb.len() => {
            for i in 0..xa.len().max(xb.len()) {
                diff_values(format!("{path}[{i}]"), xa.get(i), xb.get(i), out);
            }
        }
        _ => out.push(FieldChange { path, from: a.cloned(), to: b.cloned() }),
    }
}

/// Compare two data sets, optionally narrowed to one kind and/or one key.
pub fn diff_data_sets(a: &DataSet, b: &DataSet, kind: Option<Kind>, key: Option<&str>) -> DiffResult {
    let mut r = DiffResult::default();
    for k in Kind::ALL {
        if kind.is_some_and(|want| want != k) {
            continue;
        }
        let (ma, mb) = (a.items(k), b.items(k));
        let wanted = |name: &str| key.is_none_or(|want| want == name);
        for (name, ia) in ma {
            if !wanted(name) {
                continue;
            }
            match mb.get(name) {
                None => r.differences.push(Difference {
                    kind: k,
                    key: name.clone(),
                    change: Change::Removed,
                    from: Some(side(ia)),
                    to: None,
                    fields: Vec::new(),
                }),
                Some(ib) => match compare_items(k, ia, ib) {
                    Some(d) => r.differences.push(d),
                    None => r.unchanged += 1,
                },
            }
        }
        for (name, ib) in mb {
            if wanted(name) && !ma.contains_key(name) {
                r.differences.push(Difference {
                    kind: k,
                    key: name.clone(),
                    change: Change::Added,
                    from: None,
                    to: Some(side(ib)),
                    fields: Vec::new(),
                });
            }
        }
    }
    r.differences.sort_by(|x, y| (x.kind, &x.key).cmp(&(y.kind, &y.key)));
    r
}

fn side_json(s: Option<Side>) -> Value {
    s.map_or(Value::Null, |s| json!({"version": s.version, "deleted": s.deleted}))
}

/// The documented JSON form (see the module documentation).
pub fn to_json(a: &str, b: &str, r: &DiffResult, show_values: bool) -> Value {
    let count = |c| r.differences.iter().filter(|d| d.change == c).count();
    let diffs: Vec<Value> = r
        .differences
        .iter()
        .map(|d| {
            let fields: Vec<Value> = d
                .fields
                .iter()
                .map(|f| {
                    let mut m = Map::new();
                    m.insert("path".into(), Value::String(f.path.clone()));
                    if show_values {
                        if let Some(v) = &f.from {
                            m.insert("from".into(), v.clone());
                        }
                        if let Some(v) = &f.to {
                            m.insert("to".into(), v.clone());
                        }
                    }
                    Value::Object(m)
                })
                .collect();
            json!({
                "kind": d.kind,
                "key": d.key,
                "change": d.change.as_str(),
                "from": side_json(d.from),
                "to": side_json(d.to),
                "fields": fields,
            })
        })
        .collect();
    json!({
        "a": a,
        "b": b,
        "identical": r.differences.is_empty(),
        "summary": {
            "added": count(Change::Added),
            "removed": count(Change::Removed),
            "changed": count(Change::Changed),
            "unchanged": r.unchanged,
        },
        "differences": diffs,
    })
}

fn side_text(s: Side) -> String {
    if s.deleted { format!("v{} (deleted)", s.version) } else { format!("v{}", s.version) }
}

/// The human view: one line per item, changed fields indented below.
pub fn to_text(a: &str, b: &str, r: &DiffResult, show_values: bool) -> String {
    let mut out = String::new();
    out.push_str(&format!("--- A: {a}\n+++ B: {b}\n"));
    for d in &r.differences {
        let name = format!("{}/{}", d.kind, d.key);
        match d.change {
            Change::Added => out.push_str(&format!("+ {name}  {}\n", side_text(d.to.expect("to")))),
            Change::Removed => out.push_str(&format!("- {name}  {}\n", side_text(d.from.expect("from")))),
            Change::Changed => {
                let (f, t) = (d.from.expect("from"), d.to.expect("to"));
                let note = if d.fields.is_empty() { "  (version only)" } else { "" };
                out.push_str(&format!("~ {name}  {} -> {}{note}\n", side_text(f), side_text(t)));
                for fc in &d.fields {
                    out.push_str(&format!("    {}\n", fc.path));
                    if show_values {
                        let show = |v: &Option<Value>| v.as_ref().map_or("(absent)".to_string(), |v| v.to_string());
                        out.push_str(&format!("      - {}\n      + {}\n", show(&fc.from), show(&fc.to)));
                    }
                }
            }
        }
    }
    let count = |c| r.differences.iter().filter(|d| d.change == c).count();
    if r.differences.is_empty() {
        out.push_str(&format!("no differences ({} items compared)\n", r.unchanged));
    } else {
        out.push_str(&format!(
            "{} differences: {} added, {} removed, {} changed ({} unchanged)\n",
            r.differences.len(),
            count(Change::Added),
            count(Change::Removed),
            count(Change::Changed),
            r.unchanged
        ));
    }
    out
}

/// The memberships of two store operands, compared (`None` unless both are stores and one holds
/// Big Segments, or when `--kind`/`--key` narrows the comparison to items).
async fn membership_diff(args: &DiffSettings) -> Result<Option<MembershipDiff>> {
    let (ResolvedSource::Store { store: ca, prefix: pa }, ResolvedSource::Store { store: cb, prefix: pb }) =
        (&args.a, &args.b)
    else {
        return Ok(None);
    };
    if args.kind.is_some() || args.key.is_some() {
        return Ok(None);
    }
    let (sa, sb) = (store::open(ca).await?, store::open(cb).await?);
    let (pa, pb) = (sa.effective_prefix(pa.as_deref()), sb.effective_prefix(pb.as_deref()));
    // Prefixes without any membership: nothing to say.
    Ok(big_segments::diff(sa.as_ref(), &pa, sb.as_ref(), &pb).await?.filter(|m| !m.is_empty() || m.unchanged > 0))
}

pub async fn run(args: DiffSettings, ctx: &Ctx) -> Result<ExitCode> {
    let members = membership_diff(&args).await?;
    let src_a = source::open(args.a);
    let src_b = source::open(args.b);
    let (da, db) = tokio::join!(src_a.fetch(), src_b.fetch());
    let da = da.map_err(|e| e.context(format!("reading A ({})", src_a.describe())))?;
    let db = db.map_err(|e| e.context(format!("reading B ({})", src_b.describe())))?;
    let started = std::time::Instant::now();
    let result = diff_data_sets(&da, &db, args.kind, args.key.as_deref());
    tracing::info!("compared in {:.3} s", started.elapsed().as_secs_f64());
    drop((da, db));
    let (a, b) = (src_a.describe(), src_b.describe());
    let members_differ = members.as_ref().is_some_and(|m| !m.is_empty());
    if ctx.json() {
        let mut v = to_json(&a, &b, &result, args.show_values);
        if let Some(m) = &members {
            let mut mv = json!({"added": m.added.len(), "removed": m.removed.len(), "changed": m.changed.len(), "unchanged": m.unchanged});
            if args.show_values {
                mv["hashes"] = json!({"added": m.added, "removed": m.removed, "changed": m.changed});
            }
            v["big_segments"] = mv;
            v["identical"] = json!(result.differences.is_empty() && !members_differ);
        }
        print_json(&v)?;
    } else {
        let mut text = to_text(&a, &b, &result, args.show_values);
        if let Some(m) = &members {
            if args.show_values {
                for (sign, list) in [("+", &m.added), ("-", &m.removed), ("~", &m.changed)] {
                    for h in list {
                        text.push_str(&format!("{sign} big segment membership {h}\n"));
                    }
                }
            }
            text.push_str(&format!(
                "Big Segments memberships: {} added, {} removed, {} changed ({} unchanged)\n",
                m.added.len(),
                m.removed.len(),
                m.changed.len(),
                m.unchanged
            ));
        }
        super::print_text(&text)?;
    }
    Ok(if result.differences.is_empty() && !members_differ { exit::SUCCESS } else { exit::NO })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(kind: Kind, key: &str, json: &str) -> Item {
        Item::parse(kind, key, json.to_string()).unwrap()
    }

    #[test]
    fn deep_paths_and_equal_reformatting() {
        let a = item(
            Kind::Flags,
            "f",
            r#"{"key":"f","version":1,"rules":[{"clauses":[{"op":"in"},{"values":["a"]}]}],"fallthrough":{"variation":0}}"#,
        );
        let b = item(
            Kind::Flags,
            "f",
            r#"{"fallthrough":{"variation":1},"version":2,"key":"f","rules":[{"clauses":[{"op":"in"},{"values":["a","b"]}]}]}"#,
        );
        let d = compare_items(Kind::Flags, &a, &b).unwrap();
        let paths: Vec<&str> = d.fields.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["fallthrough.variation", "rules[0].clauses[1].values"]);
        let c = item(
            Kind::Flags,
            "f",
            r#"{ "version" : 1.0, "key":"f", "rules":[{"clauses":[{"op":"in"},{"values":["a"]}]}], "fallthrough":{"variation":0} }"#,
        );
        assert!(compare_items(Kind::Flags, &a, &c).is_none());
    }

    #[test]
    fn tombstones() {
        let t1 = item(Kind::Segments, "s", &Kind::Segments.tombstone_json(4));
        let t2 = item(Kind::Segments, "s", r#"{"version":4,"deleted":true}"#);
        let t3 = item(Kind::Segments, "s", r#"{"key":"s","version":5,"deleted":true}"#);
        let live = item(Kind::Segments, "s", r#"{"key":"s","version":4}"#);
        assert!(compare_items(Kind::Segments, &t1, &t2).is_none());
        assert!(compare_items(Kind::Segments, &t1, &t3).unwrap().fields.is_empty());
        assert_eq!(compare_items(Kind::Segments, &t1, &live).unwrap().fields[0].path, "deleted");
        assert_eq!(member_path("", "a b"), r#"["a b"]"#);
    }
}
