//! Redis backend: hashes `<p>:features` and `<p>:segments`, marker `<p>:$inited`, exactly as the
//! Go SDK, the Relay Proxy, and the Python and Node SDKs lay them out.
//!
//! Three deployment shapes, chosen by [`RedisTopology`]: a single node; Redis Cluster (the `redis`
//! crate's cluster client: discovered topology, MOVED/ASK followed); Redis Sentinel (the crate's
//! sentinel client finds the master, and finds it again when a connection is made after an error).
//! A full init is staged (see [`staging`]) on a single node, and on a cluster when the prefix has
//! a hash tag (`{ld:prod}`: every key, the staging hashes too, in one slot). On a cluster under a
//! plain prefix each hash is staged in its own slot and committed on its own, segments, then
//! flags, then the `$inited` marker. A Redis user that may not use what staging needs gets one
//! MULTI/EXEC (on a cluster under a plain prefix, one per hash: [`RedisStore::init_cluster`]).

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{AsyncConnectionConfig, Client, IntoConnectionInfo, RedisError, RedisFuture, TlsMode, Value};
use tokio::sync::Mutex;

mod big_segments;
mod big_segments_patch;
mod staging;
use staging::Staging;
mod streamed;

use super::{
    Admin, Backend, FedCounts, Feed, InitReport, KeyInfo, Progress, Store, StoreError, Upserted, Visitor, entry_bytes,
};
use crate::config::{RedisConfig, RedisTopology};
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
    connector: Connector,
    config: AsyncConnectionConfig,
    display: String,
    timeout: Duration,
    /// Shared connection for plain reads, made at its first use: a sync that streams its source
    /// (see [`RedisStore::init_streamed`]) never needs it, and connecting cost its startup a
    /// connection and a round trip.
    conn: tokio::sync::OnceCell<Conn>,
    /// Dedicated connection for WATCH/MULTI/EXEC (connection state must not be shared).
    tx_conn: Mutex<Option<Conn>>,
}

/// The socket options of every Redis connection (single node, cluster nodes, Sentinel master and
/// the sentinels themselves; async and blocking). Nagle's algorithm off: the redis crate leaves it
/// on, and the small last write of a pipeline (a sync's EXEC) then waited behind the server's
/// delayed ACK, ~40 ms in about half of all syncs (issue #22; tests/it/redis_nodelay.rs).
fn tcp_settings() -> redis::io::tcp::TcpSettings {
    redis::io::tcp::TcpSettings::default().set_nodelay(true)
}

/// How connections are made: to one node, to a cluster, or to the master the sentinels name.
enum Connector {
    Single(Client),
    /// Reads follow MOVED/ASK and retry; transactions (`tx`) never retry on their own: a WATCH is
    /// held by one node's connection, and a transaction re-sent elsewhere after a redirect would
    /// run unguarded. Their caller retries the whole operation instead.
    Cluster {
        reads: Box<ClusterClient>,
        tx: Box<ClusterClient>,
        /// For a blocking connection straight to one node (see [`RedisStore::init_streamed`]).
        node: NodeSettings,
    },
    Sentinel(Mutex<SentinelClient>),
}

/// What a client of one node needs beside its address: whether to use TLS (cluster nodes are
/// reached as the seeds are), the data nodes' credentials, and the CA to trust.
struct NodeSettings {
    tls: bool,
    username: Option<String>,
    password: Option<String>,
    ca: Option<Vec<u8>>,
}

impl NodeSettings {
    /// A client of the node at `url` (`redis://host:port` or `rediss://…`).
    fn client(&self, url: &str) -> Result<Client, RedisError> {
        let mut info = url.into_connection_info()?;
        let mut settings = info.redis_settings().clone();
        if let Some(u) = &self.username {
            settings = settings.set_username(u);
        }
        if let Some(p) = &self.password {
            settings = settings.set_password(p);
        }
        info = info.set_redis_settings(settings).set_tcp_settings(tcp_settings());
        match &self.ca {
            Some(pem) => Client::build_with_tls(info, certs(pem)),
            None => Client::open(info),
        }
    }
}

/// A private CA to trust (PEM), with no client certificate.
fn certs(pem: &[u8]) -> redis::TlsCertificates {
    redis::TlsCertificates { client_tls: None, root_cert: Some(pem.to_vec()) }
}

impl Connector {
    /// A connection for reads, or for transactions (`tx`).
    async fn connect(&self, config: &AsyncConnectionConfig, tx: bool) -> Result<Conn, RedisError> {
        match self {
            Connector::Single(c) => Ok(Conn::Single(c.get_multiplexed_async_connection_with_config(config).await?)),
            Connector::Cluster { reads, tx: txc, .. } => {
                Ok(Conn::Cluster(if tx { txc } else { reads }.get_async_connection().await?))
            }
            Connector::Sentinel(s) => {
                // Asked each time: after a failover the next connection goes to the new master.
                let client = s.lock().await.async_get_client().await?;
                Ok(Conn::Single(client.get_multiplexed_async_connection_with_config(config).await?))
            }
        }
    }

    /// A client for a blocking connection to the one node that holds everything (not on a cluster).
    async fn node_client(&self) -> Result<Option<Client>, RedisError> {
        match self {
            Connector::Single(c) => Ok(Some(c.clone())),
            Connector::Cluster { .. } => Ok(None),
            Connector::Sentinel(s) => Ok(Some(s.lock().await.async_get_client().await?)),
        }
    }
}

/// Keys asked for per SCAN page.
const SCAN_COUNT: usize = 1_000;

/// A SCAN in progress (see [`RedisStore::key_scan`]): the masters left and the cursor on the
/// current one.
pub(super) struct KeyScan {
    conn: Conn,
    /// `None`: the one node of a single-node connection.
    masters: Vec<Option<(String, u16)>>,
    at: usize,
    cursor: u64,
    pattern: Option<String>,
}

impl KeyScan {
    /// The next page of keys (it may be empty: SCAN pages can be), or `None` when every node has
    /// been scanned.
    pub(super) async fn next_page(&mut self, store: &RedisStore) -> Result<Option<Vec<String>>, StoreError> {
        let Some(master) = self.masters.get(self.at).cloned() else { return Ok(None) };
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(self.cursor);
        if let Some(p) = &self.pattern {
            cmd.arg("MATCH").arg(p);
        }
        cmd.arg("COUNT").arg(SCAN_COUNT);
        let (next, keys): (u64, Vec<String>) = match (&mut self.conn, master) {
            (Conn::Cluster(cc), Some((host, port))) => {
                let route = SingleNodeRoutingInfo::ByAddress { host, port };
                let v =
                    cc.route_command(cmd, RoutingInfo::SingleNode(route)).await.map_err(|e| store.err(e, "SCAN"))?;
                redis::from_redis_value(v).map_err(|e| store.err(e.into(), "SCAN"))?
            }
            (c, _) => cmd.query_async(c).await.map_err(|e| store.err(e, "SCAN"))?,
        };
        if next == 0 {
            self.at += 1;
            self.cursor = 0;
        } else {
            self.cursor = next;
        }
        Ok(Some(keys))
    }
}

/// A connection to a single node (or the Sentinel master) or to a cluster.
#[derive(Clone)]
enum Conn {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// True the first time a prefix is named (the note about a prefix without a hash tag is given once
/// per prefix and process, also when a relay reconnects).
fn first_note_for(prefix: &str) -> bool {
    static NOTED: std::sync::Mutex<BTreeSet<String>> = std::sync::Mutex::new(BTreeSet::new());
    NOTED.lock().unwrap_or_else(|e| e.into_inner()).insert(prefix.to_string())
}

/// Says once per prefix (on stderr) that a plain prefix on a cluster is not written in one
/// transaction, and recommends a hash-tagged one.
fn note_plain_cluster_prefix(prefix: &str) {
    if first_note_for(prefix) {
        tracing::warn!(
            "{}",
            secrets::mask(&format!(
                "Redis Cluster prefix \"{prefix}\" has no hash tag, so its keys live in different slots and \
                 cannot share one transaction: each hash is replaced atomically on its own (segments, then flags, then \
                 the $inited marker). Use a hash-tagged prefix such as \"{{{prefix}}}\" to keep a full sync one transaction."
            ))
        );
    }
}

/// Whether every key of `prefix` hashes to one cluster slot: a hash tag, `{…}` with something
/// inside, as Redis Cluster reads it (the first `{` and the first `}` after it).
pub fn has_hash_tag(prefix: &str) -> bool {
    prefix.find('{').is_some_and(|open| prefix[open + 1..].find('}').is_some_and(|len| len > 0))
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
    if (err.is_io_error() || err.is_connection_dropped()) && during != "connecting" && !err.is_connection_refusal() {
        return StoreError::Lost {
            store: BACKEND,
            addr: addr.to_string(),
            during: during.to_string(),
            reason: secrets::mask(&text),
        };
    }
    if err.is_connection_refusal() || err.is_io_error() || err.is_connection_dropped() {
        return StoreError::Unreachable { store: BACKEND, addr: addr.to_string(), reason: secrets::mask(&text) };
    }
    StoreError::Command { store: BACKEND, during: during.to_string(), reason: secrets::mask(&text) }
}

impl RedisStore {
    /// The store a configuration names: its clients are built (the CA file read), but no
    /// connection is made until a request needs one.
    pub async fn open(cfg: &RedisConfig) -> Result<RedisStore, StoreError> {
        let display = match &cfg.topology {
            RedisTopology::Single => cfg.url.clone(),
            RedisTopology::Cluster => format!("{} (cluster, {} seed(s))", cfg.url, cfg.nodes.len()),
            RedisTopology::Sentinel { master, .. } => {
                format!("master \"{master}\" via sentinel {} ({} sentinel(s))", cfg.url, cfg.nodes.len())
            }
        };
        let bad_config = |e: RedisError| StoreError::Other(format!("invalid Redis address {display}: {e}"));
        let ca = match &cfg.ca_file {
            Some(path) => Some(
                std::fs::read(path)
                    .map_err(|e| StoreError::Other(format!("cannot read Redis CA file {}: {e}", path.display())))?,
            ),
            None => None,
        };
        let node = NodeSettings {
            tls: cfg.url.starts_with("rediss:"),
            username: cfg.username.clone(),
            password: cfg.password.clone(),
            ca,
        };
        let connector = match &cfg.topology {
            RedisTopology::Single => Connector::Single(node.client(&cfg.url).map_err(bad_config)?),
            RedisTopology::Cluster => {
                let builder = || {
                    let mut b = ClusterClient::builder(cfg.nodes.iter().map(String::as_str))
                        .connection_timeout(cfg.timeout)
                        .response_timeout(cfg.timeout)
                        .tcp_settings(tcp_settings());
                    if let Some(u) = &cfg.username {
                        b = b.username(u);
                    }
                    if let Some(p) = &cfg.password {
                        b = b.password(p);
                    }
                    if node.tls {
                        b = b.tls(TlsMode::Secure);
                    }
                    if let Some(pem) = &node.ca {
                        b = b.certs(certs(pem));
                    }
                    b
                };
                Connector::Cluster {
                    reads: Box::new(builder().build().map_err(bad_config)?),
                    tx: Box::new(builder().retries(0).build().map_err(bad_config)?),
                    node,
                }
            }
            RedisTopology::Sentinel { master, sentinel_password } => {
                let addrs = cfg
                    .nodes
                    .iter()
                    .map(|n| n.as_str().into_connection_info().map(|i| i.addr().clone()))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(bad_config)?;
                let mut b = SentinelClientBuilder::new(addrs, master, SentinelServerType::Master)
                    .map_err(bad_config)?
                    .set_client_to_redis_tcp_settings(tcp_settings())
                    .set_client_to_sentinel_tcp_settings(tcp_settings());
                if let Some(u) = &cfg.username {
                    b = b.set_client_to_redis_username(u);
                }
                if let Some(p) = &cfg.password {
                    b = b.set_client_to_redis_password(p);
                }
                if let Some(p) = sentinel_password {
                    b = b.set_client_to_sentinel_password(p);
                }
                if node.tls {
                    b = b
                        .set_client_to_redis_tls_mode(TlsMode::Secure)
                        .set_client_to_sentinel_tls_mode(TlsMode::Secure);
                }
                if let Some(pem) = &node.ca {
                    b = b.set_client_to_redis_certificates(certs(pem)).set_client_to_sentinel_certificates(certs(pem));
                }
                Connector::Sentinel(Mutex::new(b.build().map_err(bad_config)?))
            }
        };
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(cfg.timeout))
            .set_response_timeout(Some(cfg.timeout));
        Ok(RedisStore {
            connector,
            config,
            display,
            timeout: cfg.timeout,
            conn: tokio::sync::OnceCell::new(),
            tx_conn: Mutex::new(None),
        })
    }

    /// The shared connection for plain reads, connecting at the first call (a failed attempt is
    /// not kept: the next call tries again).
    async fn conn(&self) -> Result<Conn, StoreError> {
        let connect = || async {
            tokio::time::timeout(self.timeout * 2, self.connector.connect(&self.config, false))
                .await
                .map_err(|_| StoreError::Timeout {
                    store: BACKEND,
                    timeout: self.timeout,
                    during: "connecting".into(),
                })?
                .map_err(|e| self.err(e, "connecting"))
        };
        self.conn.get_or_try_init(connect).await.cloned()
    }

    /// Whether this store talks to a Redis Cluster.
    fn on_cluster(&self) -> bool {
        matches!(self.connector, Connector::Cluster { .. })
    }

    fn err(&self, e: RedisError, during: &str) -> StoreError {
        classify(e, &self.display, during, self.timeout)
    }

    /// The error for a data key that is not a hash (another tool wrote it): names the key and its
    /// type, as `TYPE` gives it.
    async fn wrong_type(&self, key: &str) -> StoreError {
        let ty = match self.conn().await {
            Ok(mut c) => redis::cmd("TYPE").arg(key).query_async(&mut c).await.ok(),
            Err(_) => None,
        };
        let ty: String = ty.unwrap_or_else(|| "other type".into());
        StoreError::Other(format!("Redis key \"{}\" is a {ty}, not a hash", secrets::mask(key)))
    }

    fn hash_key(prefix: &str, kind: Kind) -> String {
        format!("{prefix}:{}", kind.namespace())
    }

    fn inited_key(prefix: &str) -> String {
        format!("{prefix}:$inited")
    }

    async fn tx_connection(&self) -> Result<tokio::sync::MutexGuard<'_, Option<Conn>>, StoreError> {
        let mut guard = self.tx_conn.lock().await;
        if guard.is_none() {
            let c = self.connector.connect(&self.config, true).await.map_err(|e| self.err(e, "connecting"))?;
            *guard = Some(c);
        }
        Ok(guard)
    }

    /// Every key in the database (or matching `pattern`), by SCAN pages; each passed to `visit`.
    /// On a cluster: every master's keys, one master after the other.
    async fn scan_keys(&self, pattern: Option<&str>, visit: &mut (dyn FnMut(String) + Send)) -> Result<(), StoreError> {
        let mut scan = self.key_scan(pattern).await?;
        while let Some(page) = scan.next_page(self).await? {
            page.into_iter().for_each(&mut *visit);
        }
        Ok(())
    }

    /// A SCAN of every key (or those matching `pattern`) that hands out one page at a time, so a
    /// caller can act on a page before the next is read (memory stays bounded by a page). On a
    /// cluster it walks every master, one after the other.
    pub(super) async fn key_scan(&self, pattern: Option<&str>) -> Result<KeyScan, StoreError> {
        let mut c = self.conn().await?;
        let masters = match &mut c {
            Conn::Single(_) => vec![None],
            Conn::Cluster(cc) => {
                let nodes = cc
                    .route_command(
                        redis::cmd("CLUSTER").arg("NODES").clone(),
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
                    )
                    .await
                    .map_err(|e| self.err(e, "CLUSTER NODES"))?;
                let text: String = redis::from_redis_value(nodes).map_err(|e| self.err(e.into(), "CLUSTER NODES"))?;
                cluster_masters(&text).into_iter().map(Some).collect()
            }
        };
        Ok(KeyScan { conn: c, masters, at: 0, cursor: 0, pattern: pattern.map(str::to_string) })
    }

    /// Each key's TYPE (one pipeline on a single node; on a cluster, where keys live in different
    /// slots, one command each, several at a time).
    async fn types_of(&self, keys: &[String]) -> Result<Vec<String>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut c = self.conn().await?;
        if let Conn::Single(_) = c {
            let mut pipe = redis::pipe();
            for k in keys {
                pipe.cmd("TYPE").arg(k);
            }
            return pipe.query_async(&mut c).await.map_err(|e| self.err(e, "TYPE"));
        }
        // A few at a time, each to its own slot's node.
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(32) {
            let replies = futures::future::join_all(chunk.iter().map(|k| {
                let mut c = c.clone();
                let cmd = redis::cmd("TYPE").arg(k).clone();
                async move { cmd.query_async::<String>(&mut c).await }
            }))
            .await;
            for r in replies {
                out.push(r.map_err(|e| self.err(e, "TYPE"))?);
            }
        }
        Ok(out)
    }

    /// A full init on a cluster that is not staged. A hash-tagged prefix (whose Redis user may not
    /// use what staging needs) keeps every key in one slot: one MULTI/EXEC as on a single node.
    /// Otherwise each hash is replaced by a MULTI/EXEC of its own, segments
    /// before flags and the `$inited` marker last, so a reader never sees flags whose segments are
    /// missing; each key is then either old or new, but the keys change one after the other.
    async fn init_cluster(
        &self,
        conn: &mut Conn,
        prefix: &str,
        data: &DataSet,
        progress: &dyn Progress,
        shutdown: &Shutdown,
    ) -> Result<InitReport, StoreError> {
        progress.set_total(data.len() as u64);
        if let Some(sig) = shutdown.signal() {
            return Err(discarded(sig, prefix));
        }
        let mut report = InitReport::default();
        let mut groups: Vec<(Vec<redis::Cmd>, u64)> = Vec::new();
        for kind in Kind::INIT_ORDER {
            let key = Self::hash_key(prefix, kind);
            let items = data.write_order(kind);
            let mut cmds = vec![redis::cmd("DEL").arg(&key).clone()];
            for chunk in items.chunks(HSET_MAX_FIELDS) {
                let mut cmd = redis::cmd("HSET");
                cmd.arg(&key);
                for item in chunk {
                    cmd.arg(&item.key).arg(item.json.as_bytes());
                    report.bytes_written += item.json.len();
                }
                cmds.push(cmd);
            }
            report.items_written += items.len();
            groups.push((cmds, items.len() as u64));
        }
        groups.push((vec![redis::cmd("SET").arg(Self::inited_key(prefix)).arg("").clone()], 0));
        if has_hash_tag(prefix) {
            let all = groups.iter_mut().fold((Vec::new(), 0), |(mut cmds, n), (c, m)| {
                cmds.append(c);
                (cmds, n + *m)
            });
            groups = vec![all];
        }
        progress.message("committing");
        for (i, (cmds, items)) in groups.into_iter().enumerate() {
            let mut pipe = redis::pipe();
            pipe.atomic();
            for c in cmds {
                pipe.add_command(c);
            }
            pipe.query_async::<Value>(conn)
                .await
                .map_err(|e| self.err(e, "EXEC"))
                .and_then(check_exec)
                .map_err(|e| commit_failed(i, e))?;
            progress.advance(items);
        }
        Ok(report)
    }

    async fn init_on(
        &self,
        conn: &mut Conn,
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
        // A signal abandons the transaction: nothing queued is ever applied.
        let mut commands = InitCommands::new(prefix, data);
        self.send_pipelines(conn, &mut commands, progress, shutdown, "queueing HSET").await?;
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

    /// Send the pipelines of `commands` (about CHUNK_BYTES each) in order: each only after Redis
    /// answered the one before (the write order is kept), the next one encoded while Redis reads the
    /// current one. A signal stops it between pipelines ([`discarded`]).
    async fn send_pipelines(
        &self,
        conn: &mut Conn,
        commands: &mut InitCommands<'_>,
        progress: &dyn Progress,
        shutdown: &Shutdown,
        during: &str,
    ) -> Result<(), StoreError> {
        let mut next = commands.next_pipeline();
        while let Some((pipe, items)) = next {
            if let Some(sig) = shutdown.signal() {
                return Err(discarded(sig, commands.prefix));
            }
            let (sent, following) = futures::join!(pipe.exec_async(conn), async { commands.next_pipeline() });
            sent.map_err(|e| self.err(e, during))?;
            progress.advance(items);
            next = following;
        }
        Ok(())
    }

    /// `staging` if the Redis user may use what a staged write needs on `conn` (see [`staging`]),
    /// asked of the node of each of its slots; `None` for one transaction.
    async fn staging_on(&self, conn: &mut Conn, staging: Staging) -> Result<Option<Staging>, StoreError> {
        for commands in staging.probe_groups() {
            let mut probe = staging::pipeline(&commands);
            probe.ignore_errors();
            let answers: Value =
                probe.query_async(conn).await.map_err(|e| self.err(e, "checking the commands it may use"))?;
            let answers = match answers {
                Value::Array(a) => a,
                other => vec![other],
            };
            if Staging::refused(&commands, &answers).is_some() {
                return Ok(None);
            }
        }
        Ok(Some(staging))
    }

    /// A full init, staged (see [`staging`]): the items in pipelines of about CHUNK_BYTES into the
    /// staging hashes, each applied as it comes, then the check and the short commit (per slot on
    /// a cluster under a plain prefix, segments first, the marker last). Anything that stops it
    /// before the (first) commit removes the staging hashes and leaves the store unchanged.
    async fn init_staged(
        &self,
        conn: &mut Conn,
        staging: &Staging,
        data: &DataSet,
        progress: &dyn Progress,
        shutdown: &Shutdown,
    ) -> Result<InitReport, StoreError> {
        let prefix = staging.prefix.as_str();
        progress.set_total(data.len() as u64);
        let wanted = Kind::ALL.map(|kind| data.items(kind).len() as i64);
        let mut commands = InitCommands::staged(staging, data);
        let checking =
            |reason: String| StoreError::Command { store: BACKEND, during: "checking the staged data".into(), reason };
        let staged: Result<(), StoreError> = async {
            self.send_pipelines(conn, &mut commands, progress, shutdown, "writing HSET").await?;
            if let Some(sig) = shutdown.signal() {
                return Err(discarded(sig, prefix));
            }
            let mut lens = [0i64; 2];
            for (commands, kinds) in staging.check_groups() {
                for (k, n) in kinds.iter().zip(self.staged_lens(conn, &commands).await?) {
                    lens[*k] = n;
                }
            }
            staging.check_lens(lens, wanted).map_err(checking)
        }
        .await;
        let removed = async |conn: &mut Conn| {
            for del in staging.del_commands() {
                let _ = staging::pipeline(&[del]).exec_async(conn).await;
            }
        };
        if let Err(e) = staged {
            removed(conn).await;
            return Err(e);
        }
        progress.message("committing");
        let checks = staging.check_groups();
        for (i, group) in staging.commit_groups(wanted, &Self::inited_key(prefix)).into_iter().enumerate() {
            // Per slot, a commit clears every WATCH of its connection, which may be the next
            // group's too: each group is watched and checked again just before its own commit.
            if let (true, Some((commands, kinds))) = (staging.per_slot && i > 0, checks.get(i)) {
                let checked = self.staged_lens(conn, commands).await.and_then(|lens| {
                    if kinds.iter().zip(&lens).all(|(k, n)| *n == wanted[*k]) {
                        Ok(())
                    } else {
                        Err(checking(Staging::CHANGED_AFTER_A_COMMIT.into()))
                    }
                });
                if let Err(e) = checked {
                    removed(conn).await;
                    return Err(commit_failed(i, e));
                }
            }
            let mut commit = staging::pipeline(&group);
            commit.atomic();
            let result: Value = match commit.query_async(conn).await {
                Ok(v) => v,
                Err(e) if connection_lost(&e) => return Err(outcome_unknown(prefix, &e)),
                Err(e) => {
                    removed(conn).await;
                    return Err(commit_failed(i, self.err(e, "EXEC")));
                }
            };
            if result == Value::Nil {
                removed(conn).await;
                let reason = if i == 0 { Staging::CHANGED } else { Staging::CHANGED_AFTER_A_COMMIT }.into();
                return Err(commit_failed(i, StoreError::Command { store: BACKEND, during: "EXEC".into(), reason }));
            }
            check_exec(result).map_err(|e| commit_failed(i, e))?;
        }
        Ok(commands.report)
    }

    /// The answers to a group of [`Staging::check_groups`]: the `HLEN` of each of its kinds.
    async fn staged_lens(&self, conn: &mut Conn, commands: &[staging::Args]) -> Result<Vec<i64>, StoreError> {
        let answers: Vec<Value> =
            staging::pipeline(commands).query_async(conn).await.map_err(|e| self.err(e, "checking the staged data"))?;
        // WATCH's answer, then one HLEN per kind.
        answers
            .into_iter()
            .skip(1)
            .map(|answer| match answer {
                Value::Int(n) => Ok(n),
                other => Err(StoreError::Command {
                    store: BACKEND,
                    during: "checking the staged data".into(),
                    reason: format!("unexpected answer to HLEN: {other:?}"),
                }),
            })
            .collect()
    }

    /// A client of the master that serves the slot of a hash-tagged `prefix` now (the node the
    /// cluster client sends that slot's commands to), for a blocking connection; `None` when the
    /// cluster does not name it (the caller then writes through the cluster client). A write
    /// that meets the slot moved meanwhile fails (MOVED) before its commit.
    async fn slot_master(&self, prefix: &str, node: &NodeSettings) -> Result<Option<Client>, StoreError> {
        let Conn::Cluster(cc) = &mut self.conn().await? else { return Ok(None) };
        let key = Self::hash_key(prefix, Kind::Flags);
        let route =
            RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(Route::with_key(&key, SlotAddr::Master)));
        let ask = async |cc: &mut ClusterConnection, what: &str| -> Result<String, StoreError> {
            let answer = cc
                .route_command(redis::cmd("CLUSTER").arg(what).clone(), route.clone())
                .await
                .map_err(|e| self.err(e, "CLUSTER"))?;
            redis::from_redis_value(answer).map_err(|e| self.err(e.into(), "CLUSTER"))
        };
        let id = ask(cc, "MYID").await?;
        let nodes = ask(cc, "NODES").await?;
        let Some((host, port)) = cluster_node_addr(&nodes, id.trim()) else { return Ok(None) };
        let host = if host.contains(':') { format!("[{host}]") } else { host };
        let url = format!("{}://{host}:{port}", if node.tls { "rediss" } else { "redis" });
        let client = node.client(&url).map_err(|e| self.err(e, "connecting"))?;
        Ok(Some(client))
    }

    /// A version-guarded upsert of items of one kind (distinct keys), as the SDKs guard one: WATCH
    /// the hash, read the stored versions, write only the newer items in a MULTI/HSET/EXEC that
    /// fails if anyone wrote the hash meanwhile, then read again and retry. WATCH and the read go
    /// in one pipeline (WATCH runs first on this connection, so the read is guarded): two round
    /// trips for the whole batch instead of three per item. Measured (relay, 500 patches/s through
    /// a Redis answering 5 ms late): one item at a time, three round trips each, fell behind for
    /// good; in batches it keeps up (see `relay::bench_relay_sustained_slow_redis`).
    async fn upsert_on(
        &self,
        conn: &mut Conn,
        prefix: &str,
        kind: Kind,
        items: &[Item],
    ) -> Result<Vec<Upserted>, StoreError> {
        let key = Self::hash_key(prefix, kind);
        for attempt in 0..UPSERT_ATTEMPTS {
            if attempt > 0 {
                // Writers that keep aborting each other's transactions spread out: a random pause
                // of up to 1 ms, doubling with each attempt (at most 64 ms).
                let most = 1u64 << (attempt - 1).min(6);
                tokio::time::sleep(Duration::from_micros(rand::random_range(0..=most * 1000))).await;
            }
            let mut read = redis::pipe();
            read.cmd("WATCH").arg(&key).ignore().cmd("HMGET").arg(&key);
            for item in items {
                read.arg(&item.key);
            }
            let (olds,): (Vec<Option<String>>,) =
                read.query_async(conn).await.map_err(|e| self.err(e, "WATCH/HMGET"))?;
            let mut results = Vec::with_capacity(items.len());
            let mut write = redis::cmd("HSET");
            write.arg(&key);
            let mut newer = 0;
            for (item, old) in items.iter().zip(olds) {
                // An unreadable stored value is replaced, as the SDKs do.
                let old_version =
                    old.map(|o| crate::data::facts(kind, &item.key, &o).ok().and_then(|f| f.version).unwrap_or(0));
                match old_version {
                    Some(v) if v >= item.version => results.push(Upserted::Stale { stored_version: v }),
                    _ => {
                        write.arg(&item.key).arg(item.json.as_bytes());
                        newer += 1;
                        results.push(Upserted::Applied);
                    }
                }
            }
            if newer == 0 {
                match conn {
                    // UNWATCH names no key: on a cluster it goes to the node WATCH went to.
                    Conn::Cluster(cc) => {
                        let route = SingleNodeRoutingInfo::SpecificNode(Route::with_key(&key, SlotAddr::Master));
                        cc.route_command(redis::cmd("UNWATCH"), RoutingInfo::SingleNode(route)).await.map(drop)
                    }
                    Conn::Single(_) => redis::cmd("UNWATCH").exec_async(conn).await,
                }
                .map_err(|e| self.err(e, "UNWATCH"))?;
                return Ok(results);
            }
            let mut tx = redis::pipe();
            tx.atomic().add_command(write);
            let result: Value = tx.query_async(conn).await.map_err(|e| self.err(e, "HSET"))?;
            if !matches!(result, Value::Nil) {
                return Ok(results);
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
            Some(Value::ServerError(e)) => Err(exec_failed(server_error_text(&e))),
            _ => Ok(()),
        },
        Value::Nil => Err(exec_failed("transaction aborted".into())),
        Value::ServerError(e) => Err(exec_failed(server_error_text(&e))),
        _ => Ok(()),
    }
}

/// A server error in Redis's own words (`OOM command not allowed when used memory > 'maxmemory'.`).
pub(super) fn server_error_text(e: &redis::ServerError) -> String {
    match e.details() {
        Some(d) => format!("{} {d}", e.code()),
        None => e.code().to_string(),
    }
}

/// The error for an init a signal stopped before `EXEC`: dropping the connection discards the
/// transaction, so nothing was written.
fn discarded(sig: Signal, prefix: &str) -> StoreError {
    StoreError::Interrupted(crate::exit::Interrupted::new(
        sig,
        Some(format!("nothing was written (stopped before the commit); Redis prefix \"{prefix}\" is unchanged")),
    ))
}

/// Whether an error means the connection went away (the answer will never come).
fn connection_lost(e: &RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout()
}

/// The error for an init whose `EXEC` was sent but whose answer never came: Redis may or may not
/// have applied the transaction, and says so, with how to find out.
fn outcome_unknown(prefix: &str, e: &RedisError) -> StoreError {
    let what = if e.is_timeout() {
        "Redis timed out: no answer to EXEC within --store-timeout".to_string()
    } else {
        format!(
            "the connection to Redis was lost after EXEC was sent, before its answer ({})",
            secrets::mask(&e.to_string())
        )
    };
    StoreError::Other(format!(
        "{what}: the outcome is unknown. A transaction is applied whole or not at all, so prefix \"{prefix}\" holds either all of the new data or what it held before; check with ldstore diff (the source against the store) or ldstore inspect --prefix {prefix}, or run the sync again"
    ))
}

fn exec_failed(reason: String) -> StoreError {
    StoreError::Command { store: BACKEND, during: "EXEC".into(), reason }
}

/// What the error of a commit that failed after an earlier one (per hash, on a cluster under a
/// plain prefix) says is new; its hint looks for it.
pub(crate) const AFTER_A_COMMIT: &str =
    "the hashes committed before it are new, it and those after it are not; run the sync again";

/// The error of commit `i` of a write (or of its check): after the first, a command error says
/// what is new.
fn commit_failed(i: usize, e: StoreError) -> StoreError {
    match e {
        StoreError::Command { store, during, reason } if i > 0 => {
            StoreError::Command { store, during, reason: format!("{reason}: {AFTER_A_COMMIT}") }
        }
        other => other,
    }
}

/// The commands of a full init in order (per kind, segments first: `DEL` of the hash, then
/// `HSET`s of at most HSET_MAX_FIELDS items in write order; then `SET` of the marker), grouped into
/// pipelines of about CHUNK_BYTES.
struct InitCommands<'a> {
    prefix: &'a str,
    /// Staged: the items go to these staging hashes, each `HSET` followed by its `PEXPIRE`, after
    /// one `DEL` of both and without the marker (see [`staging`]).
    staging: Option<&'a Staging>,
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
        InitCommands {
            prefix,
            staging: None,
            kinds,
            kind: 0,
            queued: None,
            finished: false,
            report: InitReport::default(),
        }
    }

    fn staged(staging: &'a Staging, data: &'a DataSet) -> InitCommands<'a> {
        InitCommands { staging: Some(staging), ..InitCommands::new(&staging.prefix, data) }
    }

    /// The next pipeline and the number of items it writes; `None` once everything is queued.
    fn next_pipeline(&mut self) -> Option<(redis::Pipeline, u64)> {
        if self.finished {
            return None;
        }
        // Per slot, each pipeline holds one kind's commands (one slot), and each staging hash is
        // deleted when its kind starts.
        let per_slot = self.staging.is_some_and(|s| s.per_slot);
        let first = self.kind == 0 && self.queued.is_none();
        let mut pipe = match self.staging {
            Some(staging) if first && !per_slot => staging::pipeline(&[staging.del_command()]),
            _ => redis::pipe(),
        };
        let (mut bytes, mut items) = (0usize, 0u64);
        while bytes < CHUNK_BYTES {
            let Some((kind, list)) = self.kinds.get(self.kind) else {
                if self.staging.is_none() {
                    pipe.cmd("SET").arg(RedisStore::inited_key(self.prefix)).arg("");
                }
                self.finished = true;
                break;
            };
            let key = match self.staging {
                Some(staging) => staging.stage[kind.index()].clone(),
                None => RedisStore::hash_key(self.prefix, *kind),
            };
            let from = match self.queued {
                None => {
                    if self.staging.is_none() || per_slot {
                        pipe.cmd("DEL").arg(&key);
                    }
                    self.queued = Some(0);
                    continue;
                }
                Some(from) if from == list.len() => {
                    self.kind += 1;
                    self.queued = None;
                    if per_slot && !pipe.is_empty() {
                        break;
                    }
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
            if let Some(staging) = self.staging {
                pipe.add_command(staging::cmd(&staging.expire_command(kind.index())));
            }
            self.report.items_written += to - from;
            items += (to - from) as u64;
            bytes += size;
            self.queued = Some(to);
        }
        // (Per slot, the last kind's end may have ended the pipeline before: nothing is left.)
        (!pipe.is_empty()).then_some((pipe, items))
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
        let mut c = self.conn().await?;
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
        let mut c = self.conn().await?;
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
        let mut c = self.conn().await?;
        let n: i64 = redis::cmd("EXISTS")
            .arg(Self::inited_key(prefix))
            .query_async(&mut c)
            .await
            .map_err(|e| self.err(e, "EXISTS"))?;
        Ok(n > 0)
    }

    async fn has_items(&self, prefix: &str, kind: Kind) -> Result<bool, StoreError> {
        // Redis removes a hash with its last field: the key exists exactly when items do.
        let mut c = self.conn().await?;
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
        // Staged where each staging hash can share a slot with what it replaces: on a single node;
        // on a cluster under a hash-tagged prefix (the staging names start with the prefix, so they
        // carry its tag), and under a plain one, a slot at a time (see `Staging::per_slot`); each
        // pipeline goes to the node of its keys' one slot.
        let staging = match conn {
            Conn::Cluster(_) if !has_hash_tag(prefix) => {
                note_plain_cluster_prefix(prefix);
                match Staging::per_slot(prefix) {
                    Some(staging) => self.staging_on(conn, staging).await,
                    None => Ok(None),
                }
            }
            _ => self.staging_on(conn, Staging::new(prefix)).await,
        };
        let result = match (staging, &conn) {
            (Ok(Some(staging)), _) => self.init_staged(conn, &staging, data, progress, shutdown).await,
            (Ok(None), Conn::Cluster(_)) => self.init_cluster(conn, prefix, data, progress, shutdown).await,
            (Ok(None), Conn::Single(_)) => self.init_on(conn, prefix, data, progress, shutdown).await,
            (Err(e), _) => Err(e),
        };
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
        // On a cluster, a hash-tagged prefix lives on the master of its slot; the keys of a plain
        // one may live on several nodes: the caller reads the source and inits.
        let client = match &self.connector {
            Connector::Cluster { node, .. } if has_hash_tag(prefix) => self.slot_master(prefix, node).await?,
            _ => self.connector.node_client().await.map_err(|e| self.err(e, "connecting"))?,
        };
        let Some(client) = client else {
            return Ok(None);
        };
        let (display, timeout) = (self.display.clone(), self.timeout);
        let prefix = prefix.to_string();
        let shutdown = shutdown.clone();
        let run = move || {
            let conn = client
                .get_connection_with_timeout(timeout)
                .and_then(|c| c.set_write_timeout(Some(timeout)).map(|_| c))
                .and_then(|c| c.set_read_timeout(Some(timeout)).map(|_| c))
                .map_err(|e| classify(e, &display, "connecting", timeout))?;
            streamed::init(conn, &prefix, feed, progress, &shutdown, &|e, during| {
                classify(e, &display, during, timeout)
            })
        };
        // On a multi-threaded runtime (the command line's) the init runs on this thread: handing
        // it to a blocking thread and back costs two wake-ups, and on a busy machine (Redis on the
        // other core) a woken thread can wait a scheduler tick (3.3 ms here) for a processor.
        if tokio::runtime::Handle::current().runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
            return tokio::task::block_in_place(run);
        }
        let task = tokio::task::spawn_blocking(run);
        task.await.map_err(|e| StoreError::Other(format!("streamed init failed: {e}")))?
    }

    fn big_segments(&self) -> Option<&dyn super::big_segments::BigSegmentStore> {
        Some(self)
    }

    async fn upsert(&self, prefix: &str, kind: Kind, item: &Item) -> Result<Upserted, StoreError> {
        let mut out = self.upsert_many(prefix, kind, std::slice::from_ref(item)).await?;
        Ok(out.pop().expect("one answer per item"))
    }

    async fn upsert_many(&self, prefix: &str, kind: Kind, items: &[Item]) -> Result<Vec<Upserted>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut guard = self.tx_connection().await?;
        let conn = guard.as_mut().expect("connected");
        let result = self.upsert_on(conn, prefix, kind, items).await;
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
        let mut c = self.conn().await?;
        redis::cmd("PING").exec_async(&mut c).await.map_err(|e| self.err(e, "PING"))
    }

    async fn list_prefixes(&self) -> Result<Vec<String>, StoreError> {
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
        let keys: Vec<String> = candidates.iter().map(|(_, k)| k.clone()).collect();
        let types = self.types_of(&keys).await?;
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
}

/// The masters' `(host, port)` in `CLUSTER NODES` output (lines `id ip:port@cport[,hostname]
/// flags …`; masters flagged `master`, not `fail`).
fn cluster_masters(nodes: &str) -> Vec<(String, u16)> {
    let mut out = Vec::new();
    for line in nodes.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(addr), Some(flags)) = (f.get(1), f.get(2)) else { continue };
        let flags: Vec<&str> = flags.split(',').collect();
        if !flags.contains(&"master") || flags.iter().any(|x| x.starts_with("fail") || *x == "noaddr") {
            continue;
        }
        if let Some(hostport) = node_address(addr) {
            out.push(hostport);
        }
    }
    out
}

/// The `host:port` of the node with this id in `CLUSTER NODES` text.
fn cluster_node_addr(nodes: &str, id: &str) -> Option<(String, u16)> {
    let line = nodes.lines().find(|l| l.split_whitespace().next() == Some(id))?;
    node_address(line.split_whitespace().nth(1)?)
}

/// A `CLUSTER NODES` address field (`host:port@cport[,hostname]`, IPv6 in brackets) as host and
/// port.
fn node_address(field: &str) -> Option<(String, u16)> {
    let (h, p) = field.split(['@', ',']).next()?.rsplit_once(':')?;
    let port = p.parse().ok()?;
    (!h.is_empty()).then(|| (h.trim_matches(['[', ']']).to_string(), port))
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
/// prefix or of a longer prefix nested under it (`ld` and `ld:prod`). A sync's staging hashes
/// (`$ldstore_staging:<kind>:<token>`, see [`staging`]) are bookkeeping: they exist while it runs.
fn is_known_redis_key(rest: &str) -> bool {
    const NAMES: [&str; 6] =
        ["features", "segments", "$inited", "big_segments_synchronized_on", "big_segments_cursor", "big_segments_lock"];
    let last = |r: &str| NAMES.iter().any(|n| r == *n || r.ends_with(&format!(":{n}")));
    last(rest)
        || rest.contains("big_segment_include:")
        || rest.contains("big_segment_exclude:")
        || rest.starts_with("$ldstore_staging:")
        || rest.contains(":$ldstore_staging:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_tags_as_redis_cluster_reads_them() {
        for tagged in ["{ld:prod}", "{ld}.launchdarkly", "a{b}c", "x{y}{z}"] {
            assert!(has_hash_tag(tagged), "{tagged}");
        }
        for plain in ["launchdarkly", "{}ld", "ld{", "ld}x{", "ld:{"] {
            assert!(!has_hash_tag(plain), "{plain}");
        }
    }

    #[test]
    fn staging_hashes_are_bookkeeping() {
        for known in ["$ldstore_staging:features:1a2b", "prod:$ldstore_staging:segments:ff", "features", "x:$inited"] {
            assert!(is_known_redis_key(known), "{known}");
        }
        for unknown in ["ldstore_staging:features:1", "other", "features:x"] {
            assert!(!is_known_redis_key(unknown), "{unknown}");
        }
    }

    #[test]
    fn a_node_address_from_cluster_nodes() {
        let text = "07c3 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460\n\
                    9a1b [::1]:7001@17001,host.example master - 0 0 2 connected 5461-10922\n";
        assert_eq!(cluster_node_addr(text, "07c3"), Some(("127.0.0.1".to_string(), 7000)));
        assert_eq!(cluster_node_addr(text, "9a1b"), Some(("::1".to_string(), 7001)));
        assert_eq!(cluster_node_addr(text, "ffff"), None);
    }

    #[test]
    fn masters_from_cluster_nodes() {
        let text = "a 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460\n\
                    b 127.0.0.1:7001@17001,host.example master - 0 0 2 connected 5461-10922\n\
                    c 127.0.0.1:7002@17002 slave a 0 0 1 connected\n\
                    d 127.0.0.1:7003@17003 master,fail - 0 0 3 disconnected\n";
        assert_eq!(cluster_masters(text), [("127.0.0.1".to_string(), 7000), ("127.0.0.1".to_string(), 7001)]);
    }
}
