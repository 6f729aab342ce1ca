//! What the LaunchDarkly sources share: endpoints and SDK key resolution, the HTTP client and its
//! headers, status classification and the reconnect backoff (see the protocol reference).

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::SourceError;

pub use crate::config::ld::{DEFAULT_BASE_URI, DEFAULT_STREAM_URI, LdConfig};

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

/// The most one payload may hold: a polling response body (after gzip is undone) or one stream
/// event. Beyond it the payload is refused (exit 4) as soon as the bytes pass the limit, so memory
/// stays bounded whatever the server sends.
pub const MAX_PAYLOAD_BYTES: usize = 256 << 20;

/// A byte limit in words (`256 MiB`).
pub fn human_limit(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// A response body, read piece by piece (gzip undone) and refused once it passes
/// [`MAX_PAYLOAD_BYTES`]; a body that is not UTF-8 is malformed.
pub async fn read_body(resp: reqwest::Response, source_name: &str) -> std::result::Result<String, Failure> {
    use futures::StreamExt;
    let malformed =
        |reason: String| Failure::Fatal(SourceError::Malformed { source_name: source_name.to_string(), reason }.into());
    let mut body = Vec::new();
    let mut pieces = resp.bytes_stream();
    while let Some(piece) = pieces.next().await {
        let piece = piece.map_err(|e| network_failure(&e))?;
        if body.len() + piece.len() > MAX_PAYLOAD_BYTES {
            return Err(malformed(format!(
                "a payload larger than {} (the limit for one payload, after gzip is undone)",
                human_limit(MAX_PAYLOAD_BYTES)
            )));
        }
        body.extend_from_slice(&piece);
        // A body that keeps arriving must not keep the caller's timeout from firing.
        tokio::task::consume_budget().await;
    }
    String::from_utf8(body).map_err(|e| malformed(format!("the payload is not UTF-8: {e}")))
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
    fn instance_id_is_a_uuid_v4() {
        let id = instance_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_eq!(id, instance_id());
    }
}
