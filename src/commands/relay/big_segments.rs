//! The Big Segments synchronizer beside each environment's flag stream, as the Relay Proxy runs it
//! (ld-relay `internal/bigsegments`): it starts once the environment's flag data has a Big Segment
//! (a segment with `"unbounded": true`), then
//!
//! 1. catches up: polls `{base}/sdk/big-segments/revisions?after=<cursor>` and applies the patches
//!    in order until an empty answer ([`catch_up`]);
//! 2. opens the `{stream}/big-segments` stream, polls once more, and sets `synchronizedOn`;
//! 3. for each stream event applies its patches in order (a patch that does not follow the cursor
//!    makes a resync: step 1 again, never a skipped patch), then rewrites `synchronizedOn`; and
//!    rewrites it every `--big-segments-interval` (30 s) without events.
//!
//! Any failure (LaunchDarkly or the store) retries the whole sequence after
//! `--big-segments-retry` (10 s), or as long as LaunchDarkly's `Retry-After` asked when that is
//! longer; a 4xx other than 400/408/429 stops the synchronizer (as Relay).
//! The store being down does not stop it: it retries like the flag writer, and the patches it
//! missed are read again from the stored cursor.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use tokio::sync::watch;

use super::state::{Env, encode_per_env};
use super::stopped;
use crate::config::StoreConfig;
use crate::exit::chain_text;
use crate::source::SourceError;
use crate::source::big_segments::{self as big, BigSegmentsSource, Progress, apply_in_order, has_big_segments};
use crate::source::ld::{AskedToWait, Failure, LdConfig};
use crate::source::stream::SseParser;
use crate::store::{self, big_segments::BigSegmentStore};

/// The Relay Proxy's `bigSegmentsStaleThreshold` default: a last sync older than this is reported
/// `potentiallyStale` in /status.
pub(super) const STALE_THRESHOLD: Duration = Duration::from_secs(300);

/// One environment's synchronizer state, for /status and /metrics.
#[derive(Default)]
pub(super) struct BigSync {
    /// Whether the synchronizer has started (the data has a Big Segment and the store holds them).
    pub(super) active: AtomicBool,
    /// Whether the last store operation succeeded.
    pub(super) available: AtomicBool,
    pub(super) patches: AtomicU64,
    pub(super) resyncs: AtomicU64,
    /// The `synchronizedOn` last written (Unix ms) and when.
    last_sync: Mutex<Option<(i64, Instant)>>,
    /// Why the synchronizer stopped for good (a rejected request).
    pub(super) stopped: Mutex<Option<String>>,
}

impl BigSync {
    fn synced(&self, ms: i64) {
        *self.last_sync.lock().unwrap_or_else(|e| e.into_inner()) = Some((ms, Instant::now()));
        self.available.store(true, Ordering::Relaxed);
    }

    fn last_sync(&self) -> Option<(i64, Instant)> {
        *self.last_sync.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn count(&self, p: &Progress) {
        self.patches.fetch_add(p.patches, Ordering::Relaxed);
        self.resyncs.fetch_add(p.resyncs, Ordering::Relaxed);
    }

    /// `bigSegmentStatus` in the Relay Proxy's shape; `None` while the synchronizer is not running.
    pub(super) fn status_json(&self) -> Option<serde_json::Value> {
        if !self.active.load(Ordering::Relaxed) {
            return None;
        }
        let last = self.last_sync();
        let stale = last.is_none_or(|(_, at)| at.elapsed() >= STALE_THRESHOLD);
        Some(serde_json::json!({
            "available": self.available.load(Ordering::Relaxed),
            "potentiallyStale": stale,
            "lastSynchronizedOn": last.map(|(ms, _)| ms),
        }))
    }
}

/// How the synchronizer is timed.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timing {
    /// `synchronizedOn` rewritten this long after the last event (Relay: 30 s).
    pub(super) refresh: Duration,
    /// A failure retries after this long (Relay: 10 s).
    pub(super) retry: Duration,
}

/// Whether a failure stops the synchronizer for good: a 4xx other than 400, 408 and 429.
fn is_fatal(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<SourceError>(),
            Some(SourceError::Rejected { .. }) | Some(SourceError::Http { status: 400..=499, .. })
        )
    })
}

pub(super) async fn synchronizer(
    env: Arc<Env>,
    cfg: LdConfig,
    store_cfg: StoreConfig,
    prefix: String,
    timing: Timing,
    mut stop: watch::Receiver<bool>,
) {
    // Wait for flag data with a Big Segment.
    loop {
        if env.data().is_some_and(|d| has_big_segments(&d)) {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = stopped(&mut stop) => return,
        }
    }
    let source = BigSegmentsSource::new(cfg);
    let mut store: Option<Box<dyn store::Admin>> = None;
    loop {
        let outcome = tokio::select! {
            r = run_once(&env, &source, &store_cfg, &mut store, &prefix, timing) => r,
            _ = stopped(&mut stop) => return,
        };
        let e = match outcome {
            Ok(Some(())) => return,
            Ok(None) => anyhow::anyhow!("the Big Segments stream closed"),
            Err(e) => e,
        };
        if is_fatal(&e) {
            let msg = chain_text(&e);
            tracing::error!("Big Segments synchronizer stopped: {msg}");
            *env.big.stopped.lock().unwrap_or_else(|e| e.into_inner()) = Some(msg);
            return;
        }
        if e.chain().any(|c| c.downcast_ref::<store::StoreError>().is_some()) {
            env.big.available.store(false, Ordering::Relaxed);
            store = None;
        }
        // No sooner than LaunchDarkly asked (`Retry-After`), at most an hour (ld::MAX_RETRY_AFTER).
        let wait = timing.retry.max(AskedToWait::in_chain(&e).unwrap_or_default());
        tracing::warn!(
            "Big Segments synchronizer: {}; retrying in {}",
            chain_text(&e),
            humantime::format_duration(wait)
        );
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopped(&mut stop) => return,
        }
    }
}

/// One run: catch up, open the stream, apply its events until it fails. `Ok(Some(()))`: the store
/// holds no Big Segments (nothing to do, ever); `Ok(None)`: the stream ended.
async fn run_once(
    env: &Env,
    source: &BigSegmentsSource,
    store_cfg: &StoreConfig,
    store: &mut Option<Box<dyn store::Admin>>,
    prefix: &str,
    timing: Timing,
) -> anyhow::Result<Option<()>> {
    if store.is_none() {
        *store = Some(store::open(store_cfg).await?);
    }
    let st = store.as_ref().expect("opened");
    let Some(b) = st.big_segments() else {
        tracing::warn!(
            "the data has Big Segments but {} holds none: they are not synchronized (use Redis or DynamoDB)",
            st.backend()
        );
        return Ok(Some(()));
    };
    env.big.active.store(true, Ordering::Relaxed);
    resync(env, source, b, prefix).await?;
    let resp = source.connect_stream().await.map_err(|f| match f {
        Failure::Retry(why) => anyhow::anyhow!("cannot open the Big Segments stream: {why}"),
        Failure::RetryAfter(why, wait) => {
            AskedToWait::error(wait, format!("cannot open the Big Segments stream: {why}"))
        }
        Failure::Fatal(e) => e,
    })?;
    tracing::info!("Big Segments stream connected");
    resync(env, source, b, prefix).await?;
    mark_synchronized(env, b, prefix).await?;
    let mut body = resp.bytes_stream();
    let mut parser = SseParser::new();
    // Reset by events only: heartbeats (comments) do not put the refresh off.
    let refresh = tokio::time::sleep(timing.refresh);
    tokio::pin!(refresh);
    loop {
        use futures::StreamExt;
        let chunk = tokio::select! {
            c = body.next() => c,
            _ = &mut refresh => {
                mark_synchronized(env, b, prefix).await?;
                refresh.as_mut().reset(tokio::time::Instant::now() + timing.refresh);
                continue;
            }
        };
        let chunk = match chunk {
            None => return Ok(None),
            Some(Err(e)) => {
                return Err(anyhow::anyhow!("the Big Segments stream broke: {}", crate::exit::causes_text(&e)));
            }
            Some(Ok(c)) => c,
        };
        for ev in parser.push(&chunk).map_err(|e| anyhow::anyhow!("the Big Segments stream: {e}"))? {
            // The event name is ignored, as Relay does.
            let patches = crate::store::big_segments_patch::parse_patches(&ev.data)
                .map_err(|reason| SourceError::Malformed { source_name: source.name(), reason })?;
            let mut progress = Progress::default();
            let in_order = apply_in_order(b, prefix, &patches, &mut progress).await?;
            env.big.count(&progress);
            if !in_order {
                resync(env, source, b, prefix).await?;
            }
            mark_synchronized(env, b, prefix).await?;
            refresh.as_mut().reset(tokio::time::Instant::now() + timing.refresh);
        }
    }
}

/// Poll after the cursor and apply until LaunchDarkly has nothing newer (counted in the metrics).
async fn resync(env: &Env, source: &BigSegmentsSource, b: &dyn BigSegmentStore, prefix: &str) -> anyhow::Result<()> {
    let p = big::catch_up(source, b, prefix).await?;
    env.big.count(&p);
    Ok(())
}

async fn mark_synchronized(env: &Env, b: &dyn BigSegmentStore, prefix: &str) -> anyhow::Result<()> {
    let now = big::now_ms();
    b.mark_synchronized(prefix, now).await?;
    env.big.synced(now);
    Ok(())
}

/// The synchronizers' metrics, computed when scraped.
pub(super) struct BigSegmentsMetrics(pub(super) Arc<Vec<Arc<Env>>>);

impl std::fmt::Debug for BigSegmentsMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BigSegmentsMetrics")
    }
}

impl Collector for BigSegmentsMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let active = || self.0.iter().filter(|e| e.big.active.load(Ordering::Relaxed));
        let count = |n: &AtomicU64| Some(ConstCounter::new(n.load(Ordering::Relaxed)));
        encode_per_env(
            &mut encoder,
            "ldstore_relay_big_segments_patches",
            "Big Segments patches applied",
            MetricType::Counter,
            active(),
            |e| count(&e.big.patches),
        )?;
        encode_per_env(
            &mut encoder,
            "ldstore_relay_big_segments_resyncs",
            "Big Segments resyncs (a patch that did not follow the stored cursor)",
            MetricType::Counter,
            active(),
            |e| count(&e.big.resyncs),
        )?;
        encode_per_env(
            &mut encoder,
            "ldstore_relay_big_segments_seconds_since_sync",
            "Seconds since synchronizedOn was last written (absent before the first).",
            MetricType::Gauge,
            active(),
            |e| e.big.last_sync().map(|(_, at)| ConstGauge::new(at.elapsed().as_secs_f64())),
        )
    }
}
