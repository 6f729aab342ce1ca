//! Sync from LaunchDarkly (polling and streaming) against the in-process test server, many
//! environments from a Relay config, store-to-store copies; all into the real redis-server.

use crate::support::ld_server::{Fault, LdServer, etag_of, sse};
use crate::support::*;

const KEY: &str = "sdk-11111111-2222-3333-4444-555555550001";
const KEY2: &str = "sdk-11111111-2222-3333-4444-555555550002";
const BAD_KEY: &str = "sdk-99999999-2222-3333-4444-55555555dead";

fn fixture() -> String {
    std::fs::read_to_string(repo_path("tests/fixtures/ld_flags.json")).expect("fixture")
}

/// `ldstore dump` of a prefix, raw.
fn dump(prefix: &str) -> String {
    let o = run(ldstore().args(["dump", "--redis", &redis_addr(), "--prefix", prefix]));
    assert_code(&o, 0);
    stdout(&o)
}

fn value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("JSON")
}

/// The prefix holds exactly the fixture's items (compared as JSON values; raw spellings checked
/// separately).
#[track_caller]
fn assert_holds_fixture(prefix: &str) {
    let d = dump(prefix);
    assert_eq!(value(&d), value(&fixture()), "dump of {prefix}");
    // Unknown fields kept, number spelling and string whitespace untouched.
    assert!(d.contains(r#""_futureField":{"weight":1.50,"note":"kept  as   is"}"#), "{d}");
    assert!(d.contains(r#""_segmentExtra":[1,2,3]"#), "{d}");
}

/// Sync the LaunchDarkly fixture into a Redis prefix from its file.
fn sync_fixture(prefix: &str) {
    let o = run(ldstore().args(["sync", "--from-file"]).arg(repo_path("tests/fixtures/ld_flags.json")).args([
        "--redis",
        &redis_addr(),
        "--prefix",
        prefix,
    ]));
    assert_code(&o, 0);
}

fn redis_keys(prefix: &str) -> String {
    redis_cli(&["--scan", "--pattern", &format!("{prefix}:*")])
}

#[test]
fn sync_by_polling_with_key_from_env() {
    let server = LdServer::start();
    server.env(KEY, &fixture());
    let prefix = unique_prefix("poll");
    let o = run(ldstore()
        .args(["sync", "--base-uri", &server.uri, "--redis", &redis_addr(), "--prefix", &prefix])
        .env("LD_SDK_KEY", KEY));
    assert_code(&o, 0);
    assert!(!stderr(&o).contains(KEY) && !stdout(&o).contains(KEY), "{}", stderr(&o));
    assert!(stderr(&o).contains("sdk-…0001"), "{}", stderr(&o));
    assert_holds_fixture(&prefix);
    assert_eq!(redis_cli(&["get", &format!("{prefix}:$inited")]).trim(), "");
    assert!(redis_keys(&prefix).contains("$inited"));

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!((r.method.as_str(), r.path.as_str(), r.query.as_deref()), ("GET", "/sdk/latest-all", None));
    assert_eq!(r.header("authorization"), Some(KEY));
    assert_eq!(r.header("user-agent"), Some(format!("ldstore/{}", env!("CARGO_PKG_VERSION")).as_str()));
    assert!(r.header("accept-encoding").is_some_and(|v| v.contains("gzip")), "{r:?}");
    let id = r.header("x-launchdarkly-instance-id").expect("instance id");
    assert_eq!(id.len(), 36);
}

#[test]
fn filter_parameter_is_sent_and_base_uri_comes_from_env() {
    let server = LdServer::start();
    server.env(KEY, &fixture());
    let prefix = unique_prefix("filter");
    let o = run(ldstore()
        .args(["sync", "--sdk-key", KEY, "--filter", "mobile", "--redis", &redis_addr(), "--prefix", &prefix])
        .env("BASE_URI", &server.uri));
    assert_code(&o, 0);
    let reqs = server.requests();
    assert_eq!(reqs[0].query.as_deref(), Some("filter=mobile"));
    assert_holds_fixture(&prefix);
}

#[test]
fn sync_by_streaming_takes_the_first_put() {
    let server = LdServer::start();
    server.env(KEY, &fixture());
    // Heartbeats, an unknown event and a patch before the put; a patch and a delete after it.
    server.before_put(&format!(
        ":hello\n\n{}{}",
        sse("weird", "{}"),
        sse("patch", r#"{"path":"/flags/early","data":{"key":"early","version":1}}"#)
    ));
    server.after_put(&format!(
        "{}{}",
        sse("patch", r#"{"path":"/flags/late","data":{"key":"late","version":1}}"#),
        sse("delete", r#"{"path":"/flags/bool-flag","version":99}"#)
    ));
    let prefix = unique_prefix("stream");
    let o = run(ldstore().args([
        "sync",
        "--stream",
        "--sdk-key",
        KEY,
        "--stream-uri",
        &server.uri,
        "--redis",
        &redis_addr(),
        "--prefix",
        &prefix,
    ]));
    assert_code(&o, 0);
    assert_holds_fixture(&prefix);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/all");
    assert_eq!(reqs[0].header("accept"), Some("text/event-stream"));
    assert_eq!(reqs[0].header("authorization"), Some(KEY));
    assert!(reqs[0].header("user-agent").is_some_and(|u| u.starts_with("ldstore/")));
}

#[test]
fn stream_put_without_path_or_segments_is_accepted() {
    let server = LdServer::start();
    // The server wraps the body as {"path":"/","data":…}; a body without segments tests that part.
    server.env(KEY, r#"{"flags":{"f":{"key":"f","version":2,"on":false,"variations":[1]}}}"#);
    let prefix = unique_prefix("stream-min");
    let o = run(ldstore().args([
        "sync",
        "--stream",
        "--sdk-key",
        KEY,
        "--stream-uri",
        &server.uri,
        "--redis",
        &redis_addr(),
        "--prefix",
        &prefix,
    ]));
    assert_code(&o, 0);
    assert_eq!(
        dump(&prefix).trim(),
        r#"{"flags":{"f":{"key":"f","version":2,"on":false,"variations":[1]}},"segments":{}}"#
    );
}

#[test]
fn wrong_key_is_rejected_at_once_and_masked() {
    let server = LdServer::start();
    server.env(KEY, &fixture());
    for extra in [&[][..], &["--stream"][..]] {
        let prefix = unique_prefix("badkey");
        let started = std::time::Instant::now();
        let o = run(ldstore()
            .args(["sync", "--sdk-key", BAD_KEY, "--base-uri", &server.uri, "--stream-uri", &server.uri])
            .args(["--redis", &redis_addr(), "--prefix", &prefix, "--timeout", "30s"])
            .args(extra));
        assert_code(&o, 4);
        // Not retried (the first retry alone would wait a second): the issue's "within a second".
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(1), "{extra:?}: took {took:?}");
        let err = stderr(&o);
        assert!(err.contains("LaunchDarkly rejected the SDK key (401)"), "{err}");
        assert!(!err.contains(BAD_KEY) && !stdout(&o).contains(BAD_KEY), "{err}");
        assert!(err.contains("hint:"), "{err}");
        assert_eq!(redis_keys(&prefix).trim(), "", "nothing written");
    }
    // No retries: one request per attempt.
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn flaky_server_is_retried_until_it_answers() {
    let server = LdServer::start();
    server.env(KEY, &fixture());
    server.faults(&[Fault::Status(503), Fault::Truncate, Fault::Status(429)]);
    let prefix = unique_prefix("flaky");
    let o = run(ldstore().args([
        "sync",
        "--sdk-key",
        KEY,
        "--base-uri",
        &server.uri,
        "--redis",
        &redis_addr(),
        "--prefix",
        &prefix,
    ]));
    assert_code(&o, 0);
    assert_eq!(server.requests().len(), 4);
    assert_holds_fixture(&prefix);
}

#[test]
fn server_down_past_the_timeout_is_exit_4() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let prefix = unique_prefix("down");
    let o = run(ldstore().args([
        "sync",
        "--sdk-key",
        KEY,
        "--base-uri",
        &format!("http://127.0.0.1:{port}"),
        "--timeout",
        "2s",
        "--redis",
        &redis_addr(),
        "--prefix",
        &prefix,
    ]));
    assert_code(&o, 4);
    assert!(stderr(&o).contains("gave up on LaunchDarkly"), "{}", stderr(&o));
    assert!(!stderr(&o).contains(KEY));
    assert_eq!(redis_keys(&prefix).trim(), "");
}

#[test]
fn slow_server_past_the_timeout_is_exit_4() {
    let server = LdServer::start();
    server.env(KEY, &fixture());
    server.faults(&[Fault::Slow(std::time::Duration::from_secs(20))]);
    let prefix = unique_prefix("slow");
    let o = run(ldstore().args([
        "sync",
        "--sdk-key",
        KEY,
        "--base-uri",
        &server.uri,
        "--timeout",
        "1s",
        "--redis",
        &redis_addr(),
        "--prefix",
        &prefix,
    ]));
    assert_code(&o, 4);
    assert!(stderr(&o).contains("gave up"), "{}", stderr(&o));
}

#[test]
fn malformed_payload_leaves_the_store_untouched() {
    let server = LdServer::start();
    server.env(KEY, &fixture());
    let prefix = unique_prefix("malformed");
    sync_fixture(&prefix);
    let before = dump(&prefix);
    server.faults(&[Fault::Malformed]);
    let o = run(ldstore().args([
        "sync",
        "--sdk-key",
        KEY,
        "--base-uri",
        &server.uri,
        "--redis",
        &redis_addr(),
        "--prefix",
        &prefix,
    ]));
    assert_code(&o, 4);
    assert!(stderr(&o).contains("malformed data"), "{}", stderr(&o));
    assert_eq!(dump(&prefix), before);
}

/// The flag-file rule (no `version` means 1) is not applied to LaunchDarkly's own payloads: an
/// item without a version there is malformed data (exit 4) and the store keeps what it had.
#[test]
fn launchdarkly_item_without_a_version_is_malformed() {
    let server = LdServer::start();
    server.env(KEY, r#"{"flags":{"ok":{"key":"ok","version":3,"on":true},"no-version":{"key":"no-version","on":true}},"segments":{}}"#);
    let prefix = unique_prefix("noversion");
    sync_fixture(&prefix);
    let before = dump(&prefix);
    for extra in [&[][..], &["--stream"][..]] {
        let o = run(ldstore()
            .args(["sync", "--sdk-key", KEY, "--base-uri", &server.uri, "--stream-uri", &server.uri])
            .args(["--redis", &redis_addr(), "--prefix", &prefix, "--timeout", "3s"])
            .args(extra));
        assert_code(&o, 4);
        let err = stderr(&o);
        assert!(err.contains("malformed data") && err.contains("no-version"), "{extra:?}: {err}");
        assert_eq!(dump(&prefix), before);
    }
}

#[test]
fn dry_run_from_launchdarkly_writes_nothing() {
    let server = LdServer::start();
    server.env(KEY, &fixture());
    let prefix = unique_prefix("dry");
    let o = run(ldstore().args([
        "sync",
        "--dry-run",
        "--sdk-key",
        KEY,
        "--base-uri",
        &server.uri,
        "--redis",
        &redis_addr(),
        "--prefix",
        &prefix,
    ]));
    assert_code(&o, 0);
    assert!(stdout(&o).contains("6 added"), "{}", stdout(&o));
    assert_eq!(redis_keys(&prefix).trim(), "");
}

#[test]
fn etag_is_reused_and_304_means_unchanged() {
    use ldstore::source::Source;
    use ldstore::source::ld::LdConfig;
    use ldstore::source::poll::{PollSource, Polled};
    let server = LdServer::start();
    server.env(KEY, &fixture());
    let cfg = LdConfig {
        sdk_key: KEY.into(),
        base_uri: server.uri.clone(),
        stream_uri: server.uri.clone(),
        filter: None,
        timeout: std::time::Duration::from_secs(5),
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let src = PollSource::new(cfg);
        let first = match src.poll().await.unwrap() {
            Polled::Data(d) => d,
            Polled::Unchanged => panic!("first poll cannot be unchanged"),
        };
        assert_eq!(src.etag(), Some(etag_of(&fixture())));
        assert_eq!(src.poll().await.unwrap(), Polled::Unchanged);
        assert_eq!(src.fetch().await.unwrap(), first);
    });
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].header("if-none-match"), None);
    assert_eq!(reqs[1].header("if-none-match"), Some(etag_of(&fixture()).as_str()));
}

#[test]
fn many_environments_from_a_relay_config() {
    let server = LdServer::start();
    server.env(KEY, &fixture());
    server.env(KEY2, r#"{"flags":{"other":{"key":"other","version":1,"on":false,"variations":[true]}},"segments":{}}"#);
    let (a, b, c) = (unique_prefix("env-a"), unique_prefix("env-b"), unique_prefix("env-bad"));
    let (host, port) = redis_addr().rsplit_once(':').map(|(h, p)| (h.to_string(), p.to_string())).unwrap();
    let conf = format!(
        "[Main]\nbaseUri = {uri}\n[Redis]\nhost = {host}\nport = {port}\n\
         [Environment \"Prod\"]\nsdkKey = {KEY}\nprefix = {a}\n\
         [Environment \"Staging\"]\nsdkKey = {KEY2}\nprefix = {b}\n\
         [Environment \"Broken\"]\nsdkKey = {BAD_KEY}\nprefix = {c}\n",
        uri = server.uri
    );
    let (_dir, path) = temp_file("relay.conf", &conf);
    let o = run(ldstore().args(["sync", "--output", "json", "--config"]).arg(&path));
    assert_code(&o, 4);
    let rows = value(&stdout(&o));
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), 3);
    let by_name = |n: &str| rows.iter().find(|r| r["environment"] == n).expect(n).clone();
    assert_eq!(by_name("Prod")["status"], "ok");
    assert_eq!(by_name("Prod")["flags"], 5);
    assert_eq!(by_name("Staging")["status"], "ok");
    assert_eq!(by_name("Broken")["status"], "error");
    assert_eq!(by_name("Broken")["exit_code"], 4);
    assert_eq!(by_name("Broken")["sdk_key"], "sdk-…dead");
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!all.contains(BAD_KEY) && !all.contains(KEY) && !all.contains(KEY2), "{all}");
    assert!(stderr(&o).contains("environment \"Broken\": LaunchDarkly rejected the SDK key (401)"), "{}", stderr(&o));
    assert_holds_fixture(&a);
    assert!(dump(&b).contains(r#""other":{"key":"other""#));
    assert_eq!(redis_keys(&c).trim(), "");

    // The table form: one line per environment.
    let o = run(ldstore().args(["sync", "--dry-run", "--config"]).arg(&path));
    assert_code(&o, 4);
    let out = stdout(&o);
    for n in ["Prod", "Staging", "Broken"] {
        assert!(out.contains(n), "{out}");
    }
    assert!(out.contains("0 added, 0 updated, 0 removed, 6 unchanged"), "{out}");
}

#[test]
fn relay_env_vars_and_filters_make_environments() {
    let server = LdServer::start();
    server.env(KEY, &fixture());
    let p = unique_prefix("envvars");
    let (host, port) = redis_addr().rsplit_once(':').map(|(h, p)| (h.to_string(), p.to_string())).unwrap();
    let conf = format!(
        "[Environment \"prod\"]\nsdkKey = {KEY}\nprefix = {p}\nprojKey = proj\n[Filters \"proj\"]\nkeys = mobile\n"
    );
    let (_dir, path) = temp_file("relay.conf", &conf);
    let o = run(ldstore()
        .args(["sync", "--output", "json", "--config"])
        .arg(&path)
        .env("USE_REDIS", "1")
        .env("REDIS_HOST", &host)
        .env("REDIS_PORT", &port)
        .env("BASE_URI", &server.uri)
        .env("LD_ENV_extra", KEY)
        .env("LD_PREFIX_extra", format!("{p}-extra")));
    assert_code(&o, 0);
    let rows = value(&stdout(&o));
    let names: Vec<&str> = rows.as_array().unwrap().iter().map(|r| r["environment"].as_str().unwrap()).collect();
    assert_eq!(names, ["prod", "prod/mobile", "extra"]);
    assert_holds_fixture(&p);
    assert_holds_fixture(&format!("{p}/mobile"));
    assert_holds_fixture(&format!("{p}-extra"));
    let queries: Vec<Option<String>> = server.requests().iter().map(|r| r.query.clone()).collect();
    assert!(queries.contains(&Some("filter=mobile".into())), "{queries:?}");
}

#[test]
fn relay_validation_errors() {
    let (host, port) = redis_addr().rsplit_once(':').map(|(h, p)| (h.to_string(), p.to_string())).unwrap();
    let (_d1, path) = temp_file(
        "relay.conf",
        &format!(
            "[Redis]\nhost = {host}\nport = {port}\n[Environment \"a\"]\nsdkKey = {KEY}\nprefix = x\n[Environment \"b\"]\nsdkKey = {KEY2}\n"
        ),
    );
    let o = run(ldstore().args(["sync", "--config"]).arg(&path));
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("environment \"b\" does not have a prefix or table name specified for database storage"),
        "{}",
        stderr(&o)
    );
    let (_d2, path) =
        temp_file("relay.conf", &format!("[Redis]\nhost = {host}\nport = {port}\n[Environment \"a\"]\nprefix = x\n"));
    let o = run(ldstore().args(["sync", "--config"]).arg(&path));
    assert_code(&o, 2);
    assert!(stderr(&o).contains("SDK key is required for environment \"a\""), "{}", stderr(&o));
}

#[test]
fn redis_to_redis_copy_is_byte_identical() {
    let src = unique_prefix("copy-src");
    let dst = unique_prefix("copy-dst");
    sync_fixture(&src);
    let o = run(ldstore().args([
        "sync",
        "--from",
        &format!("redis://{}?prefix={src}", redis_addr()),
        "--redis",
        &redis_addr(),
        "--prefix",
        &dst,
    ]));
    assert_code(&o, 0);
    let (a, b) = (dump(&src), dump(&dst));
    assert_eq!(a, b);
    assert_holds_fixture(&dst);
    // Byte-identical in Redis too, item by item.
    for (ns, key) in [("features", "bool-flag"), ("segments", "beta-users")] {
        assert_eq!(
            redis_cli(&["hget", &format!("{src}:{ns}"), key]),
            redis_cli(&["hget", &format!("{dst}:{ns}"), key])
        );
    }
}

#[test]
fn python_sdk_evaluates_the_synced_prefix_like_the_flag_file() {
    let server = LdServer::start();
    server.env(KEY, &fixture());
    let prefix = unique_prefix("interop");
    let o = run(ldstore().args([
        "sync",
        "--stream",
        "--sdk-key",
        KEY,
        "--stream-uri",
        &server.uri,
        "--redis",
        &redis_addr(),
        "--prefix",
        &prefix,
    ]));
    assert_code(&o, 0);
    let o = std::process::Command::new("python3")
        .arg(repo_path("tests/interop/redis_ld_interop.py"))
        .arg(format!("redis://{}", redis_addr()))
        .arg(&prefix)
        .arg(repo_path("tests/fixtures/ld_flags.json"))
        .output()
        .expect("python3 must be installed (scripts/test installs the SDK from tests/interop/requirements.txt)");
    let out = stdout(&o);
    assert!(o.status.success(), "interop failed\n--- stdout\n{out}\n--- stderr\n{}", stderr(&o));
    assert!(out.contains(r#""compared": 45, "different": 0"#), "{out}");
}

#[test]
fn broken_streams_are_reconnected_until_a_put_arrives() {
    let server = LdServer::start();
    server.env(KEY, &fixture());
    // A stream that closes mid-way, then one that ends with no event at all.
    server.faults(&[Fault::Truncate, Fault::Malformed]);
    let prefix = unique_prefix("stream-flaky");
    let o = run(ldstore().args([
        "sync",
        "--stream",
        "--sdk-key",
        KEY,
        "--stream-uri",
        &server.uri,
        "--redis",
        &redis_addr(),
        "--prefix",
        &prefix,
    ]));
    assert_code(&o, 0);
    assert_eq!(server.requests().len(), 3);
    assert!(server.requests().iter().all(|r| r.path == "/all"));
    assert_holds_fixture(&prefix);
}
