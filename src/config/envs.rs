//! Environments: every `[Environment]` of a Relay Proxy configuration and `LD_ENV_<name>`
//! variables (plus one per payload filter key), validated as the Relay Proxy does, with the store
//! each goes to; shared by multi-environment `sync` and `relay`.

use anyhow::Result;

use super::ld::LdConfig;
use super::relay_conf::{self as relayconf, EnvironmentSection, RelayConfig};
use super::vars::Env;
use super::{StoreConfig, StoreSelection, resolve_store};
use crate::cli::{LdArgs, RelayArgs, StoreArgs};
use crate::exit::UsageError;
use crate::secrets;

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
    let vars = env.vars_with_prefix("LD_");
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
    let sel = resolve_store(&store_args, env)?;
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

/// One environment `relay` keeps current: its LaunchDarkly settings and its store.
pub struct Plan {
    pub spec: EnvSpec,
    pub ld: LdConfig,
    pub store: StoreConfig,
}

/// `relay`'s environments: the one of `--sdk-key`/`LD_SDK_KEY` (named "default"), else every
/// configured environment ([`resolve`]).
pub fn relay_plans(args: &RelayArgs, env: &dyn Env) -> Result<(Vec<Plan>, StoreSelection)> {
    if args.ld.sdk_key.is_some() || env.var("LD_SDK_KEY").is_some() {
        let sel = resolve_store(&args.store, env)?;
        let ld = LdConfig::resolve(&args.ld, env, sel.relay.as_ref())?;
        let spec = EnvSpec {
            name: "default".into(),
            sdk_key: Some(ld.sdk_key.clone()),
            prefix: None,
            table: None,
            proj_key: None,
            filter: None,
            filter_suffix: false,
        };
        return Ok((vec![Plan { spec, ld, store: sel.store.clone() }], sel));
    }
    let Some(Resolved { envs, sel, base }) = resolve(&args.store, &args.ld, env)? else {
        return Err(UsageError::new("no SDK key given for LaunchDarkly")
            .hint("use --sdk-key sdk-… or LD_SDK_KEY for one environment, or --config / LD_ENV_<name> for several")
            .into());
    };
    let plans = envs
        .into_iter()
        .map(|spec| {
            let (ld, store) = env_target(&spec, &base, &sel);
            Plan { spec, ld, store }
        })
        .collect();
    Ok((plans, sel))
}

/// Everything `relay` runs with, resolved from its flags and the environment.
pub struct RelaySettings {
    /// The environments to keep current, and the store selection they share.
    pub plans: Vec<Plan>,
    pub sel: StoreSelection,
    pub check_interval: std::time::Duration,
    pub exit_on_error: bool,
    pub listen: Option<String>,
    /// `--log-format json`.
    pub log_json: bool,
    pub allow_empty: bool,
    pub read_timeout: std::time::Duration,
    /// At most this many `--listen` connections at a time.
    pub max_connections: usize,
    /// Big Segments synchronizers (`--no-big-segments` off), their refresh and retry intervals.
    pub big_segments: bool,
    pub big_segments_interval: std::time::Duration,
    pub big_segments_retry: std::time::Duration,
}

/// Resolve `relay`'s settings (its environments: [`relay_plans`]).
pub fn relay_settings(args: &RelayArgs, env: &dyn Env) -> Result<RelaySettings> {
    let (plans, sel) = relay_plans(args, env)?;
    Ok(RelaySettings {
        plans,
        sel,
        check_interval: args.check_interval,
        exit_on_error: args.exit_on_error,
        listen: args.listen.clone(),
        log_json: args.log_format == crate::cli::LogFormat::Json,
        allow_empty: args.allow_empty,
        read_timeout: args.read_timeout,
        max_connections: args.max_connections,
        big_segments: !args.no_big_segments,
        big_segments_interval: args.big_segments_interval,
        big_segments_retry: args.big_segments_retry,
    })
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
