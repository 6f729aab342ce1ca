//! What the LaunchDarkly sources share: endpoints and SDK key resolution, the HTTP client and its
//! headers, status classification and the reconnect backoff (see the protocol reference).

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::SourceError;
use crate::cli::LdArgs;
use crate::config::Env;
use crate::config::relay_conf::RelayConfig;
use crate::exit::UsageError;
use crate::secrets;

pub const DEFAULT_BASE_URI: &str = "https://sdk.launchdarkly.com";
pub const DEFAULT_STREAM_URI: &str = "https://stream.launchdarkly.com";

/// Everything needed to talk to LaunchDarkly (or a Relay Proxy / test server) for one environment.
#[derive(Debug, Clone, PartialEq)]
pub struct LdConfig {
    pub sdk_key: String,
    pub base_uri: String,
    pub stream_uri: String,
    pub filter: Option<String>,
    /// How long to keep retrying recoverable failures.
    pub timeout: Duration,
}

impl LdConfig {
    /// Resolve endpoints (flag > env `BASE_URI`/`STREAM_URI` > Relay `[Main]` > LaunchDarkly's)
    /// and the SDK key (`--sdk-key` > `LD_SDK_KEY`). The key is registered as a secret.
    pub fn resolve(ld: &LdArgs, env: &dyn Env, relay: Option<&RelayConfig>) -> Result<LdConfig> {
        let sdk_key = ld.sdk_key.clone().or_else(|| env.var("LD_SDK_KEY")).ok_or_else(|| {
            UsageError::new("no SDK key given for LaunchDarkly").hint("use --sdk-key sdk-… or set LD_SDK_KEY")
        })?;
        Ok(Self::endpoints(ld, env, relay).with_key(sdk_key))
    }

    /// Endpoints, filter and timeout without a key (for many environments, each with its own).
    pub fn endpoints(ld: &LdArgs, env: &dyn Env, relay: Option<&RelayConfig>) -> LdConfig {
        let base_uri = ld
            .base_uri
            .clone()
            .or_else(|| env.var("BASE_URI"))
            .or_else(|| relay.and_then(|r| r.base_uri.clone()))
            .unwrap_or_else(|| DEFAULT_BASE_URI.into());
        let stream_uri = ld
            .stream_uri
            .clone()
            .or_else(|| env.var("STREAM_URI"))
            .or_else(|| relay.and_then(|r| r.stream_uri.clone()))
            .unwrap_or_else(|| DEFAULT_STREAM_URI.into());
        // A password in either URI (`http://user:password@relay`) is never printed.
        secrets::register_url(&base_uri);
        secrets::register_url(&stream_uri);
        LdConfig {
            sdk_key: String::new(),
            base_uri: base_uri.trim_end_matches('/').to_string(),
            stream_uri: stream_uri.trim_end_matches('/').to_string(),
            filter: ld.filter.clone().filter(|f| !f.is_empty()),
            timeout: ld.timeout,
        }
    }

    /// This configuration with an SDK key (registered as a secret).
    pub fn with_key(mut self, sdk_key: String) -> LdConfig {
        secrets::register(&sdk_key);
        self.sdk_key = sdk_key;
        self
    }

    /// `{base}{path}` plus `?filter=` when a payload filter is set.
    pub fn url(&self, base: &str, path: &str) -> Result<url::Url> {
        let mut u = url::Url::parse(&format!("{base}{path}"))
            .map_err(|e| UsageError::new(format!("invalid LaunchDarkly URI \"{}\": {e}", secrets::redact_url(base))))?;
        if let Some(f) = &self.filter {
            u.query_pairs_mut().append_pair("filter", f);
        }
        Ok(u)
    }

    /// The key as it may be shown: `sdk-…ab12`.
    pub fn masked_key(&self) -> String {
        secrets::masked(&self.sdk_key)
    }
}

/// `ldstore/<version>`.
pub fn user_agent() -> String {
    format!("ldstore/{}", env!("CARGO_PKG_VERSION"))
}

/// A random UUID v4, one per process (`X-LaunchDarkly-Instance-Id`).
pub fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let mut b: [u8; 16] = rand::random();
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
    })
}

/// The HTTP client for LaunchDarkly requests (gzip on, no overall timeout: callers bound attempts).
pub fn client() -> Result<reqwest::Client> {
    static C: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(c) = C.get() {
        return Ok(c.clone());
    }
    let c = reqwest::Client::builder()
        .user_agent(user_agent())
        .gzip(true)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| anyhow::anyhow!("cannot build the HTTP client: {e}"))?;
    Ok(C.get_or_init(|| c).clone())
}

/// A request with the headers every LaunchDarkly request carries.
pub fn request(cfg: &LdConfig, url: url::Url) -> Result<reqwest::RequestBuilder> {
    Ok(client()?
        .get(url)
        .header(reqwest::header::AUTHORIZATION, &cfg.sdk_key)
        .header("X-LaunchDarkly-Instance-Id", instance_id()))
}

/// The outcome of one failed attempt.
#[derive(Debug)]
pub enum Failure {
    /// Network error, 400, 408, 429, 5xx, a stream that ended early: try again.
    Retry(String),
    /// 401, 403, other 4xx, malformed data: stop now.
    Fatal(anyhow::Error),
}

/// Classify an HTTP status that is not a success.
pub fn classify_status(status: u16, source_name: &str) -> Failure {
    match status {
        401 | 403 => Failure::Fatal(SourceError::Rejected { status }.into()),
        400 | 408 | 429 | 500..=599 => Failure::Retry(format!("HTTP {status}")),
        _ => Failure::Fatal(SourceError::Http { source_name: source_name.to_string(), status }.into()),
    }
}

/// A network error as a retryable failure (secrets masked, causes joined).
pub fn network_failure(e: &reqwest::Error) -> Failure {
    Failure::Retry(crate::exit::causes_text(e))
}

/// The reconnect backoff: 1 s doubling to 30 s, minus a random 0-50 % jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    attempt: u32,
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { attempt: 0, initial: Duration::from_secs(1), max: Duration::from_secs(30) }
    }
}

impl Backoff {
    /// The delay before the next attempt (without jitter it would be 1, 2, 4 … 30 s).
    pub fn next_delay(&mut self) -> Duration {
        let base = self.initial.saturating_mul(1u32 << self.attempt.min(16)).min(self.max);
        self.attempt += 1;
        let jitter: f64 = rand::random::<f64>() * 0.5;
        base.mul_f64(1.0 - jitter)
    }

    /// Back to the initial delay (after a connection stayed good for a while).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// Run `attempt` until it succeeds, fails fatally, or `timeout` has passed (then
/// [`SourceError::TimedOut`]). Each attempt is itself bounded by the time left.
pub async fn with_retries<T, F, Fut>(timeout: Duration, source_name: &str, mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = std::result::Result<T, Failure>>,
{
    let started = Instant::now();
    let deadline = started + timeout;
    let mut backoff = Backoff::default();
    let timed_out = |last: String| -> anyhow::Error {
        SourceError::TimedOut { source_name: source_name.to_string(), secs: timeout.as_secs().max(1), last_error: last }
            .into()
    };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let last = match tokio::time::timeout(left, attempt()).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(Failure::Fatal(e))) => return Err(e),
            Ok(Err(Failure::Retry(why))) => why,
            Err(_) => return Err(timed_out("no complete answer in time".into())),
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out(last));
        }
        let delay = backoff.next_delay().min(left);
        tracing::warn!("{source_name}: {last}; retrying in {:.1} s", delay.as_secs_f64());
        tokio::time::sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_with_jitter() {
        let mut b = Backoff::default();
        let expected = [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0];
        for e in expected {
            let d = b.next_delay().as_secs_f64();
            assert!(d <= e && d >= e * 0.5, "{d} vs {e}");
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_secs(1));
    }

    #[test]
    fn statuses_are_classified() {
        assert!(matches!(classify_status(401, "x"), Failure::Fatal(_)));
        assert!(matches!(classify_status(403, "x"), Failure::Fatal(_)));
        assert!(matches!(classify_status(404, "x"), Failure::Fatal(_)));
        for s in [400, 408, 429, 500, 503] {
            assert!(matches!(classify_status(s, "x"), Failure::Retry(_)), "{s}");
        }
        let Failure::Fatal(e) = classify_status(401, "x") else { unreachable!() };
        assert_eq!(e.to_string(), "LaunchDarkly rejected the SDK key (401)");
    }

    #[test]
    fn endpoints_resolve_in_order() {
        let ld = LdArgs { timeout: Duration::from_secs(30), filter: Some("mobile".into()), ..Default::default() };
        let relay = RelayConfig { base_uri: Some("http://relay:8030/".into()), ..Default::default() };
        let env = |k: &str| (k == "STREAM_URI").then(|| "http://env-stream".to_string());
        let c = LdConfig::endpoints(&ld, &env, Some(&relay));
        assert_eq!(c.base_uri, "http://relay:8030");
        assert_eq!(c.stream_uri, "http://env-stream");
        assert_eq!(
            c.url(&c.base_uri, "/sdk/latest-all").unwrap().as_str(),
            "http://relay:8030/sdk/latest-all?filter=mobile"
        );
        let none = |_: &str| None;
        let c = LdConfig::endpoints(&LdArgs::default(), &none, None);
        assert_eq!((c.base_uri.as_str(), c.stream_uri.as_str()), (DEFAULT_BASE_URI, DEFAULT_STREAM_URI));
        assert!(LdConfig::resolve(&LdArgs::default(), &none, None).is_err());
    }

    #[test]
    fn instance_id_is_a_uuid_v4() {
        let id = instance_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_eq!(id, instance_id());
    }
}
