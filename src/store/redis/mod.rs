//! Redis backend: hashes `<p>:features` and `<p>:segments`, marker `<p>:$inited`, exactly as the
//! Go SDK, the Relay Proxy, and the Python and Node SDKs lay them out.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, IntoConnectionInfo, RedisError, Value};
use tokio::sync::Mutex;

mod big_segments;
mod streamed;

use super::{
    Admin, Backend, FedCounts, Feed, InitReport, KeyInfo, Progress, Store, StoreError, Upserted, Visitor, entry_bytes,
};
use crate::config::RedisConfig;
use crate::data::{DataSet, Item, Kind};
use crate::secrets;
use crate::shutdown::{Shutdown, Signal};

const BACKEND: &str = Backend::Redis.as_str();
/// Hashes with at most this many fields are read with one HGETALL (a consistent snapshot);
/// larger ones with HSCAN pages so no single reply is huge.
const HGETALL_MAX_FIELDS: usize = 5_000;
const HSCAN_COUNT: usize = 1_000;
/// Fields per HSET command and bytes per pipelined chunk during init.
const HSET_MAX_FIELDS: usize = 1_000;
const CHUNK_BYTES: usize = 1024 * 1024;
const UPSERT_ATTEMPTS: u32 = 10;

pub const DEFAULT_PREFIX: &str = "launchdarkly";

pub struct RedisStore {
    client: Client,
    config: AsyncConnectionConfig,
    display: String,
    timeout: Duration,
    /// Shared connection for plain reads.
    conn: MultiplexedConnection,
    /// Dedicated connection for WATCH/MULTI/EXEC (connection state must not be shared).
    tx_conn: Mutex<Option<MultiplexedConnection>>,
}

fn classify(err: RedisError, addr: &str, during: &str, timeout: Duration) -> StoreError {
    let text = err.to_string();
    let code = err.code().unwrap_or("");
    if matches!(code, "WRONGPASS" | "NOAUTH" | "NOPERM")
        || err.kind() == redis::ErrorKind::AuthenticationFailed
        || text.contains("WRONGPASS")
        || text.contains("NOAUTH")
    {
        return StoreError::Denied { store: BACKEND, addr: addr.to_string(), reason: secrets::mask(&text) };
    }
    if err.is_timeout() {
        return StoreError::Timeout { store: BACKEND, timeout, during: during.to_string() };
    }
    if err.is_connection_refusal() || err.is_io_error() || err.is_connection_dropped() {
        return StoreError::Unreachable { store: BACKEND, addr: addr.to_string(), reason: secrets::mask(&text) };
    }
    StoreError::Command { store: BACKEND, during: during.to_string(), reason: secrets::mask(&text) }
}

impl RedisStore {
    pub async fn connect(cfg: &RedisConfig) -> Result<RedisStore, StoreError> {
        let display = cfg.url.clone();
        let bad_config = |e: RedisError| StoreError::Other(format!("invalid Redis address {display}: {e}"));
        let mut info = cfg.url.as_str().into_connection_info().map_err(bad_config)?;
        let mut settings = info.redis_settings().clone();
        if let Some(u) = &cfg.username {
            settings = settings.set_username(u);
        }
        if let Some(p) = &cfg.password {
            settings = settings.set_password(p);
        }
        info = info.set_redis_settings(settings);
        let client = match &cfg.ca_file {
            Some(path) => {
                let pem = std::fs::read(path)
                    .map_err(|e| StoreError::Other(format!("cannot read Redis CA file {}: {e}", path.display())))?;
                Client::build_with_tls(info, redis::TlsCertificates { client_tls: None, root_cert: Some(pem) })
                    .map_err(bad_config)?
            }
            None => Client::open(info).map_err(bad_config)?,
        };
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(cfg.timeout))
            .set_response_timeout(Some(cfg.timeout));
        let conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| classify(e, &display, "connecting", cfg.timeout))?;
        Ok(RedisStore { client, config, display, timeout: cfg.timeout, conn, tx_conn: Mutex::new(None) })
    }

    fn err(&self, e: RedisError, during: &str) -> StoreError {
        classify(e, &self.display, during, self.timeout)
    }

    /// The error for a data key that is not a hash (another tool wrote it): names the key and its
    /// type, as `TYPE` gives it.
    async fn wrong_type(&self, key: &str) -> StoreError {
        let mut c = self.conn.clone();
        let ty: String = redis::cmd("TYPE").arg(key).query_async(&mut c).await.unwrap_or_else(|_| "other type".into());
        StoreError::Other(format!("Redis key \"{}\" is a {ty}, not a hash", secrets::mask(key)))
    }

    fn hash_key(prefix: &str, kind: Kind) -> String {
        format!("{prefix}:{}", kind.namespace())
    }

    fn inited_key(prefix: &str) -> String {
        format!("{prefix}:$inited")
    }

    async fn tx_connection(&self) -> Result<tokio::sync::MutexGuard<'_, Option<MultiplexedConnection>>, StoreError> {
        let mut guard = self.tx_conn.lock().await;
        if guard.is_none() {
            let c = self
                .client
                .get_multiplexed_async_connection_with_config(&self.config)
                .await
                .map_err(|e| self.err(e, "connecting"))?;
            *guard = Some(c);
        }
        Ok(guard)
    }

    /// Every key in the database (or matching `pattern`), by SCAN pages; each passed to `visit`.
    async fn scan_keys(&self, pattern: Option<&str>, visit: &mut (dyn FnMut(String) + Send)) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        let mut cursor: u64 = 0;
        loop {
            let mut cmd = redis::cmd("SCAN");
            cmd.arg(cursor);
            if let Some(p) = pattern {
                cmd.arg("MATCH").arg(p);
            }
            let (next, keys): (u64, Vec<String>) =
                cmd.arg("COUNT").arg(1000).query_async(&mut c).await.map_err(|e| self.err(e, "SCAN"))?;
            keys.into_iter().for_each(&mut *visit);
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    async fn init_on(
        &self,
        conn: &mut MultiplexedConnection,
        prefix: &str,
        data: &DataSet,
        progress: &dyn Progress,
        shutdown: &Shutdown,
    ) -> Result<InitReport, StoreError> {
        progress.set_total(data.len() as u64);
        let abandon_on_signal = || match shutdown.signal() {
            Some(sig) => Err(discarded(sig, prefix)),
            None => Ok(()),
        };
        abandon_on_signal()?;
        redis::cmd("MULTI").exec_async(conn).await.map_err(|e| self.err(e, "MULTI"))?;
        // Queued in pipelines of about CHUNK_BYTES. Each is sent only after Redis acknowledged the
        // one before (the order inside the transaction is the write order), but the next one is
        // encoded while Redis reads the current one.
        let mut commands = InitCommands::new(prefix, data);
        let mut next = commands.next_pipeline();
        while let Some((pipe, items)) = next {
            // A signal abandons the transaction: nothing queued is ever applied.
            abandon_on_signal()?;
            let (sent, following) = futures::join!(pipe.exec_async(conn), async { commands.next_pipeline() });
            sent.map_err(|e| self.err(e, "queueing HSET"))?;
            progress.advance(items);
            next = following;
        }
        let report = commands.report;
        abandon_on_signal()?;
        progress.message("committing");
        let result: Value = redis::cmd("EXEC")
            .query_async(conn)
            .await
            .map_err(|e| if connection_lost(&e) { outcome_unknown(prefix, &e) } else { self.err(e, "EXEC") })?;
        check_exec(result)?;
        Ok(report)
    }

    async fn upsert_on(
        &self,
        conn: &mut MultiplexedConnection,
        prefix: &str,
        kind: Kind,
        item: &Item,
    ) -> Result<Upserted, StoreError> {
        let key = Self::hash_key(prefix, kind);
        for attempt in 0..UPSERT_ATTEMPTS {
            if attempt > 0 {
                // Writers that keep aborting each other's transactions spread out: a random pause
                // of up to 1 ms, doubling with each attempt (at most 64 ms).
                let most = 1u64 << (attempt - 1).min(6);
                tokio::time::sleep(Duration::from_micros(rand::random_range(0..=most * 1000))).await;
            }
            redis::cmd("WATCH").arg(&key).exec_async(conn).await.map_err(|e| self.err(e, "WATCH"))?;
            let old: Option<String> =
                redis::cmd("HGET").arg(&key).arg(&item.key).query_async(conn).await.map_err(|e| self.err(e, "HGET"))?;
            if let Some(old) = old {
                // An unreadable stored value is replaced, as the SDKs do.
                let old_version = crate::data::facts(kind, &item.key, &old).ok().and_then(|f| f.version).unwrap_or(0);
                if old_version >= item.version {
                    redis::cmd("UNWATCH").exec_async(conn).await.map_err(|e| self.err(e, "UNWATCH"))?;
                    return Ok(Upserted::Stale { stored_version: old_version });
                }
            }
            let result: Value = redis::pipe()
                .atomic()
                .cmd("HSET")
                .arg(&key)
                .arg(&item.key)
                .arg(item.json.as_bytes())
                .query_async(conn)
                .await
                .map_err(|e| self.err(e, "HSET"))?;
            if !matches!(result, Value::Nil) {
                return Ok(Upserted::Applied);
            }
            // EXEC returned nil: another writer touched the hash; read again and retry (after a pause).
        }
        Err(StoreError::Contention { store: BACKEND, attempts: UPSERT_ATTEMPTS, what: key })
    }
}

/// `EXEC`'s answer: an error for a transaction aborted (nil, or an error in place of the replies)
/// or for any command in it that failed.
fn check_exec(result: Value) -> Result<(), StoreError> {
    match result {
        Value::Array(replies) => match replies.into_iter().find(|r| matches!(r, Value::ServerError(_))) {
            Some(Value::ServerError(e)) => Err(exec_failed(format!("{e:?}"))),
            _ => Ok(()),
        },
        Value::Nil => Err(exec_failed("transaction aborted".into())),
        Value::ServerError(e) => Err(exec_failed(format!("{e:?}"))),
        _ => Ok(()),
    }
}

/// The error for an init a signal stopped before `EXEC`: dropping the connection discards the
/// transaction, so nothing was written.
fn discarded(sig: Signal, prefix: &str) -> StoreError {
    StoreError::Interrupted(crate::exit::Interrupted::new(
        sig,
        Some(format!("nothing was written (the transaction was discarded); Redis prefix \"{prefix}\" is unchanged")),
    ))
}

/// Whether an error means the connection went away (the answer will never come).
fn connection_lost(e: &RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout()
}

/// The error for an init whose `EXEC` was sent but whose answer never came: Redis may or may not
/// have applied the transaction, and says so, with how to find out.
fn outcome_unknown(prefix: &str, e: &RedisError) -> StoreError {
    StoreError::Other(format!(
        "the connection to Redis was lost after EXEC was sent, before its answer ({}): the outcome is unknown. A transaction is applied whole or not at all, so prefix \"{prefix}\" holds either all of the new data or what it held before; check with ldstore diff (the source against the store) or ldstore inspect --prefix {prefix}, or run the sync again",
        secrets::mask(&e.to_string())
    ))
}

fn exec_failed(reason: String) -> StoreError {
    StoreError::Command { store: BACKEND, during: "EXEC".into(), reason }
}

/// The commands of a full init in order (per kind, segments first: `DEL` of the hash, then
/// `HSET`s of at most HSET_MAX_FIELDS items in write order; then `SET` of the marker), grouped into
/// pipelines of about CHUNK_BYTES.
struct InitCommands<'a> {
    prefix: &'a str,
    kinds: Vec<(Kind, Vec<&'a Item>)>,
    /// Index into `kinds` of the kind being queued; `kinds.len()` once only the marker is left.
    kind: usize,
    /// Items of that kind already queued; `None` before its `DEL`.
    queued: Option<usize>,
    finished: bool,
    report: InitReport,
}

impl<'a> InitCommands<'a> {
    fn new(prefix: &'a str, data: &'a DataSet) -> InitCommands<'a> {
        let kinds = Kind::INIT_ORDER.iter().map(|k| (*k, data.write_order(*k))).collect();
        InitCommands { prefix, kinds, kind: 0, queued: None, finished: false, report: InitReport::default() }
    }

    /// The next pipeline and the number of items it writes; `None` once everything is queued.
    fn next_pipeline(&mut self) -> Option<(redis::Pipeline, u64)> {
        if self.finished {
            return None;
        }
        let mut pipe = redis::pipe();
        let (mut bytes, mut items) = (0usize, 0u64);
        while bytes < CHUNK_BYTES {
            let Some((kind, list)) = self.kinds.get(self.kind) else {
                pipe.cmd("SET").arg(RedisStore::inited_key(self.prefix)).arg("");
                self.finished = true;
                break;
            };
            let key = RedisStore::hash_key(self.prefix, *kind);
            let from = match self.queued {
                None => {
                    pipe.cmd("DEL").arg(&key);
                    self.queued = Some(0);
                    continue;
                }
                Some(from) if from == list.len() => {
                    self.kind += 1;
                    self.queued = None;
                    continue;
                }
                Some(from) => from,
            };
            let (mut to, mut size) = (from, 0);
            while to < list.len() && to - from < HSET_MAX_FIELDS && bytes + size < CHUNK_BYTES {
                size += list[to].key.len() + list[to].json.len();
                to += 1;
            }
            let mut cmd = redis::Cmd::with_capacity(2 + 2 * (to - from), 4 + key.len() + size);
            cmd.arg("HSET").arg(&key);
            for item in &list[from..to] {
                cmd.arg(&item.key).arg(item.json.as_bytes());
                self.report.bytes_written += item.json.len();
            }
            pipe.add_command(cmd);
            self.report.items_written += to - from;
            items += (to - from) as u64;
            bytes += size;
            self.queued = Some(to);
        }
        Some((pipe, items))
    }
}

#[async_trait]
impl Store for RedisStore {
    fn backend(&self) -> Backend {
        Backend::Redis
    }

    fn effective_prefix(&self, requested: Option<&str>) -> String {
        super::prefix_or(requested, DEFAULT_PREFIX)
    }

    async fn read_all(&self, prefix: &str, kind: Kind, visit: &mut Visitor<'_>) -> anyhow::Result<()> {
        let key = Self::hash_key(prefix, kind);
        let mut c = self.conn.clone();
        let len: usize = match redis::cmd("HLEN").arg(&key).query_async(&mut c).await {
            Ok(n) => n,
            Err(e) if e.code() == Some("WRONGTYPE") => return Err(self.wrong_type(&key).await.into()),
            Err(e) => return Err(self.err(e, "HLEN").into()),
        };
        if len == 0 {
            return Ok(());
        }
        if len <= HGETALL_MAX_FIELDS {
            let flat: Vec<Vec<u8>> =
                redis::cmd("HGETALL").arg(&key).query_async(&mut c).await.map_err(|e| self.err(e, "HGETALL"))?;
            let mut it = flat.into_iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                visit(entry_bytes(kind, &f, v))?;
            }
            return Ok(());
        }
        // HSCAN may return a field more than once; pass each field once (by its bytes: fields that
        // are not UTF-8 are items of their own, reported as unusable).
        let mut seen: HashSet<Vec<u8>> = HashSet::with_capacity(len);
        let mut cursor: u64 = 0;
        loop {
            let (next, flat): (u64, Vec<Vec<u8>>) = redis::cmd("HSCAN")
                .arg(&key)
                .arg(cursor)
                .arg("COUNT")
                .arg(HSCAN_COUNT)
                .query_async(&mut c)
                .await
                .map_err(|e| self.err(e, "HSCAN"))?;
            let mut it = flat.into_iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                if !seen.contains(&f) {
                    let e = entry_bytes(kind, &f, v);
                    seen.insert(f);
                    visit(e)?;
                }
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        Ok(())
    }

    async fn get(&self, prefix: &str, kind: Kind, key: &str) -> Result<Option<Item>, StoreError> {
        let mut c = self.conn.clone();
        let v: Option<Vec<u8>> = redis::cmd("HGET")
            .arg(Self::hash_key(prefix, kind))
            .arg(key)
            .query_async(&mut c)
            .await
            .map_err(|e| self.err(e, "HGET"))?;
        match v {
            None => Ok(None),
            Some(v) => {
                entry_bytes(kind, key.as_bytes(), v).map(Some).map_err(|b| StoreError::BadItem(b.error, BACKEND))
            }
        }
    }

    async fn is_initialized(&self, prefix: &str) -> Result<bool, StoreError> {
        let mut c = self.conn.clone();
        let n: i64 = redis::cmd("EXISTS")
            .arg(Self::inited_key(prefix))
            .query_async(&mut c)
            .await
            .map_err(|e| self.err(e, "EXISTS"))?;
        Ok(n > 0)
    }

    async fn has_items(&self, prefix: &str, kind: Kind) -> Result<bool, StoreError> {
        // Redis removes a hash with its last field: the key exists exactly when items do.
        let mut c = self.conn.clone();
        let n: i64 = redis::cmd("EXISTS")
            .arg(Self::hash_key(prefix, kind))
            .query_async(&mut c)
            .await
            .map_err(|e| self.err(e, "EXISTS"))?;
        Ok(n > 0)
    }

    async fn init(
        &self,
        prefix: &str,
        data: &DataSet,
        progress: &dyn Progress,
        shutdown: &Shutdown,
    ) -> Result<InitReport, StoreError> {
        let mut guard = self.tx_connection().await?;
        let conn = guard.as_mut().expect("connected");
        let result = self.init_on(conn, prefix, data, progress, shutdown).await;
        if result.is_err() {
            // The connection may be mid-transaction; never reuse it. Closing it discards any
            // queued commands, so nothing is half-written.
            *guard = None;
        }
        result
    }

    async fn init_streamed(
        &self,
        prefix: &str,
        feed: Feed,
        progress: Arc<dyn Progress>,
        shutdown: &Shutdown,
    ) -> Result<Option<(InitReport, FedCounts)>, StoreError> {
        let client = self.client.clone();
        let (display, timeout) = (self.display.clone(), self.timeout);
        let prefix = prefix.to_string();
        let shutdown = shutdown.clone();
        let task = tokio::task::spawn_blocking(move || {
            let conn = client
                .get_connection_with_timeout(timeout)
                .and_then(|c| c.set_write_timeout(Some(timeout)).map(|_| c))
                .and_then(|c| c.set_read_timeout(Some(timeout)).map(|_| c))
                .map_err(|e| classify(e, &display, "connecting", timeout))?;
            streamed::init(conn, &prefix, feed, progress, &shutdown, &|e, during| {
                classify(e, &display, during, timeout)
            })
        });
        task.await.map_err(|e| StoreError::Other(format!("streamed init failed: {e}")))?
    }

    fn big_segments(&self) -> Option<&dyn super::big_segments::BigSegmentStore> {
        Some(self)
    }

    async fn upsert(&self, prefix: &str, kind: Kind, item: &Item) -> Result<Upserted, StoreError> {
        let mut guard = self.tx_connection().await?;
        let conn = guard.as_mut().expect("connected");
        let result = self.upsert_on(conn, prefix, kind, item).await;
        if result.is_err() {
            *guard = None;
        }
        result
    }
}

#[async_trait]
impl Admin for RedisStore {
    fn address(&self) -> String {
        self.display.clone()
    }

    fn keys(&self, prefix: &str) -> Vec<KeyInfo> {
        vec![
            KeyInfo { role: "flags (hash)".into(), key: Self::hash_key(prefix, Kind::Flags) },
            KeyInfo { role: "segments (hash)".into(), key: Self::hash_key(prefix, Kind::Segments) },
            KeyInfo { role: "initialized marker".into(), key: Self::inited_key(prefix) },
            KeyInfo { role: "Big Segments sync time".into(), key: format!("{prefix}:big_segments_synchronized_on") },
        ]
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        redis::cmd("PING").exec_async(&mut c).await.map_err(|e| self.err(e, "PING"))
    }

    async fn list_prefixes(&self) -> Result<Vec<String>, StoreError> {
        let mut c = self.conn.clone();
        let suffixes = [":features", ":segments", ":$inited", ":big_segments_synchronized_on"];
        let mut candidates: Vec<(String, String)> = Vec::new();
        self.scan_keys(None, &mut |k| {
            if let Some(sfx) = suffixes.iter().find(|s| k.ends_with(*s)) {
                let prefix = k[..k.len() - sfx.len()].to_string();
                if !prefix.is_empty() {
                    candidates.push((prefix, k));
                }
            }
        })
        .await?;
        // Only count a features/segments key if it is a hash (other tools may use similar names).
        let mut pipe = redis::pipe();
        for (_, k) in &candidates {
            pipe.cmd("TYPE").arg(k);
        }
        let types: Vec<String> = if candidates.is_empty() {
            Vec::new()
        } else {
            pipe.query_async(&mut c).await.map_err(|e| self.err(e, "TYPE"))?
        };
        let mut out = BTreeSet::new();
        for ((prefix, key), ty) in candidates.into_iter().zip(types) {
            let want = if key.ends_with(":features") || key.ends_with(":segments") { "hash" } else { "string" };
            if ty == want {
                out.insert(prefix);
            }
        }
        Ok(out.into_iter().collect())
    }

    async fn unknown_keys(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let pattern = format!("{}:*", glob_escape(prefix));
        let mut out = BTreeSet::new();
        self.scan_keys(Some(&pattern), &mut |k| {
            if let Some(rest) = k.strip_prefix(prefix).and_then(|r| r.strip_prefix(':'))
                && !is_known_redis_key(rest)
            {
                out.insert(k);
            }
        })
        .await?;
        Ok(out.into_iter().collect())
    }

    async fn big_segments_synced_on(&self, prefix: &str) -> Result<Option<i64>, StoreError> {
        let mut c = self.conn.clone();
        let v: Option<String> = redis::cmd("GET")
            .arg(format!("{prefix}:big_segments_synchronized_on"))
            .query_async(&mut c)
            .await
            .map_err(|e| self.err(e, "GET"))?;
        Ok(v.and_then(|s| s.trim().parse().ok()))
    }
}

/// Escape Redis glob metacharacters.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// Whether `rest` (a key with `<prefix>:` removed) is LaunchDarkly data or bookkeeping, of this
/// prefix or of a longer prefix nested under it (`ld` and `ld:prod`).
fn is_known_redis_key(rest: &str) -> bool {
    const NAMES: [&str; 6] =
        ["features", "segments", "$inited", "big_segments_synchronized_on", "big_segments_cursor", "big_segments_lock"];
    let last = |r: &str| NAMES.iter().any(|n| r == *n || r.ends_with(&format!(":{n}")));
    last(rest) || rest.contains("big_segment_include:") || rest.contains("big_segment_exclude:")
}
