//! Shared helpers for the integration tests.

#![allow(dead_code)]

pub mod consul_server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

pub mod ddb;
pub mod fake_ddb;
pub mod http;
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
pub mod ld_server;
