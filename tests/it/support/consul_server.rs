//! An in-process Consul KV server for tests (no Consul can be installed on the test machines).
//!
//! It follows Consul's documented HTTP API (https://developer.hashicorp.com/consul/api-docs/kv and
//! /txn): a raft-like global index (`X-Consul-Index`, `CreateIndex`, `ModifyIndex`, `LockIndex`,
//! `Flags`), `GET` of one key / `?recurse` / `?keys` (+ `separator`) / `?raw`, 404 for nothing,
//! `PUT` with `?cas=` and `?flags=` answering `true`/`false`, `DELETE` with `?recurse` and `?cas=`,
//! atomic `PUT /v1/txn` (64 operations, 512 KiB body, 409 with `Errors` when an operation fails),
//! ACL tokens (`X-Consul-Token` or `?token=`; an unknown token is "ACL not found", the anonymous
//! token may do nothing: writes are "Permission denied", lists are filtered to nothing), and the
//! 512 KiB value limit. Keys are bytes, as Consul's (Go strings): a key that is not UTF-8 is
//! stored as sent and listed the way Go's `encoding/json` writes it, each invalid byte as U+FFFD.
//! Paths are handled as Consul's Go HTTP server handles them: a path with a
//! character that is not printable is refused (400), and a path with an empty, `.` or `..` segment
//! is redirected (301) to its clean form (so such keys, which `/v1/txn` writes, cannot be read or
//! written through `/v1/kv/` as themselves). Served by the tests' one HTTP server
//! ([`super::http`]).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use super::http::{self as server, Response as HttpResponse};

pub const MAX_TXN_OPS: usize = 64;
pub const MAX_TXN_BODY: usize = 512 * 1024;
pub const MAX_VALUE_SIZE: usize = 512 * 1024;

#[derive(Debug, Clone)]
pub struct KvEntry {
    pub value: Vec<u8>,
    pub create_index: u64,
    pub modify_index: u64,
    pub lock_index: u64,
    pub flags: u64,
}

/// One `/v1/txn` request as received.
#[derive(Debug, Clone, Copy)]
pub struct TxnStat {
    pub ops: usize,
    pub body_bytes: usize,
    /// Whether it was applied (false: rejected with 409 or 413).
    pub applied: bool,
}

/// The keys of one applied `/v1/txn` request, in operation order, with the verb.
#[derive(Debug, Clone)]
pub struct TxnOps {
    pub ops: Vec<(String, String)>,
}

#[derive(Debug, Default, Clone)]
pub struct Counters {
    pub txns: Vec<TxnStat>,
    /// Verb and key of every operation of every applied transaction, per transaction.
    pub txn_ops: Vec<TxnOps>,
    pub plain_puts: usize,
    pub cas_puts: usize,
    pub cas_failed: usize,
    pub requests: usize,
    pub max_body: usize,
}

#[derive(Default)]
struct State {
    index: u64,
    kv: BTreeMap<Vec<u8>, KvEntry>,
    /// When set, ACLs are on (default deny): this token may do anything.
    token: Option<String>,
    counters: Counters,
    /// Simulated other writers: before the next `PUT ?cas=` on a key, write this value to it.
    interfere: Vec<(String, Vec<u8>)>,
    /// A fault: after this many more writes (`PUT`/`DELETE` and `/v1/txn`), every write gets
    /// Consul's `500` (as when it has lost its leader).
    fail_writes_after: Option<usize>,
}

enum Access {
    Full,
    Anonymous,
    Unknown,
}

impl State {
    fn access(&self, token: Option<&str>) -> Access {
        match (&self.token, token) {
            (None, _) => Access::Full,
            (Some(t), Some(given)) if t == given => Access::Full,
            (Some(_), None | Some("")) => Access::Anonymous,
            (Some(_), Some(_)) => Access::Unknown,
        }
    }

    fn set(&mut self, key: &[u8], value: Vec<u8>, flags: u64, index: u64) {
        match self.kv.get_mut(key) {
            Some(e) => {
                e.value = value;
                e.flags = flags;
                e.modify_index = index;
            }
            None => {
                self.kv.insert(
                    key.to_vec(),
                    KvEntry { value, create_index: index, modify_index: index, lock_index: 0, flags },
                );
            }
        }
    }
}

/// A key as Go's `encoding/json` writes a string: valid UTF-8 as is, each invalid byte as U+FFFD.
pub fn go_json_string(key: &[u8]) -> String {
    let mut out = String::with_capacity(key.len());
    for chunk in key.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(std::iter::repeat_n('\u{fffd}', chunk.invalid().len()));
    }
    out
}

fn entry_json(key: &[u8], e: &KvEntry, with_value: bool) -> Value {
    json!({
        "LockIndex": e.lock_index,
        "Key": go_json_string(key),
        "Flags": e.flags,
        "Value": if with_value && !e.value.is_empty() { Value::String(B64.encode(&e.value)) } else { Value::Null },
        "CreateIndex": e.create_index,
        "ModifyIndex": e.modify_index,
    })
}

/// A running server; stops when dropped.
pub struct ConsulServer {
    pub addr: String,
    state: Arc<Mutex<State>>,
    _server: server::Server,
}

impl ConsulServer {
    /// A server without ACLs.
    pub fn start() -> ConsulServer {
        Self::start_with(None)
    }

    /// A server with ACLs on (default deny) and one token allowed to do everything.
    pub fn start_with_token(token: &str) -> ConsulServer {
        Self::start_with(Some(token.to_string()))
    }

    fn start_with(token: Option<String>) -> ConsulServer {
        let state = Arc::new(Mutex::new(State { index: 1, token, ..Default::default() }));
        let st = state.clone();
        let server = server::Server::start(move |req| {
            let resp: HttpResponse = handle(&Request::from(req), &st).into();
            async move { resp }
        });
        ConsulServer { addr: server.addr.to_string(), state, _server: server }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn counters(&self) -> Counters {
        self.state.lock().unwrap().counters.clone()
    }

    pub fn reset_counters(&self) {
        self.state.lock().unwrap().counters = Counters::default();
    }

    /// All keys (as listed) and values, for layout assertions.
    pub fn snapshot(&self) -> BTreeMap<String, KvEntry> {
        self.state.lock().unwrap().kv.iter().map(|(k, v)| (go_json_string(k), v.clone())).collect()
    }

    /// Write a key directly (as another client would).
    pub fn put(&self, key: &str, value: &[u8]) {
        self.put_bytes(key.as_bytes(), value);
    }

    /// Write a key of any bytes directly (as another client would).
    pub fn put_bytes(&self, key: &[u8], value: &[u8]) {
        let mut s = self.state.lock().unwrap();
        s.index += 1;
        let i = s.index;
        s.set(key, value.to_vec(), 0, i);
    }

    /// From the `n`-th write on (0: the next one), answer every write with a 500.
    pub fn fail_writes_after(&self, n: usize) {
        self.state.lock().unwrap().fail_writes_after = Some(n);
    }

    /// Simulate another writer: just before the next `PUT ?cas=` on `key`, `value` is written to it.
    pub fn interfere_before_next_cas(&self, key: &str, value: &[u8]) {
        self.state.lock().unwrap().interfere.push((key.to_string(), value.to_vec()));
    }
}

/// A request as Consul's handlers see it.
struct Request {
    method: String,
    /// The path as sent (percent-encoded).
    raw_path: String,
    /// Percent-decoded: bytes, as Go decodes a URL path (`URL.Path`).
    path: Vec<u8>,
    raw_query: String,
    query: Vec<(String, Option<String>)>,
    token: Option<String>,
    body: Vec<u8>,
}

impl From<server::Request> for Request {
    fn from(r: server::Request) -> Request {
        let mut token = r.header("x-consul-token").map(str::to_string);
        if token.is_none() {
            token = r.header("authorization").and_then(|v| v.strip_prefix("Bearer ")).map(str::to_string);
        }
        let mut query = r.query;
        if token.is_none()
            && let Some(pos) = query.iter().position(|(k, _)| k == "token")
        {
            token = query.remove(pos).1;
        }
        Request {
            method: r.method,
            raw_path: r.raw_path,
            path: r.path,
            raw_query: r.raw_query,
            query,
            token,
            body: r.body,
        }
    }
}

impl Request {
    fn has(&self, name: &str) -> bool {
        self.query.iter().any(|(k, _)| k == name)
    }
    fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.as_deref())
    }
}

struct Response {
    status: u16,
    body: Vec<u8>,
    json: bool,
    index: u64,
    /// `Location` of a redirect.
    location: Option<String>,
}

fn text(status: u16, body: &str, index: u64) -> Response {
    Response { status, body: body.as_bytes().to_vec(), json: false, index, location: None }
}

fn json_resp(status: u16, v: &Value, index: u64) -> Response {
    Response { status, body: v.to_string().into_bytes(), json: true, index, location: None }
}

/// Go's `net/http` `cleanPath`: `path.Clean` (no empty, `.` or `..` segments), keeping a trailing
/// slash.
fn go_clean_path(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut clean = format!("/{}", out.join("/"));
    if p.ends_with('/') && clean != "/" {
        clean.push('/');
    }
    clean
}

impl From<Response> for HttpResponse {
    fn from(r: Response) -> HttpResponse {
        let ctype = if r.json { "application/json" } else { "text/plain; charset=utf-8" };
        let mut out = HttpResponse::new(r.status, r.body)
            .header("Content-Type", ctype)
            .header("X-Consul-Index", &r.index.to_string())
            .header("X-Consul-Knownleader", "true")
            .header("X-Consul-Lastcontact", "0")
            .header("Vary", "Accept-Encoding");
        if let Some(l) = &r.location {
            out = out.header("Location", l);
        }
        out
    }
}

fn handle(req: &Request, st: &Mutex<State>) -> Response {
    let mut s = st.lock().unwrap();
    s.counters.requests += 1;
    s.counters.max_body = s.counters.max_body.max(req.body.len());
    let index = s.index;
    // As Consul's HTTP server: a path with a character that is not printable is refused
    // (go-cleanhttp's PrintablePathCheckHandler, on unless `disable_http_unprintable_char_filter`)...
    if !String::from_utf8_lossy(&req.path).chars().all(ldstore::store::consul::is_printable) {
        return text(400, "", index);
    }
    // ...and Go's ServeMux redirects a path with empty, `.` or `..` segments to its clean form
    // (HTTP clients then GET that other key, even for a PUT).
    let clean = go_clean_path(&req.raw_path);
    if clean != req.raw_path {
        let query = if req.raw_query.is_empty() { String::new() } else { format!("?{}", req.raw_query) };
        return Response { location: Some(format!("{clean}{query}")), ..text(301, "", index) };
    }
    if req.path == b"/v1/status/leader" {
        return json_resp(200, &json!("127.0.0.1:8300"), index);
    }
    let access = s.access(req.token.as_deref());
    if matches!(access, Access::Unknown) {
        return text(403, "ACL not found", index);
    }
    let anonymous = matches!(access, Access::Anonymous);
    if req.method == "PUT" || req.method == "DELETE" {
        match s.fail_writes_after {
            Some(0) => return text(500, "rpc error making call: No cluster leader", index),
            Some(n) => s.fail_writes_after = Some(n - 1),
            None => {}
        }
    }
    if req.path == b"/v1/txn" {
        if req.method != "PUT" {
            return text(405, "method not allowed", index);
        }
        return txn(req, &mut s, anonymous);
    }
    let Some(key) = req.path.strip_prefix(b"/v1/kv/") else {
        return text(404, "", index);
    };
    match req.method.as_str() {
        "GET" => kv_get(req, &s, key, anonymous),
        "PUT" => kv_put(req, &mut s, key, anonymous),
        "DELETE" => kv_delete(req, &mut s, key, anonymous),
        _ => text(405, "method not allowed", index),
    }
}

fn kv_get(req: &Request, s: &State, key: &[u8], anonymous: bool) -> Response {
    let index = s.index;
    if req.has("keys") {
        if anonymous {
            // Consul filters what the token may not read: nothing is left.
            return text(404, "", index);
        }
        let sep = req.param("separator").filter(|x| !x.is_empty()).map(str::as_bytes);
        let mut out: Vec<&[u8]> = Vec::new();
        for k in s.kv.keys().filter(|k| k.starts_with(key)) {
            let rest = &k[key.len()..];
            let k = match sep.and_then(|sep| rest.windows(sep.len()).position(|w| w == sep).map(|i| (i, sep))) {
                Some((i, sep)) => &k[..key.len() + i + sep.len()],
                None => &k[..],
            };
            if out.last() != Some(&k) {
                out.push(k);
            }
        }
        if out.is_empty() {
            return text(404, "", index);
        }
        let out: Vec<String> = out.into_iter().map(go_json_string).collect();
        return json_resp(200, &json!(out), index);
    }
    if req.has("recurse") {
        if anonymous {
            return text(404, "", index);
        }
        let out: Vec<Value> =
            s.kv.iter().filter(|(k, _)| k.starts_with(key)).map(|(k, e)| entry_json(k, e, true)).collect();
        if out.is_empty() {
            return text(404, "", index);
        }
        return json_resp(200, &Value::Array(out), index);
    }
    if key.is_empty() {
        return text(400, "Missing key name", index);
    }
    if anonymous {
        return text(403, "Permission denied", index);
    }
    match s.kv.get(key) {
        None => text(404, "", index),
        Some(e) if req.has("raw") => {
            Response { status: 200, body: e.value.clone(), json: false, index, location: None }
        }
        Some(e) => json_resp(200, &json!([entry_json(key, e, true)]), e.modify_index),
    }
}

fn kv_put(req: &Request, s: &mut State, key: &[u8], anonymous: bool) -> Response {
    let index = s.index;
    if key.is_empty() {
        return text(400, "Missing key name", index);
    }
    if anonymous {
        return text(403, "Permission denied", index);
    }
    if req.body.len() > MAX_VALUE_SIZE {
        return text(413, &format!("Value exceeds {MAX_VALUE_SIZE} byte limit"), index);
    }
    let flags = req.param("flags").and_then(|f| f.parse().ok()).unwrap_or(0);
    if let Some(cas) = req.param("cas") {
        let Ok(cas) = cas.parse::<u64>() else { return text(400, "Invalid CAS index", index) };
        s.counters.cas_puts += 1;
        if let Some(pos) = s.interfere.iter().position(|(k, _)| k.as_bytes() == key) {
            let (k, v) = s.interfere.remove(pos);
            s.index += 1;
            let i = s.index;
            s.set(k.as_bytes(), v, 0, i);
        }
        let current = s.kv.get(key).map_or(0, |e| e.modify_index);
        if current != cas {
            s.counters.cas_failed += 1;
            return json_resp(200, &json!(false), s.index);
        }
    } else {
        s.counters.plain_puts += 1;
    }
    s.index += 1;
    let i = s.index;
    s.set(key, req.body.clone(), flags, i);
    json_resp(200, &json!(true), i)
}

fn kv_delete(req: &Request, s: &mut State, key: &[u8], anonymous: bool) -> Response {
    let index = s.index;
    if anonymous {
        return text(403, "Permission denied", index);
    }
    if req.has("recurse") {
        s.index += 1;
        s.kv.retain(|k, _| !k.starts_with(key));
        return json_resp(200, &json!(true), s.index);
    }
    if let Some(cas) = req.param("cas") {
        let Ok(cas) = cas.parse::<u64>() else { return text(400, "Invalid CAS index", index) };
        // As Consul's kvsDeleteCASTxn: a key that does not exist is deleted already (true).
        if s.kv.get(key).is_some_and(|e| e.modify_index != cas) {
            return json_resp(200, &json!(false), index);
        }
    }
    s.index += 1;
    s.kv.remove(key);
    json_resp(200, &json!(true), s.index)
}

struct TxnOp {
    verb: String,
    key: Vec<u8>,
    value: Vec<u8>,
    flags: u64,
    index: u64,
}

fn txn(req: &Request, s: &mut State, anonymous: bool) -> Response {
    let index = s.index;
    let n = req.body.len();
    if n > MAX_TXN_BODY {
        s.counters.txns.push(TxnStat { ops: 0, body_bytes: n, applied: false });
        return text(
            413,
            &format!(
                "Request body({n} bytes) too large, max size: {MAX_TXN_BODY} bytes. See https://developer.hashicorp.com/consul/docs/agent/config/config-files#txn_max_req_len."
            ),
            index,
        );
    }
    let raw: Vec<Value> = match serde_json::from_slice(&req.body) {
        Ok(Value::Array(a)) => a,
        Ok(_) => return text(400, "Failed to parse body: expected an array of operations", index),
        Err(e) => return text(400, &format!("Failed to parse body: {e}"), index),
    };
    if raw.len() > MAX_TXN_OPS {
        s.counters.txns.push(TxnStat { ops: raw.len(), body_bytes: n, applied: false });
        return text(413, &format!("Transaction contains too many operations ({} > {MAX_TXN_OPS})", raw.len()), index);
    }
    // Decode every operation before applying anything.
    let mut ops = Vec::with_capacity(raw.len());
    for (i, op) in raw.iter().enumerate() {
        let Some(o) = op.get("KV") else {
            return text(400, &format!("Failed to parse body: operation {i} is not a KV operation"), index);
        };
        let key = o["Key"].as_str().unwrap_or("").as_bytes().to_vec();
        let value = match o["Value"].as_str() {
            Some(v) => match B64.decode(v) {
                Ok(b) => b,
                Err(e) => return text(400, &format!("Failed to parse body: {e}"), index),
            },
            None => Vec::new(),
        };
        if value.len() > MAX_VALUE_SIZE {
            return text(
                413,
                &format!(
                    "Value for key {:?} is too large ({} > {MAX_VALUE_SIZE} bytes)",
                    go_json_string(&key),
                    value.len()
                ),
                index,
            );
        }
        ops.push(TxnOp {
            verb: o["Verb"].as_str().unwrap_or("").to_string(),
            key,
            value,
            flags: o["Flags"].as_u64().unwrap_or(0),
            index: o["Index"].as_u64().unwrap_or(0),
        });
    }
    // Apply in place with an undo log: all or nothing, one raft index for the whole transaction.
    let new_index = s.index + 1;
    let mut errors: Vec<Value> = Vec::new();
    let mut results: Vec<Value> = Vec::new();
    let mut undo: Vec<(Vec<u8>, Option<KvEntry>)> = Vec::new();
    let kv = &mut s.kv;
    for (i, op) in ops.into_iter().enumerate() {
        let TxnOp { verb, key, value, flags, index: want } = op;
        let shown = go_json_string(&key);
        let mut fail = |what: String| errors.push(json!({ "OpIndex": i, "What": what }));
        if anonymous {
            fail("Permission denied".into());
            continue;
        }
        let current = kv.get(&key).map(|e| e.modify_index);
        let write = |kv: &mut BTreeMap<Vec<u8>, KvEntry>| {
            let old = kv.get(&key).cloned();
            let e = KvEntry {
                value,
                create_index: old.as_ref().map_or(new_index, |o| o.create_index),
                modify_index: new_index,
                lock_index: old.as_ref().map_or(0, |o| o.lock_index),
                flags,
            };
            let j = entry_json(&key, &e, false);
            kv.insert(key.clone(), e);
            undo.push((key.clone(), old));
            results.push(json!({ "KV": j }));
        };
        match verb.as_str() {
            "set" if key.is_empty() => fail("Missing key name".into()),
            "set" => write(kv),
            "cas" if current.unwrap_or(0) != want => fail(format!("failed to set key {shown:?}, index is stale")),
            "cas" => write(kv),
            "get" => match kv.get(&key) {
                Some(e) => results.push(json!({ "KV": entry_json(&key, e, true) })),
                None => fail(format!("key {shown:?} doesn't exist")),
            },
            "get-tree" => {
                for (k, e) in kv.iter().filter(|(k, _)| k.starts_with(&key)) {
                    results.push(json!({ "KV": entry_json(k, e, true) }));
                }
            }
            "check-index" => match current {
                Some(c) if c == want => results.push(json!({ "KV": entry_json(&key, &kv[&key], false) })),
                Some(_) => fail(format!("current modify index {want} != actual index for key {shown:?}")),
                None => fail(format!("key {shown:?} doesn't exist")),
            },
            "check-not-exists" if current.is_some() => fail(format!("key {shown:?} exists")),
            "check-not-exists" => {}
            "delete" => {
                if let Some(old) = kv.remove(&key) {
                    undo.push((key, Some(old)));
                }
            }
            "delete-tree" => {
                let doomed: Vec<Vec<u8>> = kv.keys().filter(|k| k.starts_with(&key)).cloned().collect();
                for k in doomed {
                    let old = kv.remove(&k);
                    undo.push((k, old));
                }
            }
            // As Consul's kvsDeleteCASTxn: a key that does not exist is deleted already.
            "delete-cas" if current.is_some_and(|c| c != want) => {
                fail(format!("failed to delete key {shown:?}, index is stale"))
            }
            "delete-cas" => {
                if let Some(old) = kv.remove(&key) {
                    undo.push((key, Some(old)));
                }
            }
            other => fail(format!("unknown KV verb {other:?}")),
        }
    }
    if !errors.is_empty() {
        for (k, old) in undo.into_iter().rev() {
            match old {
                Some(e) => s.kv.insert(k, e),
                None => s.kv.remove(&k),
            };
        }
        s.counters.txns.push(TxnStat { ops: raw.len(), body_bytes: n, applied: false });
        return json_resp(409, &json!({ "Results": null, "Errors": errors }), index);
    }
    s.index = new_index;
    s.counters.txns.push(TxnStat { ops: raw.len(), body_bytes: n, applied: true });
    let list = raw
        .iter()
        .map(|o| {
            (o["KV"]["Verb"].as_str().unwrap_or("").to_string(), o["KV"]["Key"].as_str().unwrap_or("").to_string())
        })
        .collect();
    s.counters.txn_ops.push(TxnOps { ops: list });
    let results = if results.is_empty() { Value::Null } else { Value::Array(results) };
    json_resp(200, &json!({ "Results": results, "Errors": null }), new_index)
}

/// A minimal blocking HTTP client for assertions against any Consul (the in-process server or a
/// real one): returns status and body.
pub fn http(base: &str, method: &str, path: &str, body: &[u8], token: Option<&str>) -> (u16, Vec<u8>) {
    let headers: Vec<(&str, &str)> = token.map(|t| ("X-Consul-Token", t)).into_iter().collect();
    server::call(base, method, path, &headers, body).expect("an answer from Consul")
}

/// Every key under `prefix` (Consul `?keys`), via HTTP.
pub fn keys_under(base: &str, prefix: &str, token: Option<&str>) -> Vec<String> {
    let (status, body) = http(base, "GET", &format!("/v1/kv/{prefix}?keys"), b"", token);
    match status {
        404 => Vec::new(),
        200 => serde_json::from_slice(&body).expect("keys JSON"),
        s => panic!("GET ?keys: HTTP {s}: {}", String::from_utf8_lossy(&body)),
    }
}

/// One key's raw value via HTTP (`?raw`), or None.
pub fn raw_value(base: &str, key: &str, token: Option<&str>) -> Option<Vec<u8>> {
    let (status, body) = http(base, "GET", &format!("/v1/kv/{key}?raw"), b"", token);
    match status {
        404 => None,
        200 => Some(body),
        s => panic!("GET ?raw: HTTP {s}: {}", String::from_utf8_lossy(&body)),
    }
}

/// Write one key via HTTP.
pub fn put_value(base: &str, key: &str, value: &[u8], token: Option<&str>) {
    let (status, body) = http(base, "PUT", &format!("/v1/kv/{key}"), value, token);
    assert_eq!(status, 200, "PUT {key}: {}", String::from_utf8_lossy(&body));
}
