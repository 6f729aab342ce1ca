//! Failovers on the shared Sentinel set-up and Redis Cluster scripts/test starts: `relay` keeps the
//! store current through them (writes pause, the new master is found, memory is written back, no
//! patch lost) and a one-shot `sync` during one completes or exits 3, leaving each key old or new.
//! Each test holds the set-up alone (`redis_topology_alone`) and leaves it stable.

use std::time::{Duration, Instant};

use crate::relay::{KEY, Relay, free_port, metric, patch, server, store_is_up};
use crate::support::*;

fn sentinel_cli(s: &Sentinel, args: &[&str]) -> String {
    redis_cli_at(s.sentinels.split(',').next().unwrap(), Some(&s.sentinel_password), args)
}

/// `redis-cli ROLE` lines at `addr` (empty when it does not answer).
fn role(addr: &str, pw: Option<&str>) -> Vec<String> {
    let (host, port) = addr.rsplit_once(':').unwrap();
    let mut c = std::process::Command::new("redis-cli");
    c.args(["-h", host, "-p", port, "--raw", "ROLE"]);
    if let Some(pw) = pw {
        c.env("REDISCLI_AUTH", pw);
    }
    c.output().map(|o| String::from_utf8_lossy(&o.stdout).lines().map(str::to_string).collect()).unwrap_or_default()
}

/// Wait (at most 90 s) until every sentinel names the same master (not `not`), it says it is
/// master with a replica attached, and that replica's link is up; returns the master.
#[track_caller]
fn wait_sentinel_stable(s: &Sentinel, not: Option<&str>) -> String {
    let end = Instant::now() + Duration::from_secs(90);
    loop {
        let named: Vec<Option<String>> = s
            .sentinels
            .split(',')
            .map(|a| {
                let (host, port) = a.rsplit_once(':').unwrap();
                let o = std::process::Command::new("redis-cli")
                    .args(["-h", host, "-p", port, "--raw", "SENTINEL", "get-master-addr-by-name", &s.master])
                    .env("REDISCLI_AUTH", &s.sentinel_password)
                    .output()
                    .ok()?;
                let out = String::from_utf8_lossy(&o.stdout).into_owned();
                let mut l = out.lines();
                Some(format!("{}:{}", l.next()?, l.next()?))
            })
            .collect();
        if let Some(Some(m)) = named.first()
            && named.iter().all(|n| n.as_ref() == Some(m))
            && not != Some(m.as_str())
        {
            let r = role(m, Some(&s.data_password));
            if r.first().map(String::as_str) == Some("master") && r.len() >= 5 {
                let replica = format!("{}:{}", r[2], r[3]);
                let rr = role(&replica, Some(&s.data_password));
                if rr.first().map(String::as_str) == Some("slave") && rr.get(3).map(String::as_str) == Some("connected")
                {
                    return m.clone();
                }
            }
        }
        assert!(Instant::now() < end, "the Sentinel set-up did not settle: {named:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn version_at(addr: &str, pw: Option<&str>, prefix: &str, kind: &str, key: &str) -> Option<u64> {
    let (host, port) = addr.rsplit_once(':').unwrap();
    let mut c = std::process::Command::new("redis-cli");
    c.args(["-h", host, "-p", port, "--raw", "HGET", &format!("{prefix}:{kind}"), key]);
    if let Some(pw) = pw {
        c.env("REDISCLI_AUTH", pw);
    }
    let o = c.output().ok()?;
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).ok()?;
    v["version"].as_u64()
}

/// A flag file whose 20 flags and one segment all have version `v`.
fn generation(v: u64) -> String {
    let flags: Vec<String> = (0..20).map(|i| format!(r#""f{i:02}":{{"key":"f{i:02}","version":{v}}}"#)).collect();
    format!(r#"{{"flags":{{{}}},"segments":{{"s":{{"key":"s","version":{v}}}}}}}"#, flags.join(","))
}

/// The versions of every flag and segment at `read` (a HGETALL of each hash).
fn versions(read: &dyn Fn(&[&str]) -> String, prefix: &str) -> (Vec<u64>, Vec<u64>) {
    let of = |kind: &str| -> Vec<u64> {
        let out = read(&["HGETALL", &format!("{prefix}:{kind}")]);
        let lines: Vec<&str> = out.lines().collect();
        lines
            .chunks(2)
            .filter_map(|c| c.get(1))
            .map(|j| serde_json::from_str::<serde_json::Value>(j).unwrap()["version"].as_u64().unwrap())
            .collect()
    };
    (of("features"), of("segments"))
}

/// Syncs of generation 2, 3, … run back to back until `done` (at most 60 s): each exits 0 or 3.
fn syncs_until(cmd: &dyn Fn(&[&str]) -> std::process::Command, mut done: impl FnMut() -> bool) -> (u64, u32) {
    let end = Instant::now() + Duration::from_secs(60);
    let (mut last, mut failed) = (1, 0);
    while !done() && Instant::now() < end {
        last += 1;
        let (_d, f) = temp_file("flags.json", &generation(last));
        let o = run(&mut cmd(&["sync", "--from-file", f.to_str().unwrap()]));
        match o.status.code() {
            Some(0) => {}
            Some(3) => failed += 1,
            _ => panic!("sync during the failover: exit {:?}\n{}", o.status.code(), stderr(&o)),
        }
    }
    (last, failed)
}

#[test]
fn relay_keeps_a_sentinel_store_current_through_a_failover() {
    let _alone = redis_topology_alone();
    let s = redis_sentinel();
    let pw = Some(s.data_password.as_str());
    let old = wait_sentinel_stable(&s, None);
    let server = server(&[("a", 1), ("b", 1)]);
    let prefix = unique_prefix("sentinel-failover");
    let mport = free_port();
    let relay = Relay::start(
        &[
            "--stream-uri",
            &server.uri,
            "--redis",
            &s.url(),
            "--prefix",
            &prefix,
            "--store-timeout",
            "2s",
            "--check-interval",
            "1s",
            "--listen",
            &mport.to_string(),
        ],
        &[("LD_SDK_KEY", KEY), ("REDIS_SENTINEL_PASSWORD", &s.sentinel_password)],
    );
    relay.wait_for("the put", || version_at(&old, pw, &prefix, "features", "a") == Some(1));
    sentinel_cli(&s, &["SENTINEL", "FAILOVER", &s.master]);
    // Patches while the failover runs: some land on the old master before it is demoted (and
    // would be lost with it).
    for v in 2..=6 {
        server.push(&patch("a", v));
        std::thread::sleep(Duration::from_millis(400));
    }
    let new = wait_sentinel_stable(&s, Some(&old));
    server.push(&patch("b", 2));
    relay.wait_for_secs("every patch on the new master", 60, || {
        version_at(&new, pw, &prefix, "features", "a") == Some(6)
            && version_at(&new, pw, &prefix, "features", "b") == Some(2)
            && version_at(&new, pw, &prefix, "segments", "seg") == Some(1)
    });
    assert_eq!(redis_cli_at(&new, pw, &["EXISTS", &format!("{prefix}:$inited")]).trim(), "1");
    // The interruption is counted and the store is back (marked up once its rewrite has answered,
    // after the data shows in it).
    let m = relay.metrics_when(mport, "the store marked up", store_is_up);
    assert!(metric(&m, r#"ldstore_relay_store_write_failures_total{env="default"}"#).unwrap() >= 1.0, "{m}");
    assert!(relay.log().contains("store is back"), "{}", relay.log());
}

#[test]
fn sync_during_a_sentinel_failover_completes_or_exits_3_and_leaves_each_key_old_or_new() {
    let _alone = redis_topology_alone();
    let s = redis_sentinel();
    let old = wait_sentinel_stable(&s, None);
    let prefix = unique_prefix("sentinel-sync-failover");
    let cmd = |args: &[&str]| {
        let mut c = ldstore();
        c.args(args).env("REDIS_SENTINEL_PASSWORD", &s.sentinel_password).args([
            "--redis",
            &s.url(),
            "--prefix",
            &prefix,
            "--store-timeout",
            "2s",
        ]);
        c
    };
    let (_d, f) = temp_file("flags.json", &generation(1));
    assert_code(&run(&mut cmd(&["sync", "--from-file", f.to_str().unwrap()])), 0);
    // A forced failover does not wait for the replica to catch up (replication is asynchronous):
    // start it once generation 1 has reached the replica, so the new master holds something.
    let r = role(&old, Some(&s.data_password));
    let replica = format!("{}:{}", r[2], r[3]);
    let end = Instant::now() + Duration::from_secs(20);
    while version_at(&replica, Some(&s.data_password), &prefix, "segments", "s") != Some(1) {
        assert!(Instant::now() < end, "generation 1 never reached the replica");
        std::thread::sleep(Duration::from_millis(50));
    }
    sentinel_cli(&s, &["SENTINEL", "FAILOVER", &s.master]);
    let mut settled = None;
    let (last, _failed) = syncs_until(&cmd, || {
        settled = s.master_addr().ne(&old).then(|| wait_sentinel_stable(&s, Some(&old)));
        settled.is_some()
    });
    let new = settled.unwrap_or_else(|| wait_sentinel_stable(&s, Some(&old)));
    let (flags, segments) = versions(&|a| redis_cli_at(&new, Some(&s.data_password), a), &prefix);
    // One generation throughout (a sync is one MULTI/EXEC): never half-written.
    assert_eq!(flags.len(), 20, "{flags:?}");
    assert!(flags.iter().all(|v| *v == flags[0]) && segments == [flags[0]], "{flags:?} {segments:?}");
    assert!((1..=last).contains(&flags[0]));
    // And a sync after the failover goes to the new master.
    let (_d, f) = temp_file("flags.json", &generation(100));
    assert_code(&run(&mut cmd(&["sync", "--from-file", f.to_str().unwrap()])), 0);
    assert_eq!(version_at(&new, Some(&s.data_password), &prefix, "features", "f00"), Some(100));
}

/// A `CLUSTER NODES` line: (id, host:port, is master, master id of a replica, slot ranges).
type Node = (String, String, bool, String, Vec<(u16, u16)>);

fn cluster_nodes() -> Vec<Node> {
    redis_cluster_cli(&["CLUSTER", "NODES"])
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let addr = f.get(1)?.split(['@', ',']).next()?.to_string();
            let slots = f
                .iter()
                .skip(8)
                .filter_map(|r| {
                    let (a, b) = r.split_once('-').unwrap_or((r, r));
                    Some((a.parse().ok()?, b.parse().ok()?))
                })
                .collect();
            Some((f[0].to_string(), addr, f.get(2)?.contains("master"), f.get(3)?.to_string(), slots))
        })
        .collect()
}

/// The master holding `key`'s slot, and one of its replicas.
fn master_and_replica_of(key: &str) -> (String, String) {
    let slot: u16 = redis_cluster_cli(&["CLUSTER", "KEYSLOT", key]).trim().parse().unwrap();
    // After an earlier failover the old master rejoins as a replica a moment later: wait for it.
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let nodes = cluster_nodes();
        let master = nodes.iter().find(|n| n.2 && n.4.iter().any(|(a, b)| (*a..=*b).contains(&slot)));
        if let Some(master) = master
            && let Some(replica) = nodes.iter().find(|n| !n.2 && n.3 == master.0)
        {
            return (master.1.clone(), replica.1.clone());
        }
        assert!(Instant::now() < end, "no master with a replica for slot {slot}:\n{nodes:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Wait until every node answers `cluster_state:ok` and `addr` is a master.
fn wait_cluster_settled(addr: &str) {
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let ok = redis_cluster_nodes()
            .split(',')
            .all(|n| redis_cli_at(n, None, &["CLUSTER", "INFO"]).contains("cluster_state:ok"));
        if ok && role(addr, None).first().map(String::as_str) == Some("master") {
            return;
        }
        assert!(Instant::now() < end, "the cluster did not settle");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn relay_and_sync_follow_a_cluster_failover() {
    let _alone = redis_topology_alone();
    let nodes = redis_cluster_nodes();
    let cluster = format!("redis+cluster://{nodes}");
    let prefix = format!("{{{}}}", unique_prefix("cluster-failover"));
    let plain = unique_prefix("cluster-failover-sync");
    let server = server(&[("a", 1), ("b", 1)]);
    let mport = free_port();
    let relay = Relay::start(
        &[
            "--stream-uri",
            &server.uri,
            "--redis",
            &cluster,
            "--prefix",
            &prefix,
            "--store-timeout",
            "2s",
            "--check-interval",
            "1s",
            "--listen",
            &mport.to_string(),
        ],
        &[("LD_SDK_KEY", KEY)],
    );
    let stored = |key: &str| -> Option<u64> {
        serde_json::from_str::<serde_json::Value>(&redis_cluster_cli(&["HGET", &format!("{prefix}:features"), key]))
            .ok()?["version"]
            .as_u64()
    };
    relay.wait_for("the put", || stored("a") == Some(1));
    let sync_cmd = |args: &[&str]| {
        let mut c = ldstore();
        c.args(args).args(["--redis", &cluster, "--prefix", &plain, "--store-timeout", "2s"]);
        c
    };
    let (_d, f) = temp_file("flags.json", &generation(1));
    assert_code(&run(&mut sync_cmd(&["sync", "--from-file", f.to_str().unwrap()])), 0);

    let (master, replica) = master_and_replica_of(&format!("{prefix}:features"));
    redis_cli_at(&replica, None, &["CLUSTER", "FAILOVER"]);
    server.push(&patch("a", 2));
    // One-shot syncs of a plain prefix (one transaction per hash) while the roles change.
    let (last, _) = syncs_until(&sync_cmd, || role(&replica, None).first().map(String::as_str) == Some("master"));
    server.push(&patch("b", 2));
    wait_cluster_settled(&replica);
    // The old master learns of its demotion by gossip, a moment after the new master's promotion.
    relay.wait_for_secs("the old master to become a replica", 30, || {
        role(&master, None).first().map(String::as_str) == Some("slave")
    });
    relay.wait_for_secs("the patches on the new master", 60, || stored("a") == Some(2) && stored("b") == Some(2));
    assert!(redis_cli_at(&replica, None, &["HGET", &format!("{prefix}:features"), "b"]).contains("\"version\":2"));
    // Each hash of the plain prefix is one generation (old or new), never half-written.
    let (flags, segments) = versions(&|a| redis_cluster_cli(a), &plain);
    assert_eq!(flags.len(), 20, "{flags:?}");
    assert!(flags.iter().all(|v| *v == flags[0]) && (1..=last).contains(&flags[0]), "{flags:?}");
    assert!(segments.len() == 1 && (1..=last).contains(&segments[0]), "{segments:?}");
    // Marked up again (if a write failed) once the rewrite has answered, after the data shows.
    relay.metrics_when(mport, "the store marked up", store_is_up);
}

/// `relay` follows a resharding: the slot of its (hash-tagged) prefix moves to another master
/// (CLUSTER SETSLOT IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE) while patches arrive.
#[test]
fn relay_follows_a_resharded_slot() {
    let _alone = redis_topology_alone();
    let cluster = format!("redis+cluster://{}", redis_cluster_nodes());
    let prefix = format!("{{{}}}", unique_prefix("reshard"));
    let server = server(&[("a", 1), ("b", 1)]);
    let relay = Relay::start(
        &["--stream-uri", &server.uri, "--redis", &cluster, "--prefix", &prefix, "--check-interval", "1s"],
        &[("LD_SDK_KEY", KEY)],
    );
    let stored = |key: &str| -> Option<u64> {
        serde_json::from_str::<serde_json::Value>(&redis_cluster_cli(&["HGET", &format!("{prefix}:features"), key]))
            .ok()?["version"]
            .as_u64()
    };
    relay.wait_for("the put", || stored("a") == Some(1));
    let slot = redis_cluster_cli(&["CLUSTER", "KEYSLOT", &format!("{prefix}:features")]).trim().to_string();
    let (source, _) = master_and_replica_of(&format!("{prefix}:features"));
    let nodes = cluster_nodes();
    let src = nodes.iter().find(|n| n.1 == source).unwrap().clone();
    let dst = nodes.iter().find(|n| n.2 && n.1 != source).unwrap().clone();
    redis_cli_at(&dst.1, None, &["CLUSTER", "SETSLOT", &slot, "IMPORTING", &src.0]);
    redis_cli_at(&src.1, None, &["CLUSTER", "SETSLOT", &slot, "MIGRATING", &dst.0]);
    server.push(&patch("a", 2));
    std::thread::sleep(Duration::from_millis(300));
    let (host, port) = dst.1.rsplit_once(':').unwrap();
    loop {
        let keys = redis_cli_at(&src.1, None, &["CLUSTER", "GETKEYSINSLOT", &slot, "100"]);
        let keys: Vec<&str> = keys.lines().filter(|k| !k.is_empty()).collect();
        if keys.is_empty() {
            break;
        }
        let mut args = vec!["MIGRATE", host, port, "", "0", "5000", "KEYS"];
        args.extend(keys);
        redis_cli_at(&src.1, None, &args);
    }
    server.push(&patch("b", 2));
    for n in nodes.iter().filter(|n| n.2) {
        redis_cli_at(&n.1, None, &["CLUSTER", "SETSLOT", &slot, "NODE", &dst.0]);
    }
    server.push(&patch("c", 1));
    relay.wait_for_secs("every patch on the new owner", 60, || {
        stored("a") == Some(2) && stored("b") == Some(2) && stored("c") == Some(1)
    });
    let on_dst = redis_cli_at(&dst.1, None, &["HGET", &format!("{prefix}:features"), "c"]);
    assert!(on_dst.contains("\"version\":1"), "the slot's keys live on the new owner: {on_dst}");
    wait_cluster_settled(&dst.1);
}

/// `relay` through the master's death: the sentinels elect the replica, the relay finds it and
/// writes everything back; the old master, started again, rejoins as a replica.
#[test]
fn relay_keeps_a_sentinel_store_current_when_the_master_is_killed() {
    let _alone = redis_topology_alone();
    let s = redis_sentinel();
    let pw = Some(s.data_password.as_str());
    let old = wait_sentinel_stable(&s, None);
    let server = server(&[("a", 1), ("b", 1)]);
    let prefix = unique_prefix("sentinel-kill");
    let relay = Relay::start(
        &["--stream-uri", &server.uri, "--redis", &s.url(), "--prefix", &prefix, "--store-timeout", "1s"],
        &[("LD_SDK_KEY", KEY), ("REDIS_SENTINEL_PASSWORD", &s.sentinel_password)],
    );
    relay.wait_for("the put", || version_at(&old, pw, &prefix, "features", "a") == Some(1));
    // Stopped without saving (scripts/test runs it without persistence): its data is gone.
    let _ = std::process::Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", old.rsplit_once(':').unwrap().1, "SHUTDOWN", "NOSAVE"])
        .env("REDISCLI_AUTH", &s.data_password)
        .output();
    server.push(&patch("a", 2));
    server.push(&patch("c", 1));
    let new = {
        let end = Instant::now() + Duration::from_secs(60);
        loop {
            let m = s.master_addr();
            if m != old && role(&m, pw).first().map(String::as_str) == Some("master") {
                break m;
            }
            assert!(Instant::now() < end, "no new master elected");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    relay.wait_for_secs("every patch on the new master", 60, || {
        version_at(&new, pw, &prefix, "features", "a") == Some(2)
            && version_at(&new, pw, &prefix, "features", "c") == Some(1)
            && version_at(&new, pw, &prefix, "features", "b") == Some(1)
    });
    assert!(relay.log().contains("store is back"), "{}", relay.log());
    // Start the old master again (the pid file lets scripts/test stop it); the sentinels make it a
    // replica of the new one.
    let dir = std::path::PathBuf::from(service("LDSTORE_TEST_REDIS_SENTINEL_DIR", "the Sentinel set-up"));
    let port = old.rsplit_once(':').unwrap().1;
    let d = dir.join(port);
    let o = std::process::Command::new("redis-server")
        .args(["--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(&d)
        .args(["--requirepass", &s.data_password, "--masterauth", &s.data_password])
        .args(["--replicaof", new.rsplit_once(':').unwrap().0, new.rsplit_once(':').unwrap().1])
        .arg("--pidfile")
        .arg(d.join("redis.pid"))
        .arg("--logfile")
        .arg(d.join("redis.log"))
        .args(["--daemonize", "yes"])
        .output()
        .expect("redis-server");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    wait_sentinel_stable(&s, Some(&old));
}
