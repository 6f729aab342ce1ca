//! Big Segments: the store capability behind `unbounded` segments, whose membership lives only in
//! a persistent store (Redis or DynamoDB; Consul holds none). Per prefix: the metadata (the last
//! synchronization time, Unix ms, and the Relay Proxy's cursor) and one membership per context
//! hash (the refs `<segmentKey>.g<generation>` the context is included in / excluded from), laid
//! out exactly as the official SDKs read it and the Relay Proxy writes it (docs/store-layout.md).
//!
//! A backend that holds Big Segments returns itself from [`Store::big_segments`](super::Store::big_segments);
//! the scenarios of [`super::conformance`] hold every such backend to the same contract.

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::StoreError;

/// The SDKs' default `staleAfter`: a synchronization older than this is stale.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(120);

/// The hash a context key is stored under: standard base64 (padded) of SHA-256 of the key's UTF-8
/// bytes (44 characters). Only the key is hashed, never the kind.
pub fn context_hash(key: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(key.as_bytes()))
}

/// The ref a segment's membership is stored under: `<key>.g<generation>`.
pub fn segment_ref(key: &str, generation: u64) -> String {
    format!("{key}.g{generation}")
}

/// One context's explicit membership: the refs it is included in and excluded from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    #[serde(default)]
    pub included: BTreeSet<String>,
    #[serde(default)]
    pub excluded: BTreeSet<String>,
}

impl Membership {
    pub fn new<I: IntoIterator<Item = S>, E: IntoIterator<Item = S>, S: Into<String>>(
        included: I,
        excluded: E,
    ) -> Membership {
        Membership {
            included: included.into_iter().map(Into::into).collect(),
            excluded: excluded.into_iter().map(Into::into).collect(),
        }
    }

    /// No ref at all (the SDKs read it as no membership).
    pub fn is_empty(&self) -> bool {
        self.included.is_empty() && self.excluded.is_empty()
    }

    /// The SDKs' answer for one ref: `Some(true)` included (include beats exclude),
    /// `Some(false)` excluded, `None` neither (the segment's rules decide).
    pub fn check(&self, segment_ref: &str) -> Option<bool> {
        if self.included.contains(segment_ref) {
            Some(true)
        } else if self.excluded.contains(segment_ref) {
            Some(false)
        } else {
            None
        }
    }
}

/// A prefix's Big Segments metadata, as stored (text, so a value no SDK can read is shown as it is).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// Unix ms of the last synchronization (`None`: never synchronized).
    pub synchronized_on: Option<String>,
    /// The Relay Proxy's cursor: the version of the last patch applied.
    pub cursor: Option<String>,
}

impl Metadata {
    /// The synchronization time as the SDKs read it: `Ok(None)` never synchronized; an error (the
    /// SDKs' store error) for a value that is not an integer.
    pub fn synchronized_on_ms(&self) -> Result<Option<i64>, String> {
        match &self.synchronized_on {
            None => Ok(None),
            Some(s) => s
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| format!("synchronizedOn {s:?} is not a Unix time in milliseconds")),
        }
    }

    /// Whether there is any metadata at all.
    pub fn is_empty(&self) -> bool {
        self.synchronized_on.is_none() && self.cursor.is_none()
    }
}

/// Whether a synchronization at `synced_on` (Unix ms) is stale at `now_ms`, as the SDKs decide it:
/// stale when `now - synchronizedOn >= staleAfter`; never synchronized is always stale.
pub fn is_stale(synced_on: Option<i64>, now_ms: i64, stale_after: Duration) -> bool {
    match synced_on {
        None => true,
        Some(t) => now_ms.saturating_sub(t) >= stale_after.as_millis() as i64,
    }
}

/// A visitor for streamed membership reads: a context hash and its membership. An error stops the
/// read.
pub type MembershipVisitor<'a> = dyn FnMut(String, Membership) -> anyhow::Result<()> + Send + 'a;

/// The Big Segments capability of a store, per prefix (the effective prefix, as every [`super::Store`]
/// method takes it).
#[async_trait]
pub trait BigSegmentStore: Send + Sync {
    /// The metadata (empty when the prefix holds none).
    async fn metadata(&self, prefix: &str) -> Result<Metadata, StoreError>;

    /// One context hash's membership (empty when it has none).
    async fn membership(&self, prefix: &str, hash: &str) -> Result<Membership, StoreError>;

    /// Every stored membership record of the prefix, streamed (bounded memory), in no particular
    /// order, each hash once (Redis: SCAN may return a key twice while the server resizes its key
    /// table, so a hash can then come twice). A DynamoDB record left with no refs is passed
    /// (empty); Redis has no such record.
    async fn read_memberships(&self, prefix: &str, visit: &mut MembershipVisitor<'_>) -> anyhow::Result<()>;

    /// Replace the memberships of these context hashes (each hash at most once): afterwards each
    /// holds exactly the given refs; an empty membership removes the record. Written in batches.
    async fn write_memberships(&self, prefix: &str, memberships: &[(String, Membership)]) -> Result<(), StoreError>;

    /// Write the metadata: each field set, or removed when `None`.
    async fn write_metadata(&self, prefix: &str, metadata: &Metadata) -> Result<(), StoreError>;
}

/// The error for metadata whose `synchronized_on` is not an integer (no SDK could read it back).
pub fn check_metadata(store: &'static str, metadata: &Metadata) -> Result<(), StoreError> {
    metadata.synchronized_on_ms().map(|_| ()).map_err(|why| StoreError::Other(format!("{store}: cannot write {why}")))
}

/// The error for a list of memberships that names one hash twice.
pub fn check_unique(store: &'static str, memberships: &[(String, Membership)]) -> Result<(), StoreError> {
    let mut seen = std::collections::HashSet::with_capacity(memberships.len());
    match memberships.iter().find(|(h, _)| !seen.insert(h.as_str())) {
        Some((h, _)) => Err(StoreError::Other(format!("{store}: the context hash {h} is given twice in one write"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_the_sdks_test_vectors() {
        assert_eq!(context_hash("userkey"), "72cBpXPyn4N6TqqlS8Tti37jEcoNhFzL9ZdG1jXkILE=");
        assert_eq!(context_hash("test-user"), "+FrIJdECufLVRqoWeeqZGuhFmUwTQ3MNVk8/zQohaMM=");
        assert_eq!(context_hash(""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    }

    #[test]
    fn include_beats_exclude() {
        let m = Membership::new(["a.g1", "b.g1"], ["b.g1", "c.g2"]);
        assert_eq!(m.check("a.g1"), Some(true));
        assert_eq!(m.check("b.g1"), Some(true));
        assert_eq!(m.check("c.g2"), Some(false));
        assert_eq!(m.check("c.g1"), None);
    }

    #[test]
    fn staleness_and_unreadable_sync_times() {
        let after = DEFAULT_STALE_AFTER;
        assert!(is_stale(None, 1_000_000, after));
        assert!(!is_stale(Some(1_000_000 - 119_999), 1_000_000, after));
        assert!(is_stale(Some(1_000_000 - 120_000), 1_000_000, after));
        let m = Metadata { synchronized_on: Some("abc".into()), cursor: None };
        assert_eq!(m.synchronized_on_ms().unwrap_err(), "synchronizedOn \"abc\" is not a Unix time in milliseconds");
        assert_eq!(Metadata { synchronized_on: Some("17".into()), cursor: None }.synchronized_on_ms(), Ok(Some(17)));
        assert_eq!(Metadata::default().synchronized_on_ms(), Ok(None));
    }
}
