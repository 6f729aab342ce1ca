//! Reader for the LaunchDarkly Relay Proxy's configuration file (git-config / gcfg syntax), so an
//! existing Relay setup works with ldstore unchanged. Only what ldstore uses is kept; every key
//! Relay accepts is accepted, anything else is an error (as in Relay).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::exit::UsageError;

/// The parts of a Relay Proxy configuration ldstore uses.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RelayConfig {
    pub base_uri: Option<String>,
    pub stream_uri: Option<String>,
    pub redis: RedisSection,
    pub dynamodb: DynamoDbSection,
    pub consul: ConsulSection,
    /// Environments in file order.
    pub environments: Vec<EnvironmentSection>,
    /// `[Filters "projKey"] keys = a,b`: project key -> filter keys.
    pub filters: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct RedisSection {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub url: Option<String>,
    pub tls: Option<bool>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub local_ttl: Option<Duration>,
    /// `cluster = true`: the url/host is a Redis Cluster seed (or a comma-separated list of them).
    pub cluster: Option<bool>,
    /// `sentinelMaster = NAME`: the url/host lists sentinels, asked for this master.
    pub sentinel_master: Option<String>,
    /// `sentinelPassword`: the sentinels' own password.
    pub sentinel_password: Option<String>,
}

impl RedisSection {
    /// Relay turns Redis on when host, port or url is set.
    pub fn enabled(&self) -> bool {
        self.host.is_some() || self.port.is_some() || self.url.is_some()
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct DynamoDbSection {
    pub enabled: Option<bool>,
    pub table_name: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct ConsulSection {
    pub host: Option<String>,
    pub token: Option<String>,
    pub token_file: Option<String>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct EnvironmentSection {
    pub name: String,
    pub sdk_key: Option<String>,
    pub prefix: Option<String>,
    pub table_name: Option<String>,
    pub proj_key: Option<String>,
    pub filter_key: Option<String>,
}

/// Keys Relay accepts per section (lower-cased). `None` subsection rules: see `parse`.
fn known_keys(section: &str) -> Option<&'static [&'static str]> {
    Some(match section {
        "main" => &[
            "exitonerror",
            "exitalways",
            "ignoreconnectionerrors",
            "port",
            "heartbeatinterval",
            "maxclientconnectiontime",
            "disconnectedstatustime",
            "tlsenabled",
            "tlscert",
            "tlskey",
            "tlsminversion",
            "loglevel",
            "baseuri",
            "clientsidebaseuri",
            "streamuri",
            "inittimeout",
            "expiredcredentialcleanupinterval",
        ],
        "autoconfig" => &["key", "envdatastoreprefix", "envdatastoretablename", "envallowedorigin", "envallowedheader"],
        "offlinemode" => &["filedatasource", "filedatasourcepollinterval", "enterprisekey"],
        "events" => &["eventsuri", "sendevents", "flushinterval", "samplinginterval", "capacity", "inlineusers"],
        "redis" => &[
            "host",
            "port",
            "url",
            "localttl",
            "tls",
            "username",
            "password",
            "cluster",
            "sentinelmaster",
            "sentinelpassword",
        ],
        "consul" => &["host", "token", "tokenfile", "localttl"],
        "dynamodb" => &["enabled", "tablename", "url", "localttl"],
        "environment" => &[
            "sdkkey",
            "mobilekey",
            "envid",
            "prefix",
            "tablename",
            "allowedorigin",
            "allowedheader",
            "securemode",
            "ttl",
            "projkey",
            "filterkey",
            "loglevel",
        ],
        "filters" => &["keys"],
        "proxy" => &["url", "user", "password", "domain", "ntlmauth", "cacertfiles"],
        "datadog" => &["enabled", "prefix", "traceaddr", "statsaddr", "tag"],
        "stackdriver" => &["enabled", "prefix", "projectid"],
        "prometheus" => &["enabled", "prefix", "port"],
        "bigsegments" => &["enabled"],
        _ => return None,
    })
}

const DURATION_KEYS: &[&str] = &[
    "localttl",
    "heartbeatinterval",
    "maxclientconnectiontime",
    "disconnectedstatustime",
    "inittimeout",
    "flushinterval",
    "ttl",
    "filedatasourcepollinterval",
    "expiredcredentialcleanupinterval",
];
const BOOL_KEYS: &[&str] = &[
    "exitonerror",
    "exitalways",
    "ignoreconnectionerrors",
    "tlsenabled",
    "sendevents",
    "inlineusers",
    "tls",
    "enabled",
    "securemode",
    "ntlmauth",
];

/// Read and parse a Relay configuration file.
pub fn load(path: &Path) -> Result<RelayConfig> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError::new(format!("cannot read Relay config file {}: {e}", path.display())))?;
    parse(&text).with_context(|| format!("in Relay config file {}", path.display()))
}

fn err(line: usize, msg: impl std::fmt::Display) -> anyhow::Error {
    anyhow::Error::new(UsageError::new(format!("line {line}: {msg}")))
}

/// Parse a duration the way Relay does: units are required (`500ms`, `30s`, `1m30s`, `1h`).
/// A leading `-` is allowed (negative cache TTL means "forever").
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let t = s.trim().trim_start_matches('-');
    if t.is_empty() || t.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(format!("invalid duration \"{s}\": a unit is required (e.g. 30s, 500ms, 1m)"));
    }
    humantime::parse_duration(t).map_err(|e| format!("invalid duration \"{s}\": {e}"))
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Unquote a gcfg value: quoted parts keep spaces and escapes; unquoted `#`/`;` start a comment.
fn unquote(raw: &str, line: usize) -> Result<String> {
    let mut out = String::new();
    let mut in_q = false;
    let mut chars = raw.trim().chars().peekable();
    let mut pending_ws = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push_str(&pending_ws);
                pending_ws.clear();
                in_q = !in_q;
            }
            '\\' => {
                let n = chars.next().ok_or_else(|| err(line, "value ends with a backslash"))?;
                out.push_str(&pending_ws);
                pending_ws.clear();
                out.push(match n {
                    'n' => '\n',
                    't' => '\t',
                    'b' => '\u{8}',
                    '"' | '\\' => n,
                    other => return Err(err(line, format!("unknown escape \\{other}"))),
                });
            }
            '#' | ';' if !in_q => break,
            c if c.is_whitespace() && !in_q => pending_ws.push(c),
            c => {
                out.push_str(&pending_ws);
                pending_ws.clear();
                out.push(c);
            }
        }
    }
    if in_q {
        return Err(err(line, "unterminated quoted value"));
    }
    Ok(out)
}

/// Parse Relay configuration text.
pub fn parse(text: &str) -> Result<RelayConfig> {
    let mut cfg = RelayConfig::default();
    // (section, subsection)
    let mut current: Option<(String, Option<String>)> = None;
    // Each [Environment "name"] seen, with its line.
    let mut env_lines: Vec<(String, usize)> = Vec::new();
    for (idx, raw_line) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = raw_line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let close = rest.rfind(']').ok_or_else(|| err(line_no, "section header without ']'"))?;
            let header = rest[..close].trim();
            let (name, sub) = match header.find(char::is_whitespace) {
                Some(sp) => {
                    let sub = header[sp..].trim();
                    if !(sub.starts_with('"') && sub.ends_with('"') && sub.len() >= 2) {
                        return Err(err(line_no, format!("subsection name must be quoted: [{header}]")));
                    }
                    (header[..sp].to_string(), Some(unquote(sub, line_no)?))
                }
                None => (header.to_string(), None),
            };
            let lname = name.to_ascii_lowercase();
            if known_keys(&lname).is_none() {
                return Err(err(line_no, format!("unknown section [{name}]")));
            }
            match (lname.as_str(), &sub) {
                ("environment", None) => {
                    return Err(err(line_no, "[Environment] needs a name: [Environment \"name\"]"));
                }
                ("filters", None) => return Err(err(line_no, "[Filters] needs a project key: [Filters \"projKey\"]")),
                ("environment", Some(n)) => {
                    // One section per environment: a second one would silently change the first.
                    if let Some((_, first)) = env_lines.iter().find(|(e, _)| e == n) {
                        return Err(err(
                            line_no,
                            format!("duplicate section [Environment \"{n}\"] (first at line {first})"),
                        ));
                    }
                    env_lines.push((n.clone(), line_no));
                    cfg.environments.push(EnvironmentSection { name: n.clone(), ..Default::default() });
                }
                (_, Some(_)) if lname != "filters" => {
                    return Err(err(line_no, format!("section [{name}] takes no subsection")));
                }
                _ => {}
            }
            current = Some((lname, sub));
            continue;
        }
        let (section, sub) = current.clone().ok_or_else(|| err(line_no, "setting outside of any section"))?;
        let (key, value) = match line.find('=') {
            Some(eq) => (line[..eq].trim(), Some(unquote(&line[eq + 1..], line_no)?)),
            None => (line.split([' ', '\t', '#', ';']).next().unwrap_or(line), None),
        };
        let lkey = key.to_ascii_lowercase();
        let allowed = known_keys(&section).unwrap_or(&[]);
        if !allowed.contains(&lkey.as_str()) {
            return Err(err(line_no, format!("unknown key \"{key}\" in section [{section}]")));
        }
        // A bare name is boolean true in gcfg.
        let value = match value {
            Some(v) => v,
            None if BOOL_KEYS.contains(&lkey.as_str()) => "true".to_string(),
            None => return Err(err(line_no, format!("key \"{key}\" needs a value"))),
        };
        if DURATION_KEYS.contains(&lkey.as_str()) {
            parse_duration(&value).map_err(|e| err(line_no, format!("{key}: {e}")))?;
        }
        let as_bool = |v: &str| parse_bool(v).ok_or_else(|| err(line_no, format!("{key}: invalid boolean \"{v}\"")));
        if BOOL_KEYS.contains(&lkey.as_str()) {
            as_bool(&value)?;
        }
        let some = |v: &str| if v.is_empty() { None } else { Some(v.to_string()) };
        match (section.as_str(), lkey.as_str()) {
            ("main", "baseuri") => cfg.base_uri = some(&value),
            ("main", "streamuri") => cfg.stream_uri = some(&value),
            ("redis", "host") => cfg.redis.host = some(&value),
            ("redis", "port") => {
                cfg.redis.port =
                    Some(value.parse().map_err(|_| err(line_no, format!("port: invalid port \"{value}\"")))?)
            }
            ("redis", "url") => cfg.redis.url = some(&value),
            ("redis", "tls") => cfg.redis.tls = Some(as_bool(&value)?),
            ("redis", "username") => cfg.redis.username = some(&value),
            ("redis", "password") => cfg.redis.password = some(&value),
            ("redis", "cluster") => cfg.redis.cluster = Some(as_bool(&value)?),
            ("redis", "sentinelmaster") => cfg.redis.sentinel_master = some(&value),
            ("redis", "sentinelpassword") => cfg.redis.sentinel_password = some(&value),
            ("redis", "localttl") => cfg.redis.local_ttl = parse_duration(&value).ok(),
            ("dynamodb", "enabled") => cfg.dynamodb.enabled = Some(as_bool(&value)?),
            ("dynamodb", "tablename") => cfg.dynamodb.table_name = some(&value),
            ("dynamodb", "url") => cfg.dynamodb.url = some(&value),
            ("consul", "host") => cfg.consul.host = some(&value),
            ("consul", "token") => cfg.consul.token = some(&value),
            ("consul", "tokenfile") => cfg.consul.token_file = some(&value),
            ("environment", k) => {
                let name = sub.clone().unwrap_or_default();
                let env = cfg.environments.iter_mut().find(|e| e.name == name).expect("environment registered");
                match k {
                    "sdkkey" => env.sdk_key = some(&value),
                    "prefix" => env.prefix = some(&value),
                    "tablename" => env.table_name = some(&value),
                    "projkey" => env.proj_key = some(&value),
                    "filterkey" => env.filter_key = some(&value),
                    _ => {}
                }
            }
            ("filters", "keys") => {
                let proj = sub.clone().unwrap_or_default();
                let keys = value.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
                cfg.filters.entry(proj).or_default().extend(keys);
            }
            _ => {}
        }
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_relay_file() {
        let c = parse(
            r#"
# comment
[Main]
streamUri = "http://localhost:9000"
[Redis]
host = redis.internal ; trailing comment
port = 6380
localTtl = 30s
tls
[Environment "Prod Env"]
sdkKey = sdk-1111
prefix = ld:prod
[environment "Staging"]
SDKKEY = "sdk-2222"
[Filters "proj"]
keys = mobile, web
"#,
        )
        .unwrap();
        assert_eq!(c.stream_uri.as_deref(), Some("http://localhost:9000"));
        assert_eq!(c.redis.host.as_deref(), Some("redis.internal"));
        assert_eq!(c.redis.port, Some(6380));
        assert_eq!(c.redis.tls, Some(true));
        assert_eq!(c.environments.len(), 2);
        assert_eq!(c.environments[0].name, "Prod Env");
        assert_eq!(c.environments[0].prefix.as_deref(), Some("ld:prod"));
        assert_eq!(c.environments[1].sdk_key.as_deref(), Some("sdk-2222"));
        assert_eq!(c.filters["proj"], vec!["mobile", "web"]);
    }

    #[test]
    fn rejects_unknown_keys_and_bare_durations() {
        let e = parse("[Redis]\nhots = x\n").unwrap_err().to_string();
        assert!(e.contains("unknown key \"hots\" in section [redis]"), "{e}");
        let e = parse("[Redis]\nlocalTtl = 30\n").unwrap_err().to_string();
        assert!(e.contains("a unit is required"), "{e}");
        assert!(parse("[Bogus]\n").is_err());
        let e =
            parse("[Environment \"a\"]\nsdkKey = k1\n\n[Environment \"a\"]\nsdkKey = k2\n").unwrap_err().to_string();
        assert_eq!(e, "line 4: duplicate section [Environment \"a\"] (first at line 1)");
        assert!(parse("key = 1\n").is_err());
    }
}
