//! LaunchDarkly's Big Segments endpoints and the synchronizer that applies them to a store, as the
//! Relay Proxy does (ld-relay `internal/bigsegments`):
//!
//! - poll `GET {base}/sdk/big-segments/revisions[?after=<cursor>]`, stream `GET {stream}/big-segments`
//!   (Server-Sent Events, the event name ignored), both with `Authorization: <SDK key>`; each
//!   answer or event is a JSON array of [`Patch`]es;
//! - [`catch_up`]: read the store's cursor, poll after it, apply the patches in order (each only if
//!   it follows the cursor), until a poll answers `[]`. A patch that does not follow the cursor
//!   stops the round: the next poll starts again from the cursor (a resync), so a patch is never
//!   skipped. A round in which no patch could be applied is repeated at once, a bounded number of
//!   times.
//!
//! The long-running synchronizer (`ldstore relay`) drives the same pieces with a stream.

use std::time::Duration;

use anyhow::Result;

use super::SourceError;
use super::ld::{self, Failure, LdConfig};
use crate::data::{DataSet, Kind};
use crate::secrets;
use crate::store::big_segments::{BigSegment, BigSegmentStore};
use crate::store::big_segments_patch::{Applied, Patch, parse_patches};

/// Polls in a row whose patches all failed to follow the cursor before giving up (LaunchDarkly
/// keeps answering with a chain the store cannot take).
pub const MAX_RESYNCS_IN_A_ROW: u32 = 10;

/// Whether the data set has a Big Segment (a segment with `"unbounded": true`, not deleted): only
/// then is there anything to synchronize (as the Relay Proxy decides).
pub fn has_big_segments(data: &DataSet) -> bool {
    data.items(Kind::Segments).values().any(|i| BigSegment::from_json(&i.key, &i.json).is_some())
}

/// The Big Segments endpoints of one environment.
pub struct BigSegmentsSource {
    pub cfg: LdConfig,
}

impl BigSegmentsSource {
    pub fn new(cfg: LdConfig) -> BigSegmentsSource {
        BigSegmentsSource { cfg }
    }

    pub fn name(&self) -> String {
        format!("LaunchDarkly Big Segments {}", secrets::redact_url(&self.cfg.base_uri))
    }

    fn url(&self, base: &str, path: &str) -> Result<url::Url, Failure> {
        url::Url::parse(&format!("{}{path}", base.trim_end_matches('/'))).map_err(|e| {
            Failure::Fatal(
                crate::exit::UsageError::new(format!(
                    "invalid LaunchDarkly URI \"{}\": {e}",
                    secrets::redact_url(base)
                ))
                .into(),
            )
        })
    }

    /// One revisions poll (no retries): the patches after `after`.
    pub async fn poll_once(&self, after: Option<&str>) -> Result<Vec<Patch>, Failure> {
        let name = self.name();
        let mut url = self.url(&self.cfg.base_uri, "/sdk/big-segments/revisions")?;
        if let Some(a) = after.filter(|a| !a.is_empty()) {
            url.query_pairs_mut().append_pair("after", a);
        }
        let resp = ld::request(&self.cfg, url)
            .map_err(Failure::Fatal)?
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| ld::network_failure(&e))?;
        if !resp.status().is_success() {
            return Err(ld::classify_response(&resp, &name));
        }
        let body = ld::read_body(resp, &name).await?;
        parse_patches(&body)
            .map_err(|reason| Failure::Fatal(SourceError::Malformed { source_name: name, reason }.into()))
    }

    /// A revisions poll, retrying recoverable failures (network, 400, 408, 429, 5xx) within the
    /// configured timeout.
    pub async fn poll(&self, after: Option<&str>) -> Result<Vec<Patch>> {
        ld::with_retries(self.cfg.timeout, &self.name(), || self.poll_once(after)).await
    }

    /// Open the `/big-segments` stream once (no retries).
    pub async fn connect_stream(&self) -> Result<reqwest::Response, Failure> {
        let url = self.url(&self.cfg.stream_uri, "/big-segments")?;
        ld::open_event_stream(&self.cfg, url, &self.name()).await
    }
}

/// What applying patches did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    /// Patches applied.
    pub patches: u64,
    /// Times a patch did not follow the cursor (the patches were read again from the cursor).
    pub resyncs: u64,
    /// The cursor afterwards.
    pub cursor: Option<String>,
}

/// Apply `patches` in order, each only if it follows the store's cursor; stops at the first that
/// does not (counted as a resync; the caller reads again from the cursor). Returns whether every
/// patch was applied.
pub async fn apply_in_order(
    store: &dyn BigSegmentStore,
    prefix: &str,
    patches: &[Patch],
    progress: &mut Progress,
) -> Result<bool> {
    for p in patches {
        match store.apply_patch(prefix, p).await? {
            Applied::Applied => {
                progress.patches += 1;
                progress.cursor = Some(p.version.clone());
            }
            Applied::OutOfOrder { cursor } => {
                tracing::warn!(
                    "Big Segments patch {:?} (segment {}) follows version {:?} but the store's cursor is {:?}: reading the patches again from the cursor",
                    p.version,
                    p.segment_id,
                    p.previous_version,
                    cursor.as_deref().unwrap_or("(none)")
                );
                progress.resyncs += 1;
                progress.cursor = cursor;
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Poll after the store's cursor and apply, until a poll answers `[]` (see the module's doc).
pub async fn catch_up(source: &BigSegmentsSource, store: &dyn BigSegmentStore, prefix: &str) -> Result<Progress> {
    let mut progress = Progress { cursor: store.metadata(prefix).await?.cursor, ..Progress::default() };
    let mut stuck = 0;
    loop {
        let patches = source.poll(progress.cursor.as_deref()).await?;
        if patches.is_empty() {
            return Ok(progress);
        }
        let before = progress.patches;
        if apply_in_order(store, prefix, &patches, &mut progress).await? {
            stuck = 0;
            continue;
        }
        stuck = if progress.patches == before { stuck + 1 } else { 0 };
        if stuck >= MAX_RESYNCS_IN_A_ROW {
            return Err(SourceError::Malformed {
                source_name: source.name(),
                reason: format!(
                    "{stuck} polls in a row sent no patch that follows the store's cursor {:?}; nothing was skipped",
                    progress.cursor.as_deref().unwrap_or("(none)")
                ),
            }
            .into());
        }
        // Read again from the cursor at once, after a short pause when nothing moved.
        if progress.patches == before {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A one-shot synchronization (`ldstore sync` from LaunchDarkly): [`catch_up`], then the sync time
/// set to now. `None` when the store holds no Big Segments (Consul).
pub async fn sync_once(cfg: &LdConfig, store: &dyn crate::store::Store, prefix: &str) -> Result<Option<Progress>> {
    let Some(b) = store.big_segments() else { return Ok(None) };
    let progress = catch_up(&BigSegmentsSource::new(cfg.clone()), b, prefix).await?;
    b.mark_synchronized(prefix, now_ms()).await?;
    Ok(Some(progress))
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::big_segments_patch::{Changes, SetChanges};
    use crate::store::memory::MemoryStore;

    fn patch(version: &str, previous: &str, add: &str) -> Patch {
        Patch {
            segment_id: "s.g1".into(),
            version: version.into(),
            previous_version: previous.into(),
            changes: Changes { included: SetChanges { add: vec![add.into()], remove: vec![] }, ..Changes::default() },
            ..Patch::default()
        }
    }

    #[tokio::test]
    async fn patches_are_applied_until_one_does_not_follow() {
        let store = MemoryStore::new();
        let mut progress = Progress::default();
        let all = [patch("1", "", "a"), patch("3", "2", "c"), patch("2", "1", "b")];
        assert!(!apply_in_order(&store, "p", &all, &mut progress).await.unwrap());
        assert_eq!(progress, Progress { patches: 1, resyncs: 1, cursor: Some("1".into()) });
        assert!(store.membership("p", "c").await.unwrap().is_empty(), "never skipped to");
        assert!(apply_in_order(&store, "p", &all[2..], &mut progress).await.unwrap());
        assert_eq!(progress.cursor.as_deref(), Some("2"));
    }
}
