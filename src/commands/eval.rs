//! `ldstore eval`: evaluate flags for a context from a store's (or a source's) data with the
//! official `launchdarkly-server-sdk-evaluation` crate: what a daemon-mode SDK would serve.
//!
//! JSON output (`--output json`):
//! ```text
//! {"source": "…", "context": <the context as given>,
//!  "results": [{"flag": "<key>",
//!               "value": <JSON>|null, "variationIndex": N|null,
//!               "reason": {"kind": "OFF"|"TARGET_MATCH"|"RULE_MATCH"|"PREREQUISITE_FAILED"|"FALLTHROUGH"|"ERROR",
//!                          "ruleIndex": N, "ruleId": "…", "inExperiment": true,
//!                          "prerequisiteKey": "…", "errorKind": "…"},   // as the SDKs report them
//!               "bigSegments": "NOT_EVALUATED",     // only when the flag may depend on a Big Segment
//!               "bigSegmentKeys": ["…"]}]}           //   (their membership is not read)
//! ```
//! A flag the evaluator cannot parse, or a `--flag` that does not exist, gives value null and
//! reason `{"kind":"ERROR","errorKind":"MALFORMED_FLAG"|"FLAG_NOT_FOUND"}` (plus "detail" for the
//! parse error), and exit code 1.

use std::collections::{BTreeSet, HashMap};

use anyhow::Result;
use launchdarkly_server_sdk_evaluation as ld;
use serde_json::{Value, json};

use super::{Ctx, print_json, table};
use crate::config::commands::{EvalFrom, EvalSettings};
use crate::data::{DataSet, Kind};
use crate::exit::{self, ExitCode};
use crate::source;
use crate::store::{self, Entry};

/// The evaluator's view of the data: parsed flags and segments (tombstones left out).
#[derive(Default)]
pub struct EvalStore {
    pub flags: HashMap<String, ld::Flag>,
    pub segments: HashMap<String, ld::Segment>,
    /// Items the evaluator's model cannot parse: key -> error.
    pub bad_flags: HashMap<String, String>,
    /// Unbounded (Big) segment keys.
    pub big_segments: BTreeSet<String>,
    /// Per live flag: prerequisite keys and segment keys named by its clauses.
    refs: HashMap<String, (Vec<String>, Vec<String>)>,
    /// Per live segment: segment keys named by its rules' clauses.
    seg_refs: HashMap<String, Vec<String>>,
    /// Per live flag: its variations exactly as stored (the evaluator's values are lossy: every
    /// number becomes a float).
    variations: HashMap<String, Vec<Value>>,
}

impl ld::Store for EvalStore {
    fn flag(&self, flag_key: &str) -> Option<ld::Flag> {
        self.flags.get(flag_key).cloned()
    }
    fn segment(&self, segment_key: &str) -> Option<ld::Segment> {
        self.segments.get(segment_key).cloned()
    }
}

fn segment_matches(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for r in v.get("rules").and_then(Value::as_array).into_iter().flatten() {
        for c in r.get("clauses").and_then(Value::as_array).into_iter().flatten() {
            if c.get("op").and_then(Value::as_str) == Some("segmentMatch") {
                out.extend(
                    c.get("values")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|s| s.as_str().map(str::to_string)),
                );
            }
        }
    }
    out
}

impl EvalStore {
    pub fn from_data(data: &DataSet) -> EvalStore {
        let mut s = EvalStore::default();
        for (key, item) in data.items(Kind::Segments) {
            if item.deleted {
                continue;
            }
            let Ok(v) = serde_json::from_str::<Value>(&item.json) else { continue };
            if v.get("unbounded").and_then(Value::as_bool) == Some(true) {
                s.big_segments.insert(key.clone());
            }
            s.seg_refs.insert(key.clone(), segment_matches(&v));
            if let Ok(seg) = serde_json::from_str::<ld::Segment>(&item.json) {
                s.segments.insert(key.clone(), seg);
            }
        }
        for (key, item) in data.items(Kind::Flags) {
            if item.deleted {
                continue;
            }
            match serde_json::from_str::<ld::Flag>(&item.json) {
                Ok(f) => {
                    s.flags.insert(key.clone(), f);
                }
                Err(e) => {
                    s.bad_flags.insert(key.clone(), e.to_string());
                }
            }
            if let Ok(mut v) = serde_json::from_str::<Value>(&item.json) {
                s.refs.insert(key.clone(), (item.prerequisites.clone(), segment_matches(&v)));
                if let Some(Value::Array(vars)) = v.get_mut("variations").map(Value::take) {
                    s.variations.insert(key.clone(), vars);
                }
            }
        }
        s
    }

    /// Big Segments the flag's evaluation may consult (through prerequisites and nested
    /// segmentMatch clauses).
    pub fn big_segments_of(&self, flag: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let (mut seen_f, mut seen_s) = (BTreeSet::new(), BTreeSet::new());
        let mut flags = vec![flag.to_string()];
        let mut segs: Vec<String> = Vec::new();
        while let Some(f) = flags.pop() {
            if !seen_f.insert(f.clone()) {
                continue;
            }
            if let Some((prereqs, ss)) = self.refs.get(&f) {
                flags.extend(prereqs.iter().cloned());
                segs.extend(ss.iter().cloned());
            }
        }
        while let Some(sk) = segs.pop() {
            if !seen_s.insert(sk.clone()) {
                continue;
            }
            if self.big_segments.contains(&sk) {
                out.insert(sk.clone());
            }
            segs.extend(self.seg_refs.get(&sk).into_iter().flatten().cloned());
        }
        out
    }

    /// Evaluate one flag: the documented JSON result.
    pub fn evaluate(&self, key: &str, context: &ld::Context) -> (Value, bool) {
        let mut r = if let Some(flag) = self.flags.get(key) {
            let d = ld::evaluate(self, flag, context, None);
            let ok = !matches!(d.reason, ld::Reason::Error { .. });
            let v = json!({
                "flag": key,
                "value": d
                    .variation_index
                    .and_then(|i| self.variations.get(key).and_then(|vs| usize::try_from(i).ok().and_then(|i| vs.get(i))).cloned())
                    .or_else(|| d.value.and_then(|v| serde_json::to_value(v).ok()))
                    .unwrap_or(Value::Null),
                "variationIndex": d.variation_index,
                "reason": serde_json::to_value(&d.reason).unwrap_or(Value::Null),
            });
            (v, ok)
        } else if let Some(e) = self.bad_flags.get(key) {
            let v = json!({"flag": key, "value": null, "variationIndex": null,
                "reason": {"kind": "ERROR", "errorKind": "MALFORMED_FLAG"}, "detail": format!("cannot parse the flag: {e}")});
            (v, false)
        } else {
            let v = json!({"flag": key, "value": null, "variationIndex": null,
                "reason": {"kind": "ERROR", "errorKind": "FLAG_NOT_FOUND"}});
            (v, false)
        };
        let big = self.big_segments_of(key);
        if !big.is_empty()
            && let Some(m) = r.0.as_object_mut()
        {
            m.insert("bigSegments".into(), json!("NOT_EVALUATED"));
            m.insert("bigSegmentKeys".into(), json!(big));
        }
        r
    }
}

fn reason_text(r: &Value) -> String {
    let kind = r.get("kind").and_then(Value::as_str).unwrap_or("?");
    let mut s = kind.to_string();
    if let Some(i) = r.get("ruleIndex") {
        s.push_str(&format!(" rule {i}"));
        if let Some(id) = r.get("ruleId").and_then(Value::as_str) {
            s.push_str(&format!(" ({id})"));
        }
    }
    if let Some(p) = r.get("prerequisiteKey").and_then(Value::as_str) {
        s.push_str(&format!(" prerequisite {p}"));
    }
    if let Some(e) = r.get("errorKind").and_then(Value::as_str) {
        s.push_str(&format!(" {e}"));
    }
    if r.get("inExperiment").and_then(Value::as_bool) == Some(true) {
        s.push_str(" in experiment");
    }
    s
}

pub async fn run(args: EvalSettings, ctx: &Ctx) -> Result<ExitCode> {
    let (context, raw_context) = (args.context, args.raw_context);
    // Items the store holds that could not be read (named as they are skipped): the answer is
    // then partial (exit 5).
    let mut skipped = 0usize;
    let (data, described) = match args.from {
        EvalFrom::Source(spec) => {
            let src = source::open(spec);
            (src.fetch().await?, src.describe())
        }
        EvalFrom::Store(sel) => {
            let store = store::open(&sel.store).await?;
            let prefix = store.effective_prefix(sel.prefix.as_deref());
            if !store.is_initialized(&prefix).await? {
                ctx.note(&format!(
                    "ldstore: warning: {} prefix \"{prefix}\" is not initialized (no $inited marker); daemon-mode SDKs still evaluate what is there",
                    store.backend()
                ));
            }
            let mut data = DataSet::default();
            for kind in Kind::ALL {
                let map = data.items_mut(kind);
                let mut bad = Vec::new();
                store
                    .read_all(&prefix, kind, &mut |e: Entry| {
                        match e {
                            Ok(i) => {
                                map.insert(i.key.clone(), i);
                            }
                            Err(b) => bad.push(b.error.to_string()),
                        }
                        Ok(())
                    })
                    .await?;
                skipped += bad.len();
                for b in bad {
                    ctx.note(&format!("ldstore: warning: skipped unreadable item: {b}"));
                }
            }
            (data, format!("{} prefix {prefix}", store.backend()))
        }
    };
    let es = EvalStore::from_data(&data);
    let keys: Vec<String> = match &args.flag {
        Some(k) => vec![k.clone()],
        None => data.flags.iter().filter(|(_, i)| !i.deleted).map(|(k, _)| k.clone()).collect(),
    };
    drop(data);
    let mut all_ok = true;
    let results: Vec<Value> = keys
        .iter()
        .map(|k| {
            let (v, ok) = es.evaluate(k, &context);
            all_ok &= ok;
            v
        })
        .collect();
    if ctx.json() {
        print_json(&json!({"source": described, "context": raw_context, "results": results}))?;
    } else {
        let mut t = table(&["flag", "value", "variation", "reason"]);
        for r in &results {
            let mut reason = reason_text(&r["reason"]);
            if let Some(big) = r.get("bigSegmentKeys") {
                reason.push_str(&format!("; Big Segments not evaluated: {big}"));
            }
            if let Some(d) = r.get("detail").and_then(Value::as_str) {
                reason.push_str(&format!("; {d}"));
            }
            t.add_row(vec![
                r["flag"].as_str().unwrap_or("").to_string(),
                r["value"].to_string(),
                r["variationIndex"].as_u64().map_or("-".into(), |i| i.to_string()),
                reason,
            ]);
        }
        super::print_text(&format!("{t}\n"))?;
    }
    Ok(if skipped > 0 {
        exit::PARTIAL
    } else if all_ok {
        exit::SUCCESS
    } else {
        exit::NO
    })
}
