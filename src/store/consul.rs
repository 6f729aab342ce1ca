//! Consul backend: KV keys `<p>/features/<key>`, `<p>/segments/<key>` and `<p>/$inited`, exactly as
//! the Go SDK, the Relay Proxy and the Python and Node SDKs lay them out, plus ldstore's sync lease
//! `<p>/ldstore_sync` while an init runs (see [`super::lease`]). A thin client over Consul's HTTP
//! API (KV endpoints and `/v1/txn`).
//!
//! An init's transactions are fenced by the lease: each begins with a `check-index` of the lease
//! key at the ModifyIndex this init last gave it, so once another writer has taken the lease over
//! none of them applies; the last one writes `$inited` and deletes the lease (`delete-cas`), all or
//! nothing.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use reqwest::{Method, StatusCode};
use serde::Deserialize;

use super::lease::{self, Guard, Halt, LeaseRecord, LeaseStore, Stop, Stored, Tally};
use super::{
    Admin, Backend, BadItem, InitReport, KeyInfo, Progress, SkippedItem, Store, StoreError, Upserted, Visitor,
    entry_bytes,
};
use crate::config::ConsulConfig;
use crate::data::{DataSet, Item, ItemError, Kind};
use crate::secrets;
use crate::shutdown::Shutdown;

const BACKEND: &str = Backend::Consul.as_str();
pub const DEFAULT_PREFIX: &str = "launchdarkly";
/// Operations per `/v1/txn` request (64 everywhere; 128 only since Consul 1.14).
pub const TXN_MAX_OPS: usize = 64;
/// Largest `/v1/txn` request body Consul accepts (`txn_max_req_len`, default 512 KiB).
pub const TXN_MAX_BODY: usize = 512 * 1024;
/// Largest KV value Consul accepts (`kv_max_value_size`, default 512 KiB).
pub const MAX_VALUE_SIZE: usize = 512 * 1024;
const UPSERT_ATTEMPTS: u32 = 10;

/// A relay batch's upserts in flight at a time ([`Store::upsert_many`]): each is a read and a
/// check-and-set of its own key, so they do not contend, and a Consul agent takes 200 HTTP
/// connections per client by default (`limits.http_max_conns_per_client`); 16 leaves most of that
/// to other clients while a batch pays about two round trips per 16 items instead of two per item.
const UPSERTS_IN_FLIGHT: usize = 16;

pub struct ConsulStore {
    client: reqwest::Client,
    base: String,
    token: Option<String>,
    timeout: Duration,
}

pub async fn open(cfg: &ConsulConfig) -> Result<Box<dyn Admin>, StoreError> {
    Ok(Box::new(ConsulStore::connect(cfg)?))
}

/// Why Consul cannot hold `path` (a prefix, or an item key: either becomes part of the KV key
/// `<prefix>/<kind>/<key>`) and read it back as itself; `None` when it can. Every key is read and
/// written through a URL path (`/v1/kv/<key>`), so:
/// - no empty segment (a leading or trailing `/`, or `//`), no `.` or `..` segment: HTTP clients
///   (the url crate, also for `%2e`) and Consul's HTTP server (Go's ServeMux redirects a path that
///   is not clean) turn such a path into another key, even though `/v1/txn` writes it as given;
/// - no character that is not printable (control and format characters, spaces other than the
///   ASCII space, private-use characters): Consul's HTTP server refuses such a path (400) unless
///   `disable_http_unprintable_char_filter` is set;
/// - not empty (an empty item key is the `<prefix>/<kind>/` folder itself).
pub fn path_problem(path: &str) -> Option<String> {
    if path.is_empty() {
        return Some("it is empty".into());
    }
    if let Some(c) = path.chars().find(|c| !is_printable(*c)) {
        return Some(format!(
            "it holds U+{:04X}, a character Consul's HTTP API refuses in a key (only printable characters are allowed)",
            c as u32
        ));
    }
    let why = "Consul's HTTP API would read and write another key";
    if path.starts_with('/') {
        return Some(format!("it starts with \"/\" (an empty segment: {why})"));
    }
    if path.ends_with('/') {
        return Some(format!("it ends with \"/\" (an empty segment: {why})"));
    }
    if path.contains("//") {
        return Some(format!("it holds \"//\" (an empty segment: {why})"));
    }
    if let Some(seg) = path.split('/').find(|s| *s == "." || *s == "..") {
        return Some(format!("it has a \"{seg}\" segment ({why})"));
    }
    None
}

/// Go's `unicode.IsPrint`, which Consul's HTTP server applies to request paths: letters, marks,
/// numbers, punctuation, symbols and the ASCII space. Control and format characters, other spaces
/// and separators, private-use characters and noncharacters are not printable. (Unassigned code
/// points, also not printable in Go, are not told apart.) Public for the Consul test server, which
/// refuses the same paths.
pub fn is_printable(c: char) -> bool {
    let u = c as u32;
    let format = matches!(
        u,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x890..=0x891 | 0x8E2 | 0x180E | 0x200B..=0x200F
            | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD
            | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F
    );
    let private = matches!(u, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD);
    let nonchar = matches!(u, 0xFDD0..=0xFDEF) || (u & 0xFFFE) == 0xFFFE;
    c == ' ' || !(c.is_control() || c.is_whitespace() || format || private || nonchar)
}

/// What a KV key keeps unescaped in a URL path: RFC 3986's unreserved characters, `/` (the
/// separator) and `$` (`$inited`).
const KEY_PATH: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/').remove(b'$');

/// Percent-encode a KV key for a URL path (`/` kept as the separator).
fn encode_key(key: &str) -> String {
    percent_encoding::utf8_percent_encode(key, KEY_PATH).to_string()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KvEntry {
    key: String,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    modify_index: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TxnError {
    #[serde(default)]
    op_index: usize,
    #[serde(default)]
    what: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TxnResponse {
    #[serde(default)]
    errors: Option<Vec<TxnError>>,
    #[serde(default)]
    results: Option<Vec<TxnResult>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TxnResult {
    #[serde(default, rename = "KV")]
    kv: Option<TxnKv>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TxnKv {
    #[serde(default)]
    modify_index: u64,
}

/// What Consul did with a transaction.
enum TxnOutcome {
    /// Applied: the ModifyIndex of each result (in operation order, for operations that have one).
    Applied(Vec<u64>),
    /// Rolled back (HTTP 409): the failed operations.
    Rejected(Vec<TxnError>),
}

/// A value's bytes, exactly as stored.
pub(crate) fn decode_value(v: Option<String>) -> Result<Vec<u8>, String> {
    match v {
        None => Ok(Vec::new()),
        Some(b) => B64.decode(b.as_bytes()).map_err(|e| format!("bad base64 value: {e}")),
    }
}

/// An item whose key is not UTF-8: Consul lists it (through Go's `encoding/json`) with U+FFFD for
/// each invalid byte, so its bytes are unknown; `listed` keys were listed alike.
fn key_not_utf8(kind: Kind, key: &str, value: Vec<u8>, listed: usize) -> BadItem {
    let shown = key.replace('\u{fffd}', "\\u{fffd}");
    let what = if listed > 1 {
        format!(
            "Consul lists {listed} keys as this one: keys that are not valid UTF-8 (each invalid byte listed as U+FFFD, shown here as \\u{{fffd}})"
        )
    } else {
        "its key is not valid UTF-8 (Consul lists each invalid byte as U+FFFD, shown here as \\u{fffd})".to_string()
    };
    BadItem {
        key: shown.clone(),
        json: String::from_utf8_lossy(&value).into_owned(),
        error: ItemError::NotUtf8 { kind, key: shown, what },
    }
}

fn is_denial(text: &str) -> bool {
    text.contains("ACL not found") || text.contains("Permission denied") || text.contains("permission denied")
}

/// One queued transaction operation, already serialized.
struct TxnBatch {
    body: String,
    ops: usize,
    items: u64,
}

impl TxnBatch {
    fn new() -> Self {
        TxnBatch { body: String::from("["), ops: 0, items: 0 }
    }
    /// Size of the request body if `op` were added.
    fn size_with(&self, op: &str) -> usize {
        self.body.len() + op.len() + 1 + usize::from(self.ops > 0)
    }
    fn push(&mut self, op: &str) {
        if self.ops > 0 {
            self.body.push(',');
        }
        self.body.push_str(op);
        self.ops += 1;
    }
    fn finish(mut self) -> String {
        self.body.push(']');
        self.body
    }
}

fn set_op(key: &str, value: &[u8]) -> String {
    let v = serde_json::json!({ "KV": { "Verb": "set", "Key": key, "Value": B64.encode(value) } });
    v.to_string()
}

fn delete_op(key: &str) -> String {
    serde_json::json!({ "KV": { "Verb": "delete", "Key": key } }).to_string()
}

/// Fails the transaction unless `key` is at `index` (the lease is still this init's).
fn fence_op(key: &str, index: u64) -> String {
    serde_json::json!({ "KV": { "Verb": "check-index", "Key": key, "Index": index } }).to_string()
}

/// Deletes `key` only if it is at `index`, else fails the transaction.
fn delete_cas_op(key: &str, index: u64) -> String {
    serde_json::json!({ "KV": { "Verb": "delete-cas", "Key": key, "Index": index } }).to_string()
}

impl ConsulStore {
    pub fn connect(cfg: &ConsulConfig) -> Result<ConsulStore, StoreError> {
        let mut builder = reqwest::Client::builder().timeout(cfg.timeout).connect_timeout(cfg.timeout);
        if let Some(path) = &cfg.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| StoreError::Other(format!("cannot read Consul CA file {}: {e}", path.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                StoreError::Other(format!("Consul CA file {} holds no usable PEM certificate: {e}", path.display()))
            })?;
            if certs.is_empty() {
                return Err(StoreError::Other(format!("Consul CA file {} holds no PEM certificate", path.display())));
            }
            builder = builder.tls_certs_only(certs);
        }
        let client = builder.build().map_err(|e| StoreError::Other(format!("cannot set up the Consul client: {e}")))?;
        Ok(ConsulStore {
            client,
            base: cfg.address.trim_end_matches('/').to_string(),
            token: cfg.token.clone(),
            timeout: cfg.timeout,
        })
    }

    fn kv_url(&self, key: &str) -> String {
        format!("{}/v1/kv/{}", self.base, encode_key(key))
    }

    fn item_key(prefix: &str, kind: Kind, key: &str) -> String {
        format!("{prefix}/{}/{key}", kind.namespace())
    }

    fn inited_key(prefix: &str) -> String {
        format!("{prefix}/$inited")
    }

    fn lease_key_of(prefix: &str) -> String {
        format!("{prefix}/{}", lease::NAME)
    }

    fn denied(&self, what: &str) -> StoreError {
        let who = match &self.token {
            Some(t) => format!("the ACL token {} is unknown or lacks permission on the prefix", secrets::masked(t)),
            None => "no ACL token was given (anonymous access is not allowed)".to_string(),
        };
        StoreError::Denied {
            store: BACKEND,
            addr: self.address(),
            reason: secrets::mask(&format!("{}: {who}", what.trim())),
        }
    }

    fn transport_error(&self, e: reqwest::Error, during: &str) -> StoreError {
        let mut text = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            text.push_str(": ");
            text.push_str(&s.to_string());
            src = s.source();
        }
        let text = secrets::mask(&text);
        if e.is_timeout() {
            StoreError::Timeout { store: BACKEND, timeout: self.timeout, during: during.to_string() }
        } else if e.is_connect() {
            StoreError::Unreachable { store: BACKEND, addr: self.address(), reason: text }
        } else if e.is_request() {
            // Connected, then the connection went away mid-request.
            StoreError::Lost { store: BACKEND, addr: self.address(), during: during.to_string(), reason: text }
        } else {
            StoreError::Command { store: BACKEND, during: during.to_string(), reason: text }
        }
    }

    /// Send a request; returns the status and body. 403 and ACL errors become [`StoreError::Denied`].
    async fn send(
        &self,
        method: Method,
        url: String,
        body: Option<Vec<u8>>,
        during: &str,
    ) -> Result<(StatusCode, Vec<u8>), StoreError> {
        let mut req = self.client.request(method, url);
        if let Some(t) = &self.token {
            req = req.header("X-Consul-Token", t);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req.send().await.map_err(|e| self.transport_error(e, during))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| self.transport_error(e, during))?.to_vec();
        if status == StatusCode::FORBIDDEN
            || (!status.is_success() && status != StatusCode::CONFLICT && is_denial(&String::from_utf8_lossy(&bytes)))
        {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            return Err(self.denied(if text.trim().is_empty() { "Permission denied" } else { &text }));
        }
        Ok((status, bytes))
    }

    fn unexpected(&self, status: StatusCode, body: &[u8], during: &str) -> StoreError {
        StoreError::Command {
            store: BACKEND,
            during: during.to_string(),
            reason: secrets::mask(&format!("HTTP {status}: {}", String::from_utf8_lossy(body).trim())),
        }
    }

    /// GET a KV path with a query; 404 means nothing there.
    async fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        key: &str,
        query: &str,
        during: &str,
    ) -> Result<Option<T>, StoreError> {
        let url = if query.is_empty() { self.kv_url(key) } else { format!("{}?{query}", self.kv_url(key)) };
        let (status, body) = self.send(Method::GET, url, None, during).await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(self.unexpected(status, &body, during));
        }
        serde_json::from_slice(&body).map(Some).map_err(|e| StoreError::Command {
            store: BACKEND,
            during: during.to_string(),
            reason: format!("unexpected response: {e}"),
        })
    }

    /// Every key under `dir` (which ends with `/`).
    async fn list_keys(&self, dir: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.get_json::<Vec<String>>(dir, "keys", "listing keys").await?.unwrap_or_default())
    }

    async fn get_entry(&self, key: &str) -> Result<Option<KvEntry>, StoreError> {
        let entries = self.get_json::<Vec<KvEntry>>(key, "", "GET").await?;
        Ok(entries.and_then(|v| v.into_iter().find(|e| e.key == key)))
    }

    /// Whether a listed key (one holding U+FFFD) is the stored key: the key as listed holds the
    /// listed value, at the listed index.
    async fn stored_as_listed(&self, key: &str, value: &[u8], modify_index: u64) -> Result<bool, StoreError> {
        Ok(match self.get_entry(key).await? {
            Some(e) => e.modify_index == modify_index && decode_value(e.value).is_ok_and(|v| v == value),
            None => false,
        })
    }

    /// Send one transaction: applied, or rolled back with the failed operations named by Consul.
    async fn txn_send(&self, body: String) -> Result<TxnOutcome, StoreError> {
        let url = format!("{}/v1/txn", self.base);
        let (status, resp) = self.send(Method::PUT, url, Some(body.into_bytes()), "transaction").await?;
        let parsed = || serde_json::from_slice::<TxnResponse>(&resp).ok();
        if status.is_success() {
            let indexes = parsed()
                .and_then(|r| r.results)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| r.kv.map(|kv| kv.modify_index))
                .collect();
            return Ok(TxnOutcome::Applied(indexes));
        }
        if status == StatusCode::CONFLICT
            && let Some(errors) = parsed().and_then(|r| r.errors)
        {
            let text: Vec<&str> = errors.iter().map(|e| e.what.as_str()).collect();
            if is_denial(&text.join("; ")) {
                return Err(self.denied(&text.join("; ")));
            }
            return Ok(TxnOutcome::Rejected(errors));
        }
        Err(self.unexpected(status, &resp, "transaction"))
    }

    /// The error for a rolled-back transaction of `ops`, naming each failed operation's key.
    fn rejected(errors: &[TxnError], ops: &[String]) -> StoreError {
        let what: Vec<String> = errors
            .iter()
            .map(|e| {
                let op = ops.get(e.op_index).map(String::as_str).unwrap_or("?");
                let key = serde_json::from_str::<serde_json::Value>(op)
                    .ok()
                    .and_then(|v| v["KV"]["Key"].as_str().map(str::to_string))
                    .unwrap_or_default();
                format!("operation {} ({key}): {}", e.op_index, e.what)
            })
            .collect();
        StoreError::Command { store: BACKEND, during: "transaction".into(), reason: what.join("; ") }
    }

    /// A plain KV PUT (optionally check-and-set); returns Consul's `true`/`false`.
    async fn put(&self, key: &str, value: &[u8], cas: Option<u64>) -> Result<bool, StoreError> {
        let mut url = self.kv_url(key);
        if let Some(i) = cas {
            url.push_str(&format!("?cas={i}"));
        }
        let (status, body) = self.send(Method::PUT, url, Some(value.to_vec()), "PUT").await?;
        if !status.is_success() {
            return Err(self.unexpected(status, &body, "PUT"));
        }
        Ok(String::from_utf8_lossy(&body).trim() == "true")
    }
}

/// What an operation of an init's transaction stands for, for the tally.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OpRole {
    Item,
    Stale,
    Marker,
}

/// Sends an init's operations as transactions fenced by its lease (see the module comment),
/// flushing by count and by body size; asks `guard` before each transaction (but a last one that
/// only writes the marker).
struct Batcher<'a> {
    store: &'a ConsulStore,
    progress: &'a dyn Progress,
    guard: &'a Guard,
    tally: &'a Tally,
    lease_key: String,
    /// Room kept in each transaction for the fence (or the lease's deletion in the last one).
    reserve: usize,
    batch: TxnBatch,
    ops: Vec<String>,
    stale: usize,
}

impl<'a> Batcher<'a> {
    fn new(
        store: &'a ConsulStore,
        prefix: &str,
        progress: &'a dyn Progress,
        guard: &'a Guard,
        tally: &'a Tally,
    ) -> Self {
        let lease_key = ConsulStore::lease_key_of(prefix);
        let reserve = fence_op(&lease_key, u64::MAX).len().max(delete_cas_op(&lease_key, u64::MAX).len()) + 1;
        Batcher { store, progress, guard, tally, lease_key, reserve, batch: TxnBatch::new(), ops: Vec::new(), stale: 0 }
    }

    async fn add(&mut self, op: String, role: OpRole) -> Result<(), Stop> {
        if self.batch.ops + 1 >= TXN_MAX_OPS
            || (self.batch.ops > 0 && self.batch.size_with(&op) + self.reserve > TXN_MAX_BODY)
        {
            self.flush(false).await?;
        }
        self.batch.push(&op);
        self.ops.push(op);
        match role {
            OpRole::Item => self.batch.items += 1,
            OpRole::Stale => self.stale += 1,
            OpRole::Marker => {}
        }
        Ok(())
    }

    /// Send what is queued: fenced by the lease, or (`last`) ending with the lease's deletion.
    async fn flush(&mut self, last: bool) -> Result<(), Stop> {
        if self.batch.ops == 0 && !last {
            return Ok(());
        }
        // A halt stops before a transaction, never inside one. A last transaction that holds
        // nothing but the marker is sent anyway: everything else is written, and it completes
        // the init.
        if !(last && self.batch.ops == 1) {
            self.guard.check().map_err(Stop::Halt)?;
        }
        let _renewals_wait = self.guard.write_lock.lock().await;
        let index = self.guard.held().index;
        let mut batch = std::mem::replace(&mut self.batch, TxnBatch::new());
        let mut ops = std::mem::take(&mut self.ops);
        let (items, stale) = (batch.items, std::mem::take(&mut self.stale));
        let fence_at = if last {
            let op = delete_cas_op(&self.lease_key, index);
            batch.push(&op);
            ops.push(op);
            ops.len() - 1
        } else {
            // The fence goes first.
            let mut fenced = TxnBatch::new();
            let op = fence_op(&self.lease_key, index);
            fenced.push(&op);
            for o in &ops {
                fenced.push(o);
            }
            fenced.items = batch.items;
            batch = fenced;
            ops.insert(0, op);
            0
        };
        self.tally.sent.store(true, Ordering::SeqCst);
        match self.store.txn_send(batch.finish()).await? {
            TxnOutcome::Applied(_) => {
                self.tally.items.fetch_add(items as usize, Ordering::SeqCst);
                self.tally.stale_removed.fetch_add(stale, Ordering::SeqCst);
                self.progress.advance(items);
                Ok(())
            }
            TxnOutcome::Rejected(errors) if errors.iter().any(|e| e.op_index == fence_at) => {
                let by = match self.store.get_entry(&self.lease_key).await {
                    Ok(Some(e)) => {
                        let r =
                            LeaseRecord::parse(&String::from_utf8_lossy(&decode_value(e.value).unwrap_or_default()));
                        format!("taken over by {}", r.describe())
                    }
                    Ok(None) => "deleted by someone else".to_string(),
                    Err(_) => "changed by someone else".to_string(),
                };
                Err(Stop::Halt(Halt::Lost(if last {
                    format!("{by} before the $inited marker was written (that last transaction was not applied)")
                } else {
                    by
                })))
            }
            TxnOutcome::Rejected(errors) => Err(Stop::Failed(ConsulStore::rejected(&errors, &ops))),
        }
    }
}

impl ConsulStore {
    /// The writes of an init, under `guard` (see [`Store::init`]); the last transaction writes the
    /// marker and ends the lease.
    async fn init_writes(
        &self,
        prefix: &str,
        data: &DataSet,
        progress: &dyn Progress,
        guard: &Guard,
        tally: &Tally,
    ) -> Result<InitReport, Stop> {
        let mut report = InitReport::default();
        progress.set_total(data.len() as u64);
        // The trailing slash keeps a sibling prefix (`<p>2/…`) out of the listing.
        let existing = self.list_keys(&format!("{prefix}/")).await?;
        let fits = |item: &Item| item.json.len() <= MAX_VALUE_SIZE;
        tally.items_total.store(
            Kind::INIT_ORDER.iter().map(|k| data.items(*k).values().filter(|i| fits(i)).count()).sum(),
            Ordering::SeqCst,
        );
        let mut wanted: HashSet<String> = HashSet::with_capacity(data.len() + 1);
        let mut b = Batcher::new(self, prefix, progress, guard, tally);
        for kind in Kind::INIT_ORDER {
            for item in data.write_order(kind) {
                let key = Self::item_key(prefix, kind, &item.key);
                let value = item.json.as_bytes();
                if !fits(item) {
                    report.skipped.push(SkippedItem {
                        kind,
                        key: item.key.clone(),
                        reason: format!(
                            "its {} bytes exceed Consul's value size limit of {MAX_VALUE_SIZE} bytes",
                            value.len()
                        ),
                    });
                    progress.advance(1);
                    continue;
                }
                wanted.insert(key.clone());
                let op = set_op(&key, value);
                if op.len() + 2 + b.reserve > TXN_MAX_BODY {
                    // Too big for any transaction: keep the write order with a plain PUT (the one
                    // write the lease cannot fence; it is checked just before).
                    b.flush(false).await?;
                    guard.check().map_err(Stop::Halt)?;
                    tally.sent.store(true, Ordering::SeqCst);
                    self.put(&key, value, None).await?;
                    tally.items.fetch_add(1, Ordering::SeqCst);
                    progress.advance(1);
                } else {
                    b.add(op, OpRole::Item).await?;
                }
                report.items_written += 1;
                report.bytes_written += value.len();
            }
        }
        let stale: Vec<String> = existing
            .into_iter()
            .filter(|key| {
                let ours = key
                    .strip_prefix(prefix)
                    .and_then(|k| k.strip_prefix('/'))
                    .is_some_and(|k| k.starts_with("features/") || k.starts_with("segments/"));
                ours && !wanted.contains(key)
            })
            .collect();
        tally.stale_total.store(stale.len(), Ordering::SeqCst);
        for key in stale {
            b.add(delete_op(&key), OpRole::Stale).await?;
        }
        progress.message("committing");
        b.add(set_op(&Self::inited_key(prefix), b""), OpRole::Marker).await?;
        b.flush(true).await?;
        Ok(report)
    }
}

#[async_trait]
impl LeaseStore for ConsulStore {
    fn lease_backend(&self) -> &'static str {
        BACKEND
    }

    fn lease_key(&self, prefix: &str) -> String {
        format!("key {}", Self::lease_key_of(prefix))
    }

    async fn read_lease(&self, prefix: &str) -> Result<Option<Stored>, StoreError> {
        Ok(self.get_entry(&Self::lease_key_of(prefix)).await?.map(|e| {
            let raw = String::from_utf8_lossy(&decode_value(e.value).unwrap_or_default()).into_owned();
            Stored { record: LeaseRecord::parse(&raw), raw: Some(raw), index: e.modify_index }
        }))
    }

    /// A one-operation transaction with the `cas` verb: the same check-and-set as `PUT ?cas=`
    /// (index 0: only if absent), but its answer carries the key's new ModifyIndex.
    async fn swap_lease(
        &self,
        prefix: &str,
        old: Option<&Stored>,
        new: &LeaseRecord,
    ) -> Result<Option<Stored>, StoreError> {
        let key = Self::lease_key_of(prefix);
        let json = new.to_json();
        let op = serde_json::json!({ "KV": {
            "Verb": "cas", "Key": key, "Value": B64.encode(json.as_bytes()), "Index": old.map_or(0, |o| o.index)
        }});
        match self.txn_send(format!("[{op}]")).await? {
            TxnOutcome::Applied(indexes) => match indexes.first() {
                Some(&index) => Ok(Some(Stored { record: new.clone(), raw: Some(json), index })),
                None => Err(StoreError::Command {
                    store: BACKEND,
                    during: "transaction (sync lease)".into(),
                    reason: "Consul's answer has no ModifyIndex for the lease".into(),
                }),
            },
            TxnOutcome::Rejected(_) => Ok(None),
        }
    }

    async fn drop_lease(&self, prefix: &str, held: &Stored) -> Result<bool, StoreError> {
        let op = delete_cas_op(&Self::lease_key_of(prefix), held.index);
        Ok(matches!(self.txn_send(format!("[{op}]")).await?, TxnOutcome::Applied(_)))
    }
}

#[async_trait]
impl Store for ConsulStore {
    fn backend(&self) -> Backend {
        Backend::Consul
    }

    fn effective_prefix(&self, requested: Option<&str>) -> String {
        super::prefix_or(requested, DEFAULT_PREFIX)
    }

    async fn read_all(&self, prefix: &str, kind: Kind, visit: &mut Visitor<'_>) -> anyhow::Result<()> {
        let dir = format!("{prefix}/{}/", kind.namespace());
        let entries = self.get_json::<Vec<KvEntry>>(&dir, "recurse", "reading").await?.unwrap_or_default();
        // Consul lists keys through Go's encoding/json, which writes each byte that is not UTF-8 as
        // U+FFFD: a listed key holding U+FFFD may not be the stored key. Keys listed more than once
        // are such keys (different bytes, listed alike); one listed once is looked up as listed.
        let mut listed: HashMap<String, usize> = HashMap::new();
        for e in entries.iter().filter(|e| e.key.contains('\u{fffd}')) {
            *listed.entry(e.key.clone()).or_default() += 1;
        }
        let mut seen = HashSet::with_capacity(entries.len());
        for e in entries {
            let Some(key) = e.key.strip_prefix(&dir) else { continue };
            if key.is_empty() {
                continue;
            }
            let value = decode_value(e.value).map_err(|reason| StoreError::Command {
                store: BACKEND,
                during: "reading".into(),
                reason: format!("{}: {reason}", e.key),
            })?;
            if let Some(&n) = listed.get(&e.key)
                && (n > 1 || !self.stored_as_listed(&e.key, &value, e.modify_index).await?)
            {
                visit(Err(key_not_utf8(kind, key, value, n)))?;
                continue;
            }
            if !seen.insert(key.to_string()) {
                continue;
            }
            visit(entry_bytes(kind, key.as_bytes(), value))?;
        }
        Ok(())
    }

    async fn get(&self, prefix: &str, kind: Kind, key: &str) -> Result<Option<Item>, StoreError> {
        match self.get_entry(&Self::item_key(prefix, kind, key)).await? {
            None => Ok(None),
            Some(e) => {
                let value = decode_value(e.value).map_err(|reason| StoreError::Command {
                    store: BACKEND,
                    during: "GET".into(),
                    reason,
                })?;
                entry_bytes(kind, key.as_bytes(), value).map(Some).map_err(|b| StoreError::BadItem(b.error, BACKEND))
            }
        }
    }

    async fn is_initialized(&self, prefix: &str) -> Result<bool, StoreError> {
        Ok(self.get_entry(&Self::inited_key(prefix)).await?.is_some())
    }

    async fn has_items(&self, prefix: &str, kind: Kind) -> Result<bool, StoreError> {
        // One level of keys (deeper ones are folded into one `…/` entry each), as read_all reads
        // them: anything under the directory but the directory itself.
        let dir = format!("{prefix}/{}/", kind.namespace());
        let keys = self.get_json::<Vec<String>>(&dir, "keys&separator=/", "listing keys").await?.unwrap_or_default();
        Ok(keys.iter().any(|k| k.len() > dir.len() && k.starts_with(&dir)))
    }

    async fn init(
        &self,
        prefix: &str,
        data: &DataSet,
        progress: &dyn Progress,
        shutdown: &Shutdown,
    ) -> Result<InitReport, StoreError> {
        if let Some(sig) = shutdown.signal() {
            return Err(lease::stopped_before_writing(BACKEND, prefix, Halt::Signal(sig)));
        }
        progress.message("taking the sync lease");
        let taken_at = Instant::now();
        let held = lease::acquire(self, prefix).await?;
        let guard = Guard::new(shutdown, held, taken_at);
        let tally = Tally::default();
        let outcome =
            lease::while_renewing(self, prefix, &guard, self.init_writes(prefix, data, progress, &guard, &tally)).await;
        lease::conclude(self, prefix, &guard, &tally, "the transaction in flight", outcome).await
    }

    /// The items' upserts sent together, [`UPSERTS_IN_FLIGHT`] at a time: a relay's queued patches
    /// through a Consul 20 ms away took two round trips each one after another
    /// (relay::patches_queued_behind_a_slow_consul_are_written_concurrently). Not one `/v1/txn`: a
    /// single stale or contended item would fail all of them.
    async fn upsert_many(&self, prefix: &str, kind: Kind, items: &[Item]) -> Result<Vec<Upserted>, StoreError> {
        super::upserts_in_flight(self, prefix, kind, items, UPSERTS_IN_FLIGHT).await
    }

    async fn upsert(&self, prefix: &str, kind: Kind, item: &Item) -> Result<Upserted, StoreError> {
        let key = Self::item_key(prefix, kind, &item.key);
        for _ in 0..UPSERT_ATTEMPTS {
            let (index, old) = match self.get_entry(&key).await? {
                None => (0, None),
                Some(e) => (
                    e.modify_index,
                    Some(String::from_utf8_lossy(&decode_value(e.value).unwrap_or_default()).into_owned()),
                ),
            };
            if let Some(old) = old {
                // An unreadable stored value is replaced, as the SDKs do.
                let old_version = crate::data::facts(kind, &item.key, &old).ok().and_then(|f| f.version).unwrap_or(0);
                if old_version >= item.version {
                    return Ok(Upserted::Stale { stored_version: old_version });
                }
            }
            if self.put(&key, item.json.as_bytes(), Some(index)).await? {
                return Ok(Upserted::Applied);
            }
            // `false`: another writer changed the key since the GET; read again and retry.
        }
        Err(StoreError::Contention { store: BACKEND, attempts: UPSERT_ATTEMPTS, what: key })
    }
}

#[async_trait]
impl Admin for ConsulStore {
    fn address(&self) -> String {
        // As given (the URL form adds a `/`), with any password masked.
        secrets::redact_url(&self.base).trim_end_matches('/').to_string()
    }

    fn keys(&self, prefix: &str) -> Vec<KeyInfo> {
        vec![
            KeyInfo { role: "flags".into(), key: format!("{prefix}/features/<flag key>") },
            KeyInfo { role: "segments".into(), key: format!("{prefix}/segments/<segment key>") },
            KeyInfo { role: "initialized marker".into(), key: Self::inited_key(prefix) },
            KeyInfo {
                role: "ldstore sync lease (only while a sync runs, or after one was interrupted)".into(),
                key: Self::lease_key_of(prefix),
            },
        ]
    }

    fn item_size_limit(&self) -> Option<usize> {
        Some(MAX_VALUE_SIZE)
    }

    fn empty_listing_note(&self) -> &'static str {
        " (or no permission to read it: check the Consul token)"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let url = format!("{}/v1/status/leader", self.base);
        let (status, body) = self.send(Method::GET, url, None, "status").await?;
        if !status.is_success() {
            return Err(self.unexpected(status, &body, "status"));
        }
        Ok(())
    }

    async fn sync_lease(&self, prefix: &str) -> Result<Option<LeaseRecord>, StoreError> {
        Ok(self.read_lease(prefix).await?.map(|s| s.record))
    }

    /// Keys under `<p>/` that are neither items (`features/…`, `segments/…`) nor the marker nor
    /// ldstore's sync lease.
    async fn unknown_keys(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let dir = format!("{prefix}/");
        let mut out: Vec<String> = self
            .list_keys(&dir)
            .await?
            .into_iter()
            .filter(|k| {
                let rest = k.strip_prefix(&dir).unwrap_or(k);
                // Everything under features/ and segments/ is read as an item (as the SDKs do).
                let item = |ns: &str| rest.strip_prefix(ns).is_some_and(|key| !key.is_empty());
                // A nested prefix's data (`<p>/sub/features/…`) belongs to that prefix.
                let nested = rest.ends_with("/$inited")
                    || rest.ends_with(&format!("/{}", lease::NAME))
                    || rest.contains("/features/")
                    || rest.contains("/segments/");
                !(rest == "$inited" || rest == lease::NAME || item("features/") || item("segments/") || nested)
            })
            .collect();
        out.sort();
        Ok(out)
    }

    async fn list_prefixes(&self) -> Result<Vec<String>, StoreError> {
        let keys = self.get_json::<Vec<String>>("", "keys", "listing keys").await?.unwrap_or_default();
        let lease_suffix = format!("/{}", lease::NAME);
        let mut out = BTreeSet::new();
        for k in keys {
            let prefix = if let Some(p) = k.strip_suffix("/$inited").or_else(|| k.strip_suffix(&lease_suffix)) {
                Some(p)
            } else {
                ["/features/", "/segments/"]
                    .iter()
                    .filter_map(|ns| k.find(ns).filter(|i| k.len() > i + ns.len()).map(|i| &k[..i]))
                    .min_by_key(|p| p.len())
            };
            if let Some(p) = prefix
                && !p.is_empty()
            {
                out.insert(p.to_string());
            }
        }
        Ok(out.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_consul_cannot_hold() {
        for ok in
            ["launchdarkly", "team/prod", "a.b", "..a", "a..", ".hidden", "x y", "ä", "%2e", "a%2Fb", "$inited", "🚀"]
        {
            assert_eq!(path_problem(ok), None, "{ok:?}");
        }
        for (bad, why) in [
            ("", "it is empty"),
            ("/", "starts with \"/\""),
            ("/p", "starts with \"/\""),
            ("x/", "ends with \"/\""),
            ("a//b", "holds \"//\""),
            (".", "a \".\" segment"),
            ("..", "a \"..\" segment"),
            ("a/./b", "a \".\" segment"),
            ("a/../b", "a \"..\" segment"),
            ("line\nbreak", "U+000A"),
            ("tab\t", "U+0009"),
            ("nbsp\u{a0}", "U+00A0"),
            ("zero\u{200b}width", "U+200B"),
            ("private\u{e000}", "U+E000"),
        ] {
            let got = path_problem(bad).unwrap_or_else(|| panic!("{bad:?} passed"));
            assert!(got.contains(why), "{bad:?}: {got}");
        }
    }

    #[test]
    fn keys_are_percent_encoded_except_slash() {
        assert_eq!(encode_key("ld/features/a b?c"), "ld/features/a%20b%3Fc");
        assert_eq!(encode_key("ld/$inited"), "ld/$inited");
    }

    #[test]
    fn batches_respect_size() {
        let mut b = TxnBatch::new();
        let op = set_op("k", b"v");
        assert_eq!(b.size_with(&op), op.len() + 2);
        b.push(&op);
        assert_eq!(b.size_with(&op), 2 * op.len() + 3);
        assert_eq!(b.finish().len(), op.len() + 2);
    }
}
