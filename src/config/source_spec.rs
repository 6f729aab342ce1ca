//! Source operands (`--from`, `diff`'s A and B, `eval --from`): `ld`, files and store URLs
//! (`redis://…?prefix=`, `dynamodb://…`, `consul://…`), resolved into what `source::open` builds.

use std::path::PathBuf;

use super::ld::LdConfig;
use super::relay_conf::RelayConfig;
use super::vars::Env;
use super::{ConsulConfig, DynamoDbConfig, RedisConfig, StoreConfig, parse_redis_addr};
use crate::cli::{LdArgs, StoreArgs};
use crate::exit::UsageError;
use crate::secrets;

/// A parsed source operand.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceSpec {
    File(std::path::PathBuf),
    /// LaunchDarkly (SDK key, endpoints and filter come from the command's options).
    LaunchDarkly,
    Store {
        store: StoreConfig,
        prefix: Option<String>,
    },
}

/// Parse `file:PATH`, a plain path, `ld`, or a store URL
/// (`redis://[user:pass@]host:port[/db]?prefix=P`, `rediss://…`,
/// `dynamodb://TABLE?prefix=P&endpoint=URL&region=R`, `consul://host:port?prefix=P&token=T`).
pub fn parse_spec(spec: &str, defaults: &StoreArgs, env: &dyn Env) -> anyhow::Result<SourceSpec> {
    if spec == "ld" || spec == "launchdarkly" {
        return Ok(SourceSpec::LaunchDarkly);
    }
    if let Some(p) = spec.strip_prefix("file:") {
        return Ok(SourceSpec::File(p.into()));
    }
    let Some((scheme, _)) = spec.split_once("://") else {
        return Ok(SourceSpec::File(spec.into()));
    };
    let url = url::Url::parse(spec)
        .map_err(|e| UsageError::new(format!("invalid source \"{}\": {e}", secrets::redact_url(spec))))?;
    let mut prefix = None;
    let mut other: Vec<(String, String)> = Vec::new();
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "prefix" => prefix = Some(v.into_owned()),
            _ => other.push((k.into_owned(), v.into_owned())),
        }
    }
    let get = |name: &str| other.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let unknown = |allowed: &[&str]| -> anyhow::Result<()> {
        if let Some((k, _)) = other.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            return Err(UsageError::new(format!(
                "unknown parameter \"{k}\" in source \"{}\"",
                secrets::redact_url(spec)
            ))
            .into());
        }
        Ok(())
    };
    let timeout = defaults.store_timeout;
    let store = match scheme {
        "redis" | "rediss" => {
            unknown(&[])?;
            let mut u = url.clone();
            u.set_query(None);
            let (addr, user, pass) = parse_redis_addr(u.as_str(), false)?;
            if let Some(p) = &pass {
                secrets::register(p);
            }
            StoreConfig::Redis(RedisConfig {
                url: addr,
                username: user.or_else(|| env.var("REDIS_USERNAME")),
                password: pass.or_else(|| env.var("REDIS_PASSWORD")),
                ca_file: defaults.redis_ca_file.clone(),
                timeout,
            })
        }
        "dynamodb" => {
            unknown(&["endpoint", "region"])?;
            let table = url.host_str().unwrap_or("").to_string();
            if table.is_empty() {
                return Err(
                    UsageError::new(format!("no table in source \"{spec}\" (dynamodb://TABLE?prefix=P)")).into()
                );
            }
            let endpoint =
                get("endpoint").or_else(|| defaults.dynamodb_endpoint.clone()).or_else(|| env.var("DYNAMODB_URL"));
            if let Some(e) = &endpoint {
                secrets::register_url(e);
                super::store::check_dynamodb_endpoint(e)?;
            }
            StoreConfig::DynamoDb(DynamoDbConfig {
                table,
                endpoint,
                region: get("region").or_else(|| defaults.region.clone()),
                timeout,
            })
        }
        "consul" | "consuls" | "consul+https" => {
            unknown(&["token"])?;
            let (http, default_port) = if scheme == "consul" { ("http", 8500) } else { ("https", 8501) };
            let host = url.host_str().unwrap_or("localhost");
            let port = url.port().unwrap_or(default_port);
            let token = get("token").or_else(|| env.var("CONSUL_TOKEN")).or_else(|| env.var("CONSUL_HTTP_TOKEN"));
            if let Some(t) = &token {
                secrets::register(t);
            }
            StoreConfig::Consul(ConsulConfig {
                address: format!("{http}://{host}:{port}"),
                token,
                ca_file: defaults.consul_ca_file.clone(),
                timeout,
            })
        }
        other => {
            return Err(UsageError::new(format!("unknown source scheme \"{other}://\""))
                .hint("use a file path, file:PATH, ld, redis://, rediss://, dynamodb:// or consul://")
                .into());
        }
    };
    store.check_prefix(&store.effective_prefix(prefix.as_deref()))?;
    Ok(SourceSpec::Store { store, prefix })
}

/// A source ready to open: a parsed operand with LaunchDarkly's settings resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolvedSource {
    File(PathBuf),
    /// LaunchDarkly: polling, or the first `put` of the stream (`--stream`).
    LaunchDarkly {
        cfg: LdConfig,
        stream: bool,
    },
    Store {
        store: StoreConfig,
        prefix: Option<String>,
    },
}

/// Resolve a parsed operand; `ld` (with the environment and a Relay config's `[Main]`) says how to
/// reach LaunchDarkly.
pub fn resolve_source(
    spec: SourceSpec,
    ld: &LdArgs,
    env: &dyn Env,
    relay: Option<&RelayConfig>,
) -> anyhow::Result<ResolvedSource> {
    Ok(match spec {
        SourceSpec::File(path) => ResolvedSource::File(path),
        SourceSpec::Store { store, prefix } => ResolvedSource::Store { store, prefix },
        SourceSpec::LaunchDarkly => ld_source(ld, env, relay)?,
    })
}

/// The LaunchDarkly source: SDK key, endpoints (maybe from a Relay config's `[Main]`), `--stream`.
pub fn ld_source(ld: &LdArgs, env: &dyn Env, relay: Option<&RelayConfig>) -> anyhow::Result<ResolvedSource> {
    Ok(ResolvedSource::LaunchDarkly { cfg: LdConfig::resolve(ld, env, relay)?, stream: ld.stream })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn parses_source_specs() {
        let d = StoreArgs { store_timeout: std::time::Duration::from_secs(5), ..Default::default() };
        assert_eq!(parse_spec("ld", &d, &none).unwrap(), SourceSpec::LaunchDarkly);
        assert_eq!(parse_spec("file:a.json", &d, &none).unwrap(), SourceSpec::File("a.json".into()));
        assert_eq!(parse_spec("backup.json", &d, &none).unwrap(), SourceSpec::File("backup.json".into()));
        match parse_spec("redis://u:pw@h:7000/3?prefix=ld:prod", &d, &none).unwrap() {
            SourceSpec::Store { store: StoreConfig::Redis(r), prefix } => {
                assert_eq!(r.url, "redis://h:7000/3");
                assert_eq!(r.password.as_deref(), Some("pw"));
                assert_eq!(prefix.as_deref(), Some("ld:prod"));
            }
            other => panic!("{other:?}"),
        }
        match parse_spec("dynamodb://flags?prefix=p&endpoint=http://l:8000&region=eu-west-1", &d, &none).unwrap() {
            SourceSpec::Store { store: StoreConfig::DynamoDb(t), prefix } => {
                assert_eq!(
                    (t.table.as_str(), t.endpoint.as_deref(), t.region.as_deref()),
                    ("flags", Some("http://l:8000"), Some("eu-west-1"))
                );
                assert_eq!(prefix.as_deref(), Some("p"));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse_spec("consul://c:8500?prefix=x&bogus=1", &d, &none).is_err());
        assert!(parse_spec("ftp://x", &d, &none).is_err());
    }
}
