//! `ldstore sync` for many environments: every `[Environment]` of a Relay Proxy configuration (or
//! `LD_ENV_<name>` variables), plus one per payload filter key, each into its own prefix/table,
//! concurrently with a bound, like the Relay Proxy's `exitAlways` mode. One failing environment
//! does not stop the others; the exit code is the worst one.

use anyhow::{Context, Result};
use futures::StreamExt;
use serde_json::json;

use super::sync::{current_contents, would_refuse};
use super::{Ctx, human_bytes, print_json, table};
use crate::config::commands::SyncSettings;
use crate::config::envs::{EnvSpec, Resolved, env_prefix};
use crate::config::{StoreConfig, StoreSelection};
use crate::data::{ChangeSummary, plan_changes};
use crate::exit::{self, ExitCode};
use crate::secrets;
use crate::source::Source;
use crate::source::ld::LdConfig;
use crate::source::poll::PollSource;
use crate::source::stream::StreamSource;
use crate::store;

/// How many environments are synced at the same time.
pub const CONCURRENCY: usize = 4;

/// The result of one environment.
#[derive(Debug, Clone)]
struct EnvResult {
    name: String,
    key: String,
    backend: String,
    address: String,
    prefix: String,
    flags: usize,
    segments: usize,
    items_written: usize,
    bytes_written: usize,
    skipped: usize,
    plan: Option<ChangeSummary>,
    /// Dry run: why the real run would be refused (an empty environment over a full prefix).
    refused: Option<String>,
    code: ExitCode,
    error: Option<String>,
}

/// Sync every configured environment (`sync` naming no single source, with environments
/// configured: see `config::commands::sync`); returns the worst exit code.
pub async fn run_many(resolved: &Resolved, args: &SyncSettings, ctx: &Ctx) -> ExitCode {
    let Resolved { envs, sel, base } = resolved;
    let results: Vec<EnvResult> = futures::stream::iter(envs.iter().map(|e| sync_one(e, base, sel, args, ctx)))
        .buffered(CONCURRENCY)
        .collect()
        .await;
    if let Err(e) = report(&results, args.dry_run, ctx) {
        // Standard output that cannot be written (a full disk): said once, exit 2.
        return crate::exit::report(&e, crate::CLASSIFIED);
    }
    results.iter().map(|r| r.code).max_by_key(|c| c.severity()).unwrap_or(exit::SUCCESS)
}

async fn sync_one(env: &EnvSpec, base: &LdConfig, sel: &StoreSelection, args: &SyncSettings, ctx: &Ctx) -> EnvResult {
    let key = env.sdk_key.clone().unwrap_or_default();
    let mut store_cfg = sel.store.clone();
    if let (StoreConfig::DynamoDb(d), Some(t)) = (&mut store_cfg, &env.table) {
        d.table = t.clone();
    }
    let mut r = EnvResult {
        name: env.name.clone(),
        key: secrets::masked(&key),
        backend: store_cfg.backend().to_string(),
        address: String::new(),
        prefix: String::new(),
        flags: 0,
        segments: 0,
        items_written: 0,
        bytes_written: 0,
        skipped: 0,
        plan: None,
        refused: None,
        code: exit::SUCCESS,
        error: None,
    };
    let mut cfg = base.clone().with_key(key);
    if env.filter.is_some() {
        cfg.filter = env.filter.clone();
    }
    let big_cfg = cfg.clone();
    let outcome: Result<()> = async {
        let source: Box<dyn Source> =
            if args.stream { Box::new(StreamSource { cfg }) } else { Box::new(PollSource::new(cfg)) };
        let prefix = env_prefix(env, sel, &store_cfg);
        r.prefix = prefix.clone();
        store_cfg.check_prefix(&prefix)?;
        if let Some(sig) = ctx.shutdown.signal() {
            return Err(exit::Interrupted::new(sig, Some("not started".into())).into());
        }
        let store =
            ctx.shutdown.unless_signalled("nothing was written", async { Ok(store::open(&store_cfg).await?) }).await?;
        r.address = store.address();
        // The whole data set is read and checked before the store is written.
        let data = ctx
            .shutdown
            .unless_signalled("nothing was written (stopped while reading the source)", source.fetch())
            .await?;
        let context = format!("environment \"{}\": ", env.name);
        crate::defects::refuse_unparseable(&data, args.force, ctx.quiet, &source.describe(), &context)?;
        r.flags = data.flags.len();
        r.segments = data.segments.len();
        store_cfg.check_data_set(&data)?;
        if args.dry_run {
            let current = ctx
                .shutdown
                .unless_signalled("nothing was written (dry run)", current_contents(store.as_ref(), &prefix))
                .await?;
            r.plan = Some(plan_changes(&current, &data));
            r.refused = would_refuse(store.as_ref(), &prefix, &data, &source.describe(), args.allow_empty).await?;
            return Ok(());
        }
        crate::source::refuse_to_empty(store.as_ref(), &prefix, &data, &source.describe(), args.allow_empty).await?;
        let report = store.init(&prefix, &data, &crate::store::NoProgress, &ctx.shutdown).await?;
        r.items_written = report.items_written;
        r.bytes_written = report.bytes_written;
        r.skipped = report.skipped.len();
        for s in &report.skipped {
            crate::stderr_line!(
                "ldstore: environment \"{}\": skipped {} \"{}\": {}",
                env.name,
                s.kind,
                s.key,
                s.reason
            );
        }
        if !report.skipped.is_empty() {
            r.code = exit::PARTIAL;
        }
        // The Big Segments too, as for one environment (see `sync`).
        if args.big_segments && crate::source::big_segments::has_big_segments(&data) {
            match crate::source::big_segments::sync_once(&big_cfg, store.as_ref(), &prefix)
                .await
                .context("the flags and segments were written; the Big Segments were not synchronized")?
            {
                Some(b) => ctx.note(&format!(
                    "environment \"{}\": synchronized Big Segments: {} patches applied, cursor {}, {} resyncs",
                    env.name,
                    b.patches,
                    b.cursor.as_deref().unwrap_or("(none)"),
                    b.resyncs
                )),
                None => crate::stderr_line!(
                    "ldstore: warning: environment \"{}\": the data has Big Segments (unbounded segments) but {} holds none: they were not synchronized (use Redis or DynamoDB)",
                    env.name,
                    store.backend()
                ),
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        r.code = crate::exit_code(&e);
        r.error = Some(exit::chain_text(&e));
    }
    r
}

fn report(results: &[EnvResult], dry_run: bool, ctx: &Ctx) -> anyhow::Result<()> {
    for r in results {
        if let Some(e) = &r.error {
            crate::stderr_line!("ldstore: error: environment \"{}\": {e}", secrets::mask(&r.name));
        }
    }
    if ctx.json() {
        let rows: Vec<serde_json::Value> = results
            .iter()
            .map(|r| {
                let mut v = json!({
                    "environment": r.name,
                    "sdk_key": r.key,
                    "store": r.backend,
                    "address": r.address,
                    "prefix": r.prefix,
                    "status": if r.error.is_some() { "error" } else if r.skipped > 0 { "partial" } else { "ok" },
                    "exit_code": r.code.code(),
                    "flags": r.flags,
                    "segments": r.segments,
                    "items_written": r.items_written,
                    "bytes_written": r.bytes_written,
                    "skipped": r.skipped,
                    "error": r.error,
                });
                if let Some(p) = &r.plan {
                    v["dry_run"] =
                        json!({"added": p.added, "updated": p.updated, "removed": p.removed, "unchanged": p.unchanged});
                    v["refused"] = json!(r.refused);
                }
                v
            })
            .collect();
        return print_json(&serde_json::Value::Array(rows));
    }
    let mut t = table(&["Environment", "SDK key", "Store", "Prefix", "Flags", "Segments", "Result"]);
    for r in results {
        let result = match (&r.error, &r.plan) {
            (Some(e), _) => {
                // The full message is on stderr; keep the table readable.
                let short: String = e.chars().take(90).collect();
                let more = if short.len() < e.len() { "…" } else { "" };
                format!("error (exit {}): {short}{more}", r.code)
            }
            (None, Some(p)) => format!(
                "dry run: {} added, {} updated, {} removed, {} unchanged{}",
                p.added.len(),
                p.updated.len(),
                p.removed.len(),
                p.unchanged,
                if r.refused.is_some() { " (the real run would be refused: empty source; --allow-empty)" } else { "" }
            ),
            (None, None) if r.skipped > 0 => {
                format!("partial: {} items written, {} skipped", r.items_written, r.skipped)
            }
            (None, None) => format!("ok: {} items, {}", r.items_written, human_bytes(r.bytes_written)),
        };
        t.add_row(vec![
            r.name.clone(),
            r.key.clone(),
            format!("{} {}", r.backend, r.address),
            r.prefix.clone(),
            if r.error.is_some() { "-".into() } else { r.flags.to_string() },
            if r.error.is_some() { "-".into() } else { r.segments.to_string() },
            secrets::mask(&result),
        ]);
    }
    println!("{t}");
    let failed = results.iter().filter(|r| r.error.is_some()).count();
    let verb = if dry_run { "checked" } else { "synced" };
    ctx.note(&format!("{verb} {} of {} environments", results.len() - failed, results.len()));
    Ok(())
}
