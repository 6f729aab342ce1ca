//! Big Segments: the store capability behind `unbounded` segments, whose membership lives only in
//! a persistent store (Redis or DynamoDB; Consul holds none). Per prefix: the metadata (the last
//! synchronization time, Unix ms, and the Relay Proxy's cursor) and one membership per context
//! hash (the refs `<segmentKey>.g<generation>` the context is included in / excluded from), laid
//! out exactly as the official SDKs read it and the Relay Proxy writes it (docs/store-layout.md).
//!
//! A backend that holds Big Segments returns itself from [`Store::big_segments`](super::Store::big_segments);
//! the scenarios of [`super::conformance`] hold every such backend to the same contract.

use std::collections::BTreeSet;
use std::task::Poll;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::StoreError;

/// The SDKs' default `staleAfter`: a synchronization older than this is stale.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(120);

/// The most membership records `inspect` reads without `--exact`.
pub const SAMPLE_LIMIT: u64 = 100_000;

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

/// A visitor for streamed reads of the context hashes alone ([`BigSegmentStore::read_hashes`]).
pub type HashVisitor<'a> = dyn FnMut(String) -> anyhow::Result<()> + Send + 'a;

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

    /// The context hashes that hold a membership (at least one ref), streamed, in no particular
    /// order; a hash may come more than once. By default [`Self::read_memberships`]; Redis lists
    /// the keys alone (the refs are not read: 1,000,000 contexts in a few seconds instead of ~20).
    async fn read_hashes(&self, prefix: &str, visit: &mut HashVisitor<'_>) -> anyhow::Result<()> {
        self.read_memberships(prefix, &mut |h, m| if m.is_empty() { Ok(()) } else { visit(h) }).await
    }

    /// Replace the memberships of these context hashes (each hash at most once): afterwards each
    /// holds exactly the given refs; an empty membership removes the record. Written in batches.
    async fn write_memberships(&self, prefix: &str, memberships: &[(String, Membership)]) -> Result<(), StoreError>;

    /// Write the metadata: each field set, or removed when `None`.
    async fn write_metadata(&self, prefix: &str, metadata: &Metadata) -> Result<(), StoreError>;

    /// Remove these refs from these contexts' sets (each hash at most once), leaving every other
    /// ref as it is (Redis `SREM`, DynamoDB `DELETE` from the string sets), in batches.
    async fn remove_refs(&self, prefix: &str, removals: &[(String, Membership)]) -> Result<(), StoreError>;

    /// Apply one of LaunchDarkly's patches as the Relay Proxy does, only if the stored cursor is
    /// the patch's `previousVersion` (Redis, as Relay: also while no cursor is stored; DynamoDB and
    /// memory: a missing cursor counts as `""`), moving the cursor to the patch's version with the
    /// memberships; otherwise nothing is written ([`Applied::OutOfOrder`](super::big_segments_patch::Applied)).
    /// What each backend guarantees is in docs/store-layout.md.
    async fn apply_patch(
        &self,
        prefix: &str,
        patch: &super::big_segments_patch::Patch,
    ) -> Result<super::big_segments_patch::Applied, StoreError>;

    /// Set the synchronization time (Unix ms), leaving the cursor and memberships as they are.
    async fn mark_synchronized(&self, prefix: &str, now_ms: i64) -> Result<(), StoreError>;
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

/// The Big Segments status of an evaluation or a store, in the SDKs' words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Healthy,
    Stale,
    StoreError,
    NotConfigured,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Healthy => "HEALTHY",
            Status::Stale => "STALE",
            Status::StoreError => "STORE_ERROR",
            Status::NotConfigured => "NOT_CONFIGURED",
        }
    }

    /// The status the SDKs derive from the metadata: unreadable sync time = store error; never
    /// synchronized or too old = stale.
    pub fn of(metadata: &Metadata, now_ms: i64, stale_after: Duration) -> Status {
        match metadata.synchronized_on_ms() {
            Err(_) => Status::StoreError,
            Ok(t) if is_stale(t, now_ms, stale_after) => Status::Stale,
            Ok(_) => Status::Healthy,
        }
    }
}

/// A segment of the flag data whose membership lives in the Big Segments keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BigSegment {
    pub key: String,
    /// `None`: the SDKs cannot look it up (`NOT_CONFIGURED`).
    pub generation: Option<u64>,
    /// The context kind whose key is looked up (`unboundedContextKind`, default `user`).
    pub context_kind: String,
}

impl BigSegment {
    /// `<key>.g<generation>`, when it has a generation.
    pub fn segment_ref(&self) -> Option<String> {
        self.generation.map(|g| segment_ref(&self.key, g))
    }

    /// The Big Segment a segment's JSON describes, if it is one (`"unbounded": true`, not deleted).
    pub fn from_json(key: &str, json: &str) -> Option<BigSegment> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Seg {
            #[serde(default)]
            unbounded: bool,
            #[serde(default)]
            deleted: bool,
            generation: Option<serde_json::Value>,
            unbounded_context_kind: Option<String>,
        }
        let s: Seg = serde_json::from_str(json).ok()?;
        (s.unbounded && !s.deleted).then(|| BigSegment {
            key: key.to_string(),
            generation: s.generation.and_then(|g| g.as_u64()),
            context_kind: s.unbounded_context_kind.filter(|k| !k.is_empty()).unwrap_or_else(|| "user".to_string()),
        })
    }
}

/// The Big Segments among the prefix's segments, by key.
pub async fn big_segments_of(store: &(impl super::Store + ?Sized), prefix: &str) -> anyhow::Result<Vec<BigSegment>> {
    let mut out = Vec::new();
    store
        .read_all(prefix, crate::data::Kind::Segments, &mut |e| {
            if let Ok(item) = e
                && let Some(b) = BigSegment::from_json(&item.key, &item.json)
            {
                out.push(b);
            }
            Ok(())
        })
        .await?;
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// How many contexts one ref includes and excludes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RefCount {
    #[serde(rename = "ref")]
    pub segment_ref: String,
    pub included: u64,
    pub excluded: u64,
    /// The ref of a current Big Segment's generation (else an orphan: an old generation or a
    /// segment that no longer exists).
    pub current: bool,
}

/// What `inspect` shows of a prefix's Big Segments.
#[derive(Debug, Clone, Serialize)]
pub struct Survey {
    /// Why the store cannot hold the prefix's Big Segments (Consul), if so.
    pub unusable: Option<String>,
    /// The stored sync time (text, as stored) and as Unix ms when it is readable.
    pub synchronized_on: Option<String>,
    pub synchronized_on_ms: Option<i64>,
    /// Milliseconds since the last synchronization (`None`: never, or unreadable).
    pub age_ms: Option<i64>,
    pub status: Status,
    pub stale_after_ms: u64,
    pub cursor: Option<String>,
    /// Contexts with a membership record read (all of them unless `sampled`).
    pub contexts: u64,
    /// The reading stopped at `sample_limit` records: counts cover only those.
    pub sampled: bool,
    /// The most records read without `--exact`.
    pub sample_limit: Option<u64>,
    pub refs: Vec<RefCount>,
    /// The Big Segments of the flag data.
    pub segments: Vec<BigSegment>,
    /// Big Segments whose current ref no membership names (in the records read).
    pub without_data: Vec<String>,
}

impl Survey {
    /// Whether there is anything to show: metadata, memberships, or Big Segments in the data.
    pub fn is_empty(&self) -> bool {
        self.synchronized_on.is_none() && self.cursor.is_none() && self.contexts == 0 && self.segments.is_empty()
    }
}

/// Stops a membership read once the sample is complete (not a failure).
#[derive(Debug)]
struct SampleFull;
impl std::fmt::Display for SampleFull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("sample complete")
    }
}
impl std::error::Error for SampleFull {}

/// Survey one prefix's Big Segments: metadata and status at `now_ms`, and per ref the contexts
/// included/excluded, reading at most `limit` membership records (`None`: all), streamed.
pub async fn survey(
    store: &(impl super::Store + ?Sized),
    prefix: &str,
    now_ms: i64,
    stale_after: Duration,
    limit: Option<u64>,
    progress: &dyn super::Progress,
) -> anyhow::Result<Survey> {
    let segments = big_segments_of(store, prefix).await?;
    let mut survey = Survey {
        unusable: None,
        synchronized_on: None,
        synchronized_on_ms: None,
        age_ms: None,
        status: Status::Stale,
        stale_after_ms: stale_after.as_millis() as u64,
        cursor: None,
        contexts: 0,
        sampled: false,
        sample_limit: limit,
        refs: Vec::new(),
        segments,
        without_data: Vec::new(),
    };
    let Some(b) = store.big_segments() else {
        survey.status = Status::NotConfigured;
        if !survey.segments.is_empty() {
            let keys: Vec<&str> = survey.segments.iter().map(|s| s.key.as_str()).collect();
            survey.unusable = Some(format!(
                "{} holds no Big Segments: no SDK can evaluate the unbounded segment{} {} of this prefix",
                store.backend(),
                if keys.len() == 1 { "" } else { "s" },
                keys.join(", ")
            ));
        }
        return Ok(survey);
    };
    let meta = b.metadata(prefix).await?;
    survey.status = Status::of(&meta, now_ms, stale_after);
    survey.synchronized_on_ms = meta.synchronized_on_ms().ok().flatten();
    survey.age_ms = survey.synchronized_on_ms.map(|t| now_ms - t);
    survey.synchronized_on = meta.synchronized_on;
    survey.cursor = meta.cursor;
    let current: std::collections::HashSet<String> =
        survey.segments.iter().filter_map(BigSegment::segment_ref).collect();
    let mut counts: std::collections::HashMap<String, (u64, u64)> = std::collections::HashMap::new();
    let (mut contexts, mut sampled) = (0u64, false);
    progress.set_total_unknown();
    let read = b
        .read_memberships(prefix, &mut |_hash, m| {
            if limit.is_some_and(|l| contexts >= l) {
                sampled = true;
                return Err(SampleFull.into());
            }
            contexts += 1;
            for r in m.included {
                counts.entry(r).or_default().0 += 1;
            }
            for r in m.excluded {
                counts.entry(r).or_default().1 += 1;
            }
            if contexts.is_multiple_of(1000) {
                progress.advance(1000);
            }
            Ok(())
        })
        .await;
    if let Err(e) = read
        && !e.is::<SampleFull>()
    {
        return Err(e);
    }
    survey.contexts = contexts;
    survey.sampled = sampled;
    let mut refs: Vec<RefCount> = counts
        .into_iter()
        .map(|(r, (i, e))| RefCount { current: current.contains(&r), segment_ref: r, included: i, excluded: e })
        .collect();
    refs.sort_by(|a, b| a.segment_ref.cmp(&b.segment_ref));
    survey.without_data = survey
        .segments
        .iter()
        .filter(|s| s.segment_ref().is_none_or(|r| refs.iter().all(|c| c.segment_ref != r)))
        .map(|s| s.key.clone())
        .collect();
    survey.refs = refs;
    Ok(survey)
}

/// What the SDKs decide for one Big Segment and one context, from the membership alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The context's key is in the include set: the segment matches.
    Included,
    /// In the exclude set (and not the include set): the segment does not match.
    Excluded,
    /// In neither: the segment's rules decide.
    Rules,
    /// The context has no context of the segment's kind: the segment does not match.
    NoContextKind,
    /// The segment has no generation: it never matches (`NOT_CONFIGURED`).
    NotConfigured,
}

impl Verdict {
    pub fn describe(self) -> &'static str {
        match self {
            Verdict::Included => "included",
            Verdict::Excluded => "excluded",
            Verdict::Rules => "in neither set: left to the segment's rules",
            Verdict::NoContextKind => "no match: the context has no context of this kind",
            Verdict::NotConfigured => "no match: the segment has no generation (NOT_CONFIGURED)",
        }
    }
}

/// One context key's stored membership.
#[derive(Debug, Clone, Serialize)]
pub struct KeyMembership {
    pub key: String,
    pub hash: String,
    #[serde(flatten)]
    pub membership: Membership,
}

/// One Big Segment's verdict for a context.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentVerdict {
    #[serde(flatten)]
    pub segment: BigSegment,
    #[serde(rename = "ref")]
    pub segment_ref: Option<String>,
    /// The context key looked up (of the segment's context kind).
    pub context_key: Option<String>,
    pub verdict: Verdict,
}

/// The membership of every context key `key_for_kind` gives for the segments' kinds (each key read
/// once: the SDKs look memberships up by key only), and each segment's verdict.
pub async fn verdicts(
    b: &dyn BigSegmentStore,
    prefix: &str,
    segments: &[BigSegment],
    key_for_kind: &dyn Fn(&str) -> Option<String>,
) -> Result<(Vec<KeyMembership>, Vec<SegmentVerdict>), StoreError> {
    let mut keys: Vec<KeyMembership> = Vec::new();
    let mut out = Vec::with_capacity(segments.len());
    for s in segments {
        let segment_ref = s.segment_ref();
        let context_key = key_for_kind(&s.context_kind);
        let verdict = match (&segment_ref, &context_key) {
            (None, _) => Verdict::NotConfigured,
            (_, None) => Verdict::NoContextKind,
            (Some(r), Some(k)) => {
                let at = match keys.iter().position(|m| &m.key == k) {
                    Some(at) => at,
                    None => {
                        let hash = context_hash(k);
                        let membership = b.membership(prefix, &hash).await?;
                        keys.push(KeyMembership { key: k.clone(), hash, membership });
                        keys.len() - 1
                    }
                };
                match keys[at].membership.check(r) {
                    Some(true) => Verdict::Included,
                    Some(false) => Verdict::Excluded,
                    None => Verdict::Rules,
                }
            }
        };
        out.push(SegmentVerdict { segment: s.clone(), segment_ref, context_key, verdict });
    }
    Ok((keys, out))
}

/// Run a store call to completion from synchronous code inside the runtime (a membership
/// visitor), so a streamed read can write as it goes: the worker thread waits meanwhile (the
/// multi-thread runtime ldstore runs on).
pub fn wait<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

/// Contexts per write while memberships are streamed from one place to another.
const STREAM_BATCH: usize = 1_000;

/// A context hash in 16 bytes (the first half of its SHA-256): what a streamed replace or diff,
/// a dry run's plan and a dump's check keep per context instead of the hash and its refs (~100 B).
/// Two different hashes share one with a probability of about n²/2¹²⁹ (10⁻²⁶ for a million
/// contexts). It costs about 65 ms per million contexts on the benchmark machine.
pub fn short_key(hash: &str) -> u128 {
    let d = Sha256::digest(hash.as_bytes());
    u128::from_be_bytes(d[..16].try_into().expect("16 bytes"))
}

/// A membership's refs in 8 bytes (for `diff`): a changed membership reads as unchanged only when
/// two different ref lists share one (about 2⁻⁶⁴ each).
fn fingerprint(m: &Membership) -> u64 {
    let mut h = Sha256::new();
    for (tag, refs) in [(b'+', &m.included), (b'-', &m.excluded)] {
        for r in refs {
            h.update([tag]);
            h.update(r.as_bytes());
            h.update([0]);
        }
    }
    u64::from_be_bytes(h.finalize()[..8].try_into().expect("8 bytes"))
}

/// Batches of [`Replace`] written at once: the next batches are read and sent while earlier ones
/// are still being written, instead of each batch's answer awaited before the next is read.
const IN_FLIGHT: usize = 4;

/// Memberships written in batches as they come (and their hashes remembered, 16 B each), so a
/// destination prefix ends up holding exactly what was pushed: [`Self::finish`] then removes every
/// context the destination held that was not pushed, and writes the metadata last. Memory: up to
/// [`IN_FLIGHT`] batches, plus 16 bytes per context pushed and per context the destination held
/// when [`Self::start`] listed them.
pub struct Replace<'a> {
    dst: &'a dyn BigSegmentStore,
    prefix: &'a str,
    progress: &'a dyn super::Progress,
    batch: Vec<(String, Membership)>,
    in_batch: std::collections::HashSet<u128>,
    seen: Vec<u128>,
    /// The destination's contexts before anything was written (sorted).
    before: Vec<u128>,
    in_flight: FuturesUnordered<BoxFuture<'a, Result<u64, StoreError>>>,
    written: u64,
    /// A signal stops the writes between batches, before the metadata.
    shutdown: crate::shutdown::Shutdown,
}

impl<'a> Replace<'a> {
    /// List the destination's contexts (hashes alone, 16 B each): only when one of them is not
    /// pushed does [`Self::finish`] read the destination again to remove it, so a sync into a new
    /// prefix, or over the same data, does not read back what it wrote.
    pub async fn start(
        dst: &'a dyn BigSegmentStore,
        prefix: &'a str,
        progress: &'a dyn super::Progress,
        shutdown: &crate::shutdown::Shutdown,
    ) -> anyhow::Result<Replace<'a>> {
        progress.set_total_unknown();
        let mut before = Vec::new();
        dst.read_hashes(prefix, &mut |h| {
            before.push(short_key(&h));
            Ok(())
        })
        .await?;
        before.sort_unstable();
        before.dedup();
        Ok(Replace {
            dst,
            prefix,
            progress,
            batch: Vec::with_capacity(STREAM_BATCH),
            in_batch: std::collections::HashSet::new(),
            seen: Vec::new(),
            before,
            in_flight: FuturesUnordered::new(),
            written: 0,
            shutdown: shutdown.clone(),
        })
    }

    /// Take one context's membership (an empty one is no membership: skipped). Synchronous, for a
    /// visitor: a full batch is sent before it returns (and, with [`IN_FLIGHT`] batches unanswered,
    /// the oldest waited for).
    pub fn push(&mut self, hash: String, m: Membership) -> Result<(), StoreError> {
        if m.is_empty() {
            return Ok(());
        }
        // A hash given twice (a Redis SCAN may list a key twice) is written once per batch.
        let key = short_key(&hash);
        if !self.in_batch.insert(key) {
            return Ok(());
        }
        self.seen.push(key);
        self.batch.push((hash, m));
        if self.batch.len() >= STREAM_BATCH { self.flush() } else { Ok(()) }
    }

    /// Send the batch; wait while [`IN_FLIGHT`] are unanswered. Batches in flight share one
    /// connection per node, whose commands Redis runs in the order sent: a hash given again in a
    /// later batch is still written last.
    fn flush(&mut self) -> Result<(), StoreError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        // Between batches: a signal stops here, the sync time and cursor not written (so readers
        // keep seeing the old ones over what is a mixture of old and new memberships).
        if let Some(sig) = self.shutdown.signal() {
            return Err(StoreError::Interrupted(crate::exit::Interrupted::new(
                sig,
                Some(format!(
                    "stopped between Big Segments batches of prefix \"{}\": the memberships are part old, part new, and the sync time and cursor were not written; run the sync again",
                    self.prefix
                )),
            )));
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(STREAM_BATCH));
        self.in_batch.clear();
        let (dst, prefix) = (self.dst, self.prefix);
        self.in_flight.push(Box::pin(async move {
            dst.write_memberships(prefix, &batch).await?;
            Ok(batch.len() as u64)
        }));
        let (in_flight, progress, written) = (&mut self.in_flight, self.progress, &mut self.written);
        wait(std::future::poll_fn(|cx| {
            loop {
                match in_flight.poll_next_unpin(cx) {
                    Poll::Ready(Some(Ok(n))) => {
                        progress.advance(n);
                        *written += n;
                    }
                    Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                    // Each new write polled once (so it is sent); waiting only while too many are.
                    Poll::Pending if in_flight.len() >= IN_FLIGHT => return Poll::Pending,
                    Poll::Ready(None) | Poll::Pending => return Poll::Ready(Ok(())),
                }
            }
        }))
    }

    /// Every batch sent, and answered.
    async fn drain(&mut self) -> Result<(), StoreError> {
        self.flush()?;
        while let Some(n) = self.in_flight.next().await {
            let n = n?;
            self.progress.advance(n);
            self.written += n;
        }
        Ok(())
    }

    /// Write what is left, remove the contexts the destination holds that were not pushed, then
    /// write the metadata (the sync time and cursor last, so no reader sees a fresh sync time over
    /// half-written memberships). Returns (contexts written, contexts removed).
    pub async fn finish(mut self, metadata: &Metadata) -> anyhow::Result<(u64, u64)> {
        self.drain().await?;
        self.seen.sort_unstable();
        self.seen.dedup();
        let mut removed = 0u64;
        let (dst, prefix, progress, seen) = (self.dst, self.prefix, self.progress, &self.seen);
        // Only a context the destination held before and that was not pushed is removed (one
        // written meanwhile by someone else is left: a sync is not atomic for its readers either).
        let stale_before: Vec<u128> = self.before.iter().filter(|k| seen.binary_search(k).is_err()).copied().collect();
        if !stale_before.is_empty() {
            let mut stale: Vec<(String, Membership)> = Vec::new();
            let mut stale_seen = std::collections::HashSet::new();
            let mut remove = |stale: &mut Vec<(String, Membership)>| -> Result<(), StoreError> {
                if !stale.is_empty() {
                    wait(dst.write_memberships(prefix, stale))?;
                    progress.advance(stale.len() as u64);
                    removed += stale.len() as u64;
                    stale.clear();
                }
                Ok(())
            };
            dst.read_hashes(prefix, &mut |h| {
                let key = short_key(&h);
                if stale_before.binary_search(&key).is_ok() && stale_seen.insert(key) {
                    stale.push((h, Membership::default()));
                    if stale.len() >= STREAM_BATCH {
                        remove(&mut stale)?;
                    }
                }
                Ok(())
            })
            .await?;
            remove(&mut stale)?;
        }
        dst.write_metadata(prefix, metadata).await?;
        Ok((self.written, removed))
    }
}

/// What [`copy`] did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CopyReport {
    /// Contexts whose membership was written.
    pub contexts: u64,
    /// Contexts only the destination held, removed.
    pub removed: u64,
    pub metadata: Metadata,
}

/// Whether a prefix holds any membership record (reads one at most).
pub async fn has_memberships(b: &dyn BigSegmentStore, prefix: &str) -> anyhow::Result<bool> {
    let mut any = false;
    let read = b
        .read_memberships(prefix, &mut |_, m| {
            if m.is_empty() {
                return Ok(());
            }
            any = true;
            Err(SampleFull.into())
        })
        .await;
    match read {
        Err(e) if !e.is::<SampleFull>() => Err(e),
        _ => Ok(any),
    }
}

/// Make the destination prefix's Big Segments equal the source prefix's: every membership (each
/// context's sets replaced), contexts only the destination holds removed, then the metadata (sync
/// time and cursor) copied. `Ok(None)` when there is nothing to copy: the source holds no Big
/// Segments store, or no Big Segments data. An error when the destination cannot hold the data
/// (Consul). Streamed (see [`Replace`]): the source is read a page at a time and written in
/// batches of 1,000 as it is read; 16 bytes per context are kept to find the contexts to remove.
pub async fn copy(
    from: &(impl super::Store + ?Sized),
    from_prefix: &str,
    to: &(impl super::Store + ?Sized),
    to_prefix: &str,
    progress: &dyn super::Progress,
    shutdown: &crate::shutdown::Shutdown,
) -> anyhow::Result<Option<CopyReport>> {
    let Some(src) = from.big_segments() else { return Ok(None) };
    let metadata = src.metadata(from_prefix).await?;
    let source_has = has_memberships(src, from_prefix).await?;
    let Some(dst) = to.big_segments() else {
        if !source_has && metadata.is_empty() {
            return Ok(None);
        }
        return Err(StoreError::Other(format!(
            "{} holds no Big Segments: the source's memberships and metadata were not copied (the flag data was)",
            to.backend(),
        ))
        .into());
    };
    if !source_has
        && metadata.is_empty()
        && !has_memberships(dst, to_prefix).await?
        && dst.metadata(to_prefix).await?.is_empty()
    {
        return Ok(None);
    }
    progress.message("copying Big Segments");
    let mut replace = Replace::start(dst, to_prefix, progress, shutdown).await?;
    src.read_memberships(from_prefix, &mut |h, m| Ok(replace.push(h, m)?)).await?;
    let (contexts, removed) = replace.finish(&metadata).await?;
    Ok(Some(CopyReport { contexts, removed, metadata }))
}

/// What a copy or a restore of Big Segments would do (a dry run): the same counts as the
/// [`CopyReport`] a real run would give, nothing written.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    /// Contexts whose membership would be written.
    pub contexts: u64,
    /// Contexts only the destination holds, which would be removed.
    pub removed: u64,
    pub metadata: Metadata,
}

/// The contexts `dst` holds under `prefix` whose [`short_key`] is not in `written`: those a
/// replace writing `written` would remove. Reads the keys alone.
pub async fn removed_by(
    dst: &dyn BigSegmentStore,
    prefix: &str,
    written: &std::collections::HashSet<u128>,
) -> anyhow::Result<u64> {
    let mut removed = std::collections::HashSet::new();
    dst.read_hashes(prefix, &mut |h| {
        let key = short_key(&h);
        if !written.contains(&key) {
            removed.insert(key);
        }
        Ok(())
    })
    .await?;
    Ok(removed.len() as u64)
}

/// What [`copy`] would do, read without writing: `None` where it would copy nothing, the same
/// error where it would refuse. Reads the source's memberships and the destination's keys; keeps
/// 16 bytes per source context.
pub async fn plan_copy(
    from: &(impl super::Store + ?Sized),
    from_prefix: &str,
    to: &(impl super::Store + ?Sized),
    to_prefix: &str,
) -> anyhow::Result<Option<Plan>> {
    let Some(src) = from.big_segments() else { return Ok(None) };
    let metadata = src.metadata(from_prefix).await?;
    let mut written = std::collections::HashSet::new();
    src.read_memberships(from_prefix, &mut |h, m| {
        if !m.is_empty() {
            written.insert(short_key(&h));
        }
        Ok(())
    })
    .await?;
    let Some(dst) = to.big_segments() else {
        if written.is_empty() && metadata.is_empty() {
            return Ok(None);
        }
        return Err(StoreError::Other(format!(
            "{} holds no Big Segments: the source's memberships and metadata would not be copied",
            to.backend(),
        ))
        .into());
    };
    let removed = removed_by(dst, to_prefix, &written).await?;
    if written.is_empty() && metadata.is_empty() && removed == 0 && dst.metadata(to_prefix).await?.is_empty() {
        return Ok(None);
    }
    Ok(Some(Plan { contexts: written.len() as u64, removed, metadata }))
}

/// How two prefixes' memberships differ (`diff`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct MembershipDiff {
    /// Contexts only B holds.
    pub added: Vec<String>,
    /// Contexts only A holds.
    pub removed: Vec<String>,
    /// Contexts whose refs differ.
    pub changed: Vec<String>,
    pub unchanged: u64,
}

impl MembershipDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Compare two prefixes' memberships with bounded memory: A is read once into an index of 24 bytes
/// per context (16-byte hash key, 8-byte fingerprint of its refs, sorted), B is streamed against it,
/// and A is read a second time only to name the contexts it alone holds. The hashes listed are the
/// differences only. `None` when neither store holds Big Segments.
pub async fn diff(
    a: &(impl super::Store + ?Sized),
    a_prefix: &str,
    b: &(impl super::Store + ?Sized),
    b_prefix: &str,
) -> anyhow::Result<Option<MembershipDiff>> {
    let (sa, sb) = (a.big_segments(), b.big_segments());
    if sa.is_none() && sb.is_none() {
        return Ok(None);
    }
    let mut index: Vec<(u128, u64)> = Vec::new();
    if let Some(sa) = sa {
        sa.read_memberships(a_prefix, &mut |h, m| {
            if !m.is_empty() {
                index.push((short_key(&h), fingerprint(&m)));
            }
            Ok(())
        })
        .await?;
    }
    index.sort_unstable();
    index.dedup_by_key(|e| e.0);
    let mut matched = vec![false; index.len()];
    let mut d = MembershipDiff::default();
    if let Some(sb) = sb {
        let mut seen_b = std::collections::HashSet::new();
        sb.read_memberships(b_prefix, &mut |h, m| {
            if m.is_empty() {
                return Ok(());
            }
            let key = short_key(&h);
            match index.binary_search_by_key(&key, |e| e.0) {
                Err(_) => {
                    if seen_b.insert(key) {
                        d.added.push(h);
                    }
                }
                Ok(at) if !matched[at] => {
                    matched[at] = true;
                    if index[at].1 != fingerprint(&m) {
                        d.changed.push(h);
                    } else {
                        d.unchanged += 1;
                    }
                }
                Ok(_) => {}
            }
            Ok(())
        })
        .await?;
    }
    if let Some(sa) = sa
        && matched.iter().any(|m| !m)
    {
        let mut named = std::collections::HashSet::new();
        sa.read_memberships(a_prefix, &mut |h, m| {
            if m.is_empty() {
                return Ok(());
            }
            let key = short_key(&h);
            if let Ok(at) = index.binary_search_by_key(&key, |e| e.0)
                && !matched[at]
                && named.insert(key)
            {
                d.removed.push(h);
            }
            Ok(())
        })
        .await?;
    }
    for v in [&mut d.added, &mut d.removed, &mut d.changed] {
        v.sort();
    }
    Ok(Some(d))
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

    /// The streamed copy (written while read, in batches) makes the destination equal the source:
    /// every membership, a context only the destination held removed, the metadata last; the
    /// bounded-memory diff then finds them equal, and counts and names each kind of difference.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn streamed_copy_and_diff() {
        let s = crate::store::memory::MemoryStore::new();
        let b: &dyn BigSegmentStore = &s;
        let many: Vec<(String, Membership)> = (0..2500)
            .map(|i| {
                (context_hash(&format!("u{i}")), Membership::new([format!("a.g{}", i % 2)], [format!("b.g{}", i % 3)]))
            })
            .collect();
        b.write_memberships("src", &many).await.unwrap();
        let meta = Metadata { synchronized_on: Some("17".into()), cursor: Some("c".into()) };
        b.write_metadata("src", &meta).await.unwrap();
        b.write_memberships("dst", &[(context_hash("old"), Membership::new(["x.g1"], []))]).await.unwrap();
        let none = crate::store::NoProgress;
        let r = copy(&s, "src", &s, "dst", &none, &crate::shutdown::Shutdown::never()).await.unwrap().unwrap();
        assert_eq!((r.contexts, r.removed), (2500, 1));
        assert_eq!(b.metadata("dst").await.unwrap(), meta);
        let d = diff(&s, "src", &s, "dst").await.unwrap().unwrap();
        assert!(d.is_empty() && d.unchanged == 2500, "{d:?}");
        let (changed, added, removed) = (context_hash("u1"), context_hash("new"), context_hash("u2"));
        let edits = [
            (changed.clone(), Membership::new(["a.g1"], [])),
            (added.clone(), Membership::new(["a.g1"], [])),
            (removed.clone(), Membership::default()),
        ];
        b.write_memberships("dst", &edits).await.unwrap();
        let d = diff(&s, "src", &s, "dst").await.unwrap().unwrap();
        assert_eq!((d.added, d.removed, d.changed, d.unchanged), (vec![added], vec![removed], vec![changed], 2498));
        // Nothing on either side: nothing to copy.
        assert!(copy(&s, "none", &s, "none2", &none, &crate::shutdown::Shutdown::never()).await.unwrap().is_none());
    }

    /// A Big Segments store that counts the membership records read from it.
    struct Counting {
        inner: crate::store::memory::MemoryStore,
        read: std::sync::atomic::AtomicU64,
    }

    #[async_trait]
    impl BigSegmentStore for Counting {
        async fn metadata(&self, prefix: &str) -> Result<Metadata, StoreError> {
            self.inner.metadata(prefix).await
        }
        async fn membership(&self, prefix: &str, hash: &str) -> Result<Membership, StoreError> {
            self.inner.membership(prefix, hash).await
        }
        async fn read_memberships(&self, prefix: &str, visit: &mut MembershipVisitor<'_>) -> anyhow::Result<()> {
            let read = &self.read;
            self.inner
                .read_memberships(prefix, &mut |h, m| {
                    read.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    visit(h, m)
                })
                .await
        }
        async fn write_memberships(&self, prefix: &str, m: &[(String, Membership)]) -> Result<(), StoreError> {
            self.inner.write_memberships(prefix, m).await
        }
        async fn write_metadata(&self, prefix: &str, metadata: &Metadata) -> Result<(), StoreError> {
            self.inner.write_metadata(prefix, metadata).await
        }
        async fn remove_refs(&self, prefix: &str, removals: &[(String, Membership)]) -> Result<(), StoreError> {
            self.inner.remove_refs(prefix, removals).await
        }
        async fn apply_patch(
            &self,
            prefix: &str,
            patch: &super::super::big_segments_patch::Patch,
        ) -> Result<super::super::big_segments_patch::Applied, StoreError> {
            self.inner.apply_patch(prefix, patch).await
        }
        async fn mark_synchronized(&self, prefix: &str, now_ms: i64) -> Result<(), StoreError> {
            self.inner.mark_synchronized(prefix, now_ms).await
        }
    }

    /// A streamed replace does not read back what it wrote: into a new prefix nothing is read;
    /// over the same contexts the destination is listed once; a context only the destination held
    /// is still removed. A hash pushed again in a later batch (while earlier batches may still be
    /// in flight) ends up with its later membership.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_streamed_replace_reads_back_only_what_it_must() {
        use std::sync::atomic::Ordering::Relaxed;
        let s = Counting { inner: crate::store::memory::MemoryStore::new(), read: Default::default() };
        let none = crate::store::NoProgress;
        let meta = Metadata { synchronized_on: Some("17".into()), cursor: Some("c".into()) };
        let many = |n: usize| (0..n).map(|i| (context_hash(&format!("u{i}")), Membership::new(["a.g1"], [])));
        let replace = |items: Vec<(String, Membership)>| {
            let (s, none, meta) = (&s, &none, &meta);
            async move {
                let mut r = Replace::start(s, "p", none, &crate::shutdown::Shutdown::never()).await.unwrap();
                for (h, m) in items {
                    r.push(h, m).unwrap();
                }
                r.finish(meta).await.unwrap()
            }
        };
        assert_eq!(replace(many(2500).collect()).await, (2500, 0));
        assert_eq!(s.read.swap(0, Relaxed), 0, "nothing read back from a new prefix");
        assert_eq!(replace(many(2500).collect()).await, (2500, 0));
        assert_eq!(s.read.swap(0, Relaxed), 2500, "the destination listed once, not read again");
        let mut fewer: Vec<_> = many(2499).collect();
        let again = (fewer[10].0.clone(), Membership::new(["b.g2"], ["c.g3"]));
        fewer.push(again.clone());
        assert_eq!(replace(fewer).await, (2500, 1));
        assert!(s.read.swap(0, Relaxed) <= 2 * 2500, "listed, then read again for the one to remove");
        assert!(s.membership("p", &context_hash("u2499")).await.unwrap().is_empty(), "removed");
        assert_eq!(s.membership("p", &again.0).await.unwrap(), again.1, "the later one written last");
        assert_eq!(s.metadata("p").await.unwrap(), meta);
    }

    /// Without `--exact`, the survey reads at most the limit and says it sampled.
    #[tokio::test]
    async fn survey_samples_with_a_stated_bound() {
        let s = crate::store::memory::MemoryStore::new();
        let ms: Vec<(String, Membership)> =
            (0..5).map(|i| (context_hash(&format!("u{i}")), Membership::new(["a.g1"], []))).collect();
        s.write_memberships("p", &ms).await.unwrap();
        let none = crate::store::NoProgress;
        let sampled = survey(&s, "p", 0, DEFAULT_STALE_AFTER, Some(3), &none).await.unwrap();
        assert_eq!((sampled.contexts, sampled.sampled, sampled.sample_limit), (3, true, Some(3)));
        assert_eq!(sampled.refs[0].included, 3);
        let exact = survey(&s, "p", 0, DEFAULT_STALE_AFTER, None, &none).await.unwrap();
        assert_eq!((exact.contexts, exact.sampled), (5, false));
        let at_limit = survey(&s, "p", 0, DEFAULT_STALE_AFTER, Some(5), &none).await.unwrap();
        assert_eq!((at_limit.contexts, at_limit.sampled), (5, false));
        assert_eq!(exact.status, Status::Stale, "never synchronized");
    }
}
