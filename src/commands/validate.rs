//! `ldstore validate`: everything in a prefix that would make SDKs misbehave.
//!
//! JSON output (`--output json`):
//! ```text
//! {"store": "Redis", "address": "…", "prefixes": ["…"], "strict": bool, "ok": bool,
//!  "errors": N, "warnings": N,
//!  "findings": [{"prefix": "…", "severity": "error"|"warning", "kind": "flags"|"segments"|null,
//!                "key": "…"|null, "check": "<rule id>", "reason": "<one line>"}]}
//! ```
//! Rule ids: errors `not-initialized`, `interrupted-sync`, `bad-item`, `unparseable`,
//! `variation-out-of-range`, `no-variation-or-rollout`, `missing-prerequisite`,
//! `prerequisite-cycle`, `missing-segment`, `segment-cycle`, `empty-attribute`,
//! `big-segment-without-generation`, `version-mismatch`, `too-large`, `big-segment-unusable`,
//! `big-segments-unreadable-sync-time`; warnings `sync-in-progress`, `rollout-weights`,
//! `near-size-limit`, `unknown-key`, `old-tombstone`, `empty-variations`,
//! `big-segments-never-synced`, `big-segments-stale`, `big-segment-orphan-refs`.
//!
//! `interrupted-sync` (DynamoDB, Consul): a full init left its sync lease behind (killed, signal,
//! lost connection): the prefix may hold part old, part new data, whatever `$inited` says, until a
//! later sync completes. `sync-in-progress`: a live writer holds the lease right now.

use anyhow::Result;
use serde_json::json;

use super::{Ctx, print_json, table};
use crate::config::commands::ValidateSettings;
use crate::data::Kind;
use crate::exit::{self, ExitCode};
use crate::model_check::{CheckPool, CrossChecks, Finding, Severity};
use crate::store::{self, Admin, Entry};

/// All findings for one prefix.
/// `stale_after`: a Big Segments synchronization older than this is stale (`--stale-after`).
pub async fn validate_prefix(
    store: &dyn Admin,
    prefix: &str,
    stale_after: std::time::Duration,
) -> Result<Vec<Finding>> {
    let mut out = Vec::new();
    if !store.is_initialized(prefix).await? {
        out.push(Finding::error(
            None,
            None,
            "not-initialized",
            "the $inited marker is missing: SDKs consider the store not initialized".into(),
        ));
    }
    if let Some(lease) = store.sync_lease(prefix).await? {
        let status = lease.status(store::lease::now_ms());
        if status.interrupted() {
            let reason = status.message.trim_start_matches("INTERRUPTED: ");
            out.push(Finding::error(None, None, "interrupted-sync", reason.to_string()));
        } else {
            out.push(Finding::warning(
                None,
                None,
                "sync-in-progress",
                format!("{}: what was checked may be part old, part new data", status.message),
            ));
        }
    }
    let limit = store.item_size_limit();
    // Live items are checked on worker threads while the rest is still being read.
    let mut pool = CheckPool::new();
    let mut cross = CrossChecks::default();
    for kind in Kind::ALL {
        let found = &mut out;
        let (pool, cross) = (&mut pool, &mut cross);
        store
            .read_all(prefix, kind, &mut |e: Entry| {
                match e {
                    Ok(item) => {
                        if let Some(limit) = limit {
                            let n = item.json.len();
                            if n > limit {
                                found.push(Finding::error(
                                    Some(kind),
                                    Some(&item.key),
                                    "too-large",
                                    format!("{n} bytes is over the store's item size limit of {limit} bytes"),
                                ));
                            } else if n * 10 > limit * 9 {
                                found.push(Finding::warning(
                                    Some(kind),
                                    Some(&item.key),
                                    "near-size-limit",
                                    format!("{n} bytes is above 90 % of the store's item size limit of {limit} bytes"),
                                ));
                            }
                        }
                        cross.item(kind, &item.key, item.deleted, item.version);
                        if !item.deleted {
                            pool.push(kind, item.key, item.json);
                        }
                    }
                    Err(bad) => {
                        found.push(Finding::error(Some(kind), Some(&bad.key), "bad-item", bad.error.to_string()))
                    }
                }
                Ok(())
            })
            .await?;
    }
    pool.finish(&mut cross);
    out.extend(cross.finish());
    for m in store.version_mismatches(prefix).await? {
        out.push(Finding::error(
            Some(m.kind),
            Some(&m.key),
            "version-mismatch",
            format!(
                "the store's version attribute ({}) disagrees with the JSON's version {}",
                m.attribute, m.json_version
            ),
        ));
    }
    for k in store.unknown_keys(prefix).await? {
        out.push(Finding::warning(
            None,
            Some(&k),
            "unknown-key",
            format!("key \"{k}\" under the prefix is not LaunchDarkly data"),
        ));
    }
    out.extend(big_segment_findings(store, prefix, stale_after).await?);
    out.sort_by(|a, b| {
        (a.kind.is_some(), a.kind, &a.key, a.severity, a.check).cmp(&(
            b.kind.is_some(),
            b.kind,
            &b.key,
            b.severity,
            b.check,
        ))
    });
    Ok(out)
}

/// The prefix's Big Segments as the SDKs will meet them: a store that cannot hold them (Consul),
/// a synchronization time no SDK can read, Big Segments in the data but no synchronization ever,
/// a stale synchronization, and membership refs no current segment generation uses (counted).
pub async fn big_segment_findings(
    store: &dyn Admin,
    prefix: &str,
    stale_after: std::time::Duration,
) -> Result<Vec<Finding>> {
    use crate::store::big_segments::{self, BigSegment};
    let mut out = Vec::new();
    let segments = big_segments::big_segments_of(store, prefix).await?;
    let Some(b) = store.big_segments() else {
        for s in &segments {
            out.push(Finding::error(
                Some(Kind::Segments),
                Some(&s.key),
                "big-segment-unusable",
                format!("an unbounded (Big) segment, but {} holds no Big Segments: no SDK can evaluate it (it never matches)", store.backend()),
            ));
        }
        return Ok(out);
    };
    let meta = b.metadata(prefix).await?;
    match meta.synchronized_on_ms() {
        Err(why) => out.push(Finding::error(
            None,
            None,
            "big-segments-unreadable-sync-time",
            format!("{why}: the SDKs report STORE_ERROR for every Big Segment"),
        )),
        Ok(None) if !segments.is_empty() => out.push(Finding::warning(
            None,
            None,
            "big-segments-never-synced",
            format!(
                "{} unbounded segment{} but no Big Segments synchronization ever (no synchronizedOn): the SDKs find no membership and report STALE",
                segments.len(),
                if segments.len() == 1 { "" } else { "s" }
            ),
        )),
        Ok(Some(t)) => {
            let now = store::lease::now_ms();
            if big_segments::is_stale(Some(t), now, stale_after) {
                let age = std::time::Duration::from_secs(((now - t) / 1000).max(0) as u64);
                out.push(Finding::warning(
                    None,
                    None,
                    "big-segments-stale",
                    format!(
                        "the last Big Segments synchronization was {} ago (stale after {}): evaluations report STALE",
                        humantime::format_duration(age),
                        humantime::format_duration(stale_after)
                    ),
                ));
            }
        }
        Ok(None) => {}
    }
    let current: std::collections::HashSet<String> = segments.iter().filter_map(BigSegment::segment_ref).collect();
    let mut orphans: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    let mut contexts = 0u64;
    b.read_memberships(prefix, &mut |_hash, m| {
        let mut any = false;
        for r in m.included.into_iter().chain(m.excluded) {
            if !current.contains(&r) {
                *orphans.entry(r).or_default() += 1;
                any = true;
            }
        }
        contexts += u64::from(any);
        Ok(())
    })
    .await?;
    if !orphans.is_empty() {
        let total: u64 = orphans.values().sum();
        let shown: Vec<String> = orphans.iter().take(5).map(|(r, n)| format!("{r} ({n})")).collect();
        let more = if orphans.len() > 5 { format!(" and {} more refs", orphans.len() - 5) } else { String::new() };
        out.push(Finding::warning(
            None,
            None,
            "big-segment-orphan-refs",
            format!(
                "{total} membership ref{} in {contexts} context{} name no current segment generation (an old generation or a deleted segment): {}{more}",
                if total == 1 { "" } else { "s" },
                if contexts == 1 { "" } else { "s" },
                shown.join(", ")
            ),
        ));
    }
    Ok(out)
}

pub async fn run(args: ValidateSettings, ctx: &Ctx) -> Result<ExitCode> {
    let sel = args.sel;
    let store = store::open(&sel.store).await?;
    let prefixes = if args.all_prefixes {
        store.list_prefixes().await?
    } else {
        vec![store.effective_prefix(sel.prefix.as_deref())]
    };
    let mut findings: Vec<(String, Finding)> = Vec::new();
    for p in &prefixes {
        let started = std::time::Instant::now();
        findings
            .extend(validate_prefix(store.as_ref(), p, args.stale_after).await?.into_iter().map(|f| (p.clone(), f)));
        tracing::info!("validated prefix \"{p}\" in {:.2} s", started.elapsed().as_secs_f64());
    }
    let errors = findings.iter().filter(|(_, f)| f.severity == Severity::Error).count();
    let warnings = findings.len() - errors;
    let failed = errors > 0 || (args.strict && warnings > 0);
    if ctx.json() {
        let list: Vec<serde_json::Value> = findings
            .iter()
            .map(|(p, f)| {
                json!({"prefix": p, "severity": f.severity, "kind": f.kind, "key": f.key, "check": f.check, "reason": f.reason})
            })
            .collect();
        print_json(&json!({
            "store": store.backend(),
            "address": store.address(),
            "prefixes": prefixes,
            "strict": args.strict,
            "ok": !failed,
            "errors": errors,
            "warnings": warnings,
            "findings": list,
        }))?;
    } else {
        if prefixes.is_empty() {
            ctx.note(&format!("no LaunchDarkly prefixes found in {} {}", store.backend(), store.address()));
        }
        if !findings.is_empty() {
            let mut t = table(&["prefix", "severity", "kind", "key", "check", "reason"]);
            for (p, f) in &findings {
                t.add_row(vec![
                    p.clone(),
                    format!("{:?}", f.severity).to_lowercase(),
                    f.kind.map_or("-".into(), |k| k.to_string()),
                    f.key.clone().unwrap_or_else(|| "-".into()),
                    f.check.to_string(),
                    f.reason.clone(),
                ]);
            }
            super::print_text(&format!("{t}\n"))?;
        }
        super::print_text(&format!(
            "{} {}: {} prefix{} checked, {errors} error{}, {warnings} warning{}{}\n",
            store.backend(),
            store.address(),
            prefixes.len(),
            if prefixes.len() == 1 { "" } else { "es" },
            if errors == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" },
            if failed { "" } else { " — OK" },
        ))?;
    }
    Ok(if failed { exit::NO } else { exit::SUCCESS })
}
