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

/// Open an event stream at `url` once (no retries): the response, or how it failed (the flag
/// stream `/all` and the Big Segments stream share it).
pub async fn open_event_stream(
    cfg: &LdConfig,
    url: url::Url,
    source_name: &str,
) -> std::result::Result<reqwest::Response, Failure> {
    let resp = request(cfg, url)
        .map_err(Failure::Fatal)?
        .header(reqwest::header::ACCEPT, "text/event-stream")
        .send()
        .await
        .map_err(|e| network_failure(&e))?;
    if !resp.status().is_success() {
        return Err(classify_response(&resp, source_name));
    }
    Ok(resp)
}

/// The outcome of one failed attempt.
#[derive(Debug)]
pub enum Failure {
    /// Network error, 400, 408, 429, 5xx, a stream that ended early: try again.
    Retry(String),
    /// A retryable status whose `Retry-After` asked for this long a wait: try again, no sooner.
    RetryAfter(String, Duration),
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

/// In an error's chain: the server asked (`Retry-After`) for a wait the failed attempt could not
/// make, so a caller that tries again later waits at least `wait` (the relay's Big Segments
/// synchronizer). It wraps the error itself and says what it says (so the printed error does not
/// repeat it), and the error stays in the chain for its exit code.
#[derive(Debug)]
pub struct AskedToWait {
    pub wait: Duration,
    error: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl AskedToWait {
    /// `error`, carrying the wait.
    pub fn error(
        wait: Duration,
        error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> anyhow::Error {
        anyhow::Error::new(AskedToWait { wait, error: error.into() })
    }

    /// The wait asked for somewhere in `err`'s chain.
    pub fn in_chain(err: &anyhow::Error) -> Option<Duration> {
        err.chain().find_map(|c| c.downcast_ref::<AskedToWait>()).map(|a| a.wait)
    }
}

impl std::fmt::Display for AskedToWait {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for AskedToWait {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.error)
    }
}

/// The longest `Retry-After` honoured; a longer one is read as this (a relay still retries hourly).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Classify a response that is not a success: [`classify_status`], and on a retryable status a
/// `Retry-After` header (seconds or an HTTP date) makes it [`Failure::RetryAfter`].
pub fn classify_response(resp: &reqwest::Response, source_name: &str) -> Failure {
    let status = resp.status().as_u16();
    match classify_status(status, source_name) {
        Failure::Retry(why) => match resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()) {
            Some(value) => match retry_after(value, std::time::SystemTime::now()) {
                Some(wait) => Failure::RetryAfter(format!("{why} (Retry-After: {})", value.trim()), wait),
                None => Failure::Retry(why),
            },
            None => Failure::Retry(why),
        },
        other => other,
    }
}

/// A `Retry-After` value (RFC 9110: delay-seconds or an HTTP date) as a wait from `now`, capped at
/// [`MAX_RETRY_AFTER`]; `None` when it is neither (then the normal backoff applies).
pub fn retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX).min(MAX_RETRY_AFTER.as_secs()))
    } else {
        httpdate::parse_http_date(value).ok()?.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// A network error as a retryable failure (secrets masked, causes joined); a redirect loop (or
/// more than 10 redirects) is fatal: asking again only loops again.
pub fn network_failure(e: &reqwest::Error) -> Failure {
    if e.is_redirect() {
        let reason = crate::exit::causes_text(e);
        return Failure::Fatal(SourceError::Unreachable { source_name: "LaunchDarkly".into(), reason }.into());
    }
    let text = crate::exit::causes_text(e);
    if is_tls_failure(e) {
        // rustls's own words ("received corrupt message of type InvalidContentType") do not say
        // that TLS is what failed.
        return Failure::Retry(format!("TLS failure: {text}"));
    }
    Failure::Retry(text)
}

/// Whether a rustls error is among the causes (tokio-rustls hands them on inside `io::Error`s,
/// which may be nested: `io::Error::source` skips the error they wrap, so `get_ref` is followed).
fn is_tls_failure(e: &reqwest::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<rustls::Error>() {
            return true;
        }
        cause = match c.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => c.source(),
        };
    }
    false
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
    // Why the last attempt failed: when time runs out during a later attempt (or the wait before
    // it), the error still names the cause instead of only "no complete answer in time".
    let mut last_failure: Option<String> = None;
    let timed_out_error = |last: String| SourceError::TimedOut {
        source_name: source_name.to_string(),
        secs: timeout.as_secs().max(1),
        last_error: last,
    };
    let timed_out = |last: String| -> anyhow::Error { timed_out_error(last).into() };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (last, asked) = match tokio::time::timeout(left, attempt()).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(Failure::Fatal(e))) => return Err(e),
            Ok(Err(Failure::Retry(why))) => (why, Duration::ZERO),
            Ok(Err(Failure::RetryAfter(why, wait))) => (why, wait),
            Err(_) => {
                return Err(timed_out(match last_failure {
                    Some(why) => format!("no complete answer in time; the last attempt failed: {why}"),
                    None => "no complete answer in time".into(),
                }));
            }
        };
        last_failure = Some(last.clone());
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out(last));
        }
        if asked >= left {
            // The server asked for a wait past the deadline: a retry could only come too late. A
            // caller that tries again later finds the wait in the error.
            let why =
                format!("{last}, a wait of {} s that the {} s left cannot cover", asked.as_secs(), left.as_secs());
            return Err(AskedToWait::error(asked, timed_out_error(why)));
        }
        let delay = backoff.next_delay().max(asked).min(left);
        tracing::warn!("{source_name}: {last}; retrying in {:.1} s", delay.as_secs_f64());
        tokio::time::sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date_and_is_capped() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(retry_after("99999999999999999999999", now), Some(MAX_RETRY_AFTER));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(retry_after(&later, now), Some(Duration::from_secs(90)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(retry_after(&past, now), Some(Duration::ZERO));
        for bad in ["", "-1", "1.5", "soon", "2 s"] {
            assert_eq!(retry_after(bad, now), None, "{bad:?}");
        }
    }

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

    /// A `Retry-After` longer than the time left ends the retries at once, and the error carries
    /// the wait (for a caller that tries again later) without saying it twice.
    #[test]
    fn a_wait_past_the_deadline_is_carried_in_the_error() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let asked = Duration::from_secs(60);
        let err = rt
            .block_on(with_retries(Duration::from_secs(5), "LaunchDarkly", || async {
                Err::<(), _>(Failure::RetryAfter("HTTP 429 (Retry-After: 60)".into(), asked))
            }))
            .unwrap_err();
        assert_eq!(AskedToWait::in_chain(&err), Some(asked));
        // The timeout stays in the chain (it gives the exit code).
        assert!(
            err.chain().any(|c| matches!(c.downcast_ref::<SourceError>(), Some(SourceError::TimedOut { .. }))),
            "{err:?}"
        );
        let text = crate::exit::chain_text(&err);
        assert_eq!(text.matches("Retry-After: 60").count(), 1, "{text}");
        assert!(text.contains("a wait of 60 s"), "{text}");
        // Other failures carry none.
        let plain = anyhow::anyhow!("HTTP 503");
        assert_eq!(AskedToWait::in_chain(&plain), None);
    }

    #[test]
    fn instance_id_is_a_uuid_v4() {
        let id = instance_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_eq!(id, instance_id());
    }
}
