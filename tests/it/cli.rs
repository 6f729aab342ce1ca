//! Command-line behaviour that needs no store.

use crate::support::*;

#[test]
fn help_documents_exit_codes() {
    let o = run(ldstore().arg("--help"));
    assert_code(&o, 0);
    let out = stdout(&o);
    for line in [
        "0    success",
        "2    usage or configuration error",
        "5    partial success",
        "70   internal error",
        "130  interrupted",
    ] {
        assert!(out.contains(line), "missing {line:?} in --help:\n{out}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let o = run(ldstore().args(["sync", "--bogus"]));
    assert_code(&o, 2);
    let o = run(ldstore().args(["inspect"]));
    assert_code(&o, 2);
    assert!(stderr(&o).contains("ldstore: error: no store selected"), "{}", stderr(&o));
    let o = run(ldstore().args(["inspect", "--redis", "localhost:1", "--consul", "localhost:2"]));
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("multiple databases are enabled (Redis, Consul); only one is allowed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn switches_take_only_what_the_relay_proxy_takes() {
    // Go's strconv.ParseBool; anything else is exit 2 naming the variable and the value.
    let o = run(ldstore().args(["inspect"]).env("USE_REDIS", "1").env("REDIS_TLS", "maybe"));
    assert_code(&o, 2);
    assert!(stderr(&o).contains("ldstore: error: invalid boolean REDIS_TLS=maybe"), "{}", stderr(&o));
    let o = run(ldstore().args(["inspect"]).env("USE_REDIS", "yes"));
    assert_code(&o, 2);
    assert!(stderr(&o).contains("invalid boolean USE_REDIS=yes"), "{}", stderr(&o));
    // Empty is not set (the Relay Proxy's rule).
    let o = run(ldstore().args(["inspect"]).env("USE_REDIS", ""));
    assert_code(&o, 2);
    assert!(stderr(&o).contains("ldstore: error: no store selected"), "{}", stderr(&o));
}

#[test]
fn sigint_exits_130() {
    // A server that accepts connections and never answers: ldstore waits until interrupted.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let child = ldstore()
        .args(["inspect", "--redis", &format!("127.0.0.1:{port}"), "--store-timeout", "60s"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let _conn = listener.accept().unwrap();
    // Let it settle into waiting (the signal handler is installed by then).
    std::thread::sleep(std::time::Duration::from_millis(300));
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let o = child.wait_with_output().unwrap();
    assert_code(&o, 130);
    assert!(stderr(&o).contains("ldstore: error: interrupted"), "{}", stderr(&o));
}

#[test]
fn a_panic_is_one_error_line_and_exit_70() {
    let o = run(ldstore()
        .args(["inspect", "--redis", "localhost:1"])
        .env("LDSTORE_DEBUG_PANIC", "1")
        .env_remove("RUST_BACKTRACE"));
    assert_code(&o, 70);
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].starts_with("ldstore: error: internal error: LDSTORE_DEBUG_PANIC is set (at src/"), "{err}");
    assert!(lines[1].starts_with("hint: this is a bug in ldstore"), "{err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE=full"), "{err}");
}

#[test]
fn a_malformed_redis_address_never_prints_its_password() {
    for addr in
        ["redis://admin:s3cr3t-pw-value@[bad:1", "admin:s3cr3t-pw-value@[bad", "redis://admin:s3cr3t-pw-value@:1"]
    {
        let o = run(ldstore().args(["inspect", "--redis", addr]));
        assert_code(&o, 2);
        let err = stderr(&o);
        assert!(err.starts_with("ldstore: error: invalid Redis address"), "{addr}: {err}");
        assert!(!err.contains("s3cr3t") && err.contains("****"), "{addr}: {err}");
    }
}

/// `sync` reads its source while the store connects. What is wrong with the source is reported at
/// once, without waiting for a store that never answers, and ahead of a store that cannot be
/// reached.
#[test]
fn a_bad_source_is_reported_without_waiting_for_the_store() {
    let (_d, bad) = temp_file("bad.yaml", "flags:\n  a: {key: a, version: [1\n");
    // Accepts connections (the kernel's backlog) and never replies.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let started = std::time::Instant::now();
    let o = run(ldstore().args(["sync", "--from-file"]).arg(&bad).args([
        "--redis",
        &format!("127.0.0.1:{port}"),
        "--store-timeout",
        "120s",
    ]));
    assert_code(&o, 4);
    assert!(stderr(&o).starts_with("ldstore: error: malformed data in "), "{}", stderr(&o));
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "waited for the store: {:?}", started.elapsed());
    drop(silent);
    // Nothing listens on the port now: the source's problem still comes first.
    let o = run(ldstore().args(["sync", "--from-file"]).arg(&bad).args(["--redis", &format!("127.0.0.1:{port}")]));
    assert_code(&o, 4);
    assert!(stderr(&o).starts_with("ldstore: error: malformed data in "), "{}", stderr(&o));
}
