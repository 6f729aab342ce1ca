//! Shared helpers for the integration tests.

#![allow(dead_code)]

pub mod consul_server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

pub mod ddb;
pub mod fake_ddb;
pub mod fault_proxy;
pub mod http;
pub mod latency_proxy;
pub mod slow_proxy;
pub mod tls;

/// The built binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ldstore"))
}

/// The binary a measurement (an ignored test run by `scripts/bench`) times: `LDSTORE_BENCH_BIN`
/// (the release build) when set, else the test build.
pub fn bench_bin() -> PathBuf {
    std::env::var_os("LDSTORE_BENCH_BIN").map(PathBuf::from).unwrap_or_else(bin)
}

/// A command for the binary with a clean environment (no Relay variables leak in from the host).
pub fn ldstore() -> Command {
    let mut c = Command::new(bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("USE_")
            || k.starts_with("REDIS_")
            || k.starts_with("DYNAMODB_")
            || k.starts_with("CONSUL_")
            || k.starts_with("LD_")
            || k == "BASE_URI"
            || k == "STREAM_URI"
        {
            c.env_remove(k);
        }
    }
    c.env("NO_COLOR", "1");
    c
}

/// Run and capture.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run ldstore")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Assert an exit code, showing the output when it differs.
#[track_caller]
pub fn assert_code(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "exit code\n--- stdout\n{}\n--- stderr\n{}", stdout(o), stderr(o));
}

/// A service address from the environment; panics (fails the test) when the service is missing.
#[track_caller]
pub fn service(var: &str, what: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!("{var} is not set: this test needs {what}; run the suite with scripts/test, which starts it"),
    }
}

/// host:port of the throwaway redis-server started by scripts/test.
#[track_caller]
pub fn redis_addr() -> String {
    service("LDSTORE_TEST_REDIS", "a real redis-server")
}

/// The nodes (`host:port,…`) of the throwaway Redis Cluster started by scripts/test (3 masters,
/// 3 replicas).
#[track_caller]
pub fn redis_cluster_nodes() -> String {
    service("LDSTORE_TEST_REDIS_CLUSTER", "a real Redis Cluster")
}

/// Tests on the shared cluster and Sentinel set-up hold this shared (`read`); failover tests hold it
/// alone (`write`), so nothing else runs while masters change, and leave the set-up stable.
pub fn redis_topology_lock() -> &'static std::sync::RwLock<()> {
    static LOCK: std::sync::RwLock<()> = std::sync::RwLock::new(());
    &LOCK
}

/// Shared use of the cluster and Sentinel set-up (see [`redis_topology_lock`]).
pub fn redis_topology_shared() -> std::sync::RwLockReadGuard<'static, ()> {
    redis_topology_lock().read().unwrap_or_else(|e| e.into_inner())
}

/// Sole use of the cluster and Sentinel set-up, for a failover.
pub fn redis_topology_alone() -> std::sync::RwLockWriteGuard<'static, ()> {
    redis_topology_lock().write().unwrap_or_else(|e| e.into_inner())
}

/// The throwaway Sentinel set-up started by scripts/test.
pub struct Sentinel {
    /// `host:port,…` of the three sentinels.
    pub sentinels: String,
    pub master: String,
    /// The sentinels' own password.
    pub sentinel_password: String,
    /// The data nodes' password.
    pub data_password: String,
}

#[track_caller]
pub fn redis_sentinel() -> Sentinel {
    Sentinel {
        sentinels: service("LDSTORE_TEST_REDIS_SENTINELS", "a real Redis Sentinel set-up"),
        master: service("LDSTORE_TEST_REDIS_SENTINEL_MASTER", "a real Redis Sentinel set-up"),
        sentinel_password: service("LDSTORE_TEST_REDIS_SENTINEL_PASSWORD", "a real Redis Sentinel set-up"),
        data_password: service("LDSTORE_TEST_REDIS_SENTINEL_DATA_PASSWORD", "a real Redis Sentinel set-up"),
    }
}

/// redis-cli in cluster mode (`-c`, follows MOVED) against the test cluster; returns stdout.
#[track_caller]
pub fn redis_cluster_cli(args: &[&str]) -> String {
    let nodes = redis_cluster_nodes();
    let first = nodes.split(',').next().expect("a node");
    let (host, port) = first.rsplit_once(':').expect("host:port");
    let o = Command::new("redis-cli")
        .args(["-c", "-h", host, "-p", port, "--raw"])
        .args(args)
        .output()
        .expect("redis-cli must be installed (scripts/test installs redis-tools)");
    assert!(o.status.success(), "redis-cli -c {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Run redis-cli with `args` against host:port (`auth`: a password); returns stdout.
#[track_caller]
pub fn redis_cli_at(addr: &str, auth: Option<&str>, args: &[&str]) -> String {
    let (host, port) = addr.rsplit_once(':').expect("host:port");
    let mut c = Command::new("redis-cli");
    c.args(["-h", host, "-p", port, "--raw"]);
    if let Some(pw) = auth {
        c.env("REDISCLI_AUTH", pw);
    }
    let o = c.args(args).output().expect("redis-cli must be installed (scripts/test installs redis-tools)");
    assert!(o.status.success(), "redis-cli {addr} {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `redis-cli MONITOR` on `addr` (`host:port`), past its `OK`: the child (to kill) and the lines
/// of the commands Redis runs from then on.
pub fn redis_monitor(
    addr: &str,
) -> (std::process::Child, std::io::Lines<std::io::BufReader<std::process::ChildStdout>>) {
    use std::io::BufRead;
    let (host, port) = addr.rsplit_once(':').expect("host:port");
    let mut child = Command::new("redis-cli")
        .args(["-h", host, "-p", port, "MONITOR"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("redis-cli must be installed (scripts/test installs redis-tools)");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("piped")).lines();
    let ok = lines.next().and_then(Result::ok).unwrap_or_default();
    assert_eq!(ok.trim(), "OK", "MONITOR on {addr}");
    (child, lines)
}

/// The test cluster's current masters (`host:port`), by `ROLE`.
pub fn redis_cluster_masters() -> Vec<String> {
    redis_cluster_nodes()
        .split(',')
        .filter(|n| redis_cli_at(n, None, &["ROLE"]).lines().next() == Some("master"))
        .map(str::to_string)
        .collect()
}

/// Every key matching `pattern` on the test cluster (KEYS on each master).
pub fn redis_cluster_keys(pattern: &str) -> Vec<String> {
    let mut out: Vec<String> = redis_cluster_masters()
        .iter()
        .flat_map(|m| redis_cli_at(m, None, &["KEYS", pattern]).lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|k| !k.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

impl Sentinel {
    /// The master's `host:port`, as the sentinels name it now.
    pub fn master_addr(&self) -> String {
        let first = self.sentinels.split(',').next().expect("a sentinel");
        let out =
            redis_cli_at(first, Some(&self.sentinel_password), &["SENTINEL", "get-master-addr-by-name", &self.master]);
        let mut l = out.lines();
        format!("{}:{}", l.next().expect("master host"), l.next().expect("master port"))
    }

    /// redis-cli against the current master (with the data nodes' password); returns stdout.
    #[track_caller]
    pub fn master_cli(&self, args: &[&str]) -> String {
        redis_cli_at(&self.master_addr(), Some(&self.data_password), args)
    }

    /// The `--redis` form for ldstore: the data password in the address, the master in the path
    /// (the sentinels' password goes in REDIS_SENTINEL_PASSWORD).
    pub fn url(&self) -> String {
        format!("redis+sentinel://:{}@{}/{}", self.data_password, self.sentinels, self.master)
    }
}

/// A prefix no other test uses (tests share one server and run in parallel).
pub fn unique_prefix(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("t{}-{}-{name}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// Path of a file in the repository.
pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Run redis-cli against the test server; returns stdout.
#[track_caller]
pub fn redis_cli(args: &[&str]) -> String {
    let addr = redis_addr();
    let (host, port) = addr.rsplit_once(':').expect("host:port");
    let o = Command::new("redis-cli")
        .args(["-h", host, "-p", port, "--raw"])
        .args(args)
        .output()
        .expect("redis-cli must be installed (scripts/test installs redis-tools)");
    assert!(o.status.success(), "redis-cli {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Write a temporary file and return its path (the directory lives as long as the returned guard).
pub fn temp_file(name: &str, content: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join(name);
    std::fs::write(&p, content).expect("write temp file");
    (dir, p)
}

/// A named pipe `dir/name` that gives `content` to its first reader (a thread waits to write it).
/// A flag file that can be read only once, so ldstore reads it whole before anything is written:
/// the path that a regular JSON file, written while it is read, does not take.
pub fn fifo_in(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    let _ = std::fs::remove_file(&p);
    assert!(Command::new("mkfifo").arg(&p).status().expect("mkfifo").success(), "mkfifo {}", p.display());
    let (path, content) = (p.clone(), content.to_string());
    std::thread::spawn(move || std::fs::write(path, content));
    p
}

/// [`temp_file`] as a named pipe ([`fifo_in`]).
pub fn temp_fifo(name: &str, content: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = fifo_in(dir.path(), name, content);
    (dir, p)
}
pub mod ld_server;
