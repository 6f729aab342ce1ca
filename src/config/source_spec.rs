//! Source operands (`--from`, `diff`'s A and B, `eval --from`): `ld`, files and store URLs
//! (`redis://…?prefix=`, `dynamodb://…`, `consul://…`), resolved into what `source::open` builds.

use std::path::PathBuf;

use super::ld::LdConfig;
use super::relay_conf::RelayConfig;
use super::vars::Env;
use super::{ConsulConfig, DynamoDbConfig, RedisShape, StoreConfig, parse_redis_form, redis_from_parts};
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
    // Redis forms may list several hosts (`h1:p1,h2:p2`), which a URL parser refuses: their query
    // is split off by hand and the address parsed by `parse_redis_form`.
    let is_redis = scheme.to_ascii_lowercase().starts_with("redis");
    let url = if is_redis {
        None
    } else {
        Some(
            url::Url::parse(spec)
                .map_err(|e| UsageError::new(format!("invalid source \"{}\": {e}", secrets::redact_url(spec))))?,
        )
    };
    let (redis_addr, query) = match (&url, spec.split_once('?')) {
        (Some(u), _) => ("", u.query().unwrap_or("").to_string()),
        (None, Some((a, q))) => (a, q.to_string()),
        (None, None) => (spec, String::new()),
    };
    let mut prefix = None;
    let mut other: Vec<(String, String)> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
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
        _ if is_redis => {
            unknown(&[])?;
            let shape = RedisShape { sentinel_password: env.var("REDIS_SENTINEL_PASSWORD"), ..Default::default() };
            let parsed = parse_redis_form(redis_addr, false, &shape)?;
            if let Some(p) = &parsed.password {
                secrets::register(p);
            }
            StoreConfig::Redis(redis_from_parts(
                parsed.nodes,
                parsed.username.or_else(|| env.var("REDIS_USERNAME")),
                parsed.password.or_else(|| env.var("REDIS_PASSWORD")),
                defaults.redis_ca_file.clone(),
                timeout,
                parsed.topology,
            ))
        }
        "dynamodb" => {
            unknown(&["endpoint", "region"])?;
            let url = url.as_ref().expect("non-Redis sources are parsed as URLs");
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
                in_flight: super::vars::dynamodb_in_flight(env),
            })
        }
        "consul" | "consuls" | "consul+https" => {
            unknown(&["token"])?;
            let url = url.as_ref().expect("non-Redis sources are parsed as URLs");
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
            // Shown only as far as a scheme can go (RFC 3986: letters, digits, `+`, `-`, `.`):
            // beyond it the text may be a mistyped URL's `user:password@host`.
            let plain = other.find(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c)));
            let shown = match plain {
                None => format!("{other}://"),
                Some(end) => format!("{}…", &other[..end]),
            };
            return Err(UsageError::new(format!("unknown source scheme \"{shown}\""))
                .hint("use a file path, file:PATH, ld, redis://, rediss://, redis+cluster://, redis+sentinel://, dynamodb:// or consul://")
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

    /// Found by the `source_spec` fuzz target: text before the first `://` that a URL parser reads
    /// as `user:password@host` (a single-slash `http:/…`) was echoed whole as the "scheme".
    #[test]
    fn an_unknown_scheme_is_shown_only_up_to_what_a_scheme_can_hold() {
        let d = StoreArgs::default();
        let spec = "http:/%4us:1,[2:2,[:!red@is://zr[r:s]:3us:1,h2:2";
        let e = crate::exit::chain_text(&parse_spec(spec, &d, &none).unwrap_err());
        assert!(!e.contains("!red"), "{e}");
        assert!(e.contains("unknown source scheme \"http…\""), "{e}");
        let e = crate::exit::chain_text(&parse_spec("ftp://h/x", &d, &none).unwrap_err());
        assert!(e.contains("unknown source scheme \"ftp://\""), "{e}");
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
        match parse_spec("redis+cluster://h1:1,h2:2?prefix=%7Bld%7D.launchdarkly", &d, &none).unwrap() {
            SourceSpec::Store { store: StoreConfig::Redis(r), prefix } => {
                assert_eq!(r.nodes, ["redis://h1:1", "redis://h2:2"]);
                assert_eq!(r.topology, crate::config::RedisTopology::Cluster);
                assert_eq!(prefix.as_deref(), Some("{ld}.launchdarkly"));
            }
            other => panic!("{other:?}"),
        }
        match parse_spec("rediss+sentinel://:dp@s1:1,s2:2/m?prefix=p", &d, &|k: &str| {
            (k == "REDIS_SENTINEL_PASSWORD").then(|| "sp".to_string())
        })
        .unwrap()
        {
            SourceSpec::Store { store: StoreConfig::Redis(r), .. } => {
                assert_eq!(r.nodes, ["rediss://s1:1", "rediss://s2:2"]);
                assert_eq!(r.password.as_deref(), Some("dp"));
                assert_eq!(
                    r.topology,
                    crate::config::RedisTopology::Sentinel { master: "m".into(), sentinel_password: Some("sp".into()) }
                );
            }
            other => panic!("{other:?}"),
        }
        let e = parse_spec("redis://h1:1,h2:2?prefix=p", &d, &none).unwrap_err();
        assert_eq!(crate::exit_code(&e), crate::exit::USAGE);
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
