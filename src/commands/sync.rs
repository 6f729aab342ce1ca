//! `ldstore sync`: replace a prefix's data with a source's.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use futures::future::{self, Either};
use serde_json::json;

use super::{Ctx, human_bytes, print_json};
use crate::config::StoreConfig;
use crate::config::commands::{SyncSettings, SyncTarget};
use crate::data::{DataSet, Kind, plan_changes};
use crate::defects::refuse_unparseable;
use crate::exit::{self, ExitCode};
use crate::secrets;
use crate::source::{self, Fetched, ResolvedSource};
use crate::store::{self, Admin, Entry, FedCounts, Feed, Progress, Store, StoreError};

/// What a store holds under a prefix, as raw JSON per key (for dry runs).
pub async fn current_contents(store: &dyn Store, prefix: &str) -> Result<HashMap<Kind, HashMap<String, String>>> {
    let mut out: HashMap<Kind, HashMap<String, String>> = HashMap::new();
    for kind in Kind::ALL {
        let map = out.entry(kind).or_default();
        store
            .read_all(prefix, kind, &mut |e: Entry| {
                let (k, j) = match e {
                    Ok(i) => (i.key, i.json.into_string()),
                    Err(b) => (b.key, b.json),
                };
                map.insert(k, j);
                Ok(())
            })
            .await?;
    }
    Ok(out)
}

pub async fn run(args: SyncSettings, ctx: &Ctx) -> Result<ExitCode> {
    let (sel, source) = match args.target {
        SyncTarget::Many(ref envs) => return Ok(super::sync_envs::run_many(envs, &args, ctx).await),
        SyncTarget::One { ref sel, ref source } => (sel, source::open(source.clone())),
    };
    // Read and check the whole source before touching the store: bad input leaves it unchanged. A
    // JSON flag file is the exception, for a store whose init is invisible until it commits
    // (Redis): it is read while it is written, and committed only once all of it has been read and
    // checked.
    let streamed = !args.dry_run && store::streams_init(&sel.store);
    let read = async { if streamed { source.fetch_feedable().await } else { source.fetch().await.map(Fetched::Data) } };
    let (fetched, opened) = ctx
        .shutdown
        .unless_signalled(
            "nothing was written (stopped while reading the source)",
            read_while_opening(read, &sel.store),
        )
        .await?;
    // Items the SDKs cannot parse are refused (unless --force) before anything is written.
    let refuse = |data: &DataSet| refuse_unparseable(data, args.force, ctx.quiet, &source.describe(), "");
    if let Fetched::Data(data) = &fetched {
        refuse(data)?;
    }
    let store = match opened {
        Ok(store) => store,
        Err(e) => {
            // What is wrong with the source is said first, as when it is parsed before connecting.
            if let Fetched::File(file) = &fetched {
                refuse(&file.load()?)?;
            }
            return Err(e.into());
        }
    };
    let prefix = store.effective_prefix(sel.prefix.as_deref());
    let from = source.describe();
    // A dump's Big Segments part is read through once before anything is written: what is wrong
    // with it, or a store that cannot hold it, leaves the store unchanged. A file written while it
    // is read has it checked at the end of that same read, before the commit (see
    // [`checking_big_segments`]), not in a pass of its own over the whole file.
    let file_path = source_file(&args.target);
    let mut big_file = match (file_path, &fetched) {
        (Some(path), Fetched::Data(_)) if !args.dry_run => big_segments_part(store.as_ref(), path).await?,
        _ => None,
    };
    // A dry run reads what a real run would do to the Big Segments (the file's part checked, or the
    // source store's memberships), writing nothing.
    let big_plan = match (&args.target, file_path) {
        _ if !args.dry_run => None,
        (_, Some(path)) => super::big_segments_file::plan(path, store.as_ref(), &prefix).await?,
        (SyncTarget::One { source: ResolvedSource::Store { store: from_cfg, prefix: from_prefix }, .. }, None) => {
            let from_store = store::open(from_cfg).await?;
            let from_prefix = from_store.effective_prefix(from_prefix.as_deref());
            store::big_segments::plan_copy(from_store.as_ref(), &from_prefix, store.as_ref(), &prefix).await?
        }
        _ => None,
    };
    // Keys the store cannot hold and read back: refused before anything is written (a streamed
    // init is Redis only, which holds any key).
    if let Fetched::Data(data) = &fetched {
        sel.store.check_data_set(data)?;
    }
    if let (true, Fetched::Data(data)) = (args.dry_run, &fetched) {
        let refusal = would_refuse(store.as_ref(), &prefix, data, &from, args.allow_empty).await?;
        return ctx
            .shutdown
            .unless_signalled(
                "nothing was written (dry run)",
                dry_run(store.as_ref(), &prefix, data, refusal, big_plan, ctx),
            )
            .await;
    }
    let started = Instant::now();
    let progress: Arc<dyn Progress> = ctx.progress("writing").into();
    let (report, counts, data) = match fetched {
        Fetched::Data(data) => {
            source::refuse_to_empty(store.as_ref(), &prefix, &data, &from, args.allow_empty).await?;
            (store.init(&prefix, &data, progress.as_ref(), &ctx.shutdown).await?, counts_of(&data), Some(data))
        }
        Fetched::File(file) => {
            let path = file_path.expect("a feed reads a flag file");
            let checked = Arc::new(std::sync::Mutex::new(None));
            let feed = checking_big_segments(unless_empty(file.feed()?), path.to_path_buf(), checked.clone());
            let streamed = store.init_streamed(&prefix, feed, progress.clone(), &ctx.shutdown).await?;
            let checked = checked.lock().unwrap_or_else(|e| e.into_inner()).take();
            match streamed {
                Some((report, counts)) => {
                    big_file = checked.transpose()?.flatten().map(|_| path);
                    (report, counts, None)
                }
                // The feed vouches for every item it wrote; what it gave up on is read whole.
                None => {
                    if let Some(Err(e)) = checked {
                        return Err(e);
                    }
                    big_file = big_segments_part(store.as_ref(), path).await?;
                    let data = file.load()?;
                    refuse(&data)?;
                    sel.store.check_data_set(&data)?;
                    source::refuse_to_empty(store.as_ref(), &prefix, &data, &from, args.allow_empty).await?;
                    (store.init(&prefix, &data, progress.as_ref(), &ctx.shutdown).await?, counts_of(&data), Some(data))
                }
            }
        }
    };
    // A store-to-store sync carries the Big Segments data too.
    let big = match &args.target {
        SyncTarget::One { source: ResolvedSource::Store { store: from_cfg, prefix: from_prefix }, .. } => {
            let from_store = store::open(from_cfg).await?;
            let from_prefix = from_store.effective_prefix(from_prefix.as_deref());
            store::big_segments::copy(
                from_store.as_ref(),
                &from_prefix,
                store.as_ref(),
                &prefix,
                progress.as_ref(),
                &ctx.shutdown,
            )
            .await?
        }
        _ => match big_file {
            Some(path) => {
                super::big_segments_file::restore(path, store.as_ref(), &prefix, progress.as_ref(), &ctx.shutdown)
                    .await?
            }
            None => None,
        },
    };
    // From LaunchDarkly: the Big Segments too, as the Relay Proxy synchronizes them.
    let big_sync = match (&args.target, &data) {
        (SyncTarget::One { source: ResolvedSource::LaunchDarkly { cfg, .. }, .. }, Some(d))
            if args.big_segments && source::big_segments::has_big_segments(d) =>
        {
            Some(
                source::big_segments::sync_once(cfg, store.as_ref(), &prefix)
                    .await
                    .context("the flags and segments were written; the Big Segments were not synchronized")?,
            )
        }
        _ => None,
    };
    drop(progress);
    if let Some(None) = &big_sync {
        crate::stderr_line!(
            "ldstore: warning: the data has Big Segments (unbounded segments) but {} holds none: they were not synchronized (use Redis or DynamoDB)",
            store.backend()
        );
    }
    let secs = started.elapsed().as_secs_f64();
    let FedCounts { flags, segments, .. } = counts;
    // What was written: the source's items less those the store could not hold.
    let skipped_of = |kind: Kind| report.skipped.iter().filter(|s| s.kind == kind).count();
    let (flags_written, segments_written) =
        (flags.saturating_sub(skipped_of(Kind::Flags)), segments.saturating_sub(skipped_of(Kind::Segments)));
    if ctx.json() {
        print_json(&json!({
            "store": store.backend(),
            "address": store.address(),
            "prefix": prefix,
            "source": from,
            "flags": flags,
            "segments": segments,
            "flags_written": flags_written,
            "segments_written": segments_written,
            "items_written": report.items_written,
            "bytes_written": report.bytes_written,
            "seconds": secs,
            "skipped": report.skipped,
            "big_segments": big,
            "big_segments_sync": big_sync,
        }))?;
    } else {
        for s in &report.skipped {
            crate::stderr_line!("ldstore: skipped {} \"{}\": {}", s.kind, s.key, s.reason);
        }
        let of =
            |written: usize, all: usize| if written == all { format!("{all}") } else { format!("{written} of {all}") };
        ctx.note(&format!(
            "synced {} flags and {} segments ({} items, {}) from {} into {} {} prefix \"{prefix}\" in {secs:.2} s{}",
            of(flags_written, flags),
            of(segments_written, segments),
            report.items_written,
            human_bytes(report.bytes_written),
            from,
            store.backend(),
            store.address(),
            match report.skipped.len() {
                0 => String::new(),
                n => format!("; {n} item{} skipped (named above)", if n == 1 { "" } else { "s" }),
            }
        ));
        if let Some(b) = &big {
            ctx.note(&format!(
                "{} the Big Segments memberships of {} contexts (removed {} the destination alone held) and the sync time {} and cursor {}",
                if big_file.is_some() { "restored" } else { "copied" },
                b.contexts,
                b.removed,
                b.metadata.synchronized_on.as_deref().unwrap_or("(none)"),
                b.metadata.cursor.as_deref().unwrap_or("(none)"),
            ));
        }
        if let Some(Some(b)) = &big_sync {
            ctx.note(&format!(
                "synchronized Big Segments: {} patch{} applied, cursor {}{}",
                b.patches,
                if b.patches == 1 { "" } else { "es" },
                b.cursor.as_deref().unwrap_or("(none)"),
                match b.resyncs {
                    0 => String::new(),
                    n => format!(", {n} resync{} (a patch out of order)", if n == 1 { "" } else { "s" }),
                }
            ));
        }
    }
    // The process ends next: the OS reclaims the data set faster than freeing it item by item.
    std::mem::forget(data);
    Ok(if report.skipped.is_empty() { exit::SUCCESS } else { exit::PARTIAL })
}

/// The flag file a sync reads, if it reads one.
fn source_file(target: &SyncTarget) -> Option<&std::path::Path> {
    match target {
        SyncTarget::One { source: ResolvedSource::File(path), .. } => Some(path),
        _ => None,
    }
}

/// Read the source while the store is opened, since either may wait on the network (LaunchDarkly,
/// a store's connection, AWS credentials) or the CPU (parsing a file). A problem with the source is
/// returned at once, without waiting for the store; the store's outcome is returned for the caller
/// to report, after the source has been read.
async fn read_while_opening(
    read: impl Future<Output = Result<Fetched>>,
    cfg: &StoreConfig,
) -> Result<(Fetched, Result<Box<dyn Admin>, StoreError>)> {
    let read = std::pin::pin!(read);
    let opening = std::pin::pin!(store::open(cfg));
    match future::select(read, opening).await {
        Either::Left((fetched, opening)) => Ok((fetched?, opening.await)),
        Either::Right((opened, read)) => Ok((read.await?, opened)),
    }
}

/// The file's Big Segments part checked without writing anything (`None`: it has none), and
/// refused for a store that holds no Big Segments.
async fn big_segments_part<'p>(store: &dyn Store, path: &'p std::path::Path) -> Result<Option<&'p std::path::Path>> {
    let found = super::big_segments_file::check(path).await?;
    super::big_segments_file::refuse_unholdable(store, path, found)?;
    Ok(found.map(|_| path))
}

/// What [`checking_big_segments`] found: nothing yet (no Big Segments part), or its check.
type BigCheck = Arc<std::sync::Mutex<Option<Result<Option<super::big_segments_file::Found>>>>>;

/// A feed whose file, once every item was fed, has its Big Segments part (which the feed steps
/// over) checked before the feed says it is done: what is wrong with it makes the feed give up,
/// so nothing is committed, and is left in `checked` for the caller to report. A file without
/// such a part (the feed knows) costs nothing more: measured on 10k flags (13 MB) into Redis, the
/// separate pass over the whole file before the write was 0.09 s of a 0.1 s sync.
fn checking_big_segments(feed: Feed, path: std::path::PathBuf, checked: BigCheck) -> Feed {
    Box::new(move |sink| {
        let counts = feed(sink)?;
        if !counts.big_segments {
            return Some(counts);
        }
        let verdict = super::big_segments_file::check_blocking(&path);
        let ok = verdict.is_ok();
        *checked.lock().unwrap_or_else(|e| e.into_inner()) = Some(verdict);
        ok.then_some(counts)
    })
}

/// A feed that gives up (so nothing is committed) when the file held no item at all: the caller
/// then reads the file whole and applies the emptiness rule ([`source::refuse_to_empty`]) before
/// writing. Nothing is added per item; a feed with items is untouched.
fn unless_empty(feed: Feed) -> Feed {
    Box::new(move |sink| feed(sink).filter(|c| c.flags + c.segments > 0))
}

fn counts_of(data: &DataSet) -> FedCounts {
    FedCounts { flags: data.flags.len(), segments: data.segments.len(), big_segments: false }
}

/// For a dry run: the refusal a real run would meet ([`source::refuse_to_empty`]), as text.
pub async fn would_refuse(
    store: &dyn Store,
    prefix: &str,
    data: &DataSet,
    from: &str,
    allow_empty: bool,
) -> Result<Option<String>> {
    match source::refuse_to_empty(store, prefix, data, from, allow_empty).await {
        Ok(()) => Ok(None),
        Err(e) if matches!(e.downcast_ref(), Some(source::SourceError::Empty { .. })) => {
            Ok(Some(secrets::mask(&e.to_string())))
        }
        Err(e) => Err(e),
    }
}

/// What a sync would change. `refusal`: why the real run would be refused (an empty source over a
/// prefix that holds items, without --allow-empty); the plan then shows what --allow-empty would
/// remove. The dry run itself succeeds (exit 0): it did what it was asked.
async fn dry_run(
    store: &dyn Admin,
    prefix: &str,
    data: &DataSet,
    refusal: Option<String>,
    big: Option<store::big_segments::Plan>,
    ctx: &Ctx,
) -> Result<ExitCode> {
    let current = current_contents(store, prefix).await?;
    let plan = plan_changes(&current, data);
    if ctx.json() {
        print_json(&json!({
            "dry_run": true,
            "store": store.backend(),
            "address": store.address(),
            "prefix": prefix,
            "added": plan.added,
            "updated": plan.updated,
            "removed": plan.removed,
            "unchanged": plan.unchanged,
            "refused": refusal,
            "big_segments": big,
        }))?;
    } else {
        println!(
            "dry run: {} prefix \"{prefix}\": {} added, {} updated, {} removed, {} unchanged (nothing written)",
            store.backend(),
            plan.added.len(),
            plan.updated.len(),
            plan.removed.len(),
            plan.unchanged
        );
        for (label, keys) in [("added", &plan.added), ("updated", &plan.updated), ("removed", &plan.removed)] {
            for k in keys {
                println!("  {label:<8} {k}");
            }
        }
        if let Some(b) = big {
            println!(
                "dry run: Big Segments: the memberships of {} contexts would be written ({} only the destination holds removed) and the sync time {} and cursor {} (nothing written)",
                b.contexts,
                b.removed,
                b.metadata.synchronized_on.as_deref().unwrap_or("(none)"),
                b.metadata.cursor.as_deref().unwrap_or("(none)"),
            );
        }
        if let Some(r) = refusal {
            println!("the real run would be refused: {r} ({})", source::ALLOW_EMPTY_HINT);
        }
    }
    Ok(exit::SUCCESS)
}
