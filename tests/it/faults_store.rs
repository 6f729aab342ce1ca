//! The fault matrix of issue #21, the stores' side: the same faults put in front of every backend
//! (the real redis-server, DynamoDB Local, the in-process Consul test server) by one TCP proxy
//! (support/fault_proxy.rs), for a one-shot `sync`, the read-only commands and `relay`. After each:
//! the documented exit code (3 for a store fault), one line naming the cause, bounded time, and
//! the store holding what the README's "Failure behaviour" section promises. (Redis Cluster and
//! Sentinel hand out their nodes' own addresses, which a proxy cannot sit in front of: their
//! failures are the failover tests in redis_failover.rs, and a one-node cluster of the test's own
//! that announces a proxy's port, [`ProxiedCluster`].) Redis-only refusals (maxmemory with
//! noeviction, a read-only replica) are at the end.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::relay::{KEY, OwnRedis, Relay, free_port, metric, patch, server, status};
use crate::support::consul_server::ConsulServer;
use crate::support::fault_proxy::{FaultProxy, Mode};
use crate::support::*;

/// One backend: how to reach it directly and through a proxy.
enum Store {
    Redis,
    Dynamo { table: String },
    Consul(ConsulServer),
}

impl Store {
    fn all(name: &str) -> Vec<Store> {
        vec![
            Store::Redis,
            Store::Dynamo { table: crate::support::ddb::new_table(name) },
            Store::Consul(ConsulServer::start()),
        ]
    }

    fn name(&self) -> &'static str {
        match self {
            Store::Redis => "Redis",
            Store::Dynamo { .. } => "DynamoDB",
            Store::Consul(_) => "Consul",
        }
    }

    /// `host:port` of the store itself.
    fn upstream(&self) -> String {
        match self {
            Store::Redis => redis_addr(),
            Store::Dynamo { .. } => {
                crate::support::ddb::endpoint().trim_start_matches("http://").trim_end_matches('/').into()
            }
            Store::Consul(c) => c.addr.clone(),
        }
    }

    /// The store options, at `addr` (`host:port`: the store or a proxy).
    fn args_at(&self, addr: &str) -> Vec<String> {
        match self {
            Store::Redis => vec!["--redis".into(), addr.into()],
            Store::Dynamo { table } => {
                vec!["--dynamodb".into(), table.clone(), "--dynamodb-endpoint".into(), format!("http://{addr}")]
            }
            Store::Consul(_) => vec!["--consul".into(), format!("http://{addr}")],
        }
    }

    fn cmd_at(&self, addr: &str, args: &[&str]) -> Command {
        let mut c = ldstore();
        c.args(args).args(self.args_at(addr));
        for (k, d) in [("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_REGION", "us-east-1")] {
            if std::env::var(k).map_or(true, |v| v.is_empty()) {
                c.env(k, d);
            }
        }
        c
    }

    /// `ldstore <args>` straight to the store.
    fn direct(&self, args: &[&str]) -> Command {
        self.cmd_at(&self.upstream(), args)
    }

    /// `ldstore <args>` through the proxy.
    fn via(&self, proxy: &FaultProxy, args: &[&str]) -> Command {
        self.cmd_at(&proxy.addr, args)
    }

    /// The prefix's data as `dump` shows it, read straight from the store.
    fn dumped(&self, prefix: &str) -> Value {
        let o = run(&mut self.direct(&["dump", "--prefix", prefix]));
        assert_code(&o, 0);
        serde_json::from_str(&stdout(&o)).unwrap()
    }
}

/// `n` flags `<tag>-00000`… of about `pad` bytes each and one segment.
fn data_set(tag: &str, n: usize, pad: usize) -> Value {
    let flags: serde_json::Map<String, Value> = (0..n)
        .map(|i| {
            let key = format!("{tag}-{i:05}");
            (
                key.clone(),
                json!({"key": key, "version": 1, "on": true, "variations": [true, false],
                                 "offVariation": 1, "fallthrough": {"variation": 0}, "salt": "x".repeat(pad)}),
            )
        })
        .collect();
    let seg = format!("{tag}-seg");
    json!({"flags": flags, "segments": {seg.clone(): {"key": seg, "version": 1, "included": ["u1"]}}})
}

/// Sync a data set straight into the store (exit 0).
fn fill(s: &Store, prefix: &str, data: &Value) {
    let (_d, f) = temp_file("flags.json", &data.to_string());
    let o = run(&mut s.direct(&["sync", "--from-file", f.to_str().unwrap(), "--prefix", prefix]));
    assert_code(&o, 0);
}

/// Run with a wall-time bound (the command is killed past it, failing the test).
#[track_caller]
fn run_bounded(cmd: &mut Command, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child: Child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    loop {
        if child.try_wait().unwrap().is_some() {
            return (child.wait_with_output().unwrap(), started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!("still running after {limit:?}\n--- stderr\n{}", stderr(&o));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Exit 3 and exactly one line on stderr, the error, naming `needle` (any case).
#[track_caller]
fn assert_store_error(s: &Store, what: &str, o: &Output, needles: &[&str]) {
    assert_eq!(o.status.code(), Some(3), "{} {what}: exit code\n{}", s.name(), stderr(o));
    let err = stderr(o);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("ldstore: error:")).collect();
    assert_eq!(errors.len(), 1, "{} {what}: one error line\n{err}", s.name());
    eprintln!("{} {what}: {}", s.name(), errors[0]);
    let low = errors[0].to_lowercase();
    assert!(
        needles.iter().any(|n| low.contains(&n.to_lowercase())),
        "{} {what}: the error must name the cause ({needles:?})\n{err}",
        s.name()
    );
}

#[test]
fn a_store_that_accepts_connections_but_never_answers() {
    for s in Store::all("fault-silent") {
        let proxy = FaultProxy::start(&s.upstream(), Mode::Silent);
        let data = data_set("silent", 10, 10);
        let (_d, f) = temp_file("flags.json", &data.to_string());
        let t = ["--store-timeout", "2s"];
        for args in [
            vec!["sync", "--from-file", f.to_str().unwrap(), "--prefix", "silent"],
            vec!["inspect"],
            vec!["dump", "--prefix", "silent"],
            vec!["validate", "--prefix", "silent"],
        ] {
            let mut c = s.via(&proxy, &args);
            c.args(t);
            // 2 s asked: a few attempts' worth at most, never the default minutes.
            let (o, took) = run_bounded(&mut c, Duration::from_secs(30));
            assert_store_error(&s, args[0], &o, &["timed out", "timeout"]);
            assert!(took < Duration::from_secs(15), "{} {}: {took:?}", s.name(), args[0]);
        }
    }
}

#[test]
fn a_store_that_goes_down_mid_sync() {
    for s in Store::all("fault-down") {
        let p = "down";
        let old = data_set("old", 20, 10);
        fill(&s, p, &old);
        let new = data_set("new", 3000, 200);
        let (_d, f) = temp_file("flags.json", &new.to_string());
        let proxy = FaultProxy::start(&s.upstream(), Mode::Pass);
        proxy.after(150_000, Mode::Down);
        let mut c =
            s.via(&proxy, &["sync", "--from-file", f.to_str().unwrap(), "--prefix", p, "--store-timeout", "3s"]);
        let (o, _) = run_bounded(&mut c, Duration::from_secs(60));
        assert_store_error(
            &s,
            "sync",
            &o,
            &["connection", "closed", "reset", "refused", "timed out", "dispatch", "broken"],
        );
        match s {
            // One MULTI/EXEC never executed: the prefix is exactly the old data.
            Store::Redis => assert_eq!(s.dumped(p), old),
            // Batches went in before the cut: old and new side by side, the unfinished sync on
            // record (inspect and validate say so) until a sync completes.
            _ => assert_interrupted(&s, p),
        }
        completes(&s, p, &f, &new);
    }
}

/// `inspect` reports the prefix's sync as interrupted (its lease left behind).
#[track_caller]
fn assert_interrupted(s: &Store, p: &str) {
    let o = run(&mut s.direct(&["--output", "json", "inspect", "--prefix", p]));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["stats"]["sync"]["state"], "interrupted", "{} {v}", s.name());
}

/// The store back: the same sync completes and the prefix is exactly the new data.
#[track_caller]
fn completes(s: &Store, p: &str, f: &std::path::Path, new: &Value) {
    let o = run(&mut s.direct(&["sync", "--from-file", f.to_str().unwrap(), "--prefix", p]));
    assert_code(&o, 0);
    assert_eq!(&s.dumped(p), new, "{}", s.name());
}

/// Writes refused part-way: Consul answering 500 (its test server's fault switch) after a few
/// transactions, DynamoDB answering 500 from the proxy once the sync's lease is taken (the AWS SDK
/// retries a 500 itself, then gives up).
#[test]
fn writes_refused_part_way_by_an_http_store() {
    for s in Store::all("fault-500").into_iter().filter(|s| !matches!(s, Store::Redis)) {
        let p = "err500";
        let old = data_set("old", 20, 10);
        fill(&s, p, &old);
        let new = data_set("new", 2000, 200);
        let (_d, f) = temp_file("flags.json", &new.to_string());
        let proxy = FaultProxy::start(&s.upstream(), Mode::Pass);
        match &s {
            Store::Consul(c) => c.fail_writes_after(3),
            _ => proxy.after(100_000, Mode::Http500),
        }
        let mut c =
            s.via(&proxy, &["sync", "--from-file", f.to_str().unwrap(), "--prefix", p, "--store-timeout", "3s"]);
        let (o, _) = run_bounded(&mut c, Duration::from_secs(60));
        assert_store_error(&s, "sync", &o, &["HTTP 500", "InternalServerError", "lost the connection to"]);
        if let Store::Consul(c) = &s {
            c.fail_writes_after(usize::MAX);
        }
        assert_interrupted(&s, p);
        completes(&s, p, &f, &new);
    }
}

/// relay through a store that goes down, then silent, then comes back: it never exits, /status
/// shows the interruption, every event received meanwhile is written once the store answers, and
/// nothing older is written over anything newer.
#[test]
fn relay_rides_out_a_store_that_goes_down_and_silent() {
    for s in Store::all("fault-relay") {
        let p = "relayfault";
        let ld = server(&[("a", 1), ("b", 1)]);
        let proxy = FaultProxy::start(&s.upstream(), Mode::Pass);
        let port = free_port();
        let mut args: Vec<String> = vec![
            "--stream-uri".into(),
            ld.uri.clone(),
            "--prefix".into(),
            p.into(),
            "--store-timeout".into(),
            "1s".into(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
        ];
        args.extend(s.args_at(&proxy.addr));
        let mut env = vec![("LD_SDK_KEY", KEY)];
        for (k, d) in [("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_REGION", "us-east-1")] {
            if std::env::var(k).map_or(true, |v| v.is_empty()) {
                env.push((k, d));
            }
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut relay = Relay::start(&argv, &env);
        let version = |key: &str| s.dumped(p)["flags"][key]["version"].as_u64();
        relay.wait_for("the put", || version("b") == Some(1));
        for mode in [Mode::Down, Mode::Silent] {
            proxy.set(mode);
            let n = if mode == Mode::Down { 5 } else { 7 };
            ld.push(&patch("a", n));
            relay.wait_for_secs("the store marked down", 30, || {
                status(port)["environments"]["default"]["dataStoreStatus"]["state"] == "INTERRUPTED"
            });
            ld.push(&patch("a", n - 1)); // older: never written over the newer one
            ld.push(&patch("b", n));
            std::thread::sleep(Duration::from_millis(300));
            assert!(relay.still_running(), "{}: relay exited on a store fault\n{}", s.name(), relay.log());
            proxy.set(Mode::Pass);
            relay.wait_for_secs("the newest data written back", 60, || {
                version("a") == Some(n) && version("b") == Some(n)
            });
            relay.wait_for("the store back in /status", || {
                status(port)["environments"]["default"]["dataStoreStatus"]["state"] == "VALID"
            });
        }
        let m = crate::relay::http_get(port, "/metrics");
        assert!(metric(&m, r#"ldstore_relay_store_write_failures_total{env="default"}"#).unwrap() >= 1.0, "{m}");
        assert!(relay.still_running());
    }
}

// ---- Redis refusing writes ----

#[test]
fn redis_out_of_memory_refuses_the_sync_and_keeps_the_old_data() {
    let redis = OwnRedis::start_with(&["--maxmemory", "4mb", "--maxmemory-policy", "noeviction"]);
    let addr = &redis.addr;
    let old = data_set("old", 20, 10);
    let (_d, f) = temp_file("old.json", &old.to_string());
    let o = run(ldstore().args(["sync", "--redis", addr, "--prefix", "oom", "--from-file", f.to_str().unwrap()]));
    assert_code(&o, 0);
    let new = data_set("new", 20_000, 400);
    let (_d2, f2) = temp_file("new.json", &new.to_string());
    let (o, _) = run_bounded(
        ldstore().args(["sync", "--redis", addr, "--prefix", "oom", "--from-file", f2.to_str().unwrap()]),
        Duration::from_secs(60),
    );
    assert_store_error(&Store::Redis, "sync", &o, &["OOM command not allowed when used memory > 'maxmemory'"]);
    assert!(stderr(&o).contains("nothing of it was written"), "{}", stderr(&o));
    let o = run(ldstore().args(["dump", "--redis", addr, "--prefix", "oom"]));
    assert_code(&o, 0);
    assert_eq!(serde_json::from_str::<Value>(&stdout(&o)).unwrap(), old);
}

#[test]
fn redis_evicting_staged_data_refuses_the_sync_and_keeps_the_old_data() {
    // Under maxmemory with a volatile-* policy, the staging hashes (which expire) are what Redis
    // evicts first: a sync whose staged data was evicted, even in part, must not move it into place.
    let redis = OwnRedis::start_with(&["--maxmemory", "12mb", "--maxmemory-policy", "volatile-lru"]);
    let addr = &redis.addr;
    let old = data_set("old", 4_000, 400);
    let (_d, f) = temp_file("old.json", &old.to_string());
    assert_code(
        &run(ldstore().args(["sync", "--redis", addr, "--prefix", "ev", "--from-file", f.to_str().unwrap()])),
        0,
    );
    let new = data_set("new", 16_000, 400);
    // Written while read (.json), and read whole first (a pipe).
    for name in ["new.json", "a pipe"] {
        let (_d2, f2) =
            if name == "a pipe" { temp_fifo(name, &new.to_string()) } else { temp_file(name, &new.to_string()) };
        let (o, _) = run_bounded(
            ldstore().args(["sync", "--redis", addr, "--prefix", "ev", "--from-file", f2.to_str().unwrap()]),
            Duration::from_secs(60),
        );
        // Evicted while staged (found by the check before the commit), or, once nothing volatile
        // is left to evict, a write refused for memory.
        assert_store_error(&Store::Redis, name, &o, &["Redis no longer holds all of it", "OOM command not allowed"]);
        assert!(stderr(&o).contains("nothing"), "{}", stderr(&o));
        assert_eq!(redis_cli_at(addr, None, &["--scan", "--pattern", "ev:$ldstore_staging:*"]), "", "{name}");
        let o = run(ldstore().args(["dump", "--redis", addr, "--prefix", "ev"]));
        assert_code(&o, 0);
        assert_eq!(serde_json::from_str::<Value>(&stdout(&o)).unwrap(), old, "{name}");
    }
    let stats = redis_cli_at(addr, None, &["info", "stats"]);
    assert!(!stats.contains("evicted_keys:0\r"), "{stats}");
}

/// Another client writes a staging hash after ldstore checked it and before its commit (Redis's
/// answers reach ldstore 500 ms late through a proxy, so the test writes in between, when MONITOR
/// shows the check): the WATCH aborts the commit, nothing is written, the staging hashes are
/// removed. Written while read (.json) and read whole first (a pipe).
#[test]
fn a_staging_hash_changed_before_the_commit_aborts_it() {
    let redis = OwnRedis::start();
    let addr = redis.addr.clone();
    let old = data_set("old", 5, 10);
    let (_d, f) = temp_file("old.json", &old.to_string());
    assert_code(&run(ldstore().args(["sync", "--redis", &addr, "--prefix", "w", "--from-file"]).arg(&f)), 0);
    let proxy = crate::support::latency_proxy::LatencyProxy::start(&addr, Duration::ZERO, Duration::from_millis(500));
    let new = data_set("new", 50, 10);
    for name in ["new.json", "a pipe"] {
        let (_d2, f2) =
            if name == "a pipe" { temp_fifo(name, &new.to_string()) } else { temp_file(name, &new.to_string()) };
        let (mut monitor, lines) = redis_monitor(&addr);
        let intruder = {
            let addr = addr.clone();
            std::thread::spawn(move || {
                // The check's HLEN of a staging hash: write that hash before ldstore hears the answer.
                for l in lines.map_while(Result::ok) {
                    if l.contains("\"HLEN\"") && l.contains(":$ldstore_staging:") {
                        let key = l.rsplit('"').nth(1).unwrap().to_string();
                        redis_cli_at(&addr, None, &["HSET", &key, "intruder", "x"]);
                        return Some(key);
                    }
                }
                None
            })
        };
        let (o, _) = run_bounded(
            ldstore().args(["sync", "--redis", &proxy.addr, "--prefix", "w", "--from-file", f2.to_str().unwrap()]),
            Duration::from_secs(60),
        );
        let _ = monitor.kill();
        let _ = monitor.wait();
        assert!(intruder.join().unwrap().is_some(), "{name}: no check seen");
        assert_store_error(&Store::Redis, name, &o, &["a staging hash changed before the commit"]);
        assert!(stderr(&o).contains("nothing was written"), "{name}: {}", stderr(&o));
        assert_eq!(redis_cli_at(&addr, None, &["--scan", "--pattern", "w:$ldstore_staging:*"]), "", "{name}");
        let o = run(ldstore().args(["dump", "--redis", &addr, "--prefix", "w"]));
        assert_code(&o, 0);
        assert_eq!(serde_json::from_str::<Value>(&stdout(&o)).unwrap(), old, "{name}");
    }
}

/// A cluster of one master holding every slot, whose clients reach it through a proxy that delays
/// its answers: it announces the proxy's port (`cluster-announce-port`), so the cluster client
/// follows the proxy, while the test reaches the node itself.
struct ProxiedCluster {
    node: OwnRedis,
    proxy: crate::support::latency_proxy::LatencyProxy,
}

impl ProxiedCluster {
    /// `before` runs on the cluster reached directly (its own port announced), before the proxy's
    /// port is.
    fn start(delay: Duration, before: impl FnOnce(&str)) -> ProxiedCluster {
        let bus = free_port().to_string();
        let node = OwnRedis::start_with(&["--cluster-enabled", "yes", "--cluster-port", &bus]);
        let url = format!("redis+cluster://{}", node.addr);
        assert_eq!(redis_cli_at(&node.addr, None, &["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]).trim(), "OK");
        let end = Instant::now() + Duration::from_secs(20);
        while !redis_cli_at(&node.addr, None, &["CLUSTER", "INFO"]).contains("cluster_state:ok") {
            assert!(Instant::now() < end, "the one-node cluster did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        before(&url);
        let proxy = crate::support::latency_proxy::LatencyProxy::start(&node.addr, Duration::ZERO, delay);
        let port = proxy.addr.rsplit(':').next().unwrap();
        for (name, value) in [("cluster-announce-ip", "127.0.0.1"), ("cluster-announce-port", port)] {
            assert_eq!(redis_cli_at(&node.addr, None, &["CONFIG", "SET", name, value]).trim(), "OK");
        }
        assert!(redis_cli_at(&node.addr, None, &["CLUSTER", "SLOTS"]).contains(port), "the proxy's port announced");
        ProxiedCluster { node, proxy }
    }
}

/// Per slot (a cluster, a plain prefix), the segments' hash is committed first, then the flags',
/// then the marker, each in its own `MULTI`/`EXEC`. A later one that fails says what is new, and no
/// staging hash is left:
/// - another client writes the flags' staging hash after the first commit (whose `EXEC` cleared the
///   `WATCH` on it), either before its check again (which finds it) or after that check and before
///   its commit (the `WATCH` set again aborts it): the segments are new, the flags old;
/// - Redis refuses the marker's `SET` for memory (maxmemory lowered, noeviction) after both hashes
///   were committed: both are new, and the hint does not claim that nothing was written. The same
///   for a Redis user that may not `RENAME` (unstaged: each hash deleted and written in its own
///   `MULTI`/`EXEC`).
///
/// Redis's answers reach ldstore 300 ms late through a proxy the one-node cluster announces, so the
/// test acts in between, when MONITOR shows the moment.
#[test]
fn a_per_slot_commit_that_fails_after_an_earlier_one_says_what_is_new() {
    let old = data_set("old", 5, 10);
    let new = data_set("new", 50, 10);
    let (_d, fold) = temp_file("old.json", &old.to_string());
    let (_d2, fnew) = temp_file("new.json", &new.to_string());
    let cluster = ProxiedCluster::start(Duration::from_millis(300), |url| {
        assert_code(&run(ldstore().args(["sync", "--redis", url, "--prefix", "pc", "--from-file"]).arg(&fold)), 0);
    });
    let node = cluster.node.addr.clone();
    let acl = ["ACL", "SETUSER", "norename", "on", ">s3cret-pw", "~*", "&*", "+@all", "-rename"];
    assert_eq!(redis_cli_at(&node, None, &acl).trim(), "OK");
    let sync = |f: &std::path::Path, user: &str| {
        let mut c = ldstore();
        c.args(["sync", "--prefix", "pc", "--from-file"]).arg(f);
        c.args(["--redis", &format!("redis+cluster://{user}{}", cluster.proxy.addr)]);
        c
    };
    // The moments: the segments' RENAME (before the flags' check again); the flags' second HLEN
    // (the check again; the first came before any commit); the flags' RENAME (before the marker);
    // unstaged, the flags' DEL (their transaction, before the marker's; a staged write UNLINKs).
    for moment in ["segments' RENAME", "flags' second HLEN", "flags' RENAME", "unstaged flags' DEL"] {
        let user = if moment.starts_with("unstaged") { "norename:s3cret-pw@" } else { "" };
        let (mut monitor, lines) = redis_monitor(&node);
        let actor = {
            let node = node.clone();
            std::thread::spawn(move || {
                let (mut flags_stage, mut hlens) = (None, 0);
                for l in lines.map_while(Result::ok) {
                    let key = || l.rsplit('"').nth(1).unwrap().to_string();
                    if l.contains("\"HLEN\"") && l.contains(":$ldstore_staging:features:") {
                        flags_stage.get_or_insert_with(key);
                        hlens += 1;
                    }
                    let renamed =
                        |kind: &str| l.contains("\"RENAME\"") && l.contains(&format!(":$ldstore_staging:{kind}:"));
                    let now = match moment {
                        "segments' RENAME" => renamed("segments"),
                        "flags' second HLEN" => hlens == 2,
                        "flags' RENAME" => renamed("features"),
                        _ => l.contains("\"DEL\" \"pc:features\""),
                    };
                    if now {
                        if moment.starts_with("flags' RENAME") || moment.starts_with("unstaged") {
                            redis_cli_at(
                                &node,
                                None,
                                &["CONFIG", "SET", "maxmemory-policy", "noeviction", "maxmemory", "1"],
                            );
                        } else {
                            let key = flags_stage.expect("the flags' staging hash checked before any commit");
                            redis_cli_at(&node, None, &["HSET", &key, "intruder", "x"]);
                        }
                        return true;
                    }
                }
                false
            })
        };
        let (o, _) = run_bounded(&mut sync(&fnew, user), Duration::from_secs(60));
        let _ = monitor.kill();
        let _ = monitor.wait();
        assert!(actor.join().unwrap(), "{moment}: the moment never came\n{}", stderr(&o));
        redis_cli_at(&node, None, &["CONFIG", "SET", "maxmemory", "0"]);
        assert_store_error(&Store::Redis, moment, &o, &["the hashes committed before it are new"]);
        let (err, flags_then) =
            (stderr(&o), if moment.contains("flags' RENAME") || moment.starts_with("unstaged") { &new } else { &old });
        match moment {
            "segments' RENAME" => assert!(err.contains("(checking the staged data): a staging hash changed"), "{err}"),
            "flags' second HLEN" => assert!(err.contains("(EXEC): a staging hash changed"), "{err}"),
            _ => {
                assert!(err.contains("command not allowed when used memory > 'maxmemory'"), "{err}");
                assert!(err.contains("a later commit was refused after an earlier one"), "{err}");
                assert!(!err.contains("nothing"), "{err}");
            }
        }
        assert_eq!(redis_cli_at(&node, None, &["KEYS", "pc:$ldstore_staging:*"]).trim(), "", "{moment}");
        let o = run(ldstore().args(["dump", "--redis", &format!("redis+cluster://{node}"), "--prefix", "pc"]));
        assert_code(&o, 0);
        let dumped: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(dumped["segments"], new["segments"], "{moment}: the segments' hash, committed first, new");
        assert_eq!(dumped["flags"], flags_then["flags"], "{moment}: the flags' hash");
        // Back to the old data for the next moment.
        assert_code(&run(&mut sync(&fold, "")), 0);
    }
}

#[test]
fn redis_read_only_replica_refuses_the_sync_naming_it() {
    let primary = OwnRedis::start();
    let pport = primary.addr.rsplit(':').next().unwrap().to_string();
    let replica = OwnRedis::start_with(&["--replicaof", "127.0.0.1", &pport]);
    let raddr = &replica.addr;
    let data = data_set("ro", 5, 10);
    let (_d, f) = temp_file("flags.json", &data.to_string());
    let (o, _) = run_bounded(
        ldstore().args(["sync", "--redis", raddr, "--prefix", "ro", "--from-file", f.to_str().unwrap()]),
        Duration::from_secs(30),
    );
    assert_store_error(&Store::Redis, "sync", &o, &["READONLY You can't write against a read only replica"]);
    assert!(stderr(&o).contains("give the master's address"), "{}", stderr(&o));
    // Reading from the replica works.
    let o = run(ldstore().args(["inspect", "--redis", raddr]));
    assert_code(&o, 0);
}

// ---- ldstore itself killed; two writers ----

#[test]
fn a_redis_sync_killed_outright_writes_nothing() {
    let p = unique_prefix("fault-kill");
    let old = data_set("old", 5, 10);
    fill(&Store::Redis, &p, &old);
    let new = data_set("new", 10_000, 400);
    let (_d, f) = temp_file("flags.json", &new.to_string());
    let proxy = crate::support::slow_proxy::SlowProxy::start(&redis_addr(), 1_000_000);
    let mut child = ldstore()
        .args(["sync", "--from-file", f.to_str().unwrap(), "--redis", &proxy.addr, "--prefix", &p])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    proxy.wait_forwarded(500_000, 60);
    child.kill().unwrap(); // SIGKILL: no handler runs
    child.wait().unwrap();
    // The MULTI never reached EXEC: Redis discards it with the connection.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(Store::Redis.dumped(&p), old);
}

#[test]
fn racing_redis_syncs_leave_exactly_one_data_set() {
    let (a, b) = (data_set("a", 2000, 100), data_set("b", 2000, 100));
    let (_da, fa) = temp_file("a.json", &a.to_string());
    let (_db, fb) = temp_file("b.json", &b.to_string());
    for round in 0..4 {
        let p = unique_prefix(&format!("fault-race{round}"));
        let spawn = |f: &std::path::Path| {
            ldstore()
                .args(["sync", "--from-file", f.to_str().unwrap(), "--redis", &redis_addr(), "--prefix", &p])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (ca, cb) = (spawn(&fa), spawn(&fb));
        let (oa, ob) = (ca.wait_with_output().unwrap(), cb.wait_with_output().unwrap());
        // Both complete (no lease on Redis: each replace is one transaction, the last one wins).
        assert_code(&oa, 0);
        assert_code(&ob, 0);
        let got = Store::Redis.dumped(&p);
        assert!(got == a || got == b, "round {round}: a mix of both data sets");
    }
}

/// sync + relay on one Redis prefix (Redis has no sync lease): the sync replaces the prefix whole;
/// the relay keeps running and goes on applying LaunchDarkly's events with the version guard, so
/// it never writes an older version over the newer one the sync put there.
#[test]
fn a_sync_into_a_prefix_a_relay_keeps_on_redis() {
    let p = unique_prefix("fault-syncrelay");
    let ld = server(&[("a", 1), ("b", 1)]);
    let port = free_port();
    let mut relay = Relay::start(
        &["--stream-uri", &ld.uri, "--redis", &redis_addr(), "--prefix", &p, "--listen", &format!("127.0.0.1:{port}")],
        &[("LD_SDK_KEY", KEY)],
    );
    let version = |key: &str| Store::Redis.dumped(&p)["flags"][key]["version"].as_u64();
    relay.wait_for("the put", || version("b") == Some(1));
    let mut file = data_set("f", 1, 1);
    file["flags"]["a"] = json!({"key": "a", "version": 5, "on": true, "variations": [true, false],
                                "offVariation": 1, "fallthrough": {"variation": 0}});
    let (_d, f) = temp_file("flags.json", &file.to_string());
    let o = run(ldstore().args(["sync", "--from-file", f.to_str().unwrap(), "--redis", &redis_addr(), "--prefix", &p]));
    assert_code(&o, 0);
    assert_eq!(Store::Redis.dumped(&p), file);
    ld.push(&patch("a", 3)); // older than the sync's 5: not written
    ld.push(&patch("b", 2)); // b is not in the file: written
    relay.wait_for("the relay's next write", || version("b") == Some(2));
    assert_eq!(version("a"), Some(5));
    ld.push(&patch("a", 6));
    relay.wait_for("a newer version", || version("a") == Some(6));
    assert!(relay.still_running());
}

// ---- Redis Cluster and Sentinel: masters that never answer writes, or refuse them ----

/// The masters of the test cluster and of the Sentinel set-up, each with its password.
fn topology_masters() -> Vec<(String, Option<String>)> {
    let s = redis_sentinel();
    let mut out: Vec<(String, Option<String>)> = redis_cluster_masters().into_iter().map(|m| (m, None)).collect();
    out.push((s.master_addr(), Some(s.data_password.clone())));
    out
}

/// Runs `CONFIG SET`/`CLIENT PAUSE` style commands on every master, and their undo when dropped
/// (also when the test fails), so the shared set-up is left as it was.
struct OnMasters {
    masters: Vec<(String, Option<String>)>,
    undo: Vec<Vec<String>>,
}

impl OnMasters {
    fn apply(do_: &[&[&str]], undo: &[&[&str]]) -> OnMasters {
        let masters = topology_masters();
        for (m, pw) in &masters {
            for cmd in do_ {
                redis_cli_at(m, pw.as_deref(), cmd);
            }
        }
        OnMasters { masters, undo: undo.iter().map(|c| c.iter().map(|a| a.to_string()).collect()).collect() }
    }
}

impl Drop for OnMasters {
    fn drop(&mut self) {
        for (m, pw) in &self.masters {
            for cmd in &self.undo {
                let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
                let _ = std::panic::catch_unwind(|| redis_cli_at(m, pw.as_deref(), &args));
            }
        }
    }
}

/// `ldstore <args>` on the cluster and through Sentinel, with a prefix of the shape given.
fn on_topologies(args: &[&str], prefix: &str) -> Vec<(&'static str, Command)> {
    let s = redis_sentinel();
    let mut cluster = ldstore();
    cluster.args(args).args(["--redis", &format!("redis+cluster://{}", redis_cluster_nodes()), "--prefix", prefix]);
    let mut sentinel = ldstore();
    sentinel.env("REDIS_SENTINEL_PASSWORD", &s.sentinel_password).args(args).args([
        "--redis",
        &s.url(),
        "--prefix",
        prefix,
    ]);
    vec![("Redis Cluster", cluster), ("Redis Sentinel", sentinel)]
}

/// A signal during a staged write into a cluster (a plain prefix: a staging hash in each of two
/// slots; a tagged one: both in one) stops it before any commit: the old data whole, the staging
/// hashes removed. ldstore is stopped (SIGSTOP) as soon as a staging hash appears, while it still
/// has tens of MB to write, so the signal lands before the commit.
#[test]
fn a_signal_stops_a_staged_cluster_sync_before_its_commit() {
    let _alone = redis_topology_alone();
    let nodes = format!("redis+cluster://{}", redis_cluster_nodes());
    let old = data_set("old", 5, 10);
    let (_o, fold) = temp_file("old.json", &old.to_string());
    let (_n, fnew) = temp_file("new.json", &data_set("new", 30_000, 1_500).to_string());
    for prefix in [unique_prefix("sig-plain"), format!("{{{}}}", unique_prefix("sig-tagged"))] {
        let sync = |f: &std::path::Path| {
            let mut c = ldstore();
            c.args(["sync", "--from-file"]).arg(f).args(["--redis", &nodes, "--prefix", &prefix]);
            c
        };
        assert_code(&run(&mut sync(&fold)), 0);
        let staging = format!("{prefix}:$ldstore_staging:*");
        let child = sync(&fnew).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
        let end = Instant::now() + Duration::from_secs(60);
        while redis_cluster_keys(&staging).is_empty() {
            assert!(Instant::now() < end, "{prefix}: no staging hash appeared");
            std::thread::sleep(Duration::from_millis(2));
        }
        for sig in ["-STOP", "-TERM", "-CONT"] {
            assert!(Command::new("kill").args([sig, &child.id().to_string()]).status().unwrap().success());
        }
        let o = child.wait_with_output().unwrap();
        assert_code(&o, 143);
        assert_eq!(
            stderr(&o).lines().last().unwrap_or(""),
            format!(
                "ldstore: error: interrupted by SIGTERM: nothing was written (stopped before the commit); Redis prefix \"{prefix}\" is unchanged"
            ),
            "{prefix}"
        );
        assert_eq!(redis_cluster_keys(&staging), Vec::<String>::new(), "{prefix}");
        let mut dump = ldstore();
        dump.args(["dump", "--redis", &nodes, "--prefix", &prefix]);
        let dumped = run(&mut dump);
        assert_code(&dumped, 0);
        assert_eq!(serde_json::from_str::<Value>(&stdout(&dumped)).unwrap(), old, "{prefix}: the old data, whole");
    }
}

#[test]
fn cluster_and_sentinel_masters_that_never_answer_writes() {
    let _alone = redis_topology_alone();
    let data = data_set("paused", 10, 10);
    let (_d, f) = temp_file("flags.json", &data.to_string());
    let prefix = format!("{{{}}}", unique_prefix("fault-paused"));
    for (name, mut c) in on_topologies(&["sync", "--from-file", f.to_str().unwrap()], &prefix) {
        // Writes held (reads, the sentinels' and the cluster bus's pings go on: no failover).
        let _paused = OnMasters::apply(&[&["CLIENT", "PAUSE", "20000", "WRITE"]], &[&["CLIENT", "UNPAUSE"]]);
        c.args(["--store-timeout", "2s"]);
        let (o, took) = run_bounded(&mut c, Duration::from_secs(40));
        assert_eq!(o.status.code(), Some(3), "{name}: {}", stderr(&o));
        let err = stderr(&o);
        // The write was sent and never answered: a timeout, its outcome unknown where EXEC was sent.
        assert!(err.contains("timed out"), "{name}: {err}");
        assert_eq!(err.lines().filter(|l| l.starts_with("ldstore: error:")).count(), 1, "{name}: {err}");
        assert!(took < Duration::from_secs(20), "{name}: {took:?}");
    }
}

#[test]
fn cluster_and_sentinel_refusing_writes_keep_the_old_data() {
    let _alone = redis_topology_alone();
    let old = data_set("old", 5, 10);
    let new = data_set("new", 50, 100);
    let (_o, fold) = temp_file("old.json", &old.to_string());
    let (_n, fnew) = temp_file("new.json", &new.to_string());
    let prefix = format!("{{{}}}", unique_prefix("fault-oom"));
    for ((name, mut first), (_, mut second)) in on_topologies(&["sync", "--from-file", fold.to_str().unwrap()], &prefix)
        .into_iter()
        .zip(on_topologies(&["sync", "--from-file", fnew.to_str().unwrap()], &prefix))
    {
        assert_code(&run(&mut first), 0);
        let refused = OnMasters::apply(
            &[&["CONFIG", "SET", "maxmemory-policy", "noeviction"], &["CONFIG", "SET", "maxmemory", "1"]],
            &[&["CONFIG", "SET", "maxmemory", "0"]],
        );
        let (o, _) = run_bounded(&mut second, Duration::from_secs(40));
        drop(refused);
        assert_eq!(o.status.code(), Some(3), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains("OOM") && stderr(&o).contains("command not allowed"), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains("nothing of it was written"), "{name}: the hint\n{}", stderr(&o));
        let dumped = on_topologies(&["dump"], &prefix)
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, mut c)| run(&mut c))
            .unwrap();
        assert_code(&dumped, 0);
        assert_eq!(serde_json::from_str::<Value>(&stdout(&dumped)).unwrap(), old, "{name}: the old data, whole");
    }
}
