//! Every Redis connection ldstore opens turns Nagle's algorithm off (`TCP_NODELAY` = 1): with it
//! on, the small final write of a pipeline (the EXEC of a sync) waits behind the server's delayed
//! ACK, and about half of all syncs stalled ~40 ms (issue #22). Checked the way it was found: the
//! binary run under `strace`, every `setsockopt(…, TCP_NODELAY, …)` it makes must say 1. Runs on
//! the single node (the blocking streamed sync and the async reads), the cluster and Sentinel.

use std::process::Command;

use crate::support::*;

/// The TCP_NODELAY values `ldstore <args>` sets on its sockets, from `strace -f`.
#[track_caller]
fn nodelay_values(args: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("strace.txt");
    let template = ldstore();
    let mut c = Command::new("strace");
    c.args(["-f", "-qq", "-e", "trace=setsockopt", "-o"]).arg(&trace).arg(template.get_program()).args(args);
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().expect("strace is needed by this test (scripts/test installs it)");
    assert_code(&o, 0);
    let text = std::fs::read_to_string(&trace).unwrap();
    let values: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_once("TCP_NODELAY, [").map(|(_, rest)| rest.split(']').next().unwrap().to_string()))
        .collect();
    assert!(!values.is_empty(), "ldstore {args:?} set no TCP_NODELAY at all:\n{text}");
    values
}

#[track_caller]
fn assert_nodelay(args: &[&str], env: &[(&str, &str)]) {
    let values = nodelay_values(args, env);
    assert!(values.iter().all(|v| v == "1"), "ldstore {args:?}: TCP_NODELAY values {values:?}, all must be 1");
}

fn examples() -> String {
    repo_path("examples/flags.json").to_str().unwrap().to_string()
}

#[test]
fn single_node_connections_disable_nagle() {
    let redis = redis_addr();
    let f = examples();
    // The streamed sync (blocking connection) and the async reads.
    assert_nodelay(&["sync", "--redis", &redis, "--prefix", "nodelay", "--from-file", &f], &[]);
    assert_nodelay(&["inspect", "--redis", &redis, "--prefix", "nodelay"], &[]);
    assert_nodelay(&["dump", "--redis", &redis, "--prefix", "nodelay"], &[]);
}

#[test]
fn cluster_connections_disable_nagle() {
    let _shared = redis_topology_shared();
    let url = format!("redis+cluster://{}", redis_cluster_nodes());
    let f = examples();
    assert_nodelay(&["sync", "--redis", &url, "--prefix", "{nodelay}", "--from-file", &f], &[]);
    assert_nodelay(&["dump", "--redis", &url, "--prefix", "{nodelay}"], &[]);
}

#[test]
fn sentinel_connections_disable_nagle() {
    let _shared = redis_topology_shared();
    let s = redis_sentinel();
    let f = examples();
    let env = [("REDIS_SENTINEL_PASSWORD", s.sentinel_password.as_str())];
    assert_nodelay(&["sync", "--redis", &s.url(), "--prefix", "nodelay", "--from-file", &f], &env);
    assert_nodelay(&["dump", "--redis", &s.url(), "--prefix", "nodelay"], &env);
}
