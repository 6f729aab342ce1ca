//! `ldstore membership`: one context's Big Segments membership in a store prefix, and what the
//! SDKs decide for each Big Segment of the data (see [`crate::store::big_segments`]).
//!
//! JSON output (`--output json`):
//! ```text
//! {"store", "address", "prefix", "status": "HEALTHY"|"STALE"|"STORE_ERROR", "synchronized_on_ms",
//!  "context": <the context as given>|null,
//!  "keys": [{"key", "hash", "included": [refs], "excluded": [refs]}],
//!  "segments": [{"key", "generation", "context_kind", "ref", "context_key", "verdict":
//!                "included"|"excluded"|"rules"|"no-context-kind"|"not-configured"}]}
//! ```

use anyhow::Result;
use launchdarkly_server_sdk_evaluation as ld;
use serde_json::{Value, json};

use super::{Ctx, print_json, table};
use crate::config::commands::{MembershipLookup, MembershipSettings};
use crate::exit::{self, ExitCode, UsageError};
use crate::store::{self, big_segments};

/// Which context key a Big Segment of a context kind looks up.
type KeyForKind = dyn Fn(&str) -> Option<String>;

pub async fn run(args: MembershipSettings, ctx: &Ctx) -> Result<ExitCode> {
    let store = store::open(&args.sel.store).await?;
    let prefix = store.effective_prefix(args.sel.prefix.as_deref());
    let Some(b) = store.big_segments() else {
        return Err(UsageError::new(format!("{} holds no Big Segments (no SDK reads them from it)", store.backend()))
            .hint("Big Segments live in Redis or DynamoDB")
            .into());
    };
    let segments = big_segments::big_segments_of(store.as_ref(), &prefix).await?;
    let meta = b.metadata(&prefix).await?;
    let status = big_segments::Status::of(&meta, store::lease::now_ms(), args.stale_after);
    let (raw_context, key_for_kind): (Value, Box<KeyForKind>) = match &args.lookup {
        MembershipLookup::Key(k) => {
            let k = k.clone();
            (Value::Null, Box::new(move |_kind: &str| Some(k.clone())))
        }
        MembershipLookup::Context(c, raw) => {
            let c = c.clone();
            let f = move |kind: &str| {
                let kind = ld::Kind::try_from(kind).ok()?;
                c.as_kind(&kind).map(|c| c.key().to_string())
            };
            (raw.clone(), Box::new(f))
        }
    };
    let (mut keys, verdicts) = big_segments::verdicts(b, &prefix, &segments, key_for_kind.as_ref()).await?;
    // A key no segment looked up (no Big Segment in the data, or `--context-key`): still show it.
    if let MembershipLookup::Key(k) = &args.lookup
        && keys.is_empty()
    {
        let hash = big_segments::context_hash(k);
        let membership = b.membership(&prefix, &hash).await?;
        keys.push(big_segments::KeyMembership { key: k.clone(), hash, membership });
    }
    if ctx.json() {
        print_json(&json!({
            "store": store.backend(),
            "address": store.address(),
            "prefix": prefix,
            "status": status,
            "synchronized_on_ms": meta.synchronized_on_ms().ok().flatten(),
            "context": raw_context,
            "keys": keys,
            "segments": verdicts,
        }))?;
        return Ok(exit::SUCCESS);
    }
    println!("{} {} prefix \"{prefix}\": Big Segments {}", store.backend(), store.address(), status.as_str());
    let mut t = table(&["context key", "hash", "included in", "excluded from"]);
    for k in &keys {
        let refs = |s: &std::collections::BTreeSet<String>| {
            if s.is_empty() { "-".to_string() } else { s.iter().cloned().collect::<Vec<_>>().join(", ") }
        };
        t.add_row(vec![k.key.clone(), k.hash.clone(), refs(&k.membership.included), refs(&k.membership.excluded)]);
    }
    println!("{t}");
    if verdicts.is_empty() {
        println!("no Big Segment (unbounded segment) in this prefix's data");
    } else {
        let mut t = table(&["big segment", "ref", "context kind", "verdict"]);
        for v in &verdicts {
            t.add_row(vec![
                v.segment.key.clone(),
                v.segment_ref.clone().unwrap_or_else(|| "-".into()),
                v.segment.context_kind.clone(),
                v.verdict.describe().to_string(),
            ]);
        }
        println!("{t}");
    }
    Ok(exit::SUCCESS)
}
