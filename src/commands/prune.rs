//! `ldstore prune`: remove Big Segments membership refs that no current segment generation uses
//! (old generations, deleted segments). Only those refs are removed (`SREM`, DynamoDB `DELETE` from
//! the sets); every other ref, the metadata and the flag data are left as they are.
//!
//! JSON output (`--output json`):
//! ```text
//! {"store", "address", "prefix", "dry_run": bool, "contexts": N, "refs_removed": N,
//!  "refs": {"<ref>": <contexts>, …}}
//! ```

use std::collections::{BTreeMap, HashSet};

use anyhow::Result;
use serde_json::json;

use super::{Ctx, print_json, table};
use crate::config::commands::PruneSettings;
use crate::data::Kind;
use crate::exit::{self, ExitCode, UsageError};
use crate::source::SourceError;
use crate::store::big_segments::{self, BigSegment, Membership};
use crate::store::{self, Entry};

/// Contexts whose unused refs are removed per write.
const PRUNE_BATCH: usize = 1_000;

pub async fn run(args: PruneSettings, ctx: &Ctx) -> Result<ExitCode> {
    let store = store::open(&args.sel.store).await?;
    let prefix = store.effective_prefix(args.sel.prefix.as_deref());
    let Some(b) = store.big_segments() else {
        return Err(UsageError::new(format!("{} holds no Big Segments (nothing to prune)", store.backend())).into());
    };
    // Which refs are current comes from the segments: refuse when they cannot all be read, or the
    // prefix holds no flag data at all (a wrong prefix would make every ref look unused).
    if !store.is_initialized(&prefix).await? {
        return Err(UsageError::new(format!(
            "{} prefix \"{prefix}\" is not initialized (no $inited marker): refusing to prune, since its segments decide which refs are in use",
            store.backend()
        ))
        .hint("check --prefix (ldstore inspect lists the prefixes)")
        .into());
    }
    let mut current: HashSet<String> = HashSet::new();
    let mut unreadable = Vec::new();
    store
        .read_all(&prefix, Kind::Segments, &mut |e: Entry| {
            match e {
                Ok(item) => {
                    if let Some(r) = BigSegment::from_json(&item.key, &item.json).and_then(|s| s.segment_ref()) {
                        current.insert(r);
                    }
                }
                Err(bad) => unreadable.push(bad.key),
            }
            Ok(())
        })
        .await?;
    if !unreadable.is_empty() {
        return Err(SourceError::Malformed {
            source_name: format!("{} prefix \"{prefix}\"", store.backend()),
            reason: format!(
                "segments that cannot be read: {}; refusing to prune, since their generations are unknown",
                unreadable.join(", ")
            ),
        }
        .into());
    }
    // Streamed: the unused refs are removed a batch at a time as the memberships are read (a dry
    // run only counts them), so memory holds one batch and the per-ref counts.
    let mut batch: Vec<(String, Membership)> = Vec::new();
    let mut in_batch: HashSet<String> = HashSet::new();
    let mut contexts = 0u64;
    let mut refs: BTreeMap<String, u64> = BTreeMap::new();
    let progress = ctx.progress("reading Big Segments memberships");
    progress.set_total_unknown();
    let dry_run = args.dry_run;
    let flush = |batch: &mut Vec<(String, Membership)>, in_batch: &mut HashSet<String>| -> anyhow::Result<()> {
        if !dry_run && !batch.is_empty() {
            big_segments::wait(b.remove_refs(&prefix, batch))?;
        }
        batch.clear();
        in_batch.clear();
        Ok(())
    };
    b.read_memberships(&prefix, &mut |hash, m| {
        progress.advance(1);
        let unused = Membership {
            included: m.included.into_iter().filter(|r| !current.contains(r)).collect(),
            excluded: m.excluded.into_iter().filter(|r| !current.contains(r)).collect(),
        };
        // A hash listed twice (a Redis SCAN may) is counted once per batch.
        if !unused.is_empty() && in_batch.insert(hash.clone()) {
            contexts += 1;
            for r in unused.included.iter().chain(&unused.excluded) {
                *refs.entry(r.clone()).or_default() += 1;
            }
            batch.push((hash, unused));
            if batch.len() >= PRUNE_BATCH {
                flush(&mut batch, &mut in_batch)?;
            }
        }
        Ok(())
    })
    .await?;
    flush(&mut batch, &mut in_batch)?;
    drop(progress);
    let removed: u64 = refs.values().sum();
    if ctx.json() {
        print_json(&json!({
            "store": store.backend(),
            "address": store.address(),
            "prefix": prefix,
            "dry_run": args.dry_run,
            "contexts": contexts,
            "refs_removed": removed,
            "refs": refs,
        }))?;
        return Ok(exit::SUCCESS);
    }
    if !refs.is_empty() {
        let mut t = table(&["unused ref", "contexts"]);
        for (r, n) in &refs {
            t.add_row(vec![r.clone(), n.to_string()]);
        }
        println!("{t}");
    }
    let verb = if args.dry_run { "would remove" } else { "removed" };
    println!(
        "{} {} prefix \"{prefix}\": {verb} {removed} unused ref{} from {} context{}",
        store.backend(),
        store.address(),
        if removed == 1 { "" } else { "s" },
        contexts,
        if contexts == 1 { "" } else { "s" },
    );
    Ok(exit::SUCCESS)
}
