//! `ldstore inspect`: every LaunchDarkly prefix in a store, or one prefix in detail.

use anyhow::Result;
use serde_json::json;

use super::{Ctx, human_bytes, print_json, table};
use crate::config::commands::InspectSettings;
use crate::exit::{self, ExitCode};
use crate::store::big_segments::{self, Survey};
use crate::store::{self, Admin, PrefixStats};

fn synced_on(ms: Option<i64>) -> String {
    match ms {
        None => "-".into(),
        Some(ms) => store::lease::utc_seconds(ms),
    }
}

fn largest(s: &PrefixStats) -> String {
    match &s.largest_item {
        Some(l) => format!("{}/{} ({})", l.kind, l.key, human_bytes(l.bytes)),
        None => "-".into(),
    }
}

pub async fn run(args: InspectSettings, ctx: &Ctx) -> Result<ExitCode> {
    let sel = &args.sel;
    let store = store::open(&sel.store).await?;
    match &sel.prefix {
        Some(p) => one_prefix(store.as_ref(), &store.effective_prefix(Some(p)), &args, ctx).await,
        None => all_prefixes(store.as_ref(), args.stale_after, ctx).await,
    }
}

/// What an empty answer means for this store: for Consul, a list the token may not read comes back
/// empty rather than denied, so "empty" could also be "no permission".
fn nothing_found(store: &dyn Admin) -> String {
    format!("no LaunchDarkly data found{}", store.empty_listing_note())
}

/// A prefix's Big Segments status and the age of its last synchronization, as the SDKs would see
/// them at `now_ms` (`None`: no Big Segments synchronization recorded).
fn big_status(synced_on: Option<i64>, now_ms: i64, stale_after: std::time::Duration) -> Option<(&'static str, i64)> {
    let t = synced_on?;
    let status = if big_segments::is_stale(Some(t), now_ms, stale_after) { "STALE" } else { "HEALTHY" };
    Some((status, now_ms - t))
}

/// An age for people: whole seconds.
fn age(ms: i64) -> String {
    humantime::format_duration(std::time::Duration::from_secs((ms / 1000).max(0) as u64)).to_string()
}

async fn all_prefixes(store: &dyn Admin, stale_after: std::time::Duration, ctx: &Ctx) -> Result<ExitCode> {
    let prefixes = store.list_prefixes().await?;
    let mut rows = Vec::with_capacity(prefixes.len());
    // Prefixes that could not be read (a key of the wrong type, say), with why: the others are
    // still shown, and the exit code is then 3.
    let mut broken: Vec<(String, anyhow::Error)> = Vec::new();
    for p in &prefixes {
        match store.stats(p).await {
            Ok(s) => rows.push(s),
            Err(e) if exit::code_for(&e, crate::CLASSIFIED) == exit::STORE && !unreachable(&e) => {
                broken.push((p.clone(), e))
            }
            Err(e) => return Err(e),
        }
    }
    let code = if broken.is_empty() { exit::SUCCESS } else { exit::STORE };
    let now = store::lease::now_ms();
    if ctx.json() {
        let mut v = json!({
            "store": store.backend(),
            "address": store.address(),
            "default_prefix": store.effective_prefix(None),
            "prefixes": rows,
        });
        // Each prefix with a Big Segments synchronization: its status and age.
        for (row, s) in v["prefixes"].as_array_mut().into_iter().flatten().zip(&rows) {
            if let Some((status, age_ms)) = big_status(s.big_segments_synced_on, now, stale_after) {
                row["big_segments_status"] = json!(status);
                row["big_segments_age_ms"] = json!(age_ms);
            }
        }
        if !broken.is_empty() {
            v["broken"] = broken
                .iter()
                .map(|(p, e)| json!({"prefix": p, "error": exit::chain_text(e)}))
                .collect::<serde_json::Value>();
        }
        if rows.is_empty() && broken.is_empty() {
            v["note"] = json!(nothing_found(store));
        }
        let notes: serde_json::Map<String, serde_json::Value> =
            prefixes.iter().filter_map(|p| store::prefix_form_note(p).map(|n| (p.clone(), json!(n)))).collect();
        if !notes.is_empty() {
            v["prefix_notes"] = serde_json::Value::Object(notes);
        }
        print_json(&v)?;
        return Ok(code);
    }
    if rows.is_empty() && broken.is_empty() {
        println!("{} {}: {}", store.backend(), store.address(), nothing_found(store));
        return Ok(exit::SUCCESS);
    }
    let mut t = table(&[
        "prefix",
        "initialized",
        "flags",
        "segments",
        "tombstones",
        "bytes",
        "largest item",
        "max version",
        "big segments",
    ]);
    for s in &rows {
        let sync = match &s.sync {
            Some(st) if st.interrupted() => " (INTERRUPTED sync)",
            Some(_) => " (sync in progress)",
            None => "",
        };
        t.add_row(vec![
            if s.prefix.is_empty() { "\"\" (none)".into() } else { s.prefix.clone() },
            format!("{}{sync}", if s.initialized { "yes" } else { "NO" }),
            s.flags.to_string(),
            s.segments.to_string(),
            s.tombstones.to_string(),
            human_bytes(s.total_bytes),
            largest(s),
            s.highest_version.map_or("-".into(), |v| v.to_string()),
            match big_status(s.big_segments_synced_on, now, stale_after) {
                Some((status, ms)) => format!("{status} (synced {} ago)", age(ms)),
                None => "-".into(),
            },
        ]);
    }
    for (p, _) in &broken {
        let mut row = vec![if p.is_empty() { "\"\" (none)".into() } else { p.clone() }, "BROKEN".into()];
        row.extend(std::iter::repeat_n("-".to_string(), 7));
        t.add_row(row);
    }
    println!("{} {}", store.backend(), store.address());
    println!("{t}");
    for s in &rows {
        if let Some(note) = store::prefix_form_note(&s.prefix) {
            println!("prefix \"{}\": {note}", s.prefix);
        }
        if let Some(st) = &s.sync {
            println!("prefix \"{}\": {}", s.prefix, st.message);
        }
        if !s.unreadable.is_empty() {
            println!("prefix \"{}\": unreadable items: {}", s.prefix, s.unreadable.join(", "));
        }
    }
    for (p, e) in &broken {
        println!("prefix \"{p}\": cannot read: {}", exit::chain_text(e));
    }
    Ok(code)
}

/// Whether a store error is the store going away (then nothing more can be read: the error
/// stops `inspect`) rather than one prefix that cannot be read.
fn unreachable(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<store::StoreError>(),
            Some(
                store::StoreError::Unreachable { .. }
                    | store::StoreError::Denied { .. }
                    | store::StoreError::Timeout { .. }
                    | store::StoreError::Interrupted(_)
            )
        )
    })
}

async fn one_prefix(store: &dyn Admin, prefix: &str, args: &InspectSettings, ctx: &Ctx) -> Result<ExitCode> {
    let s = store.stats(prefix).await?;
    let limit = (!args.exact).then_some(big_segments::SAMPLE_LIMIT);
    let progress = ctx.progress("reading Big Segments memberships");
    let big =
        big_segments::survey(store, prefix, store::lease::now_ms(), args.stale_after, limit, progress.as_ref()).await?;
    drop(progress);
    let big = (!big.is_empty()).then_some(big);
    let keys = store.keys(prefix);
    let empty = !s.initialized
        && s.flags == 0
        && s.segments == 0
        && s.tombstones == 0
        && s.unreadable.is_empty()
        && s.sync.is_none();
    if ctx.json() {
        let mut v = json!({
            "store": store.backend(),
            "address": store.address(),
            "prefix": prefix,
            "keys": keys,
            "stats": s,
            "big_segments": big,
        });
        if empty {
            v["note"] = json!(format!("{} under this prefix", nothing_found(store)));
        }
        print_json(&v)?;
        return Ok(exit::SUCCESS);
    }
    let mut t = table(&["", ""]);
    t.add_row(vec!["store".to_string(), format!("{} {}", store.backend(), store.address())]);
    t.add_row(vec!["prefix".to_string(), format!("\"{prefix}\"")]);
    for k in &keys {
        t.add_row(vec![format!("key: {}", k.role), k.key.clone()]);
    }
    t.add_row(vec![
        "initialized".to_string(),
        if s.initialized { "yes".into() } else { "NO ($inited marker missing)".into() },
    ]);
    if let Some(st) = &s.sync {
        t.add_row(vec!["sync".to_string(), st.message.clone()]);
    }
    t.add_row(vec!["flags".to_string(), s.flags.to_string()]);
    t.add_row(vec!["segments".to_string(), s.segments.to_string()]);
    t.add_row(vec!["tombstones".to_string(), s.tombstones.to_string()]);
    t.add_row(vec!["total bytes".to_string(), format!("{} ({})", s.total_bytes, human_bytes(s.total_bytes))]);
    t.add_row(vec!["largest item".to_string(), largest(&s)]);
    t.add_row(vec!["highest version".to_string(), s.highest_version.map_or("-".into(), |v| v.to_string())]);
    t.add_row(vec!["big segments synced".to_string(), synced_on(s.big_segments_synced_on)]);
    if !s.unreadable.is_empty() {
        t.add_row(vec!["unreadable items".to_string(), s.unreadable.join(", ")]);
    }
    if let Some(b) = &big {
        big_segment_rows(&mut t, b);
    }
    println!("{t}");
    if empty {
        println!("{} under this prefix", nothing_found(store));
    }
    Ok(exit::SUCCESS)
}

/// The Big Segments part of one prefix's table.
fn big_segment_rows(t: &mut comfy_table::Table, b: &Survey) {
    let mut row = |k: &str, v: String| {
        t.add_row(vec![format!("big segments: {k}"), v]);
    };
    if let Some(why) = &b.unusable {
        row("UNUSABLE", why.clone());
        return;
    }
    let age = match b.age_ms {
        Some(ms) if ms >= 0 => {
            format!(", {} ago", humantime::format_duration(std::time::Duration::from_secs(ms as u64 / 1000)))
        }
        Some(ms) => {
            format!(", {} in the future", humantime::format_duration(std::time::Duration::from_secs(-ms as u64 / 1000)))
        }
        None => String::new(),
    };
    let last = match (&b.synchronized_on, b.synchronized_on_ms) {
        (None, _) => "never".to_string(),
        (Some(raw), None) => format!("{raw:?} (not a Unix time in milliseconds)"),
        (Some(_), Some(ms)) => format!("{}{age}", synced_on(Some(ms))),
    };
    row("last sync", last);
    let after = humantime::format_duration(std::time::Duration::from_millis(b.stale_after_ms));
    row("status", format!("{} (stale after {after})", b.status.as_str()));
    row("cursor", b.cursor.clone().unwrap_or_else(|| "-".into()));
    let sampled = if b.sampled {
        format!(" (sampled: the first {} records read; --exact counts all)", b.sample_limit.unwrap_or(0))
    } else {
        String::new()
    };
    row("contexts", format!("{}{sampled}", b.contexts));
    for r in &b.refs {
        let orphan = if r.current { "" } else { " (orphan: no current segment generation)" };
        row(&format!("ref {}", r.segment_ref), format!("{} included, {} excluded{orphan}", r.included, r.excluded));
    }
    for s in &b.segments {
        let what = match s.segment_ref() {
            Some(r) => format!("unbounded, ref {r}, context kind {}", s.context_kind),
            None => "unbounded, NO generation (the SDKs report NOT_CONFIGURED)".to_string(),
        };
        row(&format!("segment {}", s.key), what);
    }
    if !b.without_data.is_empty() {
        let seen = if b.sampled { " (in the records read)" } else { "" };
        row("no membership data", format!("{}{seen}", b.without_data.join(", ")));
    }
}

#[cfg(test)]
mod tests {
    /// Found while fuzzing stored times (the store_read target): a Big Segments `synchronizedOn`
    /// past the year 9999 (which RFC 3339 cannot write) panicked `inspect`.
    #[test]
    fn a_sync_time_past_the_year_9999_is_shown_not_a_panic() {
        assert_eq!(super::synced_on(Some(253_402_300_799_000)), "9999-12-31T23:59:59Z");
        assert_eq!(super::synced_on(Some(i64::MAX)), "9223372036854775807 ms after 1970-01-01 (past the year 9999)");
        assert_eq!(super::synced_on(Some(-5)), "1970-01-01T00:00:00Z");
    }
}
