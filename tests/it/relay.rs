//! `ldstore relay` run as a child process against the in-process LaunchDarkly test server and a
//! real redis-server (the shared one, or one of the test's own where the test stops or flushes
//! it), DynamoDB Local and the in-process Consul test server.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::support::consul_server::{self, ConsulServer};
use crate::support::ld_server::{LdServer, sse};
use crate::support::*;

pub(crate) const KEY: &str = "sdk-11111111-2222-3333-4444-5555555500r1";
const KEY2: &str = "sdk-22222222-2222-3333-4444-5555555500r2";
const BAD_KEY: &str = "sdk-99999999-2222-3333-4444-55555555dead";

/// A `/sdk/latest-all` body with these flags (key, version) and one segment.
pub(crate) fn body(flags: &[(&str, u64)]) -> String {
    let f: Vec<String> = flags
        .iter()
        .map(|(k, v)| format!(r#""{k}":{{"key":"{k}","version":{v},"on":true,"variations":[true,false],"offVariation":1,"fallthrough":{{"variation":0}}}}"#))
        .collect();
    format!(r#"{{"flags":{{{}}},"segments":{{"seg":{{"key":"seg","version":1,"included":["u1"]}}}}}}"#, f.join(","))
}

pub(crate) fn patch(key: &str, version: u64) -> String {
    sse(
        "patch",
        &format!(
            r#"{{"path":"/flags/{key}","data":{{"key":"{key}","version":{version},"on":false,"variations":[true,false],"offVariation":1,"fallthrough":{{"variation":0}}}}}}"#
        ),
    )
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) struct Relay {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Relay {
    pub(crate) fn start(args: &[&str], env: &[(&str, &str)]) -> Relay {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("relay.log");
        let file = std::fs::File::create(&log).unwrap();
        let mut cmd = ldstore();
        cmd.arg("relay").args(args).stdout(Stdio::null()).stderr(file);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Relay { child: cmd.spawn().expect("spawn relay"), log, _dir: dir }
    }

    /// Whether the process is still running.
    pub(crate) fn still_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill").args([sig, &self.child.id().to_string()]).status().unwrap().success();
        assert!(ok, "kill {sig}");
    }

    /// Wait (bounded) for the process to exit.
    fn wait_exit(&mut self, secs: u64) -> ExitStatus {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < end, "relay did not exit within {secs} s\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[track_caller]
    pub(crate) fn wait_for(&self, what: &str, cond: impl FnMut() -> bool) {
        self.wait_for_secs(what, 20, cond)
    }

    #[track_caller]
    pub(crate) fn wait_for_secs(&self, what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
        self.poll(what, secs, || if cond() { Ok(()) } else { Err(String::new()) })
    }

    /// `/metrics` on `port` once `cond` holds for it. A write is counted when the store's answer
    /// reaches the relay, which can be well after a test sees the written data in the store (through
    /// a latency proxy, the whole delay after): counts read at once can miss the last writes.
    #[track_caller]
    pub(crate) fn metrics_when(&self, port: u16, what: &str, cond: impl Fn(&str) -> bool) -> String {
        self.poll(what, 20, || {
            let m = http_get(port, "/metrics");
            if cond(&m) { Ok(m) } else { Err(format!("{m}\n")) }
        })
    }

    /// `f` every 50 ms until it answers `Ok`, for at most `secs`; on timing out, fails with the last
    /// `Err` (what was seen, if anything: empty or ending in a newline) and the relay's log.
    #[track_caller]
    fn poll<T>(&self, what: &str, secs: u64, mut f: impl FnMut() -> Result<T, String>) -> T {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            match f() {
                Ok(t) => return t,
                Err(seen) => {
                    assert!(Instant::now() < end, "timed out waiting for {what}\n{seen}--- relay log\n{}", self.log())
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// redis-cli against any server.
pub(crate) fn cli_at(addr: &str, args: &[&str]) -> Option<String> {
    let (host, port) = addr.rsplit_once(':').unwrap();
    let o = Command::new("redis-cli").args(["-h", host, "-p", port, "--raw"]).args(args).output().ok()?;
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    (o.status.success() && !out.starts_with("Could not connect")).then_some(out)
}

/// The stored flag's version (None when absent or unreadable).
fn stored_version(addr: &str, prefix: &str, key: &str) -> Option<u64> {
    let json = cli_at(addr, &["hget", &format!("{prefix}:features"), key])?;
    let v: serde_json::Value = serde_json::from_str(json.trim()).ok()?;
    v["version"].as_u64()
}

fn inited(addr: &str, prefix: &str) -> bool {
    cli_at(addr, &["exists", &format!("{prefix}:$inited")]).is_some_and(|o| o.trim() == "1")
}

pub(crate) fn http_get(port: u16, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to --listen");
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    out.split_once("\r\n\r\n").unwrap().1.to_string()
}

pub(crate) fn status(port: u16) -> serde_json::Value {
    serde_json::from_str(&http_get(port, "/status")).expect("status JSON")
}

pub(crate) fn metric(text: &str, line_start: &str) -> Option<f64> {
    text.lines().find(|l| l.starts_with(line_start)).and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// The relay's count of items written as upserts.
const UPSERTS: &str = r#"ldstore_relay_store_writes_total{env="default",op="upsert"}"#;

/// Whether `/metrics` shows the store up.
pub(crate) fn store_is_up(m: &str) -> bool {
    metric(m, r#"ldstore_relay_store_up{env="default"}"#) == Some(1.0)
}

pub(crate) fn server(flags: &[(&str, u64)]) -> LdServer {
    let s = LdServer::start();
    s.env(KEY, &body(flags)).hold_streams(Duration::from_secs(600));
    s
}

#[test]
fn put_patch_delete_unknown_status_and_metrics() {
    let redis = redis_addr();
    let server = server(&[("a", 1), ("b", 1)]);
    let prefix = unique_prefix("relay");
    let port = free_port();
    let relay = Relay::start(
        &[
            "--stream-uri",
            &server.uri,
            "--redis",
            &redis,
            "--prefix",
            &prefix,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ],
        &[("LD_SDK_KEY", KEY)],
    );
    relay.wait_for("the put in the store", || {
        inited(&redis, &prefix) && stored_version(&redis, &prefix, "b") == Some(1)
    });
    // put → store equals data.
    let o = run(ldstore().args(["dump", "--redis", &redis, "--prefix", &prefix]));
    assert_code(&o, 0);
    let dumped: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(dumped, serde_json::from_str::<serde_json::Value>(&body(&[("a", 1), ("b", 1)])).unwrap());

    // Newer patch applied; older one ignored (a later sentinel shows it was processed).
    assert_eq!(server.push(&patch("a", 3)), 1);
    relay.wait_for("a v3", || stored_version(&redis, &prefix, "a") == Some(3));
    server.push(&patch("a", 2));
    server.push(&patch("b", 2));
    relay.wait_for("b v2", || stored_version(&redis, &prefix, "b") == Some(2));
    assert_eq!(stored_version(&redis, &prefix, "a"), Some(3));

    // delete → tombstone.
    server.push(&sse("delete", r#"{"path":"/flags/b","version":5}"#));
    relay.wait_for("b tombstone", || stored_version(&redis, &prefix, "b") == Some(5));
    let tomb = redis_cli(&["hget", &format!("{prefix}:features"), "b"]);
    assert!(tomb.contains(r#""deleted":true"#), "{tomb}");

    // Unknown events and paths are ignored; the stream keeps going.
    server.push(&sse("weird-event", r#"{"x":1}"#));
    server.push(&sse("patch", r#"{"path":"/other/x","data":{"key":"x","version":1}}"#));
    server.push(&patch("c", 1));
    relay.wait_for("c v1", || stored_version(&redis, &prefix, "c") == Some(1));
    assert_eq!(server.requests().iter().filter(|r| r.path == "/all").count(), 1, "no reconnect");
    assert!(relay.log().contains("ignoring event \"weird-event\""), "{}", relay.log());

    // /status in the Relay Proxy's shape, key masked.
    let st = status(port);
    assert_eq!(st["status"], "healthy", "{st}");
    assert_eq!(st["version"], env!("CARGO_PKG_VERSION"));
    let e = &st["environments"]["default"];
    assert_eq!(e["sdkKey"], "sdk-…00r1");
    assert_eq!(e["status"], "connected");
    assert_eq!(e["connectionStatus"]["state"], "VALID");
    assert!(e["connectionStatus"]["stateSince"].as_u64().unwrap() > 1_600_000_000_000);
    assert_eq!(e["dataStoreStatus"]["state"], "VALID");
    assert_eq!(e["dataStoreStatus"]["database"], "redis");
    assert_eq!(e["dataStoreStatus"]["dbPrefix"], prefix.as_str());
    assert!(e["dataStoreStatus"]["dbServer"].as_str().unwrap().contains(&redis), "{e}");
    assert_eq!(e["flags"], 2, "a and c (b is deleted)");
    assert!(e["lastEventTime"].as_u64().is_some());
    let raw = http_get(port, "/status");
    assert!(!raw.contains(KEY), "{raw}");

    // /metrics in Prometheus text format.
    let m = relay.metrics_when(port, "c's write counted", |m| metric(m, UPSERTS).is_some_and(|n| n >= 4.0));
    assert!(m.contains("# TYPE ldstore_relay_events_total counter"), "{m}");
    assert_eq!(metric(&m, r#"ldstore_relay_events_total{env="default",type="put"}"#), Some(1.0), "{m}");
    assert_eq!(metric(&m, r#"ldstore_relay_events_total{env="default",type="patch"}"#), Some(4.0), "{m}");
    assert_eq!(metric(&m, r#"ldstore_relay_events_total{env="default",type="delete"}"#), Some(1.0), "{m}");
    assert_eq!(metric(&m, r#"ldstore_relay_events_total{env="default",type="unknown"}"#), Some(2.0), "{m}");
    assert_eq!(metric(&m, r#"ldstore_relay_store_writes_total{env="default",op="init"}"#), Some(1.0), "{m}");
    assert_eq!(metric(&m, UPSERTS), Some(4.0), "{m}");
    assert_eq!(metric(&m, r#"ldstore_relay_store_up{env="default"}"#), Some(1.0), "{m}");
    assert_eq!(metric(&m, r#"ldstore_relay_items{env="default",kind="flags"}"#), Some(2.0), "{m}");
    assert!(metric(&m, r#"ldstore_relay_seconds_since_last_event{env="default"}"#).is_some(), "{m}");
    assert!(!m.contains(KEY));
    assert!(!relay.log().contains(KEY), "{}", relay.log());
}

#[test]
fn malformed_event_and_closed_stream_reconnect_to_a_fresh_put() {
    let redis = redis_addr();
    let server = server(&[("a", 1)]);
    let prefix = unique_prefix("relay-reconnect");
    let relay = Relay::start(
        &["--stream-uri", &server.uri, "--redis", &redis, "--prefix", &prefix, "--log-format", "json"],
        &[("LD_SDK_KEY", KEY)],
    );
    relay.wait_for("the put", || stored_version(&redis, &prefix, "a") == Some(1));
    server.env(KEY, &body(&[("a", 10), ("n", 1)]));
    server.push("event: patch\ndata: {oops\n\n");
    relay.wait_for("the fresh put after the malformed event", || {
        stored_version(&redis, &prefix, "a") == Some(10) && stored_version(&redis, &prefix, "n") == Some(1)
    });
    server.env(KEY, &body(&[("a", 20)]));
    server.close_streams();
    relay.wait_for("the put after the server closed the stream", || {
        stored_version(&redis, &prefix, "a") == Some(20) && stored_version(&redis, &prefix, "n").is_none()
    });
    assert_eq!(server.requests().iter().filter(|r| r.path == "/all").count(), 3);
    let log = relay.log();
    let first: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).expect("JSON log lines");
    assert!(first["time"].is_string() && first["level"] == "INFO", "{first}");
    assert!(log.contains("malformed event"), "{log}");
}

/// The log announces the first retry of a rejected key on the slow schedule: 5 minutes minus at
/// most 50 % jitter.
#[track_caller]
fn assert_slow_retry(log: &str) {
    let retry = log
        .lines()
        .find_map(|l| l.split_once("left untouched; retrying in ").map(|(_, d)| d.trim().to_string()))
        .unwrap_or_else(|| panic!("no retry announced:\n{log}"));
    let d = humantime::parse_duration(&retry).unwrap_or_else(|e| panic!("\"{retry}\": {e}"));
    assert!(d >= Duration::from_secs(150) && d <= Duration::from_secs(300), "retry in {retry}:\n{log}");
}

#[test]
fn rejected_key_leaves_the_store_untouched_and_shows_in_status() {
    let redis = redis_addr();
    let server = server(&[("a", 1)]);
    let prefix = unique_prefix("relay-401");
    let seeded = redis_cli(&["hset", &format!("{prefix}:features"), "old", r#"{"key":"old","version":4}"#]);
    assert_eq!(seeded.trim(), "1");
    let port = free_port();
    let mut relay = Relay::start(
        &["--stream-uri", &server.uri, "--redis", &redis, "--prefix", &prefix, "--listen", &port.to_string()],
        &[("LD_SDK_KEY", BAD_KEY)],
    );
    relay.wait_for("status OFF", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            && status(port)["environments"]["default"]["connectionStatus"]["state"] == "OFF"
    });
    let st = status(port);
    assert_eq!(st["status"], "degraded");
    let e = &st["environments"]["default"];
    assert_eq!(e["status"], "disconnected");
    assert_eq!(e["sdkKey"], "sdk-…dead");
    assert!(e["connectionStatus"]["lastError"]["message"].as_str().unwrap().contains("401"), "{e}");
    assert!(relay.log().contains("rejected the SDK key (401)"), "{}", relay.log());
    assert_slow_retry(&relay.log());
    assert_eq!(redis_cli(&["hkeys", &format!("{prefix}:features")]).trim(), "old");
    assert!(!inited(&redis, &prefix));
    // Not retried quickly: the slow schedule starts at 5 minutes (minus jitter), so nothing comes
    // within a few seconds (the normal schedule would have tried again after at most 1 s, then 2 s).
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(server.stream_requests(BAD_KEY), 1, "{}", relay.log());
    assert!(relay.child.try_wait().unwrap().is_none(), "still running without --exit-on-error");

    // --exit-on-error: exit 4 instead.
    let o = run(ldstore()
        .args(["relay", "--exit-on-error", "--stream-uri", &server.uri, "--redis", &redis, "--prefix", &prefix])
        .env("LD_SDK_KEY", BAD_KEY));
    assert_code(&o, 4);
    assert!(stderr(&o).contains("rejected the SDK key"), "{}", stderr(&o));
    assert_eq!(redis_cli(&["hkeys", &format!("{prefix}:features")]).trim(), "old");
}

/// Several environments in one process from a Relay Proxy config: each into its own prefix, each
/// stream's events into its own environment only; a rejected key fails alone (store untouched,
/// retried on the slow schedule only); /status shows every environment with its key masked.
#[test]
fn several_environments_from_a_relay_config_and_one_rejected_key_fails_alone() {
    let redis = redis_addr();
    let server = LdServer::start();
    server.env(KEY, &body(&[("a", 1)])).env(KEY2, &body(&[("x", 7), ("y", 1)])).hold_streams(Duration::from_secs(600));
    let (prod, staging, broken) =
        (unique_prefix("env-prod"), unique_prefix("env-staging"), unique_prefix("env-broken"));
    let seeded = redis_cli(&["hset", &format!("{broken}:features"), "old", r#"{"key":"old","version":4}"#]);
    assert_eq!(seeded.trim(), "1");
    let (host, rport) = redis.rsplit_once(':').unwrap();
    let conf = format!(
        "# as an existing Relay Proxy setup has it\n[Main]\nstreamUri = {uri}\n[Redis]\nhost = {host}\nport = {rport}\n\
         [Environment \"Prod\"]\nsdkKey = {KEY}\nprefix = {prod}\n\
         [Environment \"Staging Env\"]\nsdkKey = {KEY2}\nprefix = {staging}\n\
         [Environment \"Broken\"]\nsdkKey = {BAD_KEY}\nprefix = {broken}\n",
        uri = server.uri
    );
    let (_dir, path) = temp_file("relay.conf", &conf);
    let path = path.to_str().unwrap();
    let port = free_port();
    let relay = Relay::start(&["--config", path, "--listen", &port.to_string()], &[]);
    let env_state = |name: &str| status(port)["environments"][name]["connectionStatus"]["state"].clone();
    relay.wait_for("both good environments in their prefixes, the bad one OFF", || {
        stored_version(&redis, &prod, "a") == Some(1)
            && stored_version(&redis, &staging, "x") == Some(7)
            && inited(&redis, &prod)
            && inited(&redis, &staging)
            && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            && env_state("Broken") == "OFF"
    });
    assert_eq!(stored_version(&redis, &prod, "x"), None, "Staging's data is not in Prod's prefix");
    assert_eq!(stored_version(&redis, &staging, "a"), None, "Prod's data is not in Staging's prefix");

    // Each stream's events reach its own environment only.
    assert_eq!(server.push_to(KEY, &patch("a", 2)), 1);
    assert_eq!(server.push_to(KEY2, &patch("y", 3)), 1);
    relay.wait_for("the patches", || {
        stored_version(&redis, &prod, "a") == Some(2) && stored_version(&redis, &staging, "y") == Some(3)
    });
    assert_eq!(stored_version(&redis, &prod, "y"), None);
    assert_eq!(stored_version(&redis, &staging, "a"), None);

    // /status: every environment; the rejected one disconnected; keys masked.
    let st = status(port);
    assert_eq!(st["status"], "degraded", "one environment is down: {st}");
    let envs = st["environments"].as_object().unwrap();
    assert_eq!(envs.len(), 3, "{st}");
    for (name, key, prefix, flags) in [("Prod", "sdk-…00r1", &prod, 1), ("Staging Env", "sdk-…00r2", &staging, 2)] {
        let e = &envs[name];
        assert_eq!(e["status"], "connected", "{name}: {e}");
        assert_eq!(e["connectionStatus"]["state"], "VALID", "{name}: {e}");
        assert_eq!(e["dataStoreStatus"]["state"], "VALID", "{name}: {e}");
        assert_eq!(e["dataStoreStatus"]["dbPrefix"], prefix.as_str(), "{name}: {e}");
        assert_eq!(e["sdkKey"], key, "{name}: {e}");
        assert_eq!(e["flags"], flags, "{name}: {e}");
    }
    let bad = &envs["Broken"];
    assert_eq!(bad["status"], "disconnected", "{bad}");
    assert_eq!(bad["connectionStatus"]["state"], "OFF", "{bad}");
    assert_eq!(bad["connectionStatus"]["lastError"]["kind"], "ERROR_RESPONSE", "{bad}");
    assert!(bad["connectionStatus"]["lastError"]["message"].as_str().unwrap().contains("401"), "{bad}");
    assert_eq!(bad["dataStoreStatus"]["dbPrefix"], broken.as_str(), "{bad}");
    assert_eq!(bad["sdkKey"], "sdk-…dead", "{bad}");
    assert_eq!(bad["flags"], 0, "{bad}");
    let raw = format!("{}{}", http_get(port, "/status"), http_get(port, "/metrics"));
    let log = relay.log();
    for k in [KEY, KEY2, BAD_KEY] {
        assert!(!raw.contains(k) && !log.contains(k), "a whole SDK key is shown:\n{raw}\n{log}");
    }
    assert!(log.contains("[Broken] ") && log.contains("rejected the SDK key (401)"), "{log}");
    assert_slow_retry(&log);

    // The rejected environment's store is untouched and its key not retried quickly.
    assert_eq!(redis_cli(&["hkeys", &format!("{broken}:features")]).trim(), "old");
    assert!(!inited(&redis, &broken));
    assert_eq!(server.stream_requests(BAD_KEY), 1, "{log}");
    assert_eq!((server.stream_requests(KEY), server.stream_requests(KEY2)), (1, 1), "{log}");
    drop(relay);

    // --exit-on-error: the rejected key stops the whole process with exit 4.
    let o = run(ldstore().args(["relay", "--exit-on-error", "--config", path]));
    assert_code(&o, 4);
    assert!(stderr(&o).contains("environment \"Broken\""), "{}", stderr(&o));
    assert!(!stderr(&o).contains(BAD_KEY), "{}", stderr(&o));
    assert_eq!(redis_cli(&["hkeys", &format!("{broken}:features")]).trim(), "old");
}

/// A redis-server of this test's own (the shared one must not be stopped).
pub(crate) fn own_redis(port: u16) -> Child {
    own_redis_with(port, &[])
}

/// [`own_redis`] with extra configuration.
fn own_redis_with(port: u16, extra: &[&str]) -> Child {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server must be installed");
    let end = Instant::now() + Duration::from_secs(10);
    while cli_at(&format!("127.0.0.1:{port}"), &["ping"]).is_none_or(|o| o.trim() != "PONG") {
        assert!(Instant::now() < end, "own redis-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// A store the relay writes to, read back natively (not through ldstore) for the assertions.
/// Each test gets a store of its own, so wiping it disturbs no concurrent test.
trait Backend {
    /// The store arguments for ldstore (`--redis ADDR`, ...).
    fn args(&self) -> Vec<String>;
    /// Environment variables ldstore needs for this store.
    fn env(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    /// The stored item's JSON (`ns` is `features` or `segments`), None when absent.
    fn item(&self, prefix: &str, ns: &str, key: &str) -> Option<serde_json::Value>;
    /// Whether the prefix's `$inited` marker is there.
    fn inited(&self, prefix: &str) -> bool;
    /// Lose everything of the prefix, marker included, as a restarted or flushed store does.
    fn wipe(&self, prefix: &str);
}

/// The version of a stored flag.
fn version_in(b: &dyn Backend, prefix: &str, key: &str) -> Option<u64> {
    b.item(prefix, "features", key)?["version"].as_u64()
}

/// Redis: a redis-server of the test's own, wiped with FLUSHDB, in a directory of its own (a
/// replica writes the master's snapshot to its `--dir`), stopped when dropped.
pub(crate) struct OwnRedis {
    pub(crate) addr: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl OwnRedis {
    pub(crate) fn start() -> OwnRedis {
        OwnRedis::start_with(&[])
    }

    /// With extra configuration.
    pub(crate) fn start_with(extra: &[&str]) -> OwnRedis {
        let port = free_port();
        let dir = tempfile::tempdir().expect("tempdir");
        let args = [&["--dir", dir.path().to_str().expect("a UTF-8 temporary directory")], extra].concat();
        OwnRedis { addr: format!("127.0.0.1:{port}"), child: own_redis_with(port, &args), _dir: dir }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Backend for OwnRedis {
    fn args(&self) -> Vec<String> {
        vec!["--redis".into(), self.addr.clone()]
    }
    fn item(&self, prefix: &str, ns: &str, key: &str) -> Option<serde_json::Value> {
        let json = cli_at(&self.addr, &["hget", &format!("{prefix}:{ns}"), key])?;
        serde_json::from_str(json.trim()).ok()
    }
    fn inited(&self, prefix: &str) -> bool {
        inited(&self.addr, prefix)
    }
    fn wipe(&self, _prefix: &str) {
        assert_eq!(cli_at(&self.addr, &["flushdb"]).expect("FLUSHDB").trim(), "OK");
    }
}

/// DynamoDB Local: a table of the test's own, read and wiped with the AWS SDK.
struct Dynamo {
    endpoint: String,
    table: String,
    client: aws_sdk_dynamodb::Client,
    rt: tokio::runtime::Runtime,
}

/// The AWS settings ldstore gets (from the environment, else ones DynamoDB Local accepts).
/// DynamoDB Local keeps one database per access key and region, so the test reads with the same.
fn aws_env() -> Vec<(String, String)> {
    [("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_REGION", "us-east-1")]
        .into_iter()
        .map(|(k, d)| (k.to_string(), std::env::var(k).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| d.into())))
        .collect()
}

impl Dynamo {
    fn start() -> Dynamo {
        use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
        let endpoint = crate::support::ddb::endpoint();
        let table = crate::support::ddb::new_table("relay");
        let env: std::collections::HashMap<_, _> = aws_env().into_iter().collect();
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&endpoint)
            .region(Region::new(env["AWS_REGION"].clone()))
            .credentials_provider(Credentials::new(
                &env["AWS_ACCESS_KEY_ID"],
                &env["AWS_SECRET_ACCESS_KEY"],
                None,
                None,
                "test",
            ))
            .build();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Dynamo { endpoint, table, client: aws_sdk_dynamodb::Client::from_conf(conf), rt }
    }

    fn row(&self, namespace: &str, key: &str) -> Option<std::collections::HashMap<String, AttributeValue>> {
        let out = self.rt.block_on(
            self.client
                .get_item()
                .table_name(&self.table)
                .key("namespace", AttributeValue::S(namespace.into()))
                .key("key", AttributeValue::S(key.into()))
                .consistent_read(true)
                .send(),
        );
        out.expect("GetItem on DynamoDB Local").item
    }
}

impl Backend for Dynamo {
    fn args(&self) -> Vec<String> {
        vec!["--dynamodb".into(), self.table.clone(), "--dynamodb-endpoint".into(), self.endpoint.clone()]
    }
    fn env(&self) -> Vec<(String, String)> {
        aws_env()
    }
    fn item(&self, prefix: &str, ns: &str, key: &str) -> Option<serde_json::Value> {
        let row = self.row(&format!("{prefix}:{ns}"), key)?;
        let json: serde_json::Value = serde_json::from_str(row["item"].as_s().expect("item is S")).unwrap();
        // The version attribute SDKs compare on agrees with the JSON.
        assert_eq!(
            row["version"].as_n().expect("version is N").parse::<u64>().ok(),
            json["version"].as_u64(),
            "{json}"
        );
        Some(json)
    }
    fn inited(&self, prefix: &str) -> bool {
        let m = format!("{prefix}:$inited");
        self.row(&m, &m).is_some()
    }
    fn wipe(&self, _prefix: &str) {
        self.rt.block_on(async {
            let rows = self.client.scan().table_name(&self.table).consistent_read(true).send().await.unwrap();
            assert!(rows.last_evaluated_key.is_none(), "one page holds the test's few items");
            let mut rows = rows.items.unwrap_or_default();
            assert!(!rows.is_empty());
            // The marker last: a check that runs in the middle must not find it and see half a
            // data set (then it would not repopulate).
            rows.sort_by_key(|r| r["namespace"].as_s().is_ok_and(|n| n.ends_with("$inited")));
            for r in rows {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .key("namespace", r["namespace"].clone())
                    .key("key", r["key"].clone())
                    .send()
                    .await
                    .expect("DeleteItem");
            }
        });
    }
}

/// Consul: the in-process Consul KV test server, wiped with a recursive DELETE.
struct Consul(ConsulServer);

impl Backend for Consul {
    fn args(&self) -> Vec<String> {
        vec!["--consul".into(), self.0.url()]
    }
    fn item(&self, prefix: &str, ns: &str, key: &str) -> Option<serde_json::Value> {
        let raw = consul_server::raw_value(&self.0.url(), &format!("{prefix}/{ns}/{key}"), None)?;
        Some(serde_json::from_slice(&raw).expect("stored JSON"))
    }
    fn inited(&self, prefix: &str) -> bool {
        consul_server::raw_value(&self.0.url(), &format!("{prefix}/$inited"), None).is_some()
    }
    fn wipe(&self, prefix: &str) {
        let (code, body) =
            consul_server::http(&self.0.url(), "DELETE", &format!("/v1/kv/{prefix}/?recurse"), b"", None);
        assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
        assert_eq!(String::from_utf8_lossy(&body).trim(), "true");
    }
}

/// What the relay must do on every store: put → store equals data; a newer patch applied, an
/// older one ignored; delete → tombstone; a wiped store repopulated within `--check-interval`.
fn relay_keeps_the_store_current(b: &dyn Backend) {
    let server = server(&[("a", 1), ("b", 1)]);
    let prefix = unique_prefix("relay-store");
    let mut args: Vec<String> = ["--stream-uri", &server.uri, "--prefix", &prefix, "--check-interval", "1s"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(b.args());
    let mut env = b.env();
    env.push(("LD_SDK_KEY".into(), KEY.into()));
    let relay = Relay::start(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>(),
    );
    relay.wait_for("the put in the store", || {
        b.inited(&prefix) && version_in(b, &prefix, "a") == Some(1) && version_in(b, &prefix, "b") == Some(1)
    });
    // put → store equals data (read with ldstore dump too: what SDKs and tools see).
    let mut dump = ldstore();
    dump.arg("dump").args(b.args()).args(["--prefix", &prefix]).envs(b.env());
    let o = run(&mut dump);
    assert_code(&o, 0);
    let dumped: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(dumped, serde_json::from_str::<serde_json::Value>(&body(&[("a", 1), ("b", 1)])).unwrap());
    assert_eq!(b.item(&prefix, "segments", "seg").unwrap()["version"], 1);

    // Newer patch applied; older one ignored (a later patch shows it was processed).
    server.push(&patch("a", 3));
    relay.wait_for("a v3", || version_in(b, &prefix, "a") == Some(3));
    server.push(&patch("a", 2));
    server.push(&patch("b", 2));
    relay.wait_for("b v2", || version_in(b, &prefix, "b") == Some(2));
    assert_eq!(version_in(b, &prefix, "a"), Some(3));
    assert_eq!(b.item(&prefix, "features", "a").unwrap()["on"], false, "the v3 patch's content");

    // delete → tombstone.
    server.push(&sse("delete", r#"{"path":"/flags/b","version":5}"#));
    relay.wait_for("b tombstone", || version_in(b, &prefix, "b") == Some(5));
    assert_eq!(b.item(&prefix, "features", "b").unwrap()["deleted"], true);

    // Wiped: repopulated from memory (newest data, tombstone included) within the check interval
    // (1 s; the wait allows far more on a loaded machine).
    b.wipe(&prefix);
    relay.wait_for("repopulated after the wipe", || {
        b.inited(&prefix) && version_in(b, &prefix, "a") == Some(3) && version_in(b, &prefix, "b") == Some(5)
    });
    assert_eq!(b.item(&prefix, "features", "b").unwrap()["deleted"], true);
    assert_eq!(b.item(&prefix, "segments", "seg").unwrap()["version"], 1);
    assert!(relay.log().contains("lost its $inited marker"), "{}", relay.log());
    assert_eq!(server.stream_requests(KEY), 1, "no reconnect along the way");
}

#[test]
fn relay_keeps_redis_current_and_repopulates_it_after_flushdb() {
    relay_keeps_the_store_current(&OwnRedis::start());
}

#[test]
fn relay_keeps_dynamodb_current_and_repopulates_a_wiped_table() {
    relay_keeps_the_store_current(&Dynamo::start());
}

#[test]
fn relay_keeps_consul_current_and_repopulates_a_wiped_prefix() {
    relay_keeps_the_store_current(&Consul(ConsulServer::start()));
}

#[test]
fn store_outage_keeps_updates_in_memory_and_writes_them_back() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut redis = own_redis(port);
    let server = server(&[("a", 1), ("b", 1)]);
    let prefix = "outage";
    let mport = free_port();
    let relay = Relay::start(
        &[
            "--stream-uri",
            &server.uri,
            "--redis",
            &addr,
            "--prefix",
            prefix,
            "--store-timeout",
            "1s",
            "--listen",
            &mport.to_string(),
        ],
        &[("LD_SDK_KEY", KEY)],
    );
    relay.wait_for("the put", || stored_version(&addr, prefix, "a") == Some(1));
    redis.kill().unwrap();
    redis.wait().unwrap();
    server.push(&patch("a", 5));
    relay.wait_for("the store marked down", || {
        status(mport)["environments"]["default"]["dataStoreStatus"]["state"] == "INTERRUPTED"
    });
    assert_eq!(status(mport)["status"], "degraded");
    server.push(&patch("a", 6));
    server.push(&sse("delete", r#"{"path":"/flags/b","version":9}"#));
    server.push(&patch("c", 1));
    relay.wait_for("events received while down", || {
        metric(&http_get(mport, "/metrics"), r#"ldstore_relay_events_total{env="default",type="patch"}"#) == Some(3.0)
    });
    // Restarted without persistence: empty. The relay writes all of memory back.
    let mut redis = own_redis(port);
    relay.wait_for("newest data written back", || {
        inited(&addr, prefix)
            && stored_version(&addr, prefix, "a") == Some(6)
            && stored_version(&addr, prefix, "b") == Some(9)
            && stored_version(&addr, prefix, "c") == Some(1)
    });
    assert!(cli_at(&addr, &["hget", "outage:segments", "seg"]).unwrap().contains("seg"));
    // The store is marked up once its rewrite has answered (after the data shows in it).
    let m = relay.metrics_when(mport, "the store marked up", store_is_up);
    assert!(metric(&m, r#"ldstore_relay_store_write_failures_total{env="default"}"#).unwrap() >= 1.0, "{m}");
    assert!(relay.log().contains("store is back"), "{}", relay.log());
    drop(relay);
    let _ = redis.kill();
    let _ = redis.wait();
}

/// Stop the relay with `sig` once it has received 301 patches: exit 0 promptly, all written.
fn signal_exits_zero_with_every_received_event_written(sig: &str, name: &str) {
    let redis = redis_addr();
    let server = server(&[("a", 1)]);
    let prefix = unique_prefix(&format!("relay-{name}"));
    let port = free_port();
    let mut relay = Relay::start(
        &["--stream-uri", &server.uri, "--redis", &redis, "--prefix", &prefix, "--listen", &port.to_string()],
        &[("LD_SDK_KEY", KEY)],
    );
    relay.wait_for("the put", || stored_version(&redis, &prefix, "a") == Some(1));
    let mut all = String::new();
    for i in 0..300 {
        all.push_str(&patch(&format!("f{i}"), 1));
    }
    all.push_str(&patch("a", 2));
    server.push(&all);
    relay.wait_for("all events received", || {
        metric(&http_get(port, "/metrics"), r#"ldstore_relay_events_total{env="default",type="patch"}"#) == Some(301.0)
    });
    relay.signal(sig);
    let st = relay.wait_exit(10);
    assert_eq!(st.code(), Some(0), "{}", relay.log());
    assert_eq!(redis_cli(&["hlen", &format!("{prefix}:features")]).trim(), "301");
    assert_eq!(stored_version(&redis, &prefix, "a"), Some(2));
    assert!(relay.log().contains(&format!("{name}: shutting down")), "{}", relay.log());
}

#[test]
fn sigterm_exits_zero_with_every_received_event_written() {
    signal_exits_zero_with_every_received_event_written("-TERM", "SIGTERM");
}

#[test]
fn sigint_exits_zero_with_every_received_event_written() {
    signal_exits_zero_with_every_received_event_written("-INT", "SIGINT");
}

#[test]
fn two_relays_on_one_prefix_converge_on_the_newest_versions() {
    let redis = redis_addr();
    let server = server(&[("a", 1), ("b", 1)]);
    let prefix = unique_prefix("relay-two");
    let args = ["--stream-uri", &server.uri, "--redis", &redis, "--prefix", &prefix];
    let r1 = Relay::start(&args, &[("LD_SDK_KEY", KEY)]);
    let r2 = Relay::start(&args, &[("LD_SDK_KEY", KEY)]);
    r1.wait_for("both connected", || server.open_streams() == 2);
    r1.wait_for("the put", || stored_version(&redis, &prefix, "a") == Some(1));
    let mut all = String::new();
    for v in 2..=40 {
        all.push_str(&patch("a", v));
        all.push_str(&patch("b", 42 - v));
    }
    server.push(&all);
    server.push(&patch("done", 1));
    r1.wait_for("newest versions", || {
        stored_version(&redis, &prefix, "a") == Some(40) && stored_version(&redis, &prefix, "done") == Some(1)
    });
    // b: 40 arrived first, then older ones: all ignored.
    assert_eq!(stored_version(&redis, &prefix, "b"), Some(40));
    drop(r2);
}

/// Through a Redis that answers 5 ms late, patches queued behind a write are written together: a
/// flag patched 300 times ends at its newest version with far fewer writes than patches, 300
/// other flags and a segment patched in between all land, and every version is the newest sent.
#[test]
fn patches_queued_behind_a_slow_store_are_written_together_at_their_newest_versions() {
    let redis = redis_addr();
    let proxy = crate::support::latency_proxy::LatencyProxy::start(&redis, Duration::ZERO, Duration::from_millis(5));
    let server = server(&[("hot", 1)]);
    let prefix = unique_prefix("relay-batches");
    let port = free_port();
    let relay = Relay::start(
        &["--stream-uri", &server.uri, "--redis", &proxy.addr, "--prefix", &prefix, "--listen", &port.to_string()],
        &[("LD_SDK_KEY", KEY)],
    );
    relay.wait_for("the put", || stored_version(&redis, &prefix, "hot") == Some(1));
    let mut all = String::new();
    for v in 2..=301u64 {
        all.push_str(&patch("hot", v));
        all.push_str(&patch(&format!("k{v:03}"), v));
        if v == 150 {
            all.push_str(&sse("patch", r#"{"path":"/segments/sx","data":{"key":"sx","version":7,"included":["u"]}}"#));
        }
    }
    server.push(&all);
    relay.wait_for_secs("every patch written", 60, || {
        stored_version(&redis, &prefix, "hot") == Some(301)
            && redis_cli(&["hlen", &format!("{prefix}:features")]).trim() == "301"
    });
    for v in 2..=301u64 {
        assert_eq!(stored_version(&redis, &prefix, &format!("k{v:03}")), Some(v));
    }
    assert!(redis_cli(&["hget", &format!("{prefix}:segments"), "sx"]).contains(r#""version":7"#));
    // Each flag written at least once (counted when its batch's answer is back, 5 ms after the data
    // shows in Redis); the hot flag's queued patches folded into fewer writes.
    let m = relay.metrics_when(port, "301 writes counted", |m| metric(m, UPSERTS).is_some_and(|n| n >= 301.0));
    assert_eq!(metric(&m, r#"ldstore_relay_events_total{env="default",type="patch"}"#), Some(601.0), "{m}");
    let writes = metric(&m, UPSERTS).unwrap();
    assert!((301.0..600.0).contains(&writes), "{writes} upserts written for 601 patches\n{m}");
    assert_eq!(metric(&m, r#"ldstore_relay_store_write_failures_total{env="default"}"#), Some(0.0), "{m}");
}

/// Through a DynamoDB whose every answer comes 20 ms late, the conditional writes of patches queued
/// behind a write are sent together, not one round trip after another.
#[test]
fn patches_queued_behind_a_slow_dynamodb_are_written_concurrently() {
    let dynamo = Dynamo::start();
    let upstream = dynamo.endpoint.trim_start_matches("http://").to_string();
    let table = dynamo.table.clone();
    patches_queued_behind_a_slow_store_are_written_concurrently(&dynamo, &upstream, |proxy| {
        vec!["--dynamodb".into(), table.clone(), "--dynamodb-endpoint".into(), format!("http://{proxy}")]
    });
}

/// The same through a Consul 20 ms away: each patch's read and check-and-set, for many keys at once.
#[test]
fn patches_queued_behind_a_slow_consul_are_written_concurrently() {
    let consul = Consul(ConsulServer::start());
    let upstream = consul.0.addr.clone();
    patches_queued_behind_a_slow_store_are_written_concurrently(&consul, &upstream, |proxy| {
        vec!["--consul".into(), format!("http://{proxy}")]
    });
}

#[test]
fn a_put_that_arrives_while_the_store_opens_is_written_once() {
    // Every answer of the store comes 300 ms late, so the stream's put (at once from the test
    // server) is in memory before the store has opened. Opening writes memory, which holds the
    // put: that is the put's write, not a recovery (it was counted and logged as "recovered"), and
    // when the put's own write is still queued behind it, that write is skipped.
    let redis = redis_addr();
    let proxy = crate::support::latency_proxy::LatencyProxy::start(&redis, Duration::ZERO, Duration::from_millis(300));
    let server = server(&[("a", 1), ("b", 1)]);
    let prefix = unique_prefix("relay-put-once");
    let port = free_port();
    let relay = Relay::start(
        &[
            "--stream-uri",
            &server.uri,
            "--redis",
            &proxy.addr,
            "--prefix",
            &prefix,
            "--store-timeout",
            "20s",
            "--listen",
            &port.to_string(),
        ],
        &[("LD_SDK_KEY", KEY)],
    );
    relay.wait_for_secs("the put stored", 30, || stored_version(&redis, &prefix, "a") == Some(1));
    // A patch after it is written after the put's queued write (in order): once it is stored, that
    // write has been done or skipped.
    server.push(&patch("a", 2));
    relay.wait_for_secs("the patch stored", 30, || stored_version(&redis, &prefix, "a") == Some(2));
    let m = http_get(port, "/metrics");
    assert_eq!(metric(&m, r#"ldstore_relay_store_writes_total{env="default",op="init"}"#), Some(1.0), "{m}");
    assert_eq!(
        metric(&m, r#"ldstore_relay_store_reinits_total{env="default",reason="recovered"}"#).unwrap_or(0.0),
        0.0,
        "{m}"
    );
    assert!(!relay.log().contains("recovered"), "{}", relay.log());
}

/// A relay writing to `b` through a proxy that delays every answer of `upstream` by 20 ms
/// (`through(proxy address)`: the store arguments): 300 flags patched at once all land at their
/// versions, as patches, over many connections in flight at a time (one after another they would
/// have reused one, at a round trip or two each).
fn patches_queued_behind_a_slow_store_are_written_concurrently(
    b: &dyn Backend,
    upstream: &str,
    through: impl Fn(&str) -> Vec<String>,
) {
    let proxy = crate::support::latency_proxy::LatencyProxy::start(upstream, Duration::ZERO, Duration::from_millis(20));
    let server = server(&[("hot", 1)]);
    let prefix = unique_prefix("relay-concurrent");
    let port = free_port();
    let mut args: Vec<String> =
        ["--stream-uri", &server.uri, "--prefix", &prefix, "--listen", &port.to_string()].map(String::from).to_vec();
    args.extend(through(&proxy.addr));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env = b.env();
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    env.push(("LD_SDK_KEY", KEY));
    let relay = Relay::start(&args, &env);
    relay.wait_for("the put", || b.item(&prefix, "features", "hot").is_some());
    // Once a patch has been written as a patch (an upsert counted), every write queued before it is
    // done (the writer takes them in order): the put's, and a first write of memory when the store
    // opened after the put had arrived (a stored patch alone does not show that: such a write can
    // carry it). The patches below are then written as patches, not with a rewrite of all of memory.
    let upserts = || metric(&http_get(port, "/metrics"), UPSERTS).unwrap_or(0.0);
    let mut v = 2;
    while upserts() < 1.0 {
        assert!(v < 20, "no patch of \"hot\" was written as a patch\n{}", relay.log());
        server.push(&patch("hot", v));
        relay.wait_for("a patch of \"hot\"", || b.item(&prefix, "features", "hot").is_some_and(|j| j["version"] == v));
        v += 1;
    }
    let (before, upserts_before) = (proxy.connections(), upserts());
    let mut all = String::new();
    for v in 2..=301u64 {
        all.push_str(&patch(&format!("k{v:03}"), v));
    }
    server.push(&all);
    let landed = |v: u64| b.item(&prefix, "features", &format!("k{v:03}")).is_some_and(|j| j["version"] == v);
    relay.wait_for_secs("every patch written", 60, || (2..=301u64).all(landed));
    // A batch's upserts are counted once all its answers are back, 20 ms after the last one is
    // stored: the count is waited for (CI once read 50 of 300, the first batch's).
    let m = relay
        .metrics_when(port, "300 upserts counted", |m| metric(m, UPSERTS).is_some_and(|n| n - upserts_before >= 300.0));
    assert_eq!(metric(&m, r#"ldstore_relay_store_write_failures_total{env="default"}"#), Some(0.0), "{m}");
    let opened = proxy.connections() - before;
    assert!(opened >= 8, "the 300 writes went through {opened} new connections: one after another\n{m}");
}

/// For the measurements: a relay (`bin`) writing through `store_addr` into a new prefix of the Redis
/// at `redis`, streaming from a test server that holds 10,000 flags (scripts/gen-flags.py), once its
/// first `put` is stored (the relay's log goes to `dir`).
fn loaded_relay(
    bin: &str,
    redis: &str,
    store_addr: &str,
    name: &str,
    dir: &std::path::Path,
) -> (LdServer, std::process::Child, String) {
    let data = dir.join("flags.json");
    let ok = Command::new("python3")
        .args([repo_path("scripts/gen-flags.py").to_str().unwrap(), "10000", data.to_str().unwrap()])
        .status()
        .expect("python3");
    assert!(ok.success());
    let server = LdServer::start();
    server.env(KEY, &std::fs::read_to_string(&data).unwrap()).hold_streams(Duration::from_secs(3600));
    let prefix = unique_prefix(name);
    let log = dir.join("relay.log");
    let child = Command::new(bin)
        .args(["relay", "--stream-uri", &server.uri, "--redis", store_addr, "--prefix", &prefix])
        .env("LD_SDK_KEY", KEY)
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(120);
    while !inited(redis, &prefix) {
        assert!(Instant::now() < end, "no put: {}", std::fs::read_to_string(&log).unwrap_or_default());
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, child, prefix)
}

/// Measurement, not a check (run by scripts/bench-relay): patch-to-store latency over 1,000
/// patches (from the push on the test server to Redis's keyspace notification of the write) and
/// the relay's RSS with 10,000 flags. LDSTORE_BENCH_BIN picks the binary (the release build).
#[test]
#[ignore]
fn bench_relay_latency_and_rss() {
    let redis = redis_addr();
    let bin = bench_bin().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let (server, mut child, prefix) = loaded_relay(&bin, &redis, &redis, "relay-bench", dir.path());
    std::thread::sleep(Duration::from_millis(500));
    let rss = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .unwrap()
        .to_string();

    let client = redis::Client::open(format!("redis://{redis}")).unwrap();
    let mut con = client.get_connection().unwrap();
    let _: () = redis::cmd("CONFIG").arg("SET").arg("notify-keyspace-events").arg("Kh").query(&mut con).unwrap();
    let mut sub_con = client.get_connection().unwrap();
    let mut sub = sub_con.as_pubsub();
    sub.subscribe(format!("__keyspace@0__:{prefix}:features")).unwrap();
    let mut lat = Vec::new();
    for i in 0..1000u64 {
        let p = patch("flag-000001", 1_000 + i);
        let t0 = Instant::now();
        server.push(&p);
        let _msg = sub.get_message().unwrap();
        lat.push(t0.elapsed());
    }
    lat.sort();
    let pct = |q: f64| lat[((lat.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1000.0;
    assert_eq!(stored_version(&redis, &prefix, "flag-000001"), Some(1_999));
    let _ = child.kill();
    let _ = child.wait();
    eprintln!(
        "relay bench ({bin}): patch-to-store latency over 1000 patches: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {rss} with 10,000 flags",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
}

/// Measurement, not a check (run by `BENCH_ONLY=relay-sustained scripts/bench`): sustained load
/// straight into Redis. See [`relay_sustained`].
#[test]
#[ignore]
fn bench_relay_sustained() {
    relay_sustained(Duration::ZERO);
}

/// The same through a Redis that answers with 5 ms latency (`LDSTORE_BENCH_REDIS_DELAY_MS` to
/// change it): a proxy delays every reply by that much, so each round trip costs that much more.
#[test]
#[ignore]
fn bench_relay_sustained_slow_redis() {
    let ms: u64 = std::env::var("LDSTORE_BENCH_REDIS_DELAY_MS").map(|v| v.parse().unwrap()).unwrap_or(5);
    relay_sustained(Duration::from_millis(ms));
}

/// 10,000 flags loaded (scripts/gen-flags.py), then patches pushed at a wall-clock pace
/// (`LDSTORE_BENCH_RATE`, default 500/s, for `LDSTORE_BENCH_SECS`, default 60 s): nine in ten to
/// flags spread over all 10,000, one in ten to the same flag. Patch-to-store latency is from the
/// push on the test server to the Redis keyspace notification of the write that made the flag's
/// stored version at least the pushed one (read on a direct connection, never through the
/// proxy); a patch that a newer one for the same flag overtook lands with it. Printed: p50 / p99 /
/// max overall and per 10 s window (by push time; a growing backlog shows as latency rising window
/// by window) and the relay's RSS, sampled every second (max per window).
fn relay_sustained(reply_delay: Duration) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex, mpsc};

    let redis = redis_addr();
    let secs: u64 = std::env::var("LDSTORE_BENCH_SECS").map(|v| v.parse().unwrap()).unwrap_or(60);
    let rate: u64 = std::env::var("LDSTORE_BENCH_RATE").map(|v| v.parse().unwrap()).unwrap_or(500);
    let bin = bench_bin().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let proxy = crate::support::latency_proxy::LatencyProxy::start(&redis, Duration::ZERO, reply_delay);
    let store_addr = if reply_delay.is_zero() { redis.clone() } else { proxy.addr.clone() };
    let (server, mut child, prefix) = loaded_relay(&bin, &redis, &store_addr, "relay-sustained", dir.path());
    let log = dir.path().join("relay.log");
    std::thread::sleep(Duration::from_secs(1));

    let client = redis::Client::open(format!("redis://{redis}")).unwrap();
    let mut con = client.get_connection().unwrap();
    let _: () = redis::cmd("CONFIG").arg("SET").arg("notify-keyspace-events").arg("Kh").query(&mut con).unwrap();
    let mut sub_con = client.get_connection().unwrap();
    sub_con.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut sub = sub_con.as_pubsub();
    sub.subscribe(format!("__keyspace@0__:{prefix}:features")).unwrap();

    // RSS every second.
    let pid = child.id();
    let done = Arc::new(AtomicBool::new(false));
    let rss: Arc<Mutex<Vec<(Instant, u64)>>> = Arc::default();
    let sampler = {
        let (done, rss) = (done.clone(), rss.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                let kib = std::fs::read_to_string(format!("/proc/{pid}/status"))
                    .ok()
                    .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS"))?.split_whitespace().nth(1)?.parse().ok());
                if let Some(kib) = kib {
                    rss.lock().unwrap().push((Instant::now(), kib));
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
    };

    // The pusher: patch i is due at start + i / rate (wall clock; a late push goes at once).
    let total = secs * rate;
    let (tx, rx) = mpsc::channel::<(String, u64, Instant)>();
    let start = Instant::now() + Duration::from_millis(100);
    let server = &server;
    let pusher = std::thread::scope(|s| {
        let pusher = s.spawn(move || {
            for i in 0..total {
                let due = start + Duration::from_secs_f64(i as f64 / rate as f64);
                if let Some(w) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(w);
                }
                let n = i * 7_919 % 10_000;
                let key = if i % 10 == 9 { "flag-000001".to_string() } else { format!("flag-{n:06}") };
                let version = 1_000_000 + i;
                let p = patch(&key, version);
                tx.send((key, version, Instant::now())).unwrap();
                server.push(&p);
            }
            start.elapsed()
        });
        // The measurer: on each notification, which outstanding patches does the store now hold?
        let mut outstanding: Vec<(String, u64, Instant)> = Vec::new();
        let mut landed: Vec<(Duration, Duration)> = Vec::new(); // (push time from start, latency)
        let mut pusher_done = false;
        let mut drain_until: Option<Instant> = None;
        loop {
            let note = match sub.get_message() {
                Ok(_) => Some(Instant::now()),
                Err(e) if e.is_timeout() => None,
                Err(e) => panic!("keyspace notifications: {e}"),
            };
            loop {
                match rx.try_recv() {
                    Ok(p) => outstanding.push(p),
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => {
                        pusher_done = true;
                        break;
                    }
                }
            }
            if let Some(at) = note
                && !outstanding.is_empty()
            {
                // The oldest first, at most 2,000 (a backlog of tens of thousands would make the
                // measurer the bottleneck; the writer takes them in order).
                let mut keys: Vec<&str> = outstanding.iter().take(2_000).map(|(k, _, _)| k.as_str()).collect();
                keys.sort_unstable();
                keys.dedup();
                let vals: Vec<Option<String>> =
                    redis::cmd("HMGET").arg(format!("{prefix}:features")).arg(&keys).query(&mut con).unwrap();
                let stored: std::collections::HashMap<String, u64> = keys
                    .iter()
                    .zip(vals)
                    .filter_map(|(k, v)| {
                        let v: serde_json::Value = serde_json::from_str(&v?).ok()?;
                        Some((k.to_string(), v["version"].as_u64()?))
                    })
                    .collect();
                outstanding.retain(|(k, v, t)| {
                    if stored.get(k.as_str()).is_some_and(|s| s >= v) {
                        landed.push((t.duration_since(start), at.duration_since(*t)));
                        false
                    } else {
                        true
                    }
                });
            }
            if pusher_done {
                let until = *drain_until.get_or_insert_with(|| Instant::now() + Duration::from_secs(30));
                if outstanding.is_empty() || Instant::now() > until {
                    break;
                }
            }
        }
        (pusher.join().unwrap(), landed, outstanding.len())
    });
    let (pushed_in, landed, unlanded) = pusher;
    done.store(true, Ordering::SeqCst);
    sampler.join().unwrap();
    let _ = child.kill();
    let _ = child.wait();

    let pct = |lat: &mut Vec<Duration>| {
        lat.sort();
        let at =
            |q: f64| lat.get(((lat.len().max(1) - 1) as f64 * q) as usize).map_or(f64::NAN, |d| d.as_secs_f64() * 1e3);
        format!("n {} p50 {:.2} ms p99 {:.2} ms max {:.2} ms", lat.len(), at(0.5), at(0.99), at(1.0))
    };
    let mode = if reply_delay.is_zero() {
        "direct".to_string()
    } else {
        format!("+{} ms per round trip", reply_delay.as_millis())
    };
    let rss = rss.lock().unwrap();
    // Late pushes (a loaded machine) fall in a window after the last full one.
    let windows = landed.iter().map(|(t, _)| t.as_secs() / 10 + 1).max().unwrap_or(0).max(secs.div_ceil(10));
    for w in 0..windows {
        let (from, to) = (Duration::from_secs(w * 10), Duration::from_secs((w + 1) * 10));
        let mut lat: Vec<Duration> = landed.iter().filter(|(t, _)| *t >= from && *t < to).map(|(_, l)| *l).collect();
        let rss_max = rss
            .iter()
            .filter(|(t, _)| t.checked_duration_since(start).is_some_and(|d| d >= from && d < to))
            .map(|(_, k)| *k)
            .max()
            .unwrap_or(0);
        eprintln!(
            "relay sustained ({mode}): window {}-{} s: {}; RSS max {:.1} MiB",
            from.as_secs(),
            to.as_secs(),
            pct(&mut lat),
            rss_max as f64 / 1024.0
        );
    }
    let mut all: Vec<Duration> = landed.iter().map(|(_, l)| *l).collect();
    let rss_first = rss.first().map_or(0, |r| r.1);
    let rss_last = rss.last().map_or(0, |r| r.1);
    eprintln!(
        "relay sustained ({mode}) [{bin}]: {total} patches at {rate}/s pushed in {:.1} s, 10,000 flags: overall {}; \
         unlanded {unlanded}; RSS first {:.1} MiB last {:.1} MiB",
        pushed_in.as_secs_f64(),
        pct(&mut all),
        rss_first as f64 / 1024.0,
        rss_last as f64 / 1024.0
    );
    drop(proxy);
    if unlanded > 0 {
        eprintln!("relay log:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
    }
}

/// The read timeout counts bytes, not events: heartbeats keep a quiet stream open, and a stream
/// that sends nothing at all is dropped and reconnected.
#[test]
fn heartbeats_keep_the_stream_open_and_silence_reconnects() {
    let redis = redis_addr();
    let server = server(&[("a", 1)]);
    let prefix = unique_prefix("relay-heartbeat");
    let relay = Relay::start(
        &["--stream-uri", &server.uri, "--redis", &redis, "--prefix", &prefix, "--read-timeout", "1s"],
        &[("LD_SDK_KEY", KEY)],
    );
    relay.wait_for("the put in the store", || inited(&redis, &prefix));
    let all = || server.requests().iter().filter(|r| r.path == "/all").count();
    // 3 s of heartbeats only, every 300 ms: three read timeouts' worth, and no reconnect.
    for _ in 0..10 {
        assert_eq!(server.push(":heartbeat\n\n"), 1);
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(all(), 1, "heartbeats must reset the read timeout: {}", relay.log());
    // Now silence: the relay gives up on the stream after 1 s and connects again.
    relay.wait_for("a reconnect after silence", || all() >= 2);
    assert!(relay.log().contains("no data for 1s"), "{}", relay.log());
}

/// A `put` with no flags and no segments (an environment emptied by mistake, a broken upstream)
/// never empties a prefix that holds items unless relay was given --allow-empty: the error names
/// the prefix, the store status stays VALID, memory follows LaunchDarkly (later patches are
/// written as usual).
#[test]
fn empty_put_over_a_full_prefix_is_not_written_without_allow_empty() {
    let redis = redis_addr();
    let server = LdServer::start();
    server.env(KEY, r#"{"flags":{},"segments":{}}"#).hold_streams(Duration::from_secs(600));
    let full = |name: &str| {
        let p = unique_prefix(name);
        let (_d, f) = temp_file("full.json", &body(&[("a", 1), ("b", 1)]));
        assert_code(&run(ldstore().args(["sync", "--from-file"]).arg(&f).args(["--redis", &redis, "--prefix", &p])), 0);
        p
    };
    let prefix = full("relay-empty-put");
    let port = free_port();
    let relay = Relay::start(
        &[
            "--stream-uri",
            &server.uri,
            "--redis",
            &redis,
            "--prefix",
            &prefix,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ],
        &[("LD_SDK_KEY", KEY)],
    );
    let refusal = format!(
        "the source (LaunchDarkly stream put) holds no flags or segments; refusing to empty Redis prefix \"{prefix}\", which holds 2 flags and 1 segment"
    );
    relay.wait_for("the refusal in the log", || relay.log().contains(&refusal));
    assert!(relay.log().lines().any(|l| l.contains(" ERROR ") && l.contains(&refusal)), "{}", relay.log());
    assert_eq!((stored_version(&redis, &prefix, "a"), stored_version(&redis, &prefix, "b")), (Some(1), Some(1)));
    let st = status(port);
    let e = &st["environments"]["default"];
    assert_eq!(e["dataStoreStatus"]["state"], "VALID", "{st}");
    assert_eq!((e["flags"].clone(), e["segments"].clone()), (serde_json::json!(0), serde_json::json!(0)), "{st}");
    // Memory follows LaunchDarkly: a new flag is written; the old ones stay.
    server.push(&patch("c", 1));
    relay.wait_for("c v1", || stored_version(&redis, &prefix, "c") == Some(1));
    assert_eq!(stored_version(&redis, &prefix, "a"), Some(1));
    assert_eq!(status(port)["environments"]["default"]["flags"], 1);
    drop(relay);

    // With --allow-empty the put empties the prefix.
    let prefix = full("relay-empty-put-allowed");
    let relay = Relay::start(
        &["--allow-empty", "--stream-uri", &server.uri, "--redis", &redis, "--prefix", &prefix],
        &[("LD_SDK_KEY", KEY)],
    );
    relay.wait_for("the emptied prefix", || stored_version(&redis, &prefix, "a").is_none() && inited(&redis, &prefix));
    assert_eq!(redis_cli(&["EXISTS", &format!("{prefix}:segments")]).trim(), "0");
    assert!(!relay.log().contains("refusing"), "{}", relay.log());
}

/// An HTTP request on `sock` with a read timeout: Some(response) or None when nothing came in time.
fn answer_within(sock: &mut std::net::TcpStream, wait: Duration) -> Option<String> {
    sock.set_read_timeout(Some(wait)).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match sock.read(&mut buf) {
            Ok(0) => return Some(String::from_utf8_lossy(&out).into_owned()),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return if out.is_empty() { None } else { Some(String::from_utf8_lossy(&out).into_owned()) };
            }
            Err(e) => panic!("reading the response: {e}"),
        }
    }
}

/// --listen takes at most --max-connections connections at a time (default 64): with the cap
/// taken by idle connections, one more waits (no answer) until one of them closes, and is then
/// answered; the server stays responsive.
#[test]
fn listen_caps_connections_and_the_extra_one_waits_its_turn() {
    let redis = redis_addr();
    let server = server(&[("a", 1)]);
    let prefix = unique_prefix("relay-cap");
    let port = free_port();
    let relay = Relay::start(
        &[
            "--stream-uri",
            &server.uri,
            "--redis",
            &redis,
            "--prefix",
            &prefix,
            "--listen",
            &port.to_string(),
            "--max-connections",
            "2",
        ],
        &[("LD_SDK_KEY", KEY)],
    );
    relay.wait_for("the put", || stored_version(&redis, &prefix, "a") == Some(1));
    relay.wait_for("the server", || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    std::thread::sleep(Duration::from_millis(300));
    // Two idle connections take the cap.
    let idle1 = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let _idle2 = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // The third waits.
    let mut third = std::net::TcpStream::connect(("127.0.0.1", port)).expect("waits in the backlog");
    write!(third, "GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    assert_eq!(answer_within(&mut third, Duration::from_millis(1500)), None, "answered beyond the cap");
    // One idle connection goes away: the third is answered.
    drop(idle1);
    let resp = answer_within(&mut third, Duration::from_secs(5)).expect("answered once a connection closed");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let body: serde_json::Value = serde_json::from_str(resp.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(body["environments"]["default"]["flags"], 1, "{body}");
    // Still responsive (one slot is free again once the third closed).
    assert_eq!(status(port)["status"], "healthy");
}

/// SIGTERM while a /status request is in flight (its head half sent): the request is answered in
/// full, new connections are refused after that, and the relay exits 0.
#[test]
fn sigterm_answers_the_status_request_in_flight_then_exits_zero() {
    let redis = redis_addr();
    let server = server(&[("a", 1)]);
    let prefix = unique_prefix("relay-graceful");
    let port = free_port();
    let mut relay = Relay::start(
        &["--stream-uri", &server.uri, "--redis", &redis, "--prefix", &prefix, "--listen", &port.to_string()],
        &[("LD_SDK_KEY", KEY)],
    );
    relay.wait_for("the put", || stored_version(&redis, &prefix, "a") == Some(1));
    relay.wait_for("the server", || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    let mut sock = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(sock, "GET /status HTTP/1.1\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    relay.signal("-TERM");
    std::thread::sleep(Duration::from_millis(500));
    write!(sock, "Host: localhost\r\n\r\n").unwrap();
    let resp = answer_within(&mut sock, Duration::from_secs(5)).expect("the request in flight is answered");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}\n{}", relay.log());
    let body: serde_json::Value = serde_json::from_str(resp.split_once("\r\n\r\n").unwrap().1).expect("whole JSON");
    assert_eq!(body["environments"]["default"]["sdkKey"], "sdk-…00r1", "{body}");
    let st = relay.wait_exit(10);
    assert_eq!(st.code(), Some(0), "{}", relay.log());
    assert!(relay.log().contains("SIGTERM: shutting down"), "{}", relay.log());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "still listening after the exit");
}

/// `--log-format json`: every line relay prints is one JSON object with time, level, env and msg,
/// the lines of other modules (-v) and the error that ends the relay (with its hint) included.
#[test]
fn json_log_format_makes_every_line_json_including_the_final_error() {
    let redis = redis_addr();
    let server = server(&[("a", 1)]);
    let prefix = unique_prefix("relay-json-log");
    let o = run(ldstore()
        .args(["relay", "-v", "--log-format", "json", "--exit-on-error", "--stream-uri", &server.uri])
        .args(["--redis", &redis, "--prefix", &prefix])
        .env("LD_SDK_KEY", BAD_KEY));
    assert_code(&o, 4);
    let err = stderr(&o);
    let lines: Vec<serde_json::Value> =
        err.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{err}"))).collect();
    for l in &lines {
        for k in ["time", "level", "env", "msg"] {
            assert!(l[k].is_string(), "{k} in {l}");
        }
    }
    assert!(lines.iter().any(|l| l["env"] == "default" && l["level"] == "INFO"), "{err}");
    let last = lines.last().unwrap();
    assert_eq!(last["level"], "ERROR", "{err}");
    let msg = last["msg"].as_str().unwrap();
    assert!(msg.contains("environment \"default\"") && msg.contains("rejected the SDK key"), "{err}");
    assert!(!err.contains(BAD_KEY), "{err}");
    // Usage errors too (exit 2), with the hint in its own field.
    let o = run(ldstore().args(["relay", "--log-format", "json", "--redis", &redis]).env_remove("LD_SDK_KEY"));
    assert_code(&o, 2);
    let line: serde_json::Value = serde_json::from_str(stderr(&o).trim()).expect("one JSON line");
    assert_eq!(line["msg"], "no SDK key given for LaunchDarkly", "{line}");
    assert!(line["hint"].as_str().unwrap().contains("LD_SDK_KEY"), "{line}");
}

/// Decided (issue #21): a relay stopped while the store never got the newest data (the store is
/// down) says so and exits 3, rather than 0 as if everything had been written.
#[test]
fn stopping_with_data_the_store_never_got_exits_3() {
    // Nothing listens there: the store is down from the start.
    let addr = format!("127.0.0.1:{}", free_port());
    let server = server(&[("a", 1)]);
    let mport = free_port();
    let mut relay = Relay::start(
        &["--stream-uri", &server.uri, "--redis", &addr, "--store-timeout", "1s", "--listen", &mport.to_string()],
        &[("LD_SDK_KEY", KEY)],
    );
    relay.wait_for("the put in memory, the store down", || {
        if std::net::TcpStream::connect(("127.0.0.1", mport)).is_err() {
            return false;
        }
        let s = status(mport);
        s["environments"]["default"]["flags"] == 1
            && s["environments"]["default"]["dataStoreStatus"]["state"] == "INTERRUPTED"
    });
    relay.signal("-TERM");
    let st = relay.wait_exit(20);
    assert_eq!(st.code(), Some(3), "{}", relay.log());
    let log = relay.log();
    assert!(log.contains("stopped before the store got the newest data of environment \"default\""), "{log}");
}
