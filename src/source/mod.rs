//! Data sources: where a full data set comes from (a file, a store, LaunchDarkly). One module per
//! source; one syntax (`--from`, and `diff`'s operands) parsed here.

pub mod file;
pub mod ld;
pub mod poll;
pub mod stream;

use async_trait::async_trait;

use crate::cli::{LdArgs, StoreArgs};
use crate::config::{self, Env, StoreConfig};
use crate::data::DataSet;
use crate::exit::UsageError;
use crate::secrets;
use crate::store;

/// Errors from data sources (exit code 4).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("LaunchDarkly rejected the SDK key ({status})")]
    Rejected { status: u16 },
    #[error("{source_name} returned HTTP {status}")]
    Http { source_name: String, status: u16 },
    #[error("cannot reach {source_name}: {reason}")]
    Unreachable { source_name: String, reason: String },
    #[error("gave up on {source_name} after {secs} s: {last_error}")]
    TimedOut { source_name: String, secs: u64, last_error: String },
    #[error("malformed data in {source_name}: {reason}")]
    Malformed { source_name: String, reason: String },
}

impl SourceError {
    pub fn hint(&self) -> Option<String> {
        match self {
            SourceError::Rejected { .. } => {
                Some("check the SDK key (--sdk-key or LD_SDK_KEY) and that it is a server-side key (sdk-…)".into())
            }
            SourceError::Malformed { .. } => Some("nothing was written; fix the data and run again".into()),
            _ => None,
        }
    }
}

/// "Give me the full data set".
#[async_trait]
pub trait Source: Send + Sync {
    /// A short description for messages (secrets masked).
    fn describe(&self) -> String;
    /// Fetch every flag and segment.
    async fn fetch(&self) -> anyhow::Result<DataSet>;
    /// Fetch for a sync that can write items while they are read: a JSON flag file, opened but not
    /// read (see [`file::feed`]), or else what [`Source::fetch`] gives.
    async fn fetch_feedable(&self) -> anyhow::Result<Fetched> {
        Ok(Fetched::Data(self.fetch().await?))
    }
}

/// What [`Source::fetch_feedable`] read.
pub enum Fetched {
    /// A JSON flag file, to feed or to load.
    File(file::JsonFile),
    Data(DataSet),
}

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
            let (addr, user, pass) = config::parse_redis_addr(u.as_str(), false)?;
            if let Some(p) = &pass {
                secrets::register(p);
            }
            StoreConfig::Redis(config::RedisConfig {
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
            }
            StoreConfig::DynamoDb(config::DynamoDbConfig {
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
            StoreConfig::Consul(config::ConsulConfig {
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

/// Build the source a parsed operand names. `ld` carries how to reach LaunchDarkly.
pub fn open(spec: SourceSpec, ld: &LdArgs, env: &dyn Env) -> anyhow::Result<Box<dyn Source>> {
    match spec {
        SourceSpec::File(path) => Ok(Box::new(file::FileSource { path })),
        SourceSpec::Store { store, prefix } => Ok(Box::new(StoreSource { store, prefix })),
        SourceSpec::LaunchDarkly => open_ld(ld, env, None),
    }
}

/// The LaunchDarkly source (polling, or the first `put` of the stream with `--stream`); endpoints
/// may come from a Relay config's `[Main]`.
pub fn open_ld(
    ld: &LdArgs,
    env: &dyn Env,
    relay: Option<&crate::relayconf::RelayConfig>,
) -> anyhow::Result<Box<dyn Source>> {
    let cfg = ld::LdConfig::resolve(ld, env, relay)?;
    Ok(if ld.stream { Box::new(stream::StreamSource { cfg }) } else { Box::new(poll::PollSource::new(cfg)) })
}

/// A store read as a source.
pub struct StoreSource {
    pub store: StoreConfig,
    pub prefix: Option<String>,
}

#[async_trait]
impl Source for StoreSource {
    fn describe(&self) -> String {
        format!("{} prefix {}", self.store.backend(), self.prefix.as_deref().unwrap_or("(default)"))
    }

    async fn fetch(&self) -> anyhow::Result<DataSet> {
        let s = store::open(&self.store).await?;
        let prefix = s.effective_prefix(self.prefix.as_deref());
        s.read_data_set(&prefix).await
    }
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
