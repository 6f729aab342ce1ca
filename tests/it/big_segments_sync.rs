//! Big Segments synchronized from LaunchDarkly the way the Relay Proxy does it (`ldstore sync`
//! from LaunchDarkly), against the in-process LaunchDarkly server's Big Segments endpoints and the
//! real redis-server / DynamoDB Local: patches polled after the stored cursor, applied only in
//! `previousVersion` order (a patch out of order makes a resync, never a skip), the cursor, the
//! lock and the sync time as Relay writes them.

use serde_json::{Value, json};

use crate::support::ld_server::{Fault, LdServer, big_patch};
use crate::support::*;

const KEY: &str = "sdk-11111111-2222-3333-4444-55555555b001";

// Context hashes (base64 of SHA-256 of the keys "userkey", "test-user", "").
const H1: &str = "72cBpXPyn4N6TqqlS8Tti37jEcoNhFzL9ZdG1jXkILE=";
const H2: &str = "+FrIJdECufLVRqoWeeqZGuhFmUwTQ3MNVk8/zQohaMM=";
const H3: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

/// Flag data with a Big Segment (`big`, generation 1) when `big` is true, else an ordinary one.
fn flag_data(big: bool) -> String {
    json!({
        "flags": {"f": {"key": "f", "version": 1, "on": true, "variations": [true, false], "fallthrough": {"variation": 1},
            "rules": [{"id": "r", "clauses": [{"attribute": "", "op": "segmentMatch", "values": ["big"]}], "variation": 0}],
            "offVariation": 1, "salt": "s", "prerequisites": [], "targets": []}},
        "segments": {"big": {"key": "big", "version": 1, "unbounded": big, "generation": 1, "included": [], "excluded": [],
            "rules": [], "salt": "x"}},
    })
    .to_string()
}

fn server(big: bool, patches: &[Value]) -> LdServer {
    let s = LdServer::start();
    s.env(KEY, &flag_data(big));
    s.big_segments(KEY, patches);
    s
}

/// `ldstore sync` from the server into Redis prefix `prefix`, with `extra` arguments.
fn sync_redis(server: &LdServer, prefix: &str, extra: &[&str]) -> std::process::Output {
    run(ldstore()
        .args([
            "sync",
            "--base-uri",
            &server.uri,
            "--stream-uri",
            &server.uri,
            "--redis",
            &redis_addr(),
            "--prefix",
            prefix,
        ])
        .args(["--timeout", "5s"])
        .args(extra)
        .env("LD_SDK_KEY", KEY))
}

fn smembers(key: &str) -> Vec<String> {
    let mut v: Vec<String> =
        redis_cli(&["SMEMBERS", key]).lines().filter(|l| !l.is_empty()).map(str::to_string).collect();
    v.sort();
    v
}

fn get(key: &str) -> Option<String> {
    (redis_cli(&["EXISTS", key]).trim() == "1").then(|| redis_cli(&["GET", key]).trim_end_matches('\n').to_string())
}

/// The `after` parameter of each revisions poll, in order (`None`: no `after`).
fn polls_after(server: &LdServer) -> Vec<Option<String>> {
    server
        .big_requests()
        .iter()
        .filter(|r| r.path == "/sdk/big-segments/revisions")
        .map(|r| r.query.as_deref().and_then(|q| q.strip_prefix("after=")).map(str::to_string))
        .collect()
}

/// What the official Python SDK's big-segment store reads (tests/interop/big_segments_interop.py):
/// `{"synchronizedOn", "memberships": {hash: {ref: included?} | null}}`.
#[track_caller]
fn sdk_reads(backend: &str, target: &str, prefix: &str, hashes: &[&str]) -> Value {
    let o = std::process::Command::new("python3")
        .arg(repo_path("tests/interop/big_segments_interop.py"))
        .args(["read", backend, target, prefix])
        .args(hashes)
        .env("LDSTORE_TEST_DYNAMODB", std::env::var("LDSTORE_TEST_DYNAMODB").unwrap_or_default())
        .output()
        .expect("python3 must be installed with launchdarkly-server-sdk (tests/interop/requirements.txt)");
    assert!(o.status.success(), "big_segments_interop.py: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("JSON")
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[test]
fn sync_from_launchdarkly_applies_big_segment_patches_in_order() {
    let patches =
        [big_patch("big.g1", "1", "", &[H1, H2], &[], &[], &[]), big_patch("big.g1", "2", "1", &[], &[H2], &[H3], &[])];
    let s = server(true, &patches);
    s.big_page(1);
    let p = unique_prefix("bigsync");
    let before = now_ms();
    let o = sync_redis(&s, &p, &[]);
    assert_code(&o, 0);
    assert!(stderr(&o).contains("synchronized Big Segments: 2 patches applied, cursor 2"), "{}", stderr(&o));
    assert_eq!(smembers(&format!("{p}:big_segment_include:{H1}")), ["big.g1"]);
    assert!(smembers(&format!("{p}:big_segment_include:{H2}")).is_empty());
    assert_eq!(smembers(&format!("{p}:big_segment_exclude:{H3}")), ["big.g1"]);
    assert_eq!(get(&format!("{p}:big_segments_cursor")).as_deref(), Some("2"));
    assert_eq!(get(&format!("{p}:big_segments_lock")).as_deref(), Some(""), "Relay's lock key");
    let synced: i64 = get(&format!("{p}:big_segments_synchronized_on")).unwrap().parse().unwrap();
    assert!(synced >= before && synced <= now_ms(), "{synced}");
    // A page at a time, after the cursor, until an empty answer.
    assert_eq!(polls_after(&s), [None, Some("1".into()), Some("2".into())]);
    let r = &s.big_requests()[0];
    assert_eq!(r.header("authorization"), Some(KEY));
    // The official Python SDK reads the result as intended.
    let sdk = sdk_reads("redis", &redis_addr(), &p, &[H1, H3]);
    assert_eq!(sdk["synchronizedOn"], synced, "{sdk}");
    assert_eq!(sdk["memberships"], json!({H1: {"big.g1": true}, H3: {"big.g1": false}}), "{sdk}");
    // The flag data is there too.
    let o = run(ldstore().args(["dump", "--redis", &redis_addr(), "--prefix", &p]));
    assert!(stdout(&o).contains("\"unbounded\":true"), "{}", stdout(&o));

    // A later sync starts from the stored cursor and applies only what is new.
    s.add_big_segments(KEY, &[big_patch("big.g1", "3", "2", &[H3], &[H1], &[], &[H3])]);
    let o = sync_redis(&s, &p, &["--output", "json"]);
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["big_segments_sync"], json!({"patches": 1, "resyncs": 0, "cursor": "3"}), "{v}");
    assert_eq!(polls_after(&s)[3..], [Some("2".into()), Some("3".into())]);
    assert!(smembers(&format!("{p}:big_segment_include:{H1}")).is_empty());
    assert_eq!(smembers(&format!("{p}:big_segment_include:{H3}")), ["big.g1"]);
    assert!(smembers(&format!("{p}:big_segment_exclude:{H3}")).is_empty());
}

#[test]
fn a_patch_out_of_order_makes_a_resync_never_a_skip() {
    let p1 = big_patch("big.g1", "1", "", &[H1], &[], &[], &[]);
    let p2 = big_patch("big.g1", "2", "1", &[H2], &[], &[], &[]);
    let p3 = big_patch("big.g1", "3", "2", &[H3], &[], &[], &[]);
    let s = server(true, &[p1.clone(), p2, p3.clone()]);
    // The first answer leaves out patch 2: patch 3 does not follow the cursor (1).
    s.big_bodies(&[&Value::from(vec![p1, p3]).to_string()]);
    let p = unique_prefix("bigsync-ooo");
    let o = sync_redis(&s, &p, &["--output", "json"]);
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["big_segments_sync"], json!({"patches": 3, "resyncs": 1, "cursor": "3"}), "{v}");
    assert_eq!(polls_after(&s), [None, Some("1".into()), Some("3".into())]);
    for h in [H1, H2, H3] {
        assert_eq!(smembers(&format!("{p}:big_segment_include:{h}")), ["big.g1"], "{h}");
    }
}

#[test]
fn big_segments_are_skipped_without_unbounded_segments_or_with_no_big_segments() {
    let patches = [big_patch("big.g1", "1", "", &[H1], &[], &[], &[])];
    let s = server(false, &patches);
    let p = unique_prefix("bigsync-none");
    assert_code(&sync_redis(&s, &p, &[]), 0);
    let s2 = server(true, &patches);
    let o = sync_redis(&s2, &p, &["--no-big-segments"]);
    assert_code(&o, 0);
    assert!(s.big_requests().is_empty() && s2.big_requests().is_empty(), "{:?}", s2.big_requests());
    assert_eq!(get(&format!("{p}:big_segments_cursor")), None);
    assert!(!stderr(&o).contains("Big Segments"), "{}", stderr(&o));
}

#[test]
fn big_segment_endpoint_failures_are_classified() {
    let patches = [big_patch("big.g1", "1", "", &[H1], &[], &[], &[])];
    // 503 then 429: retried, then synchronized.
    let s = server(true, &patches);
    s.big_faults(&[Fault::Status(503), Fault::Status(429)]);
    let p = unique_prefix("bigsync-retry");
    assert_code(&sync_redis(&s, &p, &[]), 0);
    assert_eq!(get(&format!("{p}:big_segments_cursor")).as_deref(), Some("1"));
    // 401 and 404 stop at once (exit 4), the flag data written, nothing of Big Segments.
    for status in [401, 404] {
        let s = server(true, &patches);
        s.big_faults(&[Fault::Status(status)]);
        let p = unique_prefix("bigsync-fatal");
        let o = sync_redis(&s, &p, &[]);
        assert_code(&o, 4);
        let err = stderr(&o);
        assert!(err.contains("the Big Segments were not synchronized"), "{err}");
        assert!(err.contains(&status.to_string()), "{err}");
        assert!(!err.contains(KEY), "{err}");
        assert_eq!(polls_after(&s).len(), 1, "{status}: not retried");
        assert_eq!(get(&format!("{p}:big_segments_cursor")), None);
        assert_eq!(get(&format!("{p}:big_segments_synchronized_on")), None);
        assert!(get(&format!("{p}:$inited")).is_some());
    }
    // A body that is not a list of patches: exit 4, named.
    let s = server(true, &patches);
    s.big_faults(&[Fault::Malformed]);
    let o = sync_redis(&s, &unique_prefix("bigsync-bad"), &[]);
    assert_code(&o, 4);
    assert!(stderr(&o).contains("not a list of Big Segments patches"), "{}", stderr(&o));
    // A chain LaunchDarkly never completes: given up on after a bounded number of resyncs, exit 4.
    let s = server(true, &[big_patch("big.g1", "9", "8", &[H1], &[], &[], &[])]);
    let p = unique_prefix("bigsync-stuck");
    redis_cli(&["SET", &format!("{p}:big_segments_cursor"), "1"]);
    let o = sync_redis(&s, &p, &[]);
    assert_code(&o, 4);
    assert!(stderr(&o).contains("no patch that follows the store's cursor \"1\""), "{}", stderr(&o));
    assert!(smembers(&format!("{p}:big_segment_include:{H1}")).is_empty());
}

#[test]
fn sync_into_dynamodb_applies_patches_of_many_changes() {
    let table = crate::support::ddb::new_table("bigsync");
    let many: Vec<String> = (0..60).map(|i| format!("hash-{i:02}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let s = server(
        true,
        &[
            big_patch("big.g1", "1", "", &many[..40], &[], &many[40..], &[]),
            big_patch("big.g1", "2", "1", &[], &many[..10], &[], &[]),
        ],
    );
    let o =
        run(crate::support::ddb::ld_table(&table, &["sync", "--base-uri", &s.uri, "--timeout", "5s", "--prefix", "p"])
            .env("LD_SDK_KEY", KEY));
    assert_code(&o, 0);
    let rows = crate::support::ddb::scan(&table);
    let row = |key: &str| rows.iter().find(|r| r["key"]["S"] == key).cloned();
    let meta = row("p:big_segments_metadata").expect("metadata");
    assert_eq!(meta["lastVersion"]["S"], "2", "{meta}");
    assert!(meta["synchronizedOn"]["N"].as_str().is_some_and(|n| n.parse::<i64>().is_ok()), "{meta}");
    assert_eq!(row("hash-39").unwrap()["included"]["SS"], json!(["big.g1"]));
    assert_eq!(row("hash-59").unwrap()["excluded"]["SS"], json!(["big.g1"]));
    assert!(row("hash-05").unwrap().get("included").is_none(), "removed");
    let sdk = sdk_reads("dynamodb", &table, "p", &["hash-39", "hash-59"]);
    assert_eq!(sdk["synchronizedOn"].as_str(), None, "a number: {sdk}");
    assert!(sdk["synchronizedOn"].as_i64().is_some(), "{sdk}");
    assert_eq!(sdk["memberships"], json!({"hash-39": {"big.g1": true}, "hash-59": {"big.g1": false}}), "{sdk}");
}

/// A relay from the test server `s` into `prefix` of the test Redis, serving /status and /metrics
/// on `port`, retrying a failed Big Segments synchronization after 200 ms; `extra` arguments.
fn redis_relay(s: &LdServer, prefix: &str, port: u16, extra: &[&str]) -> crate::relay::Relay {
    let (redis, listen) = (redis_addr(), format!("127.0.0.1:{port}"));
    let mut args = vec!["--stream-uri", &s.uri, "--base-uri", &s.uri, "--redis", &redis, "--prefix", prefix];
    args.extend(["--listen", &listen, "--big-segments-retry", "200ms"]);
    args.extend(extra);
    crate::relay::Relay::start(&args, &[("LD_SDK_KEY", KEY)])
}

#[test]
fn relay_synchronizes_big_segments_beside_the_flag_stream() {
    use crate::relay::{free_port, http_get, metric, status};
    let p1 = big_patch("big.g1", "1", "", &[H1], &[], &[], &[]);
    let s = server(true, &[p1]);
    s.hold_streams(std::time::Duration::from_secs(600));
    let prefix = unique_prefix("bigrelay");
    let port = free_port();
    let relay = redis_relay(&s, &prefix, port, &["--big-segments-interval", "1s"]);
    let cursor = || get(&format!("{prefix}:big_segments_cursor"));
    let synced = || get(&format!("{prefix}:big_segments_synchronized_on")).and_then(|v| v.parse::<i64>().ok());
    relay.wait_for("the first patch and the stream", || {
        cursor().as_deref() == Some("1") && s.open_big_streams() == 1 && synced().is_some()
    });
    assert_eq!(smembers(&format!("{prefix}:big_segment_include:{H1}")), ["big.g1"]);
    // The relay notes synchronizedOn once Redis has answered its write, a moment after the test
    // can read it there.
    let mut st = serde_json::Value::Null;
    relay.wait_for("synchronizedOn in /status", || {
        st = status(port);
        !st["environments"]["default"]["bigSegmentStatus"]["lastSynchronizedOn"].is_null()
    });
    let b = &st["environments"]["default"]["bigSegmentStatus"];
    assert_eq!((b["available"].as_bool(), b["potentiallyStale"].as_bool()), (Some(true), Some(false)), "{st}");
    assert!(b["lastSynchronizedOn"].as_i64().is_some_and(|t| t > 1_600_000_000_000), "{st}");

    // A stream event: applied, synchronizedOn rewritten.
    let before = synced().unwrap();
    let p2 = big_patch("big.g1", "2", "1", &[H2], &[], &[], &[]);
    s.add_big_segments(KEY, std::slice::from_ref(&p2));
    assert_eq!(s.push_big(&[p2]), 1);
    relay.wait_for("patch 2", || cursor().as_deref() == Some("2"));
    relay.wait_for("synchronizedOn after the event", || synced().is_some_and(|t| t > before));
    // Out of order on the stream (patch 3 missing): a resync from the cursor, nothing skipped.
    let p3 = big_patch("big.g1", "3", "2", &[H3], &[], &[], &[]);
    let p4 = big_patch("big.g1", "4", "3", &[], &[H1], &[], &[]);
    s.add_big_segments(KEY, &[p3, p4.clone()]);
    s.push_big(&[p4]);
    relay.wait_for("the resync", || cursor().as_deref() == Some("4"));
    assert_eq!(smembers(&format!("{prefix}:big_segment_include:{H3}")), ["big.g1"]);
    assert!(smembers(&format!("{prefix}:big_segment_include:{H1}")).is_empty());
    // Without events, synchronizedOn is refreshed every interval (1 s here).
    let t = synced().unwrap();
    relay.wait_for_secs("the periodic refresh", 5, || synced().is_some_and(|n| n > t));
    // Heartbeats (comments) are not events: they do not put the refresh off.
    let t = synced().unwrap();
    let end = std::time::Instant::now() + std::time::Duration::from_secs(4);
    while synced().is_some_and(|n| n <= t) && std::time::Instant::now() < end {
        s.push_big_raw(":heartbeat\n\n");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(synced().is_some_and(|n| n > t), "refreshed despite heartbeats every 200 ms\n{}", relay.log());
    let m = http_get(port, "/metrics");
    assert_eq!(metric(&m, "ldstore_relay_big_segments_patches_total{env=\"default\"}"), Some(4.0), "{m}");
    assert_eq!(metric(&m, "ldstore_relay_big_segments_resyncs_total{env=\"default\"}"), Some(1.0), "{m}");
    assert!(
        metric(&m, "ldstore_relay_big_segments_seconds_since_sync{env=\"default\"}").is_some_and(|a| a < 5.0),
        "{m}"
    );

    // The stream ends and the next attempt gets a 503: retried, reconnected.
    s.big_faults(&[Fault::Status(503)]);
    s.close_big_streams();
    relay.wait_for("the reconnect", || {
        s.open_big_streams() == 1 && s.big_requests().iter().filter(|r| r.path == "/big-segments").count() >= 2
    });
    // A 401: the synchronizer stops (the flag stream goes on).
    s.big_faults(&[Fault::Status(401)]);
    s.close_big_streams();
    relay.wait_for("the synchronizer to stop", || relay.log().contains("Big Segments synchronizer stopped"));
    let n = s.big_requests().len();
    std::thread::sleep(std::time::Duration::from_millis(600));
    assert_eq!(s.big_requests().len(), n, "no retry after a 401");
    assert_eq!(status(port)["environments"]["default"]["connectionStatus"]["state"], "VALID");
}

/// A `Retry-After` from LaunchDarkly on the Big Segments stream holds the synchronizer's next
/// attempt off that long, even when its own retry delay is shorter.
#[test]
fn relay_big_segments_wait_as_long_as_retry_after_asks() {
    use crate::relay::free_port;
    let s = server(true, &[]);
    s.hold_streams(std::time::Duration::from_secs(600));
    // The catch-up poll answers; opening the stream is answered 429, Retry-After: 3.
    s.big_faults(&[Fault::Slow(std::time::Duration::ZERO), Fault::StatusRetryAfter(429, "3".into())]);
    let relay = redis_relay(&s, &unique_prefix("bigretryafter"), free_port(), &[]);
    relay.wait_for("the stream, after the 429", || s.open_big_streams() == 1);
    let requests = s.big_requests();
    let refused = requests.iter().position(|r| r.path == "/big-segments").expect("a stream request");
    let next = &requests[refused + 1];
    let waited = next.at - requests[refused].at;
    assert!(waited >= std::time::Duration::from_millis(2900), "retried after {waited:?}\n{}", relay.log());
    assert!(relay.log().contains("Retry-After: 3"), "{}", relay.log());
}

#[test]
fn relay_big_segments_survive_a_store_outage() {
    use crate::relay::{Relay, cli_at, free_port, own_redis, status};
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut redis = own_redis(port);
    let p1 = big_patch("big.g1", "1", "", &[H1], &[], &[], &[]);
    let s = server(true, &[p1]);
    s.hold_streams(std::time::Duration::from_secs(600));
    let prefix = "bigoutage";
    let mport = free_port();
    let relay = Relay::start(
        &[
            "--stream-uri",
            &s.uri,
            "--base-uri",
            &s.uri,
            "--redis",
            &addr,
            "--prefix",
            prefix,
            "--store-timeout",
            "1s",
            "--listen",
            &mport.to_string(),
            "--big-segments-retry",
            "200ms",
        ],
        &[("LD_SDK_KEY", KEY)],
    );
    let cursor = || cli_at(&addr, &["GET", &format!("{prefix}:big_segments_cursor")]).map(|c| c.trim().to_string());
    let included = |h: &str| cli_at(&addr, &["SMEMBERS", &format!("{prefix}:big_segment_include:{h}")]);
    relay.wait_for("patch 1", || cursor().as_deref() == Some("1") && s.open_big_streams() == 1);
    redis.kill().unwrap();
    redis.wait().unwrap();
    let p2 = big_patch("big.g1", "2", "1", &[H2], &[], &[], &[]);
    s.add_big_segments(KEY, std::slice::from_ref(&p2));
    s.push_big(&[p2]);
    relay.wait_for("the store marked unavailable", || {
        status(mport)["environments"]["default"]["bigSegmentStatus"]["available"] == false
    });
    // Restarted empty (no persistence): everything is read again from LaunchDarkly, nothing lost.
    let mut redis = own_redis(port);
    relay.wait_for("the patches written back", || {
        cursor().as_deref() == Some("2")
            && included(H1).is_some_and(|m| m.trim() == "big.g1")
            && included(H2).is_some_and(|m| m.trim() == "big.g1")
    });
    relay.wait_for("available again", || {
        status(mport)["environments"]["default"]["bigSegmentStatus"]["available"] == true
    });
    drop(relay);
    let _ = redis.kill();
    let _ = redis.wait();
}

#[test]
fn sync_into_consul_warns_that_big_segments_are_not_synchronized() {
    let consul = crate::support::consul_server::ConsulServer::start();
    let s = server(true, &[big_patch("big.g1", "1", "", &[H1], &[], &[], &[])]);
    for json in [false, true] {
        let mut c = ldstore();
        c.args(["sync", "--base-uri", &s.uri, "--consul", &consul.url(), "--prefix", "p", "--timeout", "5s"]);
        if json {
            c.args(["--output", "json"]);
        }
        let o = run(c.env("LD_SDK_KEY", KEY));
        assert_code(&o, 0);
        assert!(
            stderr(&o).contains("warning: the data has Big Segments (unbounded segments) but Consul holds none"),
            "{}",
            stderr(&o)
        );
    }
    assert!(s.big_requests().is_empty(), "{:?}", s.big_requests());
}

/// A Redis Cluster prefix without a hash tag (keys in different slots): each set's change is its
/// own command, and the cursor is written only after all of them, then the sync time (MONITOR of
/// every master). The result is what the SDKs read.
#[test]
fn plain_prefix_on_a_cluster_applies_each_set_then_the_cursor_last() {
    let _shared = redis_topology_shared();
    let s = server(true, &[big_patch("big.g1", "1", "", &[H1, H2], &[], &[H3], &[])]);
    let p = unique_prefix("bigcluster");
    let mut out = None;
    let lines = crate::redis_cluster::monitor_masters(&format!("\"{p}:big_segments_synchronized_on\""), || {
        out = Some(run(ldstore()
            .args(["sync", "--base-uri", &s.uri, "--prefix", &p, "--timeout", "5s"])
            .args(["--redis", &format!("redis+cluster://{}", redis_cluster_nodes())])
            .env("LD_SDK_KEY", KEY)))
    });
    let o = out.unwrap();
    assert_code(&o, 0);
    let times = |cmd: &str, key: &str| -> Vec<f64> {
        let (c, k) = (format!("\"{cmd}\""), format!("\"{p}:{key}"));
        lines.iter().filter(|(_, l)| l.contains(&c) && l.contains(&k)).map(|(t, _)| *t).collect()
    };
    let sadds: Vec<f64> = [times("SADD", "big_segment_include:"), times("SADD", "big_segment_exclude:")].concat();
    let (cursor, synced) = (times("SET", "big_segments_cursor\""), times("SET", "big_segments_synchronized_on\""));
    assert_eq!((sadds.len(), cursor.len(), synced.len()), (3, 1, 1), "{lines:?}");
    assert!(sadds.iter().all(|t| *t < cursor[0]), "the cursor last: {lines:?}");
    assert!(cursor[0] <= synced[0], "{lines:?}");
    assert_eq!(redis_cluster_cli(&["GET", &format!("{p}:big_segments_cursor")]).trim(), "1");
}

#[test]
fn many_environments_each_synchronize_their_big_segments() {
    let s = server(true, &[big_patch("big.g1", "1", "", &[H1], &[], &[], &[])]);
    let p = unique_prefix("bigenvs");
    let (host, port) = redis_addr().rsplit_once(':').map(|(h, p)| (h.to_string(), p.to_string())).unwrap();
    let conf = format!("[Environment \"prod\"]\nsdkKey = {KEY}\nprefix = {p}\n");
    let (_dir, path) = temp_file("relay.conf", &conf);
    let o = run(ldstore()
        .args(["sync", "--timeout", "5s", "--config"])
        .arg(&path)
        .env("USE_REDIS", "1")
        .env("REDIS_HOST", &host)
        .env("REDIS_PORT", &port)
        .env("BASE_URI", &s.uri));
    assert_code(&o, 0);
    assert!(
        stderr(&o).contains("environment \"prod\": synchronized Big Segments: 1 patches applied, cursor 1"),
        "{}",
        stderr(&o)
    );
    assert_eq!(get(&format!("{p}:big_segments_cursor")).as_deref(), Some("1"));
    assert_eq!(smembers(&format!("{p}:big_segment_include:{H1}")), ["big.g1"]);
    assert!(get(&format!("{p}:big_segments_synchronized_on")).is_some());
    // A failure is that environment's (exit 4), the flag data written.
    let s = server(true, &[]);
    s.big_faults(&[Fault::Status(404)]);
    let o = run(ldstore()
        .args(["sync", "--timeout", "5s", "--config"])
        .arg(&path)
        .env("USE_REDIS", "1")
        .env("REDIS_HOST", &host)
        .env("REDIS_PORT", &port)
        .env("BASE_URI", &s.uri));
    assert_code(&o, 4);
    assert!(
        stdout(&o).contains("the Big Segments were not synchronized")
            || stderr(&o).contains("the Big Segments were not synchronized"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
}

#[test]
fn relay_with_no_big_segments_runs_no_synchronizer() {
    use crate::relay::{Relay, free_port, status};
    let s = server(true, &[big_patch("big.g1", "1", "", &[H1], &[], &[], &[])]);
    s.hold_streams(std::time::Duration::from_secs(600));
    let prefix = unique_prefix("bigrelay-off");
    let port = free_port();
    let relay = Relay::start(
        &[
            "--stream-uri",
            &s.uri,
            "--base-uri",
            &s.uri,
            "--redis",
            &redis_addr(),
            "--prefix",
            &prefix,
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--no-big-segments",
        ],
        &[("LD_SDK_KEY", KEY)],
    );
    relay.wait_for("the flag data", || get(&format!("{prefix}:$inited")).is_some());
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert!(s.big_requests().is_empty(), "{:?}", s.big_requests());
    let st = status(port);
    assert!(st["environments"]["default"].get("bigSegmentStatus").is_none(), "{st}");
}
