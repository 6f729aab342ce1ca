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
//!                          "prerequisiteKey": "…", "errorKind": "…",
//!                          "bigSegmentsStatus": "HEALTHY"|"STALE"|"STORE_ERROR"|"NOT_CONFIGURED"}}]}
//! ```
//! Big Segments are evaluated as a daemon-mode SDK with a Big Segments store on the same store
//! and prefix does (the Python SDK, the interop reference): the evaluation crate does no
//! membership lookup, so each Big Segment is replaced, for this context, by the ordinary segment
//! that decides the same ([`EvalStore::apply_big_segments`]), and the segments the evaluator
//! fetches give `bigSegmentsStatus`. `--from` a source (no Big Segments store) and a Consul store
//! evaluate as an SDK without one: a Big Segment never matches, `NOT_CONFIGURED`.
//! A flag the evaluator cannot parse, or a `--flag` that does not exist, gives value null and
//! reason `{"kind":"ERROR","errorKind":"MALFORMED_FLAG"|"FLAG_NOT_FOUND"}` (plus "detail" for the
//! parse error), and exit code 1.

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::Result;
use launchdarkly_server_sdk_evaluation as ld;
use serde_json::{Value, json};

use super::{Ctx, print_json, table};
use crate::config::commands::{EvalFrom, EvalSettings};
use crate::data::{DataSet, Kind};
use crate::exit::{self, ExitCode};
use crate::source;
use crate::store::big_segments::{self, BigSegment, SegmentVerdict, Status, Verdict};
use crate::store::{self, Entry};

/// The evaluator's view of the data: parsed flags and segments (tombstones left out).
#[derive(Default)]
pub struct EvalStore {
    pub flags: HashMap<String, ld::Flag>,
    pub segments: HashMap<String, ld::Segment>,
    /// Items the evaluator's model cannot parse: key -> error.
    pub bad_flags: HashMap<String, String>,
    /// Per live flag: its variations exactly as stored (the evaluator's values are lossy: every
    /// number becomes a float).
    variations: HashMap<String, Vec<Value>>,
    /// Per Big Segment: its JSON as stored (rewritten per context by [`EvalStore::apply_big_segments`]).
    big_json: HashMap<String, Value>,
    /// What the SDKs decided for each Big Segment and this context, once applied.
    big_verdicts: HashMap<String, SegmentVerdict>,
    /// The Big Segments status of the store (`None`: no Big Segments store, as an SDK without
    /// one configured).
    big_status: Option<Status>,
    /// The segments the evaluator fetched during the current evaluation, in order.
    fetched: Mutex<Vec<String>>,
}

impl ld::Store for EvalStore {
    fn flag(&self, flag_key: &str) -> Option<ld::Flag> {
        self.flags.get(flag_key).cloned()
    }
    fn segment(&self, segment_key: &str) -> Option<ld::Segment> {
        self.fetched.lock().unwrap_or_else(|e| e.into_inner()).push(segment_key.to_string());
        self.segments.get(segment_key).cloned()
    }
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
                s.big_json.insert(key.clone(), v.clone());
            }
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
            if let Ok(mut v) = serde_json::from_str::<Value>(&item.json)
                && let Some(Value::Array(vars)) = v.get_mut("variations").map(Value::take)
            {
                s.variations.insert(key.clone(), vars);
            }
        }
        s
    }

    /// The Big Segments of the data.
    pub fn big_segment_list(&self) -> Vec<BigSegment> {
        let mut out: Vec<BigSegment> =
            self.big_json.iter().filter_map(|(k, v)| BigSegment::from_json(k, &v.to_string())).collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }

    /// Evaluate Big Segments as a daemon-mode SDK with a Big Segments store (`status` is the
    /// store's; `verdicts` the membership of this context), or, with `status` `None`, as one
    /// without (every Big Segment with a generation then fails to match, `NOT_CONFIGURED`). Each
    /// Big Segment is replaced, for the evaluator, by the ordinary segment that decides the same:
    /// matching the context (included), never matching (excluded, no context of its kind, no
    /// generation, no store), or its rules alone (in neither set).
    pub fn apply_big_segments(&mut self, verdicts: Vec<SegmentVerdict>, status: Option<Status>) {
        self.big_status = status;
        for v in verdicts {
            let Some(mut seg) = self.big_json.get(&v.segment.key).cloned() else { continue };
            let keep_rules = status.is_some() && v.verdict == Verdict::Rules;
            let include = (status.is_some() && v.verdict == Verdict::Included).then(|| v.context_key.clone()).flatten();
            if let Some(m) = seg.as_object_mut() {
                for list in ["included", "excluded", "includedContexts", "excludedContexts"] {
                    m.insert(list.into(), json!([]));
                }
                if !keep_rules {
                    m.insert("rules".into(), json!([]));
                }
                if let Some(key) = include {
                    m.insert(
                        "includedContexts".into(),
                        json!([{"contextKind": v.segment.context_kind, "values": [key]}]),
                    );
                }
                m.insert("unbounded".into(), json!(false));
            }
            if let Ok(parsed) = serde_json::from_value::<ld::Segment>(seg) {
                self.segments.insert(v.segment.key.clone(), parsed);
            }
            self.big_verdicts.insert(v.segment.key.clone(), v);
        }
    }

    /// The `bigSegmentsStatus` of the evaluation that fetched these segments (in order), as the
    /// Python SDK reports it: the status of the last membership lookup (each context key looked up
    /// once per evaluation), `NOT_CONFIGURED` for a Big Segment without generation (or with no
    /// store); none when no Big Segment needed a lookup.
    fn big_segments_status(&self, fetched: &[String]) -> Option<Status> {
        let mut status = None;
        let mut looked_up: Vec<&str> = Vec::new();
        for key in fetched {
            let Some(v) = self.big_verdicts.get(key) else { continue };
            match (v.verdict, &v.context_key, self.big_status) {
                (Verdict::NotConfigured, _, _) => status = Some(Status::NotConfigured),
                (Verdict::NoContextKind, _, _) | (_, None, _) => {}
                (_, Some(_), None) => status = Some(Status::NotConfigured),
                (_, Some(k), Some(s)) => {
                    if !looked_up.contains(&k.as_str()) {
                        looked_up.push(k);
                        status = Some(s);
                    }
                }
            }
        }
        status
    }

    /// Evaluate one flag: the documented JSON result.
    pub fn evaluate(&self, key: &str, context: &ld::Context) -> (Value, bool) {
        if let Some(flag) = self.flags.get(key) {
            self.fetched.lock().unwrap_or_else(|e| e.into_inner()).clear();
            let d = ld::evaluate(self, flag, context, None);
            let fetched = std::mem::take(&mut *self.fetched.lock().unwrap_or_else(|e| e.into_inner()));
            let ok = !matches!(d.reason, ld::Reason::Error { .. });
            let mut reason = serde_json::to_value(&d.reason).unwrap_or(Value::Null);
            if let Some(status) = self.big_segments_status(&fetched)
                && let Some(m) = reason.as_object_mut()
            {
                m.insert("bigSegmentsStatus".into(), json!(status));
            }
            let v = json!({
                "flag": key,
                "value": d
                    .variation_index
                    .and_then(|i| self.variations.get(key).and_then(|vs| usize::try_from(i).ok().and_then(|i| vs.get(i))).cloned())
                    .or_else(|| d.value.and_then(|v| serde_json::to_value(v).ok()))
                    .unwrap_or(Value::Null),
                "variationIndex": d.variation_index,
                "reason": reason,
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
        }
    }
}

/// The key of the context of `kind` in `context` (a multi-context's part, or the context itself).
fn key_of_kind(context: &ld::Context, kind: &str) -> Option<String> {
    let kind = ld::Kind::try_from(kind).ok()?;
    context.as_kind(&kind).map(|c| c.key().to_string())
}

/// Verdicts with no membership read: `not-configured` without a generation, else left to what the
/// status decides (no store: no match; a store error: the rules).
fn unlooked(list: Vec<BigSegment>, context: &ld::Context) -> Vec<SegmentVerdict> {
    list.into_iter()
        .map(|s| SegmentVerdict {
            segment_ref: s.segment_ref(),
            verdict: if s.generation.is_none() { Verdict::NotConfigured } else { Verdict::Rules },
            context_key: key_of_kind(context, &s.context_kind),
            segment: s,
        })
        .collect()
}

/// Read the Big Segments status and this context's memberships from the store, and apply them.
/// A store without Big Segments (Consul) evaluates as an SDK without a Big Segments store; a
/// membership read that fails gives `STORE_ERROR`, the segments' rules deciding (as the SDKs).
async fn big_segments_from_store(
    es: &mut EvalStore,
    store: &dyn store::Admin,
    prefix: &str,
    context: &ld::Context,
) -> Result<()> {
    let list = es.big_segment_list();
    if list.is_empty() {
        return Ok(());
    }
    let key_for_kind = |kind: &str| key_of_kind(context, kind);
    let Some(b) = store.big_segments() else {
        es.apply_big_segments(unlooked(list, context), None);
        return Ok(());
    };
    let status = match b.metadata(prefix).await {
        Ok(meta) => Status::of(&meta, store::lease::now_ms(), big_segments::DEFAULT_STALE_AFTER),
        Err(_) => Status::StoreError,
    };
    match big_segments::verdicts(b, prefix, &list, &key_for_kind).await {
        Ok((_, verdicts)) => es.apply_big_segments(verdicts, Some(status)),
        Err(e) => {
            tracing::warn!("Big Segments membership read failed: {e}");
            es.apply_big_segments(unlooked(list, context), Some(Status::StoreError));
        }
    }
    Ok(())
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
    let (data, es, described) = match args.from {
        EvalFrom::Source(spec) => {
            let src = source::open(spec);
            let data = src.fetch().await?;
            let mut es = EvalStore::from_data(&data);
            // No Big Segments store: as an SDK without one configured.
            es.apply_big_segments(unlooked(es.big_segment_list(), &context), None);
            (data, es, src.describe())
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
            let mut es = EvalStore::from_data(&data);
            big_segments_from_store(&mut es, store.as_ref(), &prefix, &context).await?;
            (data, es, format!("{} prefix {prefix}", store.backend()))
        }
    };
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
            if let Some(big) = r["reason"].get("bigSegmentsStatus").and_then(Value::as_str) {
                reason.push_str(&format!("; Big Segments {big}"));
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
