//! `ldstore inspect`: every LaunchDarkly prefix in a store, or one prefix in detail.

use anyhow::Result;
use serde_json::json;

use super::{Ctx, human_bytes, print_json, table};
use crate::config::commands::InspectSettings;
use crate::exit::{self, ExitCode};
use crate::store::{self, Admin, PrefixStats};

fn synced_on(ms: Option<i64>) -> String {
    match ms {
        None => "-".into(),
        Some(ms) => {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
            humantime::format_rfc3339_seconds(t).to_string()
        }
    }
}

fn largest(s: &PrefixStats) -> String {
    match &s.largest_item {
        Some(l) => format!("{}/{} ({})", l.kind, l.key, human_bytes(l.bytes)),
        None => "-".into(),
    }
}

pub async fn run(args: InspectSettings, ctx: &Ctx) -> Result<ExitCode> {
    let sel = args.sel;
    let store = store::open(&sel.store).await?;
    match &sel.prefix {
        Some(p) => one_prefix(store.as_ref(), &store.effective_prefix(Some(p)), ctx).await,
        None => all_prefixes(store.as_ref(), ctx).await,
    }
}

/// What an empty answer means for this store: for Consul, a list the token may not read comes back
/// empty rather than denied, so "empty" could also be "no permission".
fn nothing_found(store: &dyn Admin) -> String {
    format!("no LaunchDarkly data found{}", store.empty_listing_note())
}

async fn all_prefixes(store: &dyn Admin, ctx: &Ctx) -> Result<ExitCode> {
    let prefixes = store.list_prefixes().await?;
    let mut rows = Vec::with_capacity(prefixes.len());
    for p in &prefixes {
        rows.push(store.stats(p).await?);
    }
    if ctx.json() {
        let mut v = json!({
            "store": store.backend(),
            "address": store.address(),
            "default_prefix": store.effective_prefix(None),
            "prefixes": rows,
        });
        if rows.is_empty() {
            v["note"] = json!(nothing_found(store));
        }
        let notes: serde_json::Map<String, serde_json::Value> =
            prefixes.iter().filter_map(|p| store::prefix_form_note(p).map(|n| (p.clone(), json!(n)))).collect();
        if !notes.is_empty() {
            v["prefix_notes"] = serde_json::Value::Object(notes);
        }
        print_json(&v);
        return Ok(exit::SUCCESS);
    }
    if rows.is_empty() {
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
        "big segments synced",
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
            synced_on(s.big_segments_synced_on),
        ]);
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
    Ok(exit::SUCCESS)
}

async fn one_prefix(store: &dyn Admin, prefix: &str, ctx: &Ctx) -> Result<ExitCode> {
    let s = store.stats(prefix).await?;
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
        });
        if empty {
            v["note"] = json!(format!("{} under this prefix", nothing_found(store)));
        }
        print_json(&v);
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
    println!("{t}");
    if empty {
        println!("{} under this prefix", nothing_found(store));
    }
    Ok(exit::SUCCESS)
}
