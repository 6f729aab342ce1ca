//! The store to use and its prefix, resolved from command-line flags, Relay Proxy environment
//! variables and a Relay Proxy configuration file (flags beat env vars beat the file).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use super::relay_conf::{self as relayconf, RelayConfig};
use super::vars::Env;
use crate::cli::StoreArgs;
use crate::exit::UsageError;
use crate::secrets;

#[derive(Debug, Clone, PartialEq)]
pub struct RedisConfig {
    /// `redis://host:port[/db]` or `rediss://…`, without credentials: the single node, the first
    /// cluster seed or the first sentinel (what messages name).
    pub url: String,
    /// Every address given, as `url` (a single node: just `url`; cluster seeds; sentinels).
    pub nodes: Vec<String>,
    /// The data nodes' user and password (for Sentinel: the master's, not the sentinels').
    pub username: Option<String>,
    pub password: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
    pub topology: RedisTopology,
}

/// The shape of a Redis deployment.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum RedisTopology {
    #[default]
    Single,
    /// Redis Cluster: `nodes` are seeds; the topology is discovered, MOVED/ASK followed.
    Cluster,
    /// Redis Sentinel: `nodes` are sentinels, asked for the current master of `master`.
    Sentinel {
        master: String,
        /// The sentinels' own `requirepass` (the data nodes' password is `RedisConfig::password`).
        sentinel_password: Option<String>,
    },
}

/// How a Redis address list is meant, from the options around it (`--redis-cluster`,
/// `REDIS_CLUSTER`, `[Redis] cluster`; `--redis-sentinel-master`, `REDIS_SENTINEL_MASTER`,
/// `[Redis] sentinelMaster`). The address's own scheme (`redis+cluster://`, `redis+sentinel://`)
/// says the same.
#[derive(Debug, Clone, Default)]
pub struct RedisShape {
    pub cluster: bool,
    pub sentinel_master: Option<String>,
    pub sentinel_password: Option<String>,
}

/// An address form parsed: every node URL (without credentials), the credentials of the first,
/// and the topology the scheme or the options give.
#[derive(Debug)]
pub struct ParsedRedis {
    pub nodes: Vec<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub topology: RedisTopology,
}

/// Parse any Redis address form: `host:port`, `redis://[user:pass@]host:port[/db]`, `rediss://…`,
/// a comma-separated list of hosts (`h1:p1,h2:p2`, also after a scheme and credentials),
/// `redis+cluster://[user:pass@]h1:p1[,h2:p2…]` (`rediss+cluster://` for TLS) and
/// `redis+sentinel://[user:pass@]s1:p1[,s2:p2…]/MASTER` (`rediss+sentinel://`). `shape` holds the
/// options that make a plain form a cluster or Sentinel one. Malformed = a usage error naming it.
pub fn parse_redis_form(addr: &str, force_tls: bool, shape: &RedisShape) -> Result<ParsedRedis> {
    secrets::register_url(addr);
    let shown = || secrets::redact_url(addr);
    let bad = |what: String| -> anyhow::Error {
        UsageError::new(format!("invalid Redis address \"{}\": {what}", shown())).into()
    };
    let (scheme, rest) = match addr.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => ("redis".to_string(), addr),
    };
    let (base, from_scheme) = match scheme.split_once('+') {
        Some((b, "cluster")) => (b.to_string(), Some("cluster")),
        Some((b, "sentinel")) => (b.to_string(), Some("sentinel")),
        Some((_, other)) => {
            return Err(bad(format!(
                "unknown mode \"+{other}\" (use redis://, redis+cluster:// or redis+sentinel://, or rediss… for TLS)"
            )));
        }
        None => (scheme.clone(), None),
    };
    if !matches!(base.as_str(), "redis" | "rediss") {
        return Err(bad("the scheme must be redis://, rediss://, redis+cluster:// or redis+sentinel://".into()));
    }
    // Authority (credentials and hosts) up to the first '/' or '?', then the path.
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if let Some(q) = tail.find('?') {
        return Err(bad(format!("unexpected query \"{}\"", &tail[q..])));
    }
    let (creds, hosts) = match authority.rsplit_once('@') {
        Some((c, h)) => (Some(c), h),
        None => (None, authority),
    };
    let hosts: Vec<&str> = hosts.split(',').collect();
    if hosts.iter().any(|h| h.trim().is_empty()) {
        return Err(bad("an empty host in the address list".into()));
    }
    let sentinel_master = match from_scheme {
        Some("sentinel") => {
            let name = tail.trim_matches('/');
            if name.is_empty() {
                return Err(bad("no master name (redis+sentinel://HOST:PORT[,HOST:PORT…]/MASTER)".into()));
            }
            if shape.sentinel_master.as_deref().is_some_and(|m| m != name) {
                return Err(bad(format!("the master name \"{name}\" differs from the one given separately")));
            }
            Some(percent_decode(name))
        }
        _ => shape.sentinel_master.clone().filter(|m| !m.is_empty()),
    };
    let cluster = from_scheme == Some("cluster") || shape.cluster;
    if cluster && sentinel_master.is_some() {
        return Err(bad("both Redis Cluster and Sentinel are asked for; choose one".into()));
    }
    // Each host parsed as a single-node address (the sentinel path is the master name, not a db).
    let path = if sentinel_master.is_some() { "" } else { tail };
    let mut nodes = Vec::with_capacity(hosts.len());
    let (mut username, mut password) = (None, None);
    for (i, h) in hosts.iter().enumerate() {
        let one = match creds {
            Some(c) => format!("{base}://{c}@{h}{path}"),
            None => format!("{base}://{h}{path}"),
        };
        let (url, u, p) = parse_redis_addr(&one, force_tls)?;
        if cluster && url::Url::parse(&url).is_ok_and(|u| !matches!(u.path().trim_matches('/'), "" | "0")) {
            return Err(bad("Redis Cluster has only database 0".into()));
        }
        if i == 0 {
            (username, password) = (u, p);
        }
        nodes.push(url);
    }
    let topology = if cluster {
        RedisTopology::Cluster
    } else if let Some(master) = sentinel_master {
        let sentinel_password = shape.sentinel_password.clone();
        if let Some(p) = &sentinel_password {
            secrets::register(p);
        }
        RedisTopology::Sentinel { master, sentinel_password }
    } else if nodes.len() > 1 {
        return Err(bad(format!(
            "{} addresses but neither Redis Cluster nor Sentinel (use redis+cluster://…, --redis-cluster or REDIS_CLUSTER=true for a cluster; redis+sentinel://…/MASTER or --redis-sentinel-master for Sentinel)",
            nodes.len()
        )));
    } else {
        RedisTopology::Single
    };
    Ok(ParsedRedis { nodes, username, password, topology })
}

#[derive(Debug, Clone, PartialEq)]
pub struct DynamoDbConfig {
    pub table: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub timeout: Duration,
    /// `BatchWriteItem` requests kept in flight (see [`super::vars::dynamodb_in_flight`]).
    pub in_flight: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConsulConfig {
    /// `http://host:port` or `https://…`.
    pub address: String,
    pub token: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StoreConfig {
    Redis(RedisConfig),
    DynamoDb(DynamoDbConfig),
    Consul(ConsulConfig),
}

impl StoreConfig {
    pub fn backend(&self) -> &'static str {
        match self {
            StoreConfig::Redis(_) => "Redis",
            StoreConfig::DynamoDb(_) => "DynamoDB",
            StoreConfig::Consul(_) => "Consul",
        }
    }
}

/// A store plus the prefix asked for (None = the backend's default).
#[derive(Debug, Clone, PartialEq)]
pub struct StoreSelection {
    pub store: StoreConfig,
    pub prefix: Option<String>,
    /// The Relay config file, when one was given (environments, endpoints).
    pub relay: Option<RelayConfig>,
}

fn multiple_databases(names: &[&str]) -> anyhow::Error {
    anyhow::Error::new(
        UsageError::new(format!("multiple databases are enabled ({}); only one is allowed", names.join(", ")))
            .hint("select one of --redis, --dynamodb or --consul"),
    )
}

/// Normalize a Redis address: `host:port`, `host`, `redis://…` or `rediss://…`; returns the URL
/// without credentials plus any username/password it held.
pub fn parse_redis_addr(addr: &str, force_tls: bool) -> Result<(String, Option<String>, Option<String>)> {
    secrets::register_url(addr);
    let with_scheme = if addr.contains("://") { addr.to_string() } else { format!("redis://{addr}") };
    let mut url = url::Url::parse(&with_scheme).map_err(|e| {
        UsageError::new(format!("invalid Redis address \"{}\": {e}", secrets::redact_url(&with_scheme)))
    })?;
    if !matches!(url.scheme(), "redis" | "rediss") {
        return Err(UsageError::new(format!(
            "invalid Redis address \"{}\": the scheme must be redis:// or rediss://",
            secrets::redact_url(&with_scheme)
        ))
        .into());
    }
    if url.host_str().is_none_or(|h| h.is_empty()) {
        return Err(UsageError::new(format!(
            "invalid Redis address \"{}\": no host",
            secrets::redact_url(&with_scheme)
        ))
        .into());
    }
    if force_tls && url.scheme() == "redis" {
        let rest = url.as_str()["redis".len()..].to_string();
        url = url::Url::parse(&format!("rediss{rest}")).expect("valid");
    }
    let user = match url.username() {
        "" => None,
        u => Some(percent_decode(u)),
    };
    let pass = url.password().map(percent_decode);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    if url.port().is_none() {
        let _ = url.set_port(Some(6379));
    }
    let path = url.path().trim_matches('/').to_string();
    if !path.is_empty() && path.parse::<u32>().is_err() {
        return Err(UsageError::new(format!("invalid Redis database number \"{path}\" in {}", url)).into());
    }
    let mut s = url.to_string();
    if s.ends_with('/') {
        s.pop();
    }
    Ok((s, user, pass))
}

/// `%xx` escapes decoded (an invalid escape is kept as written; bytes that are not UTF-8 become
/// U+FFFD).
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Normalize a Consul address to a base URL.
pub fn parse_consul_addr(addr: &str) -> Result<String> {
    // `http://user:password@host:8500` (HTTP basic auth, e.g. through a proxy): never printed whole.
    secrets::register_url(addr);
    let with_scheme = if addr.contains("://") { addr.to_string() } else { format!("http://{addr}") };
    let url = url::Url::parse(&with_scheme).map_err(|e| {
        UsageError::new(format!("invalid Consul address \"{}\": {e}", secrets::redact_url(&with_scheme)))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UsageError::new(format!(
            "invalid Consul address \"{}\": the scheme must be http:// or https://",
            secrets::redact_url(&with_scheme)
        ))
        .into());
    }
    let mut s = url.to_string();
    while s.ends_with('/') {
        s.pop();
    }
    Ok(s)
}

fn read_token_file(path: &std::path::Path) -> Result<String> {
    let t = std::fs::read_to_string(path)
        .map_err(|e| UsageError::new(format!("cannot read Consul token file {}: {e}", path.display())))?;
    Ok(t.trim().to_string())
}

/// Resolve the store and prefix from flags, then Relay env vars, then a Relay config file.
pub fn resolve_store(args: &StoreArgs, env: &dyn Env) -> Result<StoreSelection> {
    let relay = match &args.config {
        Some(p) => Some(relayconf::load(p)?),
        None => None,
    };
    let timeout = args.store_timeout;

    // Layer 1: flags.
    let mut flagged: Vec<&str> = Vec::new();
    if args.redis.is_some() {
        flagged.push("Redis");
    }
    if args.consul.is_some() {
        flagged.push("Consul");
    }
    if args.dynamodb.is_some() {
        flagged.push("DynamoDB");
    }
    if flagged.len() > 1 {
        return Err(multiple_databases(&flagged));
    }

    let store = if let Some(addr) = &args.redis {
        let shape = RedisShape {
            cluster: args.redis_cluster,
            sentinel_master: args.redis_sentinel_master.clone(),
            sentinel_password: None,
        };
        redis_config(addr, args.redis_tls, None, None, args.redis_ca_file.clone(), timeout, shape, env)?
    } else if let Some(table) = &args.dynamodb {
        StoreConfig::DynamoDb(DynamoDbConfig {
            table: table.clone(),
            endpoint: args.dynamodb_endpoint.clone().or_else(|| env.var("DYNAMODB_URL")),
            region: args.region.clone(),
            timeout,
            in_flight: super::vars::dynamodb_in_flight(env),
        })
    } else if let Some(addr) = &args.consul {
        consul_config(addr, args, None, timeout, env)?
    } else if let Some(s) = from_env(args, env, timeout)? {
        s
    } else if let Some(s) = relay.as_ref().map(|r| from_relay_file(r, args, timeout, env)).transpose()?.flatten() {
        s
    } else if let Some(addr) = env.var("CONSUL_HTTP_ADDR").filter(|a| !a.is_empty()) {
        // Consul's own variable, as the `consul` CLI reads it.
        consul_config(&addr, args, None, timeout, env)?
    } else {
        return Err(UsageError::new("no store selected")
            .hint("give --redis host:port, --dynamodb TABLE or --consul host:port (or USE_REDIS=1 with REDIS_URL, or --config relay.conf)")
            .into());
    };

    if let StoreConfig::DynamoDb(DynamoDbConfig { endpoint: Some(e), .. }) = &store {
        secrets::register_url(e);
        check_dynamodb_endpoint(e)?;
    }
    // Prefix: flag, else the single environment's prefix/table in the Relay file.
    let mut prefix = args.prefix.clone();
    if prefix.is_none()
        && let Some(r) = &relay
        && r.environments.len() == 1
    {
        prefix = r.environments[0].prefix.clone();
    }
    // A prefix the store cannot hold and read back is refused before anything connects (exit 2).
    store.check_prefix(&store.effective_prefix(prefix.as_deref()))?;
    // The DynamoDB table may come from a single environment's tableName.
    Ok(StoreSelection { store, prefix, relay })
}

/// A DynamoDB endpoint (`--dynamodb-endpoint`, `DYNAMODB_URL`, Relay's `[DynamoDB] url`, a source's
/// `endpoint=`) must be an `http://` or `https://` URL with a host: anything else is a usage error
/// (exit 2), found before anything connects.
pub fn check_dynamodb_endpoint(e: &str) -> Result<()> {
    let bad = |why: String| -> anyhow::Error {
        UsageError::new(format!("invalid DynamoDB endpoint \"{}\": {why}", secrets::redact_url(e)))
            .hint("give a URL such as http://localhost:8000 (--dynamodb-endpoint or DYNAMODB_URL)")
            .into()
    };
    let url = url::Url::parse(e).map_err(|err| bad(err.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!("the scheme must be http or https, not \"{}\"", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".into()));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn redis_config(
    addr: &str,
    tls: bool,
    username: Option<String>,
    password: Option<String>,
    ca_file: Option<PathBuf>,
    timeout: Duration,
    mut shape: RedisShape,
    env: &dyn Env,
) -> Result<StoreConfig> {
    shape.sentinel_password = shape.sentinel_password.or_else(|| env.var("REDIS_SENTINEL_PASSWORD"));
    let parsed = parse_redis_form(addr, tls, &shape)?;
    let username = parsed.username.or(username).or_else(|| env.var("REDIS_USERNAME"));
    let password = parsed.password.or(password).or_else(|| env.var("REDIS_PASSWORD"));
    if let Some(p) = &password {
        secrets::register(p);
    }
    Ok(StoreConfig::Redis(redis_from_parts(parsed.nodes, username, password, ca_file, timeout, parsed.topology)))
}

/// A RedisConfig from its parsed parts.
pub fn redis_from_parts(
    nodes: Vec<String>,
    username: Option<String>,
    password: Option<String>,
    ca_file: Option<PathBuf>,
    timeout: Duration,
    topology: RedisTopology,
) -> RedisConfig {
    RedisConfig { url: nodes[0].clone(), nodes, username, password, ca_file, timeout, topology }
}

fn consul_config(
    addr: &str,
    args: &StoreArgs,
    relay_token: Option<(Option<String>, Option<String>)>,
    timeout: Duration,
    env: &dyn Env,
) -> Result<StoreConfig> {
    let address = parse_consul_addr(addr)?;
    let token = if let Some(t) = &args.consul_token {
        Some(t.clone())
    } else if let Some(f) = &args.consul_token_file {
        Some(read_token_file(f)?)
    } else {
        let env_token = env.var("CONSUL_TOKEN");
        let env_file = env.var("CONSUL_TOKEN_FILE");
        if env_token.is_some() && env_file.is_some() {
            return Err(UsageError::new(
                "Consul token must be specified as either an inline value or a file, but not both",
            )
            .into());
        }
        if let Some(t) = env_token {
            Some(t)
        } else if let Some(f) = env_file {
            Some(read_token_file(std::path::Path::new(&f))?)
        } else if let Some(t) = env.var("CONSUL_HTTP_TOKEN") {
            Some(t)
        } else if let Some((tok, file)) = relay_token {
            if tok.is_some() && file.is_some() {
                return Err(UsageError::new(
                    "Consul token must be specified as either an inline value or a file, but not both",
                )
                .into());
            }
            match (tok, file) {
                (Some(t), _) => Some(t),
                (None, Some(f)) => Some(read_token_file(std::path::Path::new(&f))?),
                _ => None,
            }
        } else {
            None
        }
    };
    if let Some(t) = &token {
        secrets::register(t);
    }
    Ok(StoreConfig::Consul(ConsulConfig { address, token, ca_file: args.consul_ca_file.clone(), timeout }))
}

/// Layer 2: the Relay Proxy's environment variables (store variables are read only when the
/// matching USE_* switch is on).
fn from_env(args: &StoreArgs, env: &dyn Env, timeout: Duration) -> Result<Option<StoreConfig>> {
    let use_redis = env.switch("USE_REDIS")?;
    let use_dynamo = env.switch("USE_DYNAMODB")?;
    let use_consul = env.switch("USE_CONSUL")?;
    let mut on = Vec::new();
    if use_redis {
        on.push("Redis");
    }
    if use_consul {
        on.push("Consul");
    }
    if use_dynamo {
        on.push("DynamoDB");
    }
    if on.len() > 1 {
        return Err(multiple_databases(&on));
    }
    if use_redis {
        let url = env.var("REDIS_URL");
        let host = env.var("REDIS_HOST");
        let port = env.var("REDIS_PORT");
        if url.is_some() && (host.is_some() || port.is_some()) {
            return Err(UsageError::new("please specify Redis URL or host/port, but not both").into());
        }
        let addr = match url {
            Some(u) => u,
            None => format!("{}:{}", host.unwrap_or_else(|| "localhost".into()), port.unwrap_or_else(|| "6379".into())),
        };
        let tls = env.switch("REDIS_TLS")? || args.redis_tls;
        let shape = RedisShape {
            cluster: env.switch("REDIS_CLUSTER")? || args.redis_cluster,
            sentinel_master: env.var("REDIS_SENTINEL_MASTER").or_else(|| args.redis_sentinel_master.clone()),
            sentinel_password: None,
        };
        return Ok(Some(redis_config(&addr, tls, None, None, args.redis_ca_file.clone(), timeout, shape, env)?));
    }
    if use_dynamo {
        let table = env.var("DYNAMODB_TABLE").ok_or_else(|| {
            UsageError::new("TableName property must be specified for DynamoDB, either globally or per environment")
        })?;
        return Ok(Some(StoreConfig::DynamoDb(DynamoDbConfig {
            table,
            endpoint: args.dynamodb_endpoint.clone().or_else(|| env.var("DYNAMODB_URL")),
            region: args.region.clone(),
            timeout,
            in_flight: super::vars::dynamodb_in_flight(env),
        })));
    }
    if use_consul {
        let host =
            env.var("CONSUL_HOST").or_else(|| env.var("CONSUL_HTTP_ADDR")).unwrap_or_else(|| "localhost:8500".into());
        return Ok(Some(consul_config(&host, args, None, timeout, env)?));
    }
    Ok(None)
}

/// Layer 3: the Relay configuration file.
fn from_relay_file(r: &RelayConfig, args: &StoreArgs, timeout: Duration, env: &dyn Env) -> Result<Option<StoreConfig>> {
    let mut on = Vec::new();
    if r.redis.enabled() {
        on.push("Redis");
    }
    if r.consul.host.is_some() {
        on.push("Consul");
    }
    if r.dynamodb.enabled == Some(true) {
        on.push("DynamoDB");
    }
    if on.len() > 1 {
        return Err(multiple_databases(&on));
    }
    if r.redis.enabled() {
        if r.redis.url.is_some() && (r.redis.host.is_some() || r.redis.port.is_some()) {
            return Err(UsageError::new("please specify Redis URL or host/port, but not both").into());
        }
        let addr = match &r.redis.url {
            Some(u) => u.clone(),
            None => format!(
                "{}:{}",
                r.redis.host.clone().unwrap_or_else(|| "localhost".into()),
                r.redis.port.unwrap_or(6379)
            ),
        };
        let tls = args.redis_tls || r.redis.tls == Some(true);
        let shape = RedisShape {
            cluster: args.redis_cluster || r.redis.cluster == Some(true),
            sentinel_master: args.redis_sentinel_master.clone().or(r.redis.sentinel_master.clone()),
            sentinel_password: r.redis.sentinel_password.clone(),
        };
        return Ok(Some(redis_config(
            &addr,
            tls,
            r.redis.username.clone(),
            r.redis.password.clone(),
            args.redis_ca_file.clone(),
            timeout,
            shape,
            env,
        )?));
    }
    if r.dynamodb.enabled == Some(true) {
        let per_env = if r.environments.len() == 1 { r.environments[0].table_name.clone() } else { None };
        let table = r.dynamodb.table_name.clone().or(per_env).ok_or_else(|| {
            UsageError::new("TableName property must be specified for DynamoDB, either globally or per environment")
        })?;
        return Ok(Some(StoreConfig::DynamoDb(DynamoDbConfig {
            table,
            endpoint: args.dynamodb_endpoint.clone().or_else(|| env.var("DYNAMODB_URL")).or(r.dynamodb.url.clone()),
            region: args.region.clone(),
            timeout,
            in_flight: super::vars::dynamodb_in_flight(env),
        })));
    }
    if let Some(host) = &r.consul.host {
        let relay_token = Some((r.consul.token.clone(), r.consul.token_file.clone()));
        return Ok(Some(consul_config(host, args, relay_token, timeout, env)?));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k: &str| m.get(k).cloned()
    }

    fn args() -> StoreArgs {
        StoreArgs { store_timeout: Duration::from_secs(10), ..Default::default() }
    }

    #[test]
    fn redis_addresses_normalize() {
        assert_eq!(parse_redis_addr("localhost:6379", false).unwrap().0, "redis://localhost:6379");
        assert_eq!(parse_redis_addr("h", true).unwrap().0, "rediss://h:6379");
        let (u, user, pass) = parse_redis_addr("redis://bob:p%40ss@h:7000/2", false).unwrap();
        assert_eq!((u.as_str(), user.as_deref(), pass.as_deref()), ("redis://h:7000/2", Some("bob"), Some("p@ss")));
        assert!(parse_redis_addr("http://h:1", false).is_err());
        assert!(parse_redis_addr("redis://h:1/x", false).is_err());
    }

    #[test]
    fn bad_addresses_never_print_the_password() {
        for bad in [
            "redis://u:pa55word-x@[bad:1",
            "u:pa55word-x@[bad",
            "redis://u:pa55word-x@:6379",
            "http://u:pa55word-x@h:1",
            "redis://u:pa55word-x@h:1/notanumber",
            "redis://u:pa55word-x@h:notaport",
        ] {
            let e = parse_redis_addr(bad, false).unwrap_err().to_string();
            assert!(e.starts_with("invalid Redis"), "{bad}: {e}");
            assert!(!e.contains("pa55word"), "{bad}: {e}");
        }
        for bad in ["ftp://u:pa55word-x@h:1", "http://u:pa55word-x@[bad"] {
            let e = parse_consul_addr(bad).unwrap_err().to_string();
            assert!(!e.contains("pa55word"), "{bad}: {e}");
        }
    }

    #[test]
    fn flags_beat_env_and_multiple_stores_are_refused() {
        let mut a = args();
        a.redis = Some("flaghost:1".into());
        let s = resolve_store(&a, &env(&[("USE_REDIS", "true"), ("REDIS_HOST", "envhost")])).unwrap();
        assert!(matches!(s.store, StoreConfig::Redis(ref r) if r.url == "redis://flaghost:1"));
        a.consul = Some("c:8500".into());
        let e = resolve_store(&a, &env(&[])).unwrap_err().to_string();
        assert_eq!(e, "multiple databases are enabled (Redis, Consul); only one is allowed");
        let e = resolve_store(&args(), &env(&[("USE_REDIS", "1"), ("USE_DYNAMODB", "1")])).unwrap_err().to_string();
        assert_eq!(e, "multiple databases are enabled (Redis, DynamoDB); only one is allowed");
    }

    #[test]
    fn relay_env_vars() {
        let s = resolve_store(
            &args(),
            &env(&[
                ("USE_REDIS", "true"),
                ("REDIS_HOST", "r"),
                ("REDIS_PORT", "7"),
                ("REDIS_TLS", "true"),
                ("REDIS_PASSWORD", "pw"),
            ]),
        )
        .unwrap();
        assert_eq!(
            s.store,
            StoreConfig::Redis(RedisConfig {
                url: "rediss://r:7".into(),
                nodes: vec!["rediss://r:7".into()],
                username: None,
                password: Some("pw".into()),
                ca_file: None,
                timeout: Duration::from_secs(10),
                topology: RedisTopology::Single,
            })
        );
        // Store variables are ignored without the switch.
        assert!(resolve_store(&args(), &env(&[("REDIS_HOST", "r")])).is_err());
        let e = resolve_store(&args(), &env(&[("USE_REDIS", "true"), ("REDIS_HOST", "r"), ("REDIS_URL", "redis://x")]))
            .unwrap_err();
        assert_eq!(e.to_string(), "please specify Redis URL or host/port, but not both");
        let e =
            resolve_store(&args(), &env(&[("USE_CONSUL", "true"), ("CONSUL_TOKEN", "t"), ("CONSUL_TOKEN_FILE", "/f")]))
                .unwrap_err();
        assert_eq!(e.to_string(), "Consul token must be specified as either an inline value or a file, but not both");
        let s = resolve_store(
            &args(),
            &env(&[("USE_DYNAMODB", "true"), ("DYNAMODB_TABLE", "t"), ("DYNAMODB_URL", "http://l:8000")]),
        )
        .unwrap();
        assert!(
            matches!(s.store, StoreConfig::DynamoDb(ref d) if d.table == "t" && d.endpoint.as_deref() == Some("http://l:8000"))
        );
    }

    #[test]
    fn relay_file_is_the_last_layer() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("relay.conf");
        std::fs::write(
            &p,
            "[Redis]\nurl = redis://filehost:6380\n[Environment \"prod\"]\nsdkKey = sdk-x\nprefix = ld:prod\n",
        )
        .unwrap();
        let mut a = args();
        a.config = Some(p);
        let s = resolve_store(&a, &env(&[])).unwrap();
        assert!(matches!(s.store, StoreConfig::Redis(ref r) if r.url == "redis://filehost:6380"));
        assert_eq!(s.prefix.as_deref(), Some("ld:prod"));
        let s = resolve_store(&a, &env(&[("USE_REDIS", "1"), ("REDIS_URL", "redis://envhost:1")])).unwrap();
        assert!(matches!(s.store, StoreConfig::Redis(ref r) if r.url == "redis://envhost:1"));
        a.prefix = Some("flagprefix".into());
        assert_eq!(resolve_store(&a, &env(&[])).unwrap().prefix.as_deref(), Some("flagprefix"));
    }

    #[test]
    fn switches_accept_exactly_gos_parse_bool() {
        for on in ["1", "t", "T", "TRUE", "true", "True"] {
            let s = resolve_store(&args(), &env(&[("USE_REDIS", on), ("REDIS_TLS", on)])).unwrap();
            assert!(matches!(s.store, StoreConfig::Redis(ref r) if r.url == "rediss://localhost:6379"), "{on}");
        }
        for off in ["0", "f", "F", "FALSE", "false", "False"] {
            let e = resolve_store(&args(), &env(&[("USE_REDIS", off)])).unwrap_err().to_string();
            assert_eq!(e, "no store selected", "{off}");
            let s = resolve_store(&args(), &env(&[("USE_REDIS", "1"), ("REDIS_TLS", off)])).unwrap();
            assert!(matches!(s.store, StoreConfig::Redis(ref r) if r.url == "redis://localhost:6379"), "{off}");
        }
        // Anything else is refused (exit 2), naming the variable and the value.
        for (name, bad) in [
            ("REDIS_TLS", "maybe"),
            ("REDIS_TLS", "yes"),
            ("USE_REDIS", "on"),
            ("USE_DYNAMODB", "tRUE"),
            ("USE_CONSUL", " 1"),
        ] {
            let vars = [("USE_REDIS", "1"), (name, bad)];
            let vars = if name == "USE_REDIS" { &vars[1..] } else { &vars[..] };
            let e = resolve_store(&args(), &env(vars)).unwrap_err();
            assert_eq!(crate::exit_code(&e), crate::exit::USAGE, "{name}={bad}");
            let text = e.to_string();
            assert!(text.contains(&format!("{name}={bad}")), "{text}");
        }
        // The Relay Proxy's rule: an empty variable is not set.
        let e = resolve_store(&args(), &env(&[("USE_REDIS", "")])).unwrap_err().to_string();
        assert_eq!(e, "no store selected");
    }

    fn redis(s: &StoreSelection) -> &RedisConfig {
        match &s.store {
            StoreConfig::Redis(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn redis_cluster_and_sentinel_address_forms() {
        let none = RedisShape::default();
        let p = parse_redis_form("redis+cluster://u:p%40w@h1:1,h2:2", false, &none).unwrap();
        assert_eq!(p.nodes, ["redis://h1:1", "redis://h2:2"]);
        assert_eq!((p.username.as_deref(), p.password.as_deref()), (Some("u"), Some("p@w")));
        assert_eq!(p.topology, RedisTopology::Cluster);
        let p = parse_redis_form("rediss+cluster://cfg.example:6379", false, &none).unwrap();
        assert_eq!(
            (p.nodes.as_slice(), &p.topology),
            (&["rediss://cfg.example:6379".to_string()][..], &RedisTopology::Cluster)
        );
        let cluster = RedisShape { cluster: true, ..Default::default() };
        let p = parse_redis_form("h1:1,h2:2", true, &cluster).unwrap();
        assert_eq!(
            (p.nodes.as_slice(), &p.topology),
            (&["rediss://h1:1".to_string(), "rediss://h2:2".to_string()][..], &RedisTopology::Cluster)
        );
        let p = parse_redis_form("redis+sentinel://:pw@s1:1,s2:2,s3/mymaster", false, &none).unwrap();
        assert_eq!(p.nodes, ["redis://s1:1", "redis://s2:2", "redis://s3:6379"]);
        assert_eq!(p.password.as_deref(), Some("pw"));
        assert_eq!(p.topology, RedisTopology::Sentinel { master: "mymaster".into(), sentinel_password: None });
        let sentinel = RedisShape {
            sentinel_master: Some("m".into()),
            sentinel_password: Some("sp".into()),
            ..Default::default()
        };
        let p = parse_redis_form("s1:1,s2:2", false, &sentinel).unwrap();
        assert_eq!(p.topology, RedisTopology::Sentinel { master: "m".into(), sentinel_password: Some("sp".into()) });
        // A single plain address stays a single node.
        assert_eq!(parse_redis_form("h:1", false, &none).unwrap().topology, RedisTopology::Single);
        for (bad, why) in [
            ("h1:1,h2:2", "2 addresses but neither Redis Cluster nor Sentinel"),
            ("redis+sentinel://:pa55word-x@s1:1", "no master name"),
            ("redis+cluster://h:1/2", "Redis Cluster has only database 0"),
            ("redis+shard://h:1", "unknown mode \"+shard\""),
            ("redis+cluster://u:pa55word-x@h1:1,,h2:2", "an empty host in the address list"),
            ("redis+cluster://h1:1,h2:notaport", "invalid Redis address"),
            ("redis+sentinel://h1:1/m?x=1", "unexpected query"),
            ("http+cluster://h:1", "the scheme must be"),
        ] {
            let e = parse_redis_form(bad, false, &none).unwrap_err();
            assert_eq!(crate::exit_code(&e), crate::exit::USAGE, "{bad}");
            let text = e.to_string();
            assert!(text.contains(why), "{bad}: {text}");
            assert!(!text.contains("pa55word"), "{bad}: {text}");
        }
        let e = parse_redis_form("redis+sentinel://s:1/m", false, &cluster).unwrap_err().to_string();
        assert!(e.contains("both Redis Cluster and Sentinel"), "{e}");
    }

    #[test]
    fn redis_cluster_and_sentinel_from_flags_env_and_file() {
        let mut a = args();
        a.redis = Some("h1:1,h2:2".into());
        a.redis_cluster = true;
        let s = resolve_store(&a, &env(&[])).unwrap();
        assert_eq!(redis(&s).topology, RedisTopology::Cluster);
        let mut a = args();
        a.redis = Some("redis://:datapw@s1:1,s2:2".into());
        a.redis_sentinel_master = Some("m".into());
        let s = resolve_store(&a, &env(&[("REDIS_SENTINEL_PASSWORD", "sp")])).unwrap();
        let r = redis(&s);
        assert_eq!(r.password.as_deref(), Some("datapw"));
        assert_eq!(r.topology, RedisTopology::Sentinel { master: "m".into(), sentinel_password: Some("sp".into()) });
        // Relay-style variables.
        let s = resolve_store(
            &args(),
            &env(&[("USE_REDIS", "1"), ("REDIS_URL", "redis://h1:1,h2:2"), ("REDIS_CLUSTER", "true")]),
        )
        .unwrap();
        assert_eq!(redis(&s).nodes, ["redis://h1:1", "redis://h2:2"]);
        assert_eq!(redis(&s).topology, RedisTopology::Cluster);
        let s = resolve_store(
            &args(),
            &env(&[("USE_REDIS", "1"), ("REDIS_HOST", "s1"), ("REDIS_PORT", "26379"), ("REDIS_SENTINEL_MASTER", "m")]),
        )
        .unwrap();
        assert_eq!(redis(&s).url, "redis://s1:26379");
        assert_eq!(redis(&s).topology, RedisTopology::Sentinel { master: "m".into(), sentinel_password: None });
        let e = resolve_store(&args(), &env(&[("USE_REDIS", "1"), ("REDIS_CLUSTER", "yes")])).unwrap_err();
        assert_eq!(crate::exit_code(&e), crate::exit::USAGE);
        assert!(e.to_string().contains("REDIS_CLUSTER=yes"), "{e}");
        let e = resolve_store(&args(), &env(&[("USE_REDIS", "1"), ("REDIS_URL", "h1:1,h2:2")])).unwrap_err();
        assert_eq!(crate::exit_code(&e), crate::exit::USAGE);
        // The [Redis] section of a Relay configuration file.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("relay.conf");
        std::fs::write(&p, "[Redis]\nurl = redis://h1:1,h2:2\ncluster = true\n").unwrap();
        let mut a = args();
        a.config = Some(p.clone());
        assert_eq!(redis(&resolve_store(&a, &env(&[])).unwrap()).topology, RedisTopology::Cluster);
        std::fs::write(
            &p,
            "[Redis]\nhost = s1\nport = 26379\nsentinelMaster = m\nsentinelPassword = sp\npassword = dp\n",
        )
        .unwrap();
        let s = resolve_store(&a, &env(&[])).unwrap();
        assert_eq!(redis(&s).password.as_deref(), Some("dp"));
        assert_eq!(
            redis(&s).topology,
            RedisTopology::Sentinel { master: "m".into(), sentinel_password: Some("sp".into()) }
        );
    }

    #[test]
    fn consul_http_addr_selects_consul() {
        let s = resolve_store(&args(), &env(&[("CONSUL_HTTP_ADDR", "c:8500"), ("CONSUL_HTTP_TOKEN", "tok")])).unwrap();
        match s.store {
            StoreConfig::Consul(c) => {
                assert_eq!(c.address, "http://c:8500");
                assert_eq!(c.token.as_deref(), Some("tok"));
            }
            other => panic!("{other:?}"),
        }
    }
}
