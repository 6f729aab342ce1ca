//! Redis backend and the sync / dump / inspect commands, against the real redis-server started by
//! scripts/test.
//! The store-contract scenarios every backend shares (layout, round trip, re-sync, sibling prefix,
//! tombstones, upsert, marker order, failed init) are in conformance.rs.

use serde_json::Value;

use crate::support::*;

fn sync_file(path: &std::path::Path, prefix: &str) -> std::process::Output {
    run(ldstore().args(["sync", "--from-file"]).arg(path).args(["--redis", &redis_addr(), "--prefix", prefix]))
}

fn dump(prefix: &str, extra: &[&str]) -> String {
    let o = run(ldstore().args(["dump", "--redis", &redis_addr(), "--prefix", prefix]).args(extra));
    assert_code(&o, 0);
    stdout(&o)
}

fn examples() -> std::path::PathBuf {
    repo_path("examples/flags.json")
}

#[test]
fn default_prefix_is_launchdarkly_and_db_number_is_used() {
    let (_d, f) = temp_file("f.json", r#"{"flags": {"only": {"key": "only", "version": 1}}}"#);
    let url = format!("redis://{}/5", redis_addr());
    let o = run(ldstore().args(["sync", "--from-file"]).arg(&f).args(["--redis", &url]));
    assert_code(&o, 0);
    assert!(stderr(&o).contains("prefix \"launchdarkly\""), "{}", stderr(&o));
    assert_eq!(
        redis_cli(&["-n", "5", "HGET", "launchdarkly:features", "only"]).trim_end(),
        r#"{"key":"only","version":1}"#
    );
    let o = run(ldstore().args(["inspect", "--redis", &url, "--prefix", "", "--output", "json"]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["prefix"], "launchdarkly");
    assert_eq!(v["keys"][0]["key"], "launchdarkly:features");
    assert_eq!(v["stats"]["flags"], 1);
}

/// The dump/sync/dump round trip itself is the conformance suite's (`round_trip_is_byte_identical`);
/// `-o` writes the same bytes as standard output.
#[test]
fn dump_to_a_file_writes_the_same_bytes() {
    let a = unique_prefix("rt-a");
    assert_code(&sync_file(&examples(), &a), 0);
    let first = dump(&a, &[]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    assert_code(&run(ldstore().args(["dump", "--redis", &redis_addr(), "--prefix", &a, "-o"]).arg(&out)), 0);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), first);
}

#[test]
fn unknown_fields_survive_byte_for_byte() {
    let p = unique_prefix("unknown");
    let item = r#"{"key":"f","version":1,"futureField":{"nested":[1.50,2e3,"x"]},"on":false,"zz":null}"#;
    let (_d, f) = temp_file("f.json", &format!(r#"{{"flags":{{"f":{item}}}}}"#));
    assert_code(&sync_file(&f, &p), 0);
    assert_eq!(redis_cli(&["HGET", &format!("{p}:features"), "f"]).trim_end(), item);
    assert_eq!(dump(&p, &[]), format!("{{\"flags\":{{\"f\":{item}}},\"segments\":{{}}}}\n"));
}

#[test]
fn dry_run_reports_and_writes_nothing() {
    let p = unique_prefix("dry");
    let (_d, f1) = temp_file(
        "a.json",
        r#"{"flags":{"a":{"key":"a","version":1},"b":{"key":"b","version":1},"c":{"key":"c","version":1}}}"#,
    );
    let (_e, f2) = temp_file(
        "b.json",
        r#"{"flags":{"b":{"key":"b","version":2},"c":{"key":"c","version":1},"d":{"key":"d","version":1}}}"#,
    );
    assert_code(&sync_file(&f1, &p), 0);
    let before = dump(&p, &[]);
    let o = run(ldstore().args(["sync", "--dry-run", "--output", "json", "--from-file"]).arg(&f2).args([
        "--redis",
        &redis_addr(),
        "--prefix",
        &p,
    ]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["added"], serde_json::json!(["flags/d"]));
    assert_eq!(v["updated"], serde_json::json!(["flags/b"]));
    assert_eq!(v["removed"], serde_json::json!(["flags/a"]));
    assert_eq!(v["unchanged"], 1);
    assert_eq!(dump(&p, &[]), before);
}

#[test]
fn dump_filters_and_pretty() {
    let p = unique_prefix("filters");
    assert_code(&sync_file(&examples(), &p), 0);
    let seg_only: Value = serde_json::from_str(&dump(&p, &["--kind", "segments"])).unwrap();
    assert!(seg_only.get("flags").is_none());
    assert_eq!(seg_only["segments"].as_object().unwrap().len(), 6);
    let one: Value = serde_json::from_str(&dump(&p, &["--key", "dark-mode"])).unwrap();
    assert_eq!(one["flags"].as_object().unwrap().keys().collect::<Vec<_>>(), vec!["dark-mode"]);
    let pretty = dump(&p, &["--pretty"]);
    assert!(pretty.starts_with("{\n  \"flags\": {\n"), "{}", &pretty[..40]);
    assert_eq!(serde_json::from_str::<Value>(&pretty).unwrap(), serde_json::from_str::<Value>(&dump(&p, &[])).unwrap());
}

#[test]
fn inspect_lists_every_prefix() {
    let p = unique_prefix("insp");
    assert_code(&sync_file(&examples(), &p), 0);
    redis_cli(&["SET", &format!("{p}:big_segments_synchronized_on"), "1763700000000"]);
    let o = run(ldstore().args(["inspect", "--redis", &redis_addr(), "--output", "json"]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let row = v["prefixes"].as_array().unwrap().iter().find(|r| r["prefix"] == p.as_str()).expect("prefix listed");
    assert_eq!(row["initialized"], true);
    assert_eq!(row["flags"], 37);
    assert_eq!(row["segments"], 6);
    assert_eq!(row["big_segments_synced_on"], 1763700000000i64);
    assert!(row["largest_item"]["bytes"].as_u64().unwrap() > 500);
    // The human table names the prefix too.
    let o = run(ldstore().args(["inspect", "--redis", &redis_addr()]));
    assert_code(&o, 0);
    assert!(stdout(&o).contains(&p), "{}", stdout(&o));
    let o = run(ldstore().args(["inspect", "--redis", &redis_addr(), "--prefix", &p]));
    assert!(stdout(&o).contains(&format!("{p}:features")), "{}", stdout(&o));
    assert!(stdout(&o).contains("2025-11-21T04:40:00Z"), "{}", stdout(&o));
}

#[test]
fn uninitialized_prefix_is_reported() {
    let p = unique_prefix("noinit");
    redis_cli(&["HSET", &format!("{p}:features"), "f", r#"{"key":"f","version":1}"#]);
    let o = run(ldstore().args(["inspect", "--redis", &redis_addr(), "--prefix", &p, "--output", "json"]));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["stats"]["initialized"], false);
    let o = run(ldstore().args(["dump", "--redis", &redis_addr(), "--prefix", &p]));
    assert_code(&o, 0);
    assert!(stderr(&o).contains("not initialized"), "{}", stderr(&o));
}

/// Bad input of every kind: the right exit code, a clear message, and the store unchanged.
#[test]
fn bad_input_leaves_the_store_unchanged() {
    let p = unique_prefix("bad");
    assert_code(&sync_file(&examples(), &p), 0);
    let before = dump(&p, &["--include-deleted"]);
    let cases: &[(&str, &str, &str)] = &[
        ("malformed.json", r#"{"flags": {"a": {"key": "a", "version": 1}"#, "invalid JSON"),
        ("malformed.yaml", "flags:\n  a: [unclosed\n", "invalid YAML"),
        ("dupes.json", r#"{"flags": {"a": {"version": 1}, "a": {"version": 2}}}"#, "duplicate key \"a\""),
        ("dupes.yaml", "flags:\n  a:\n    version: 1\n  a:\n    version: 2\n", "duplicate"),
        ("noversion.json", r#"{"flags": {"gone": {"key": "gone", "deleted": true}}}"#, "has no \"version\""),
        ("badversion.json", r#"{"flags": {"a": {"key": "a", "version": "7"}}}"#, "invalid \"version\""),
        ("notobject.json", r#"{"segments": {"s": [1, 2]}}"#, "not a JSON object"),
    ];
    for (name, content, expected) in cases {
        let (_d, f) = temp_file(name, content);
        let o = sync_file(&f, &p);
        assert_code(&o, 4);
        let err = stderr(&o);
        assert!(err.starts_with("ldstore: error: "), "{name}: {err}");
        assert!(err.contains(expected), "{name}: expected {expected:?} in {err}");
        assert!(err.contains(name), "{name}: the message names the file: {err}");
        assert!(!err.contains("panicked") && !err.contains("backtrace"), "{err}");
    }
    let o = run(ldstore().args([
        "sync",
        "--from-file",
        "/nonexistent/flags.json",
        "--redis",
        &redis_addr(),
        "--prefix",
        &p,
    ]));
    assert_code(&o, 2);
    assert_eq!(dump(&p, &["--include-deleted"]), before);
}

#[test]
fn unreachable_redis_is_one_line_exit_3() {
    let (_d, f) = temp_file("f.json", r#"{"flags":{}}"#);
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let o = run(ldstore().args(["sync", "--from-file"]).arg(&f).args([
        "--redis",
        &format!("127.0.0.1:{port}"),
        "--store-timeout",
        "2s",
    ]));
    assert_code(&o, 3);
    let err = stderr(&o);
    assert!(err.starts_with(&format!("ldstore: error: cannot connect to Redis at redis://127.0.0.1:{port}")), "{err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("ldstore: error")).count(), 1, "{err}");
    assert!(err.contains("hint: "), "{err}");
}

#[test]
fn wrong_password_is_denied_and_masked() {
    let p = unique_prefix("auth");
    let user = format!("ldstore-test-{}", std::process::id());
    redis_cli(&["ACL", "SETUSER", &user, "on", ">right-password-123", "~*", "+@all"]);
    assert_code(&sync_file(&examples(), &p), 0);
    let before = dump(&p, &[]);
    let (_d, f) = temp_file("f.json", r#"{"flags":{}}"#);
    let secret = "wrong-password-98765";
    let url = format!("redis://{user}:{secret}@{}", redis_addr());
    let o = run(ldstore().args(["sync", "--from-file"]).arg(&f).args(["--redis", &url, "--prefix", &p]));
    assert_code(&o, 3);
    let err = stderr(&o);
    assert!(err.contains("refused the credentials"), "{err}");
    assert!(!err.contains(secret) && !stdout(&o).contains(secret), "password printed: {err}");
    assert_eq!(dump(&p, &[]), before);
    // The right password (from REDIS_PASSWORD) works.
    let o = run(ldstore().env("REDIS_PASSWORD", "right-password-123").args([
        "inspect",
        "--redis",
        &format!("redis://{user}@{}", redis_addr()),
        "--prefix",
        &p,
    ]));
    assert_code(&o, 0);
    redis_cli(&["ACL", "DELUSER", &user]);
}

#[test]
fn relay_env_vars_and_config_file_select_the_store() {
    let p = unique_prefix("relayenv");
    let (host, port) = redis_addr().rsplit_once(':').map(|(h, p)| (h.to_string(), p.to_string())).unwrap();
    let o = run(ldstore()
        .env("USE_REDIS", "true")
        .env("REDIS_HOST", &host)
        .env("REDIS_PORT", &port)
        .args(["sync", "--from-file"])
        .arg(examples())
        .args(["--prefix", &p]));
    assert_code(&o, 0);
    let (_d, conf) = temp_file(
        "relay.conf",
        &format!(
            "[Redis]\nhost = {host}\nport = {port}\nlocalTtl = 30s\n\n[Environment \"Production\"]\nsdkKey = sdk-00000000-0000-0000-0000-000000000000\nprefix = {p}\n"
        ),
    );
    let o = run(ldstore().args(["inspect", "--output", "json", "--config"]).arg(&conf));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["prefix"], p.as_str());
    assert_eq!(v["stats"]["flags"], 37);
    let (_e, bad) = temp_file("bad.conf", "[Redis]\nhost = x\nlocalTtl = 30\n");
    let o = run(ldstore().args(["inspect", "--config"]).arg(&bad));
    assert_code(&o, 2);
    assert!(stderr(&o).contains("a unit is required"), "{}", stderr(&o));
}

/// Readers never observe a half-written prefix: a reader polling the hash during a sync sees either
/// the whole old data set or the whole new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_never_see_a_half_written_prefix() {
    let p = unique_prefix("atomic");
    let old: serde_json::Map<String, Value> =
        (0..1500).map(|i| (format!("f{i}"), serde_json::json!({"key": format!("f{i}"), "version": 1}))).collect();
    let new: serde_json::Map<String, Value> = (0..3000)
        .map(|i| (format!("f{i}"), serde_json::json!({"key": format!("f{i}"), "version": 2, "pad": "x".repeat(200)})))
        .collect();
    let (_d, f_old) = temp_file("old.json", &serde_json::json!({ "flags": old }).to_string());
    let (_e, f_new) = temp_file("new.json", &serde_json::json!({ "flags": new }).to_string());
    assert_code(&sync_file(&f_old, &p), 0);

    let client = redis::Client::open(format!("redis://{}", redis_addr())).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("{p}:features");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done2 = done.clone();
    let reader = tokio::spawn(async move {
        let mut observations = Vec::new();
        while !done2.load(std::sync::atomic::Ordering::SeqCst) {
            let all: std::collections::HashMap<String, String> =
                redis::cmd("HGETALL").arg(&key).query_async(&mut conn).await.unwrap();
            let v2 = all.values().filter(|v| v.contains("\"version\":2")).count();
            observations.push((all.len(), v2));
        }
        observations
    });
    let f_new2 = f_new.clone();
    let p2 = p.clone();
    let o = tokio::task::spawn_blocking(move || sync_file(&f_new2, &p2)).await.unwrap();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_code(&o, 0);
    let observations = reader.await.unwrap();
    assert!(!observations.is_empty());
    for (len, v2) in &observations {
        assert!(
            (*len == 1500 && *v2 == 0) || (*len == 3000 && *v2 == 3000),
            "a reader saw a mixed or partial state: {len} fields, {v2} new"
        );
    }
}

/// The official Python SDK in daemon mode evaluates what ldstore wrote exactly as it evaluates the
/// same file itself; and ldstore dumps what the SDK's own store wrote.
#[test]
fn official_python_sdk_interop() {
    let p = unique_prefix("sdk");
    assert_code(&sync_file(&examples(), &p), 0);
    let url = format!("redis://{}/0", redis_addr());
    let script = repo_path("tests/interop/sdk_redis.py");
    let o = std::process::Command::new("python3")
        .arg(&script)
        .args(["evaluate", &url, &p])
        .arg(examples())
        .output()
        .expect("python3 must be installed");
    assert!(o.status.success(), "SDK evaluation differs:\n{}\n{}", stdout(&o), stderr(&o));
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["mismatches"], 0);
    assert_eq!(v["comparisons"], 37 * 7);

    let q = unique_prefix("sdk-wrote");
    let o =
        std::process::Command::new("python3").arg(&script).args(["write", &url, &q]).arg(examples()).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let dumped: Value = serde_json::from_str(&dump(&q, &[])).unwrap();
    let ex: Value = serde_json::from_str(&std::fs::read_to_string(examples()).unwrap()).unwrap();
    assert_eq!(dumped["flags"], ex["flags"]);
    assert_eq!(dumped["segments"], ex["segments"]);
}

/// A YAML flag file with `flags`, `segments` and `flagValues`, synced by the binary: the official
/// SDK in daemon mode serves exactly what its own file data source serves from the same YAML.
#[test]
fn yaml_file_with_flag_values_is_served_like_the_sdk_file_source() {
    let p = unique_prefix("yaml");
    let yaml = repo_path("tests/fixtures/flags.yaml");
    let o = sync_file(&yaml, &p);
    assert_code(&o, 0);
    let dumped: Value = serde_json::from_str(&dump(&p, &[])).unwrap();
    let keys: Vec<&String> = dumped["flags"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "yaml-off",
            "yaml-prereq",
            "yaml-rollout",
            "yaml-simple-bool",
            "yaml-simple-number",
            "yaml-simple-object",
            "yaml-simple-string"
        ]
    );
    assert_eq!(
        dumped["flags"]["yaml-simple-object"]["variations"],
        serde_json::json!([{"theme":"dark","limits":[1,2]}])
    );
    assert_eq!(dumped["flags"]["yaml-simple-object"]["on"], true);
    assert_eq!(dumped["flags"]["yaml-rollout"]["version"], 3);
    assert_eq!(dumped["segments"]["yaml-beta"]["included"], serde_json::json!(["user-42"]));
    let url = format!("redis://{}/0", redis_addr());
    let o = std::process::Command::new("python3")
        .arg(repo_path("tests/interop/sdk_redis.py"))
        .args(["evaluate", &url, &p])
        .arg(&yaml)
        .output()
        .expect("python3 must be installed");
    assert!(o.status.success(), "SDK evaluation differs:\n{}\n{}", stdout(&o), stderr(&o));
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!((v["comparisons"].as_u64(), v["mismatches"].as_u64()), (Some(7 * 7), Some(0)));
}

/// A hash over the HGETALL limit (5,000 fields) is read with HSCAN pages: dump, inspect and
/// validate still see every flag exactly once.
#[test]
fn large_hashes_are_read_with_hscan() {
    let p = unique_prefix("hscan");
    let n = 6_200;
    let flags: Vec<String> = (0..n)
        .map(|i| format!(r#""f{i:05}":{{"key":"f{i:05}","version":{v},"on":true,"targets":[],"rules":[],"prerequisites":[],"salt":"s","variations":[true,false],"offVariation":1,"fallthrough":{{"variation":0}}}}"#, v = i + 1))
        .collect();
    let (_d, f) = temp_file("big.json", &format!(r#"{{"flags":{{{}}},"segments":{{}}}}"#, flags.join(",")));
    assert_code(&sync_file(&f, &p), 0);
    assert_eq!(redis_cli(&["HLEN", &format!("{p}:features")]).trim(), n.to_string());
    let dumped: Value = serde_json::from_str(&dump(&p, &[])).unwrap();
    let got = dumped["flags"].as_object().unwrap();
    assert_eq!(got.len(), n);
    assert_eq!(got["f06199"]["version"], 6_200);
    assert_eq!(got["f00000"]["version"], 1);
    let o = run(ldstore().args(["inspect", "--output", "json", "--redis", &redis_addr(), "--prefix", &p]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["stats"]["flags"], n, "{v}");
    assert_eq!(v["stats"]["highest_version"], 6_200, "{v}");
    let o = run(ldstore().args(["validate", "--output", "json", "--redis", &redis_addr(), "--prefix", &p]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["findings"], serde_json::json!([]), "{v}");
}

/// The bundled examples are what SDKs can evaluate: validate finds nothing wrong with them.
#[test]
fn bundled_examples_validate_clean() {
    let p = unique_prefix("examples");
    assert_code(&sync_file(&examples(), &p), 0);
    let o = run(ldstore().args(["validate", "--strict", "--output", "json", "--redis", &redis_addr(), "--prefix", &p]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["findings"], serde_json::json!([]));
}
