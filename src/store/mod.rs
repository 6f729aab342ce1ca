//! The store-connection layer: the SDK store contract ([`Store`]) and inspection/administration
//! ([`Admin`]) every backend implements, one module per backend, and an in-memory backend
//! ([`memory`]). Commands never speak Redis, DynamoDB or Consul directly.

pub mod big_segments;
pub mod big_segments_patch;
#[doc(hidden)]
pub mod conformance;
pub mod consul;
pub mod dynamodb;
pub mod lease;
pub mod memory;
pub mod redis;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use crate::config::StoreConfig;
use crate::data::{DataSet, Item, ItemError, Kind};
use crate::shutdown::Shutdown;

/// Errors from the store layer (exit code 3).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot connect to {store} at {addr}: {reason}")]
    Unreachable { store: &'static str, addr: String, reason: String },
    /// The connection went away during an operation (not while connecting).
    #[error("lost the connection to {store} at {addr} during {during}: {reason}")]
    Lost { store: &'static str, addr: String, during: String, reason: String },
    #[error("{store} at {addr} refused the credentials: {reason}")]
    Denied { store: &'static str, addr: String, reason: String },
    #[error("{store} timed out after {timeout:?} ({during})")]
    Timeout { store: &'static str, timeout: Duration, during: String },
    #[error("{store} command failed ({during}): {reason}")]
    Command { store: &'static str, during: String, reason: String },
    #[error("{store} schema is wrong: {reason}")]
    Schema { store: &'static str, reason: String },
    #[error("{store} holds an unreadable item: {0}", store = .1)]
    BadItem(ItemError, &'static str),
    #[error("{store} could not apply the change after {attempts} attempts: other writers kept changing {what}")]
    Contention { store: &'static str, attempts: u32, what: String },
    /// Another writer holds the prefix's sync lease (see [`lease`]).
    #[error("{store} prefix \"{prefix}\" is being written by another sync: {holder}")]
    Busy { store: &'static str, prefix: String, holder: String },
    /// This init lost its sync lease and stopped writing.
    #[error("{store} prefix \"{prefix}\": this sync lost its lease and stopped writing: {reason}")]
    LeaseLost { store: &'static str, prefix: String, reason: String },
    /// A signal stopped the write (exit 130/143, not 3).
    #[error(transparent)]
    Interrupted(crate::exit::Interrupted),
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    /// A hint for the user, where one helps.
    pub fn hint(&self) -> Option<String> {
        match self {
            StoreError::Unreachable { store: "DynamoDB", .. } => Some(
                "check the endpoint (--dynamodb-endpoint, DYNAMODB_URL) or the region (--region, AWS_REGION)".into(),
            ),
            StoreError::Denied { store: "DynamoDB", .. } => Some(
                "check the AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO login) and their permissions on the table".into(),
            ),
            StoreError::Unreachable { store, .. } => {
                let example = if *store == "Consul" { "--consul host:8500" } else { "--redis host:6379" };
                Some(format!("check that {store} is running and reachable from here, and the address (e.g. {example})"))
            }
            StoreError::Denied { store: "Redis", .. } => Some(
                "give the password in the URL (redis://user:pass@host:port) or REDIS_PASSWORD (under Sentinel that is the data nodes' password; the sentinels' own goes in REDIS_SENTINEL_PASSWORD)".into(),
            ),
            StoreError::Command { store: "Redis", reason, .. } => redis_shape_hint(reason),
            StoreError::Denied { store: "Consul", .. } => {
                Some("set a token with read/write permission on the prefix: --consul-token, CONSUL_TOKEN or CONSUL_HTTP_TOKEN".into())
            }
            StoreError::Timeout { .. } => Some("raise --store-timeout if the store is slow but alive".into()),
            StoreError::Lost { store: "Redis", .. } => Some(
                "a Redis write is one transaction per hash (per prefix on a single node or a hash-tagged prefix): what was not executed was not written; check Redis and run the command again".into(),
            ),
            StoreError::Lost { store, .. } => Some(format!(
                "check that {store} is up; a sync stopped part-way is reported by inspect and validate until one completes: run it again"
            )),
            StoreError::Busy { .. } => Some(format!(
                "run the sync again when that one has finished; the lease of a writer that was killed or lost its connection expires {} after its last renewal",
                humantime::format_duration(lease::lease_time())
            )),
            StoreError::LeaseLost { .. } => Some(
                "another sync took the prefix over; let it finish, then check the prefix with ldstore validate (run this sync again if its data should win)".into(),
            ),
            _ => None,
        }
    }
}

/// A hint for a Redis error that says the deployment is not of the shape the address asked for.
fn redis_shape_hint(reason: &str) -> Option<String> {
    if ["MOVED", "kind: Moved", "CROSSSLOT", "kind: CrossSlot"].iter().any(|m| reason.contains(m)) {
        Some(
            "the server is a Redis Cluster node: use redis+cluster://host:port, --redis-cluster or REDIS_CLUSTER=true"
                .into(),
        )
    } else if reason.contains("OOM") && reason.contains("maxmemory") && reason.contains(redis::AFTER_A_COMMIT) {
        Some("Redis is at its maxmemory limit and may not evict (noeviction): a later commit was refused after an earlier one (the error says what is new); free memory or raise maxmemory and run the sync again".into())
    } else if reason.contains("OOM") && reason.contains("maxmemory") {
        Some("Redis is at its maxmemory limit and may not evict (noeviction): the write was refused, nothing of it was written; free memory or raise maxmemory (a sync needs room for the new data beside the old until it commits)".into())
    } else if reason.contains("READONLY") || reason.contains("kind: ReadOnly") {
        Some("the address is a read-only replica: give the master's address (or redis+sentinel://…/MASTER to have the sentinels find it)".into())
    } else if reason.contains("cluster support disabled") {
        Some("the server is not a Redis Cluster node: drop redis+cluster://, --redis-cluster or REDIS_CLUSTER".into())
    } else if reason.contains("not point to a sentinel") {
        Some("under Sentinel the addresses are the sentinels' (often port 26379), not the data nodes'".into())
    } else {
        None
    }
}

/// Store errors exit 3, except a write a signal stopped (130/143).
impl crate::exit::Classified for StoreError {
    fn exit_code(&self) -> crate::exit::ExitCode {
        match self {
            StoreError::Interrupted(i) => i.signal.exit_code(),
            _ => crate::exit::ExitCode::Store,
        }
    }
    fn hint(&self) -> Option<String> {
        StoreError::hint(self)
    }
}

/// What a full init wrote.
#[derive(Debug, Default, Clone, Serialize)]
pub struct InitReport {
    pub items_written: usize,
    pub bytes_written: usize,
    /// Items not stored (too large for the store), each with the reason in the store's wording.
    pub skipped: Vec<SkippedItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SkippedItem {
    pub kind: Kind,
    pub key: String,
    pub reason: String,
}

/// Receives progress from long store operations (a progress bar on a terminal, nothing otherwise).
pub trait Progress: Send + Sync {
    /// The items the operation will count (from none done).
    fn set_total(&self, _items: u64) {}
    /// Items are counted as they come, with no total known ahead.
    fn set_total_unknown(&self) {}
    fn advance(&self, _items: u64) {}
    fn message(&self, _msg: &str) {}
}

/// A progress sink that ignores everything.
pub struct NoProgress;
impl Progress for NoProgress {}

/// Receives the items of a streamed init one by one (see [`Store::init_streamed`]).
pub trait ItemSink {
    /// Take one item: its key and JSON. `false` when the store can take no more (`init_streamed`
    /// reports why): the feed should stop.
    fn push(&mut self, kind: Kind, key: &str, json: &str) -> bool;
}

/// How many items of each kind a feed produced.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FedCounts {
    pub flags: usize,
    pub segments: usize,
    /// The source also holds Big Segments data the feed stepped over (a dump's `bigSegments`),
    /// which the caller reads on its own.
    pub big_segments: bool,
}

/// A whole data set produced item by item into a sink, in source order, while it is read. `Some`
/// when every item was produced and the data set is valid; `None` when the sink stopped it, or the
/// source cannot be fed this way (the caller then reads it whole, which also reports what is wrong
/// with it).
pub type Feed = Box<dyn FnOnce(&mut dyn ItemSink) -> Option<FedCounts> + Send>;

/// Per-prefix facts shown by `inspect`.
#[derive(Debug, Default, Clone, Serialize)]
pub struct PrefixStats {
    pub prefix: String,
    pub initialized: bool,
    pub flags: usize,
    pub segments: usize,
    pub tombstones: usize,
    pub total_bytes: usize,
    pub largest_item: Option<LargestItem>,
    pub highest_version: Option<u64>,
    /// Unix ms of the last Big Segments sync, if the store has Big Segments metadata.
    pub big_segments_synced_on: Option<i64>,
    /// Items whose JSON could not be read (named), if any.
    pub unreadable: Vec<String>,
    /// A full init that has not finished (in progress, or interrupted), from its sync lease.
    pub sync: Option<lease::SyncStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LargestItem {
    pub kind: Kind,
    pub key: String,
    pub bytes: usize,
}

impl PrefixStats {
    pub fn add(&mut self, kind: Kind, item: &Item) {
        match kind {
            Kind::Flags if !item.deleted => self.flags += 1,
            Kind::Segments if !item.deleted => self.segments += 1,
            _ => self.tombstones += 1,
        }
        let n = item.json.len();
        self.total_bytes += n;
        if self.largest_item.as_ref().is_none_or(|l| n > l.bytes) {
            self.largest_item = Some(LargestItem { kind, key: item.key.clone(), bytes: n });
        }
        self.highest_version = Some(self.highest_version.map_or(item.version, |v| v.max(item.version)));
    }
}

/// Where an item lives in a store, as exact keys, for `inspect`.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub role: String,
    pub key: String,
}

/// Result of a version-guarded upsert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Upserted {
    /// The item was written.
    Applied,
    /// The store already held this version or a newer one.
    Stale { stored_version: u64 },
}

/// An item whose store-level version attribute disagrees with its JSON.
#[derive(Debug, Clone, Serialize)]
pub struct VersionMismatch {
    pub kind: Kind,
    pub key: String,
    /// The attribute as stored (text, since it may not even be a number).
    pub attribute: String,
    pub json_version: u64,
}

/// A stored value that is not a usable item (not JSON, not an object, bad version).
#[derive(Debug, Clone)]
pub struct BadItem {
    pub key: String,
    pub json: String,
    pub error: ItemError,
}

/// What a streamed read yields per key: the item, or the raw value and why it is unusable.
pub type Entry = Result<Item, BadItem>;

/// A visitor for streamed reads. Returning an error stops the read.
pub type Visitor<'a> = dyn FnMut(Entry) -> anyhow::Result<()> + Send + 'a;

/// A stored key and value, as bytes, into an [`Entry`]: bytes that are not UTF-8 (in the key or the
/// value) make an unusable item, named with the key's bytes escaped (`k\xff`), never replaced.
pub fn entry_bytes(kind: Kind, key: &[u8], value: Vec<u8>) -> Entry {
    let key = match std::str::from_utf8(key) {
        Ok(key) => key,
        Err(e) => {
            let shown = escape_bytes(key);
            let what = format!("its key is not valid UTF-8 (invalid byte at offset {})", e.valid_up_to());
            return Err(BadItem {
                key: shown.clone(),
                json: String::from_utf8_lossy(&value).into_owned(),
                error: ItemError::NotUtf8 { kind, key: shown, what },
            });
        }
    };
    match String::from_utf8(value) {
        Ok(json) => entry(kind, key, json),
        Err(e) => {
            let what = format!("its JSON is not valid UTF-8 (invalid byte at offset {})", e.utf8_error().valid_up_to());
            Err(BadItem {
                key: key.to_string(),
                json: String::from_utf8_lossy(e.as_bytes()).into_owned(),
                error: ItemError::NotUtf8 { kind, key: key.to_string(), what },
            })
        }
    }
}

/// Bytes that are not all UTF-8, for messages: the UTF-8 parts as they are (a backslash doubled),
/// each other byte as `\xNN`.
pub fn escape_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() + 8);
    for chunk in b.utf8_chunks() {
        out.push_str(&chunk.valid().replace('\\', "\\\\"));
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

/// Parse a stored value into an [`Entry`].
pub fn entry(kind: Kind, key: &str, json: String) -> Entry {
    match crate::data::facts(kind, key, &json) {
        Ok(f) => match f.version {
            Some(version) => Ok(Item {
                key: key.to_string(),
                version,
                deleted: f.deleted,
                prerequisites: f.prerequisites,
                json: json.into(),
            }),
            None => Err(BadItem {
                key: key.to_string(),
                json,
                error: ItemError::MissingVersion { kind, key: key.to_string() },
            }),
        },
        Err(error) => Err(BadItem { key: key.to_string(), json, error }),
    }
}

/// Which kind of store a connection speaks to. Displayed as the store's name in messages
/// (`Redis`, `DynamoDB`, `Consul`, `Memory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Redis,
    DynamoDb,
    Consul,
    /// The in-memory store ([`memory::MemoryStore`]), for tests.
    Memory,
}

impl Backend {
    /// The name shown in messages (and in [`StoreError`]s, which hold it as text).
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Redis => "Redis",
            Backend::DynamoDb => "DynamoDB",
            Backend::Consul => "Consul",
            Backend::Memory => "Memory",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Backend {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The persistent-store contract every backend honours, as the LaunchDarkly SDKs and the Relay
/// Proxy use a store: full init of a prefix (atomic where the store allows it), read all of a kind,
/// read one, version-guarded upsert, the initialized marker. Every method takes the effective
/// prefix (see [`Store::effective_prefix`]), so one connection serves many prefixes (inspect of all
/// prefixes, multi-environment sync). Inspection and administration are [`Admin`]'s.
#[async_trait]
pub trait Store: Send + Sync {
    /// Which store this is (its name in messages).
    fn backend(&self) -> Backend;

    /// The prefix actually used for a requested one (`None` or empty means the backend default).
    fn effective_prefix(&self, requested: Option<&str>) -> String;

    /// Stream every item of one kind under the prefix (tombstones included), each key once, in no
    /// particular order. Values that are not usable items are passed as [`BadItem`]s.
    async fn read_all(&self, prefix: &str, kind: Kind, visit: &mut Visitor<'_>) -> anyhow::Result<()>;

    /// Read one item.
    async fn get(&self, prefix: &str, kind: Kind, key: &str) -> Result<Option<Item>, StoreError>;

    /// Whether the prefix's `$inited` marker exists.
    async fn is_initialized(&self, prefix: &str) -> Result<bool, StoreError>;

    /// Whether any item of `kind` (a tombstone counts) is stored under the prefix, read cheaply
    /// (one key's existence, one row, one listing), without reading the items. The safety rules
    /// (never empty a prefix by accident) ask it before a full init.
    async fn has_items(&self, prefix: &str, kind: Kind) -> Result<bool, StoreError>;

    /// Replace everything under the prefix with `data` (segments first, prerequisites before
    /// dependants, marker last). Atomic where the store allows it; elsewhere (DynamoDB, Consul)
    /// under the prefix's sync lease (see [`lease`]). A signal on `shutdown` stops it cleanly at
    /// the next batch (or abandons an uncommitted transaction) with [`StoreError::Interrupted`].
    async fn init(
        &self,
        prefix: &str,
        data: &DataSet,
        progress: &dyn Progress,
        shutdown: &Shutdown,
    ) -> Result<InitReport, StoreError>;

    /// [`Store::init`] of items fed while they are being written, for stores where nothing a full
    /// init writes is visible before it commits (Redis: one MULTI/EXEC), so an invalid item late in
    /// the source still leaves the store untouched. `Ok(None)`, with nothing written, when the store
    /// cannot (the default) or the feed gave up: the caller then reads the source whole and calls
    /// `init`.
    async fn init_streamed(
        &self,
        _prefix: &str,
        _feed: Feed,
        _progress: Arc<dyn Progress>,
        _shutdown: &Shutdown,
    ) -> Result<Option<(InitReport, FedCounts)>, StoreError> {
        Ok(None)
    }

    /// Write one item (or tombstone) only if its version is newer than the stored one.
    async fn upsert(&self, prefix: &str, kind: Kind, item: &Item) -> Result<Upserted, StoreError>;

    /// [`Store::upsert`] of several items of one kind, with distinct keys; one answer per item, in
    /// order. The default upserts them one after the other; a store that can guard and write them
    /// together (Redis: one WATCH/HMGET round trip, one MULTI/HSET/EXEC) or send them at once
    /// (DynamoDB, Consul: [`upserts_in_flight`]) does, so a relay keeps up with many patches
    /// through a slow link. On an error some of them may have been written.
    async fn upsert_many(&self, prefix: &str, kind: Kind, items: &[Item]) -> Result<Vec<Upserted>, StoreError> {
        upserts_in_flight(self, prefix, kind, items, 1).await
    }

    /// The store's Big Segments capability (see [`big_segments`]); `None` for a store that holds
    /// none (Consul: no SDK reads Big Segments from it).
    fn big_segments(&self) -> Option<&dyn big_segments::BigSegmentStore> {
        None
    }

    /// Read a whole prefix into memory (for dump, diff, dry-run). An unusable value is an error
    /// naming it.
    async fn read_data_set(&self, prefix: &str) -> anyhow::Result<DataSet> {
        let mut data = DataSet::default();
        let backend = self.backend().as_str();
        for kind in Kind::ALL {
            let map = data.items_mut(kind);
            self.read_all(prefix, kind, &mut |e: Entry| {
                let item = e.map_err(|bad| StoreError::BadItem(bad.error, backend))?;
                map.insert(item.key.clone(), item);
                Ok(())
            })
            .await?;
        }
        Ok(data)
    }
}

/// Inspection and administration of a connected store, beyond the SDK contract: where it is,
/// which prefixes it holds, what else lies under a prefix, the facts `inspect` and `validate` show.
#[async_trait]
pub trait Admin: Store {
    /// Address for display, with secrets masked.
    fn address(&self) -> String;

    /// The exact store keys a prefix resolves to.
    fn keys(&self, prefix: &str) -> Vec<KeyInfo>;

    /// Largest item the store accepts (bytes of JSON, as the store or SDKs estimate it), if any.
    fn item_size_limit(&self) -> Option<usize> {
        None
    }

    /// Said after "no LaunchDarkly data found" when an empty listing may mean something else.
    fn empty_listing_note(&self) -> &'static str {
        ""
    }

    /// Check the connection (and credentials) once.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Every LaunchDarkly prefix present in the store.
    async fn list_prefixes(&self) -> Result<Vec<String>, StoreError>;

    /// Keys under the prefix that are neither LaunchDarkly data nor SDK/Relay bookkeeping (for
    /// `validate`). Default: not checked (none reported).
    async fn unknown_keys(&self, _prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(Vec::new())
    }

    /// Items whose store-level version (DynamoDB's `version` attribute) disagrees with the version
    /// in their JSON (for `validate`). Default: none (stores without such an attribute).
    async fn version_mismatches(&self, _prefix: &str) -> Result<Vec<VersionMismatch>, StoreError> {
        Ok(Vec::new())
    }

    /// The prefix's sync lease, if one is recorded: a full init in progress, or one that never
    /// finished. Default: none (stores whose init is atomic).
    async fn sync_lease(&self, _prefix: &str) -> Result<Option<lease::LeaseRecord>, StoreError> {
        Ok(None)
    }

    /// Counts and sizes for one prefix, with its Big Segments sync time and sync lease (streams the
    /// items; nothing is held in memory).
    async fn stats(&self, prefix: &str) -> anyhow::Result<PrefixStats> {
        let mut stats = item_stats(self, prefix).await?;
        // The Big Segments sync time as the SDKs read it (an unreadable one shows as none here;
        // `validate` and `inspect`'s Big Segments rows name it).
        stats.big_segments_synced_on = match self.big_segments() {
            Some(b) => b.metadata(prefix).await?.synchronized_on_ms().ok().flatten(),
            None => None,
        };
        stats.sync = self.sync_lease(prefix).await?.map(|r| r.status(lease::now_ms()));
        Ok(stats)
    }
}

/// Counts and sizes of one prefix's items, and whether it is initialized, from the store contract
/// alone (streams the items; nothing is held in memory). [`Admin::stats`] adds the rest.
pub async fn item_stats<S: Store + ?Sized>(store: &S, prefix: &str) -> anyhow::Result<PrefixStats> {
    let mut stats = PrefixStats { prefix: prefix.to_string(), ..Default::default() };
    stats.initialized = store.is_initialized(prefix).await?;
    for kind in Kind::ALL {
        let mut per_kind = PrefixStats::default();
        let mut unreadable = Vec::new();
        store
            .read_all(prefix, kind, &mut |e: Entry| {
                match e {
                    Ok(item) => per_kind.add(kind, &item),
                    Err(bad) => unreadable.push(format!("{kind}/{}", bad.key)),
                }
                Ok(())
            })
            .await?;
        stats.unreadable.extend(unreadable);
        stats.flags += per_kind.flags;
        stats.segments += per_kind.segments;
        stats.tombstones += per_kind.tombstones;
        stats.total_bytes += per_kind.total_bytes;
        if let Some(l) = per_kind.largest_item
            && stats.largest_item.as_ref().is_none_or(|s| l.bytes > s.bytes)
        {
            stats.largest_item = Some(l);
        }
        if let Some(v) = per_kind.highest_version {
            stats.highest_version = Some(stats.highest_version.map_or(v, |h| h.max(v)));
        }
    }
    Ok(stats)
}

/// Whether the prefix holds any item (flag, segment or tombstone).
pub async fn holds_items(store: &dyn Store, prefix: &str) -> Result<bool, StoreError> {
    for kind in Kind::ALL {
        if store.has_items(prefix, kind).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether a prefix read as a source holds LaunchDarkly data: its `$inited` marker, or else flags
/// (the Python SDK before 9.15 wrote no marker). A prefix without either is absent (a typo) or
/// unreadable (Consul shows a token without read permission nothing).
pub async fn holds_ld_data(store: &dyn Store, prefix: &str) -> Result<bool, StoreError> {
    Ok(store.is_initialized(prefix).await? || store.has_items(prefix, Kind::Flags).await?)
}

/// What a store can hold and read back as itself, known from its configuration alone (so it is
/// checked before connecting, and before anything is written). The rules live with each backend:
/// [`consul::path_problem`], [`dynamodb::prefix_problem`], [`dynamodb::key_problem`]; Redis holds
/// any prefix and any key (an empty hash field included).
impl StoreConfig {
    /// The prefix a requested one resolves to: the backend's default for none or an empty one
    /// (`launchdarkly` for Redis and Consul; DynamoDB has none), as [`Store::effective_prefix`].
    pub fn effective_prefix(&self, requested: Option<&str>) -> String {
        match self {
            StoreConfig::Redis(_) => prefix_or(requested, redis::DEFAULT_PREFIX),
            StoreConfig::Consul(_) => prefix_or(requested, consul::DEFAULT_PREFIX),
            StoreConfig::DynamoDb(_) => requested.unwrap_or("").to_string(),
        }
    }

    /// Why this store cannot hold `prefix` (an effective prefix) and read it back; `None`: it can.
    pub fn prefix_problem(&self, prefix: &str) -> Option<String> {
        match self {
            StoreConfig::Redis(_) => None,
            StoreConfig::Consul(_) => consul::path_problem(prefix),
            StoreConfig::DynamoDb(_) => dynamodb::prefix_problem(prefix),
        }
    }

    /// Why this store cannot hold an item with this key (under any prefix it can hold) and read it
    /// back; `None`: it can.
    pub fn key_problem(&self, key: &str) -> Option<String> {
        match self {
            StoreConfig::Redis(_) => None,
            StoreConfig::Consul(_) => consul::path_problem(key),
            StoreConfig::DynamoDb(_) => dynamodb::key_problem(key),
        }
    }

    /// Exit 2 naming the rule when this store cannot hold `prefix` (an effective prefix).
    pub fn check_prefix(&self, prefix: &str) -> anyhow::Result<()> {
        match self.prefix_problem(prefix) {
            None => Ok(()),
            Some(why) => Err(crate::exit::UsageError::new(format!(
                "{} cannot hold the prefix {} and read it back: {why}",
                self.backend(),
                shown_key(prefix)
            ))
            .hint(format!("choose another prefix (see \"{}\" in the README for the keys it can hold)", self.backend()))
            .into()),
        }
    }

    /// Exit 2 naming every item of `data` whose key this store cannot hold and read back, before
    /// anything is written.
    pub fn check_data_set(&self, data: &DataSet) -> anyhow::Result<()> {
        let mut bad: Vec<String> = Vec::new();
        let mut count = 0;
        for kind in Kind::ALL {
            for key in data.items(kind).keys() {
                if let Some(why) = self.key_problem(key) {
                    count += 1;
                    if bad.len() < 5 {
                        let what = if kind == Kind::Flags { "flag" } else { "segment" };
                        bad.push(format!("{what} {}: {why}", shown_key(key)));
                    }
                }
            }
        }
        if count == 0 {
            return Ok(());
        }
        let more = if count > bad.len() { format!("; and {} more", count - bad.len()) } else { String::new() };
        let what = if count == 1 { "an item key".to_string() } else { format!("{count} item keys") };
        Err(crate::exit::UsageError::new(format!(
            "{} cannot hold {what} of this data set and read it back, so nothing was written: {}{more}",
            self.backend(),
            bad.join("; ")
        ))
        .hint(format!("rename these items, or keep them in another store (see \"{}\" in the README)", self.backend()))
        .into())
    }
}

/// A key or prefix as shown in messages: quoted and escaped, cut short when long.
pub fn shown_key(key: &str) -> String {
    const MAX: usize = 60;
    let escaped: String = key.escape_debug().collect();
    if escaped.chars().count() <= MAX {
        format!("\"{escaped}\"")
    } else {
        let head: String = escaped.chars().take(MAX).collect();
        format!("\"{head}…\" ({} bytes)", key.len())
    }
}

/// The requested prefix, or `default` when none (or an empty one) was asked for.
pub fn prefix_or(requested: Option<&str>, default: &str) -> String {
    match requested {
        Some(p) if !p.is_empty() => p.to_string(),
        _ => default.to_string(),
    }
}

/// [`Store::upsert_many`] as `store`'s own upserts, up to `in_flight` of them at a time (each guarded
/// by its version as one alone is; no transaction, so one stale item holds up none of the others),
/// answers in order. The first error ends it: the upserts still in flight are dropped, as one after
/// another would have stopped there.
pub(crate) async fn upserts_in_flight<S: Store + ?Sized>(
    store: &S,
    prefix: &str,
    kind: Kind,
    items: &[Item],
    in_flight: usize,
) -> Result<Vec<Upserted>, StoreError> {
    use futures::{StreamExt, TryStreamExt};
    let writes: Vec<_> = items.iter().map(|item| store.upsert(prefix, kind, item)).collect();
    futures::stream::iter(writes).buffered(in_flight).try_collect().await
}

/// Whether the store [`open`] gives for `cfg` takes a streamed init ([`Store::init_streamed`]), so
/// a caller can read a source whole while it connects to any other.
pub fn streams_init(cfg: &StoreConfig) -> bool {
    matches!(cfg, StoreConfig::Redis(_))
}

/// The store a configuration names. Redis, like the DynamoDB and Consul clients, connects when a
/// request first needs it, so an unreachable store is reported by that request.
pub async fn open(cfg: &StoreConfig) -> Result<Box<dyn Admin>, StoreError> {
    match cfg {
        StoreConfig::Redis(r) => Ok(Box::new(redis::RedisStore::open(r).await?)),
        StoreConfig::DynamoDb(d) => dynamodb::open(d).await,
        StoreConfig::Consul(c) => consul::open(c).await,
    }
}

/// What a listed prefix's form tells a user: `{ld}.<p>` is what LaunchDarkly's Go store on go-redis
/// writes by itself for prefix `<p>` when it is given several Redis addresses (cluster or Sentinel).
pub fn prefix_form_note(prefix: &str) -> Option<String> {
    let base = prefix.strip_prefix("{ld}.")?;
    Some(format!(
        "the form LaunchDarkly's Go SDK store on go-redis writes for prefix \"{base}\" on a Redis Cluster or \
         Sentinel (its automatic \"{{ld}}.\" hash tag); read it with --prefix \"{prefix}\""
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_are_not_utf8_make_named_unusable_items() {
        let ok = entry_bytes(Kind::Flags, b"a", br#"{"key":"a","version":2}"#.to_vec()).unwrap();
        assert_eq!((ok.key.as_str(), ok.version), ("a", 2));
        let bad = entry_bytes(Kind::Flags, b"k\xff", br#"{"key":"k","version":1}"#.to_vec()).unwrap_err();
        assert_eq!(bad.key, r"k\xff");
        assert_eq!(
            bad.error.to_string(),
            r#"flags item "k\xff": its key is not valid UTF-8 (invalid byte at offset 1)"#
        );
        let bad = entry_bytes(Kind::Segments, "s\u{e9}".as_bytes(), b"{\"salt\":\"\xe9\"}".to_vec()).unwrap_err();
        assert_eq!(bad.key, "s\u{e9}");
        assert_eq!(
            bad.error.to_string(),
            "segments item \"s\u{e9}\": its JSON is not valid UTF-8 (invalid byte at offset 9)"
        );
        // Distinct bytes stay distinct names; a backslash is doubled so nothing reads as an escape.
        assert_eq!(escape_bytes(b"k\xfe"), r"k\xfe");
        assert_eq!(escape_bytes(b"a\\xff\xc3"), r"a\\xff\xc3");
        assert_eq!(escape_bytes("\u{e9}\u{1f600}".as_bytes()), "\u{e9}\u{1f600}");
    }
}
