//! `ldstore sync` for many environments: every `[Environment]` of a Relay Proxy configuration (or
//! `LD_ENV_<name>` variables), plus one per payload filter key, each into its own prefix/table,
//! concurrently with a bound, like the Relay Proxy's `exitAlways` mode. One failing environment
//! does not stop the others; the exit code is the worst one.

use anyhow::Result;
use futures::StreamExt;
use serde_json::json;

use super::sync::{current_contents, would_refuse};
use super::{Ctx, human_bytes, print_json, table};
use crate::cli::{LdArgs, StoreArgs, SyncArgs};
use crate::config::relay_conf::{self as relayconf, EnvironmentSection, RelayConfig};
use crate::config::{self, Env, StoreConfig, StoreSelection};
use crate::data::{ChangeSummary, plan_changes};
use crate::exit::{self, ExitCode, UsageError};
use crate::secrets;
use crate::source::Source;
use crate::source::ld::LdConfig;
use crate::source::poll::PollSource;
use crate::source::stream::StreamSource;
use crate::store;

/// How many environments are synced at the same time.
pub const CONCURRENCY: usize = 4;

/// One environment to sync.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvSpec {
    pub name: String,
    pub sdk_key: Option<String>,
    /// The environment's own prefix (for a filter environment: its parent's).
    pub prefix: Option<String>,
    pub table: Option<String>,
    pub proj_key: Option<String>,
    /// Payload filter key (filter environments `N/filterKey`, or `filterKey` in the config).
    pub filter: Option<String>,
    /// Whether the prefix gets `/<filter>` appended (environments made from `[Filters]`).
    pub filter_suffix: bool,
}

/// The environments a Relay config and Relay-style variables (`LD_ENV_<name>`, `LD_PREFIX_<name>`,
/// `LD_TABLE_NAME_<name>`, `LD_PROJ_KEY_<name>`) describe, plus one per `[Filters]` key.
pub fn collect(relay: Option<&RelayConfig>, vars: &[(String, String)]) -> Vec<EnvSpec> {
    let mut envs: Vec<EnvSpec> = relay.map(|r| r.environments.iter().map(from_section).collect()).unwrap_or_default();
    let var = |name: &str| vars.iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.clone());
    let mut names: Vec<&str> = vars.iter().filter_map(|(k, _)| k.strip_prefix("LD_ENV_")).collect();
    names.sort();
    names.dedup();
    for name in names {
        let idx = match envs.iter().position(|e| e.name == name) {
            Some(i) => i,
            None => {
                envs.push(EnvSpec {
                    name: name.to_string(),
                    sdk_key: None,
                    prefix: None,
                    table: None,
                    proj_key: None,
                    filter: None,
                    filter_suffix: false,
                });
                envs.len() - 1
            }
        };
        let e = &mut envs[idx];
        e.sdk_key = var(&format!("LD_ENV_{name}")).or(e.sdk_key.take());
        e.prefix = var(&format!("LD_PREFIX_{name}")).or(e.prefix.take());
        e.table = var(&format!("LD_TABLE_NAME_{name}")).or(e.table.take());
        e.proj_key = var(&format!("LD_PROJ_KEY_{name}")).or(e.proj_key.take());
    }
    let filters = relay.map(|r| r.filters.clone()).unwrap_or_default();
    let mut out = Vec::new();
    for e in envs {
        let extra: Vec<EnvSpec> = e
            .proj_key
            .as_ref()
            .and_then(|p| filters.get(p))
            .map(|keys| {
                keys.iter()
                    .map(|k| EnvSpec {
                        name: format!("{}/{k}", e.name),
                        filter: Some(k.clone()),
                        filter_suffix: true,
                        ..e.clone()
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(e);
        out.extend(extra);
    }
    out
}

fn from_section(s: &EnvironmentSection) -> EnvSpec {
    EnvSpec {
        name: s.name.clone(),
        sdk_key: s.sdk_key.clone(),
        prefix: s.prefix.clone(),
        table: s.table_name.clone(),
        proj_key: s.proj_key.clone(),
        filter: s.filter_key.clone(),
        filter_suffix: false,
    }
}

/// Relay's validation: a key per environment; a prefix or table per environment when a database
/// is used by several (a warning with one); a DynamoDB table globally or per environment.
/// Returns the warnings.
pub fn validate(envs: &[EnvSpec], dynamodb_global_table: Option<&str>, is_dynamodb: bool) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    for e in envs {
        if e.sdk_key.is_none() {
            return Err(UsageError::new(format!("SDK key is required for environment \"{}\"", e.name)).into());
        }
    }
    for e in envs.iter().filter(|e| !e.filter_suffix) {
        if e.prefix.is_none() && e.table.is_none() {
            let msg = format!(
                "environment \"{}\" does not have a prefix or table name specified for database storage",
                e.name
            );
            if envs.len() > 1 {
                return Err(UsageError::new(msg).into());
            }
            warnings.push(msg);
        }
        if is_dynamodb && dynamodb_global_table.is_none() && e.table.is_none() {
            return Err(UsageError::new(
                "TableName property must be specified for DynamoDB, either globally or per environment",
            )
            .into());
        }
    }
    Ok(warnings)
}

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

/// Sync every configured environment when the command names no single source (no `--from`,
/// `--from-file` or `--sdk-key`) and environments are configured. `None`: not this mode.
pub async fn run_if_many(args: &SyncArgs, ctx: &Ctx) -> Result<Option<ExitCode>> {
    if args.from.is_some() || args.from_file.is_some() || args.ld.sdk_key.is_some() {
        return Ok(None);
    }
    let Some(Resolved { envs, sel, base }) = resolve(&args.store, &args.ld, ctx.env.as_ref())? else {
        return Ok(None);
    };
    let results: Vec<EnvResult> = futures::stream::iter(envs.iter().map(|e| sync_one(e, &base, &sel, args, ctx)))
        .buffered(CONCURRENCY)
        .collect()
        .await;
    report(&results, args.dry_run, ctx);
    let worst = results.iter().map(|r| r.code).max_by_key(|c| c.severity()).unwrap_or(exit::SUCCESS);
    Ok(Some(worst))
}

/// The configured environments with the store they go to and the LaunchDarkly endpoints (shared
/// by multi-environment `sync` and `relay`).
pub struct Resolved {
    pub envs: Vec<EnvSpec>,
    pub sel: StoreSelection,
    pub base: LdConfig,
}

/// Resolve the environments of a Relay config (`--config`) and `LD_ENV_<name>` variables, validated
/// as the Relay Proxy does, with their store. `None`: no environments are configured.
pub fn resolve(store: &StoreArgs, ld: &LdArgs, env: &dyn Env) -> Result<Option<Resolved>> {
    let relay = match &store.config {
        Some(p) => Some(relayconf::load(p)?),
        None => None,
    };
    let vars: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("LD_")).collect();
    let envs = collect(relay.as_ref(), &vars);
    if envs.is_empty() {
        return Ok(None);
    }
    for e in &envs {
        if let Some(k) = &e.sdk_key {
            secrets::register(k);
        }
    }
    if envs.len() > 1 && store.prefix.is_some() {
        return Err(UsageError::new("--prefix cannot be used when several environments are configured")
            .hint("each environment's prefix comes from its `prefix` (LD_PREFIX_<name>) setting")
            .into());
    }
    let dynamo_on = relay.as_ref().is_some_and(|r| r.dynamodb.enabled == Some(true))
        || store.dynamodb.is_some()
        || env.switch("USE_DYNAMODB")?;
    let global_table = store
        .dynamodb
        .clone()
        .or_else(|| env.var("DYNAMODB_TABLE"))
        .or_else(|| relay.as_ref().and_then(|r| r.dynamodb.table_name.clone()));
    let store_selected = store.redis.is_some() || store.consul.is_some() || store.dynamodb.is_some();
    let is_dynamodb = if store_selected { store.dynamodb.is_some() } else { dynamo_on };
    for w in validate(&envs, global_table.as_deref(), is_dynamodb)? {
        tracing::warn!("{w}");
    }
    // Per-environment tables without a global one: resolve the store with the first as a stand-in.
    let mut store_args = store.clone();
    if is_dynamodb && global_table.is_none() && !store_selected {
        store_args.dynamodb = envs[0].table.clone();
        store_args.dynamodb_endpoint = store_args
            .dynamodb_endpoint
            .or_else(|| env.var("DYNAMODB_URL"))
            .or_else(|| relay.as_ref().and_then(|r| r.dynamodb.url.clone()));
    }
    let sel = config::resolve_store(&store_args, env)?;
    let base = LdConfig::endpoints(ld, env, relay.as_ref());
    Ok(Some(Resolved { envs, sel, base }))
}

/// The LaunchDarkly configuration, store configuration and requested prefix of one environment
/// (the prefix gets `/<filter>` for filter environments once the store's default is applied).
pub fn env_target(e: &EnvSpec, base: &LdConfig, sel: &StoreSelection) -> (LdConfig, StoreConfig) {
    let mut store_cfg = sel.store.clone();
    if let (StoreConfig::DynamoDb(d), Some(t)) = (&mut store_cfg, &e.table) {
        d.table = t.clone();
    }
    let mut cfg = base.clone().with_key(e.sdk_key.clone().unwrap_or_default());
    if e.filter.is_some() {
        cfg.filter = e.filter.clone();
    }
    (cfg, store_cfg)
}

/// The effective prefix of an environment in its store.
pub fn env_prefix(e: &EnvSpec, sel: &StoreSelection, store: &StoreConfig) -> String {
    let mut prefix = store.effective_prefix(e.prefix.as_deref().or(sel.prefix.as_deref()));
    if e.filter_suffix
        && let Some(f) = &e.filter
    {
        prefix = format!("{prefix}/{f}");
    }
    prefix
}

async fn sync_one(env: &EnvSpec, base: &LdConfig, sel: &StoreSelection, args: &SyncArgs, ctx: &Ctx) -> EnvResult {
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
    let outcome: Result<()> = async {
        let source: Box<dyn Source> =
            if args.ld.stream { Box::new(StreamSource { cfg }) } else { Box::new(PollSource::new(cfg)) };
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
            eprintln!("ldstore: environment \"{}\": skipped {} \"{}\": {}", env.name, s.kind, s.key, s.reason);
        }
        if !report.skipped.is_empty() {
            r.code = exit::PARTIAL;
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

fn report(results: &[EnvResult], dry_run: bool, ctx: &Ctx) {
    for r in results {
        if let Some(e) = &r.error {
            eprintln!("ldstore: error: environment \"{}\": {e}", secrets::mask(&r.name));
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
        print_json(&serde_json::Value::Array(rows));
        return;
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_from_file_vars_and_filters() {
        let r = relayconf::parse(
            "[Environment \"prod\"]\nsdkKey = sdk-a\nprefix = p\nprojKey = proj\n[Environment \"dev\"]\nsdkKey = sdk-b\nprefix = d\n[Filters \"proj\"]\nkeys = mobile,web\n",
        )
        .unwrap();
        let vars = vec![
            ("LD_ENV_dev".to_string(), "sdk-override".to_string()),
            ("LD_ENV_extra".to_string(), "sdk-c".to_string()),
            ("LD_PREFIX_extra".to_string(), "x".to_string()),
            ("LD_TABLE_NAME_extra".to_string(), "tbl".to_string()),
        ];
        let envs = collect(Some(&r), &vars);
        let names: Vec<&str> = envs.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["prod", "prod/mobile", "prod/web", "dev", "extra"]);
        assert_eq!(envs[1].filter.as_deref(), Some("mobile"));
        assert!(envs[1].filter_suffix);
        assert_eq!(envs[1].prefix.as_deref(), Some("p"));
        assert_eq!(envs[3].sdk_key.as_deref(), Some("sdk-override"));
        assert_eq!(envs[4].table.as_deref(), Some("tbl"));
        assert!(validate(&envs, None, false).unwrap().is_empty());
    }

    #[test]
    fn relay_validation_messages() {
        let e = |name: &str, key: Option<&str>, prefix: Option<&str>| EnvSpec {
            name: name.into(),
            sdk_key: key.map(String::from),
            prefix: prefix.map(String::from),
            table: None,
            proj_key: None,
            filter: None,
            filter_suffix: false,
        };
        let err = validate(&[e("a", None, Some("p"))], None, false).unwrap_err().to_string();
        assert_eq!(err, "SDK key is required for environment \"a\"");
        let err = validate(&[e("a", Some("k"), Some("p")), e("b", Some("k"), None)], None, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment \"b\" does not have a prefix or table name specified for database storage"
        );
        let w = validate(&[e("b", Some("k"), None)], None, false).unwrap();
        assert_eq!(w.len(), 1);
        let err = validate(&[e("a", Some("k"), Some("p"))], None, true).unwrap_err().to_string();
        assert!(err.starts_with("TableName property must be specified"), "{err}");
        assert!(validate(&[e("a", Some("k"), Some("p"))], Some("t"), true).is_ok());
    }
}
