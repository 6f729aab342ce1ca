//! Big Segments against the official Python SDK's big-segment stores (tests/interop/
//! big_segments_interop.py): what ldstore writes is read by the SDK as intended, and what the SDK's
//! own fixtures (the Relay Proxy's layout) store is read by ldstore, on Redis and DynamoDB Local.
//! The store contract itself is held by the conformance scenarios (tests/it/conformance.rs).

use ldstore::config::StoreConfig;
use ldstore::store::big_segments::{Membership, Metadata, context_hash};
use ldstore::store::{self, Admin};
use serde_json::{Value, json};

use crate::support::*;

fn redis_config() -> StoreConfig {
    StoreConfig::Redis(ldstore::config::redis_from_parts(
        vec![format!("redis://{}", redis_addr())],
        None,
        None,
        None,
        std::time::Duration::from_secs(10),
        ldstore::config::RedisTopology::Single,
    ))
}

fn dynamodb_config(table: &str) -> StoreConfig {
    let _ = crate::support::ddb::ld();
    StoreConfig::DynamoDb(ldstore::config::DynamoDbConfig {
        table: table.to_string(),
        endpoint: Some(crate::support::ddb::endpoint()),
        region: Some("us-east-1".into()),
        timeout: std::time::Duration::from_secs(10),
        in_flight: ldstore::store::dynamodb::BATCHES_IN_FLIGHT,
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

async fn open(cfg: &StoreConfig) -> Box<dyn Admin> {
    store::open(cfg).await.expect("store opens")
}

/// Run the Python SDK interop script; fails when python3 or the SDK is missing.
#[track_caller]
fn python(args: &[&str], stdin: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .arg(repo_path("tests/interop/big_segments_interop.py"))
        .args(args)
        .env("LDSTORE_TEST_DYNAMODB", std::env::var("LDSTORE_TEST_DYNAMODB").unwrap_or_default())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 must be installed with launchdarkly-server-sdk (tests/interop/requirements.txt)");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "big_segments_interop.py {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// Both directions on one backend: ldstore writes, the SDK reads; the SDK's fixtures write,
/// ldstore reads.
fn both_ways(backend: &str, target: &str, cfg: &StoreConfig) {
    let (h1, h2, h3) = (context_hash("userkey"), context_hash("test-user"), context_hash(""));
    let written = unique_prefix("bigseg-ld");
    runtime().block_on(async {
        let s = open(cfg).await;
        let b = s.big_segments().expect("Big Segments capability");
        let ms = [
            (h1.clone(), Membership::new(["beta.g1"], ["alpha.g2"])),
            (h2.clone(), Membership::new(["beta.g1"], ["beta.g1", "gamma.g4"])),
        ];
        b.write_memberships(&written, &ms).await.unwrap();
        let meta = Metadata { synchronized_on: Some("1700000000000".into()), cursor: Some("5".into()) };
        b.write_metadata(&written, &meta).await.unwrap();
    });
    let got: Value = serde_json::from_str(&python(&["read", backend, target, &written, &h1, &h2, &h3], "")).unwrap();
    assert_eq!(
        got,
        json!({"synchronizedOn": 1700000000000i64, "memberships": {
            h1.clone(): {"beta.g1": true, "alpha.g2": false},
            h2.clone(): {"beta.g1": true, "gamma.g4": false},
            h3.clone(): null,
        }}),
        "{backend}: the Python SDK reads what ldstore wrote"
    );

    let fixture = unique_prefix("bigseg-py");
    let data = json!({"synchronizedOn": 1700000001234i64, "memberships": {
        h1.clone(): {"included": ["seg.g1"], "excluded": ["other.g2"]},
        h3.clone(): {"excluded": ["seg.g1"]},
    }});
    python(&["write", backend, target, &fixture], &data.to_string());
    runtime().block_on(async {
        let s = open(cfg).await;
        let b = s.big_segments().expect("Big Segments capability");
        let meta = b.metadata(&fixture).await.unwrap();
        assert_eq!(meta.synchronized_on_ms(), Ok(Some(1700000001234)), "{backend}");
        assert_eq!(b.membership(&fixture, &h1).await.unwrap(), Membership::new(["seg.g1"], ["other.g2"]));
        assert_eq!(b.membership(&fixture, &h3).await.unwrap(), Membership::new([], ["seg.g1"]));
        assert!(b.membership(&fixture, &h2).await.unwrap().is_empty());
        let mut all = Vec::new();
        b.read_memberships(&fixture, &mut |h, m| {
            all.push((h, m));
            Ok(())
        })
        .await
        .unwrap();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            all,
            [(h3.clone(), Membership::new([], ["seg.g1"])), (h1.clone(), Membership::new(["seg.g1"], ["other.g2"]))],
            "{backend}"
        );
    });
}

#[test]
fn python_sdk_interop_on_redis() {
    both_ways("redis", &redis_addr(), &redis_config());
}

#[test]
fn python_sdk_interop_on_dynamodb() {
    let table = crate::support::ddb::new_table("bigseg-interop");
    both_ways("dynamodb", &table, &dynamodb_config(&table));
}

/// 2,500 contexts' memberships of `big_flag_file`'s segments (included in `beta`, excluded from
/// `kinded`, by generation) and a sync time and cursor: the data of the copy and dump tests.
fn many_memberships() -> (Vec<(String, Membership)>, Metadata) {
    let many = (0..2500)
        .map(|i| {
            (
                context_hash(&format!("user-{i}")),
                Membership::new([format!("beta.g{}", 1 + i % 2)], [format!("kinded.g{}", i % 3)]),
            )
        })
        .collect();
    (many, Metadata { synchronized_on: Some("1700000000123".into()), cursor: Some("cur-7".into()) })
}

/// A flag file whose segments include Big Segments: `beta` (generation 2), `kinded` (kind `org`,
/// generation 1), `empty` (generation 1, no membership anywhere), `nogen` (no generation).
fn big_flag_file() -> String {
    let seg = |key: &str, extra: &str| {
        format!(
            r#""{key}":{{"key":"{key}","version":1,"included":[],"excluded":[],"rules":[],"salt":"s","unbounded":true{extra}}}"#
        )
    };
    format!(
        r#"{{"flags":{{"f":{{"key":"f","version":1,"on":true,"variations":[true,false],"fallthrough":{{"variation":1}},"offVariation":1,"salt":"x"}}}},"segments":{{{},{},{},{},"small":{{"key":"small","version":1,"included":["u"],"excluded":[],"rules":[],"salt":"s"}}}}}}"#,
        seg("beta", r#","generation":2"#),
        seg("kinded", r#","generation":1,"unboundedContextKind":"org""#),
        seg("empty", r#","generation":1"#),
        seg("nogen", ""),
    )
}

/// Memberships for the flag file above: two contexts, and a ref of an old generation (an orphan).
fn put_inspect_data(cfg: &StoreConfig, prefix: &str, synced_on: i64) {
    runtime().block_on(async {
        let s = open(cfg).await;
        let b = s.big_segments().expect("Big Segments capability");
        let ms = [
            (context_hash("userkey"), Membership::new(["beta.g2"], ["kinded.g1"])),
            (context_hash("test-user"), Membership::new(["beta.g2", "beta.g1"], [])),
        ];
        b.write_memberships(prefix, &ms).await.unwrap();
        let meta = Metadata { synchronized_on: Some(synced_on.to_string()), cursor: Some("c-9".into()) };
        b.write_metadata(prefix, &meta).await.unwrap();
    });
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[track_caller]
fn inspect_json(cmd: &mut std::process::Command) -> Value {
    let o = run(cmd.args(["--output", "json"]));
    assert_code(&o, 0);
    serde_json::from_str::<Value>(&stdout(&o)).unwrap()["big_segments"].clone()
}

/// `inspect` of one prefix shows its Big Segments: sync time and age, HEALTHY/STALE against
/// `--stale-after`, the cursor, the contexts and per ref the counts (orphans marked), the Big
/// Segments of the data and those with no membership data; the table says the same.
fn inspect_shows_big_segments(cli: &dyn Fn(&[&str]) -> std::process::Command, cfg: &StoreConfig, prefix: &str) {
    let (_d, f) = temp_file("flags.json", &big_flag_file());
    assert_code(&run(&mut cli(&["sync", "--from-file", f.to_str().unwrap()])), 0);
    let ten_minutes_ago = now_ms() - 600_000;
    put_inspect_data(cfg, prefix, ten_minutes_ago);
    let b = inspect_json(&mut cli(&["inspect"]));
    assert_eq!(b["status"], "STALE", "{b}");
    assert_eq!(b["synchronized_on_ms"], ten_minutes_ago);
    assert!(b["age_ms"].as_i64().unwrap() >= 600_000, "{b}");
    assert_eq!(b["stale_after_ms"], 120_000);
    assert_eq!(b["cursor"], "c-9");
    assert_eq!(b["contexts"], 2);
    assert_eq!(b["sampled"], false);
    assert_eq!(
        b["refs"],
        json!([
            {"ref": "beta.g1", "included": 1, "excluded": 0, "current": false},
            {"ref": "beta.g2", "included": 2, "excluded": 0, "current": true},
            {"ref": "kinded.g1", "included": 0, "excluded": 1, "current": true},
        ])
    );
    assert_eq!(b["without_data"], json!(["empty", "nogen"]));
    let keys: Vec<&str> = b["segments"].as_array().unwrap().iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["beta", "empty", "kinded", "nogen"]);
    assert_eq!(b["segments"][2]["context_kind"], "org");
    assert_eq!(b["segments"][3]["generation"], Value::Null);
    let b = inspect_json(&mut cli(&["inspect", "--stale-after", "1h", "--exact"]));
    assert_eq!(b["status"], "HEALTHY", "{b}");
    assert_eq!(b["sample_limit"], Value::Null);
    let o = run(&mut cli(&["inspect"]));
    assert_code(&o, 0);
    let out = stdout(&o);
    for want in [
        "big segments: status",
        "STALE (stale after 2m)",
        "c-9",
        "ref beta.g1",
        "1 included, 0 excluded (orphan: no current segment generation)",
        "NO generation",
        "empty, nogen",
    ] {
        assert!(out.contains(want), "{want:?} not in:\n{out}");
    }
    // Synced 10 minutes before the test's own commands ran (a loaded machine may add seconds).
    assert!(out.lines().any(|l| l.contains("10m") && l.contains(" ago")), "no age of 10m in:\n{out}");
}

#[test]
fn inspect_on_redis() {
    let p = unique_prefix("bigseg-inspect");
    let cli = |args: &[&str]| {
        let mut c = ldstore();
        c.args(args).args(["--redis", &redis_addr(), "--prefix", &p]);
        c
    };
    inspect_shows_big_segments(&cli, &redis_config(), &p);
}

#[test]
fn inspect_on_dynamodb() {
    let table = crate::support::ddb::new_table("bigseg-inspect");
    let p = unique_prefix("bigseg-inspect");
    let cli = |args: &[&str]| {
        let mut c = crate::support::ddb::ld_table(&table, args);
        c.args(["--prefix", &p]);
        c
    };
    inspect_shows_big_segments(&cli, &dynamodb_config(&table), &p);
}

/// On Consul, a prefix whose data has unbounded segments is reported unusable for them.
#[test]
fn inspect_on_consul_reports_big_segments_unusable() {
    let t = crate::consul::Target::local();
    let p = unique_prefix("bigseg-consul");
    let (_d, f) = temp_file("flags.json", &big_flag_file());
    assert_code(&run(t.cmd(&["sync", "--from-file", f.to_str().unwrap()]).args(["--prefix", &p])), 0);
    let b = inspect_json(t.cmd(&["inspect"]).args(["--prefix", &p]));
    assert_eq!(
        b["unusable"],
        "Consul holds no Big Segments: no SDK can evaluate the unbounded segments beta, empty, kinded, nogen of this prefix"
    );
    assert_eq!(b["status"], "NOT_CONFIGURED");
    let o = run(t.cmd(&["inspect"]).args(["--prefix", &p]));
    assert!(stdout(&o).contains("big segments: UNUSABLE"), "{}", stdout(&o));
}

/// The verdicts of `membership --output json`, by segment key.
#[track_caller]
fn verdicts(cmd: &mut std::process::Command) -> (Value, Vec<(String, String)>) {
    let o = run(cmd.args(["--output", "json"]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let list = v["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["key"].as_str().unwrap().to_string(), s["verdict"].as_str().unwrap().to_string()))
        .collect();
    (v, list)
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

/// `membership` of a context key, a context, and a multi-context: the hash, the refs, and per Big
/// Segment included / excluded / left to the rules / no context of its kind / no generation.
fn membership_lookups(cli: &dyn Fn(&[&str]) -> std::process::Command, cfg: &StoreConfig, prefix: &str) {
    let (_d, f) = temp_file("flags.json", &big_flag_file());
    assert_code(&run(&mut cli(&["sync", "--from-file", f.to_str().unwrap()])), 0);
    put_inspect_data(cfg, prefix, now_ms());
    let (v, got) = verdicts(&mut cli(&["membership", "--context-key", "userkey"]));
    assert_eq!(v["status"], "HEALTHY", "{v}");
    assert_eq!(
        v["keys"],
        json!([{"key": "userkey", "hash": "72cBpXPyn4N6TqqlS8Tti37jEcoNhFzL9ZdG1jXkILE=", "included": ["beta.g2"], "excluded": ["kinded.g1"]}])
    );
    assert_eq!(
        got,
        pairs(&[("beta", "included"), ("empty", "rules"), ("kinded", "excluded"), ("nogen", "not-configured")])
    );
    let (_, got) = verdicts(&mut cli(&["membership", "--context", r#"{"kind":"user","key":"userkey"}"#]));
    assert_eq!(
        got,
        pairs(&[("beta", "included"), ("empty", "rules"), ("kinded", "no-context-kind"), ("nogen", "not-configured")])
    );
    let multi = r#"{"kind":"multi","user":{"key":"nobody"},"org":{"key":"test-user"}}"#;
    let (v, got) = verdicts(&mut cli(&["membership", "--context", multi, "--stale-after", "1ms"]));
    assert_eq!(v["status"], "STALE", "{v}");
    assert_eq!(v["keys"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(got, pairs(&[("beta", "rules"), ("empty", "rules"), ("kinded", "rules"), ("nogen", "not-configured")]));
    let o = run(&mut cli(&["membership", "--context-key", "test-user"]));
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(out.contains("+FrIJdECufLVRqoWeeqZGuhFmUwTQ3MNVk8/zQohaMM=") && out.contains("beta.g1, beta.g2"), "{out}");
}

#[test]
fn membership_on_redis() {
    let p = unique_prefix("bigseg-member");
    let cli = |args: &[&str]| {
        let mut c = ldstore();
        c.args(args).args(["--redis", &redis_addr(), "--prefix", &p]);
        c
    };
    membership_lookups(&cli, &redis_config(), &p);
}

#[test]
fn membership_on_dynamodb() {
    let table = crate::support::ddb::new_table("bigseg-member");
    let p = unique_prefix("bigseg-member");
    let cli = |args: &[&str]| {
        let mut c = crate::support::ddb::ld_table(&table, args);
        c.args(["--prefix", &p]);
        c
    };
    membership_lookups(&cli, &dynamodb_config(&table), &p);
}

#[test]
fn membership_on_consul_is_a_usage_error() {
    let t = crate::consul::Target::local();
    let o = run(&mut t.cmd(&["membership", "--context-key", "u"]));
    assert_code(&o, 2);
    assert!(stderr(&o).contains("Consul holds no Big Segments"), "{}", stderr(&o));
}

/// Flags that reach Big Segments: one each, one through a prerequisite, several Big Segments in
/// one clause, and a Big Segment whose rules decide for contexts in neither set.
fn eval_flag_file() -> String {
    let seg = |key: &str, extra: &str| {
        format!(
            r#""{key}":{{"key":"{key}","version":1,"included":["userkey"],"excluded":[],"includedContexts":[],"excludedContexts":[],"rules":[],"salt":"s-{key}","unbounded":true{extra}}}"#
        )
    };
    let ruled = r#""ruled":{"key":"ruled","version":1,"included":[],"excluded":[],"includedContexts":[],"excludedContexts":[],"rules":[{"id":"r1","clauses":[{"contextKind":"user","attribute":"email","op":"endsWith","values":["@x.io"],"negate":false}]}],"salt":"s-ruled","unbounded":true,"generation":1}"#;
    let flag = |key: &str, segs: &[&str], prereq: &str| {
        let values: Vec<String> = segs.iter().map(|s| format!("\"{s}\"")).collect();
        format!(
            r#""{key}":{{"key":"{key}","version":1,"on":true,"prerequisites":[{prereq}],"targets":[],"contextTargets":[],"rules":[{{"id":"r-{key}","clauses":[{{"contextKind":"user","attribute":"key","op":"segmentMatch","values":[{}],"negate":false}}],"variation":0,"trackEvents":false}}],"fallthrough":{{"variation":1}},"offVariation":2,"variations":["in","out","off"],"salt":"s","trackEvents":false,"trackEventsFallthrough":false,"debugEventsUntilDate":null,"clientSide":false,"deleted":false}}"#,
            values.join(",")
        )
    };
    let flags = [
        flag("f-beta", &["beta"], ""),
        flag("f-kinded", &["kinded"], ""),
        flag("f-nogen", &["nogen"], ""),
        flag("f-multi", &["empty", "kinded", "beta"], ""),
        flag("f-nogen-then-beta", &["nogen", "beta"], ""),
        flag("f-ruled", &["ruled"], ""),
        flag("f-prereq", &["ruled"], r#"{"key":"f-beta","variation":0}"#),
        flag("f-small", &["small"], ""),
    ];
    format!(
        r#"{{"flags":{{{}}},"segments":{{{},{},{},{},{ruled},"small":{{"key":"small","version":1,"included":["u"],"excluded":[],"rules":[],"salt":"s"}}}}}}"#,
        flags.join(","),
        seg("beta", r#","generation":2"#),
        seg("kinded", r#","generation":1,"unboundedContextKind":"org""#),
        seg("empty", r#","generation":1"#),
        seg("nogen", ""),
    )
}

const EVAL_FLAGS: [&str; 8] =
    ["f-beta", "f-kinded", "f-nogen", "f-multi", "f-nogen-then-beta", "f-ruled", "f-prereq", "f-small"];

/// `eval` equals the Python SDK in daemon mode with its Big Segments store, on one prefix.
fn eval_equals_python(backend: &str, target: &str, cli: &dyn Fn(&[&str]) -> std::process::Command, prefix: &str) {
    let contexts = json!([
        {"kind": "user", "key": "userkey"},
        {"kind": "user", "key": "test-user"},
        {"kind": "user", "key": "both"},
        {"kind": "user", "key": "nobody", "email": "a@x.io"},
        {"kind": "user", "key": "ruled-out", "email": "b@x.io"},
        {"kind": "user", "key": "u"},
        {"kind": "org", "key": "userkey"},
        {"kind": "multi", "user": {"key": "nobody"}, "org": {"key": "test-user"}},
    ]);
    let (_d, ctx_file) = temp_file("contexts.json", &contexts.to_string());
    let mut args = vec![backend, target, prefix, ctx_file.to_str().unwrap()];
    args.extend(EVAL_FLAGS);
    let py = std::process::Command::new("python3")
        .arg(repo_path("tests/interop/eval_big_interop.py"))
        .args(&args)
        .env("LDSTORE_TEST_DYNAMODB", std::env::var("LDSTORE_TEST_DYNAMODB").unwrap_or_default())
        .output()
        .expect("python3 must be installed (scripts/test installs the Python SDK)");
    assert!(py.status.success(), "python SDK: {}", String::from_utf8_lossy(&py.stderr));
    let py: Vec<Value> = serde_json::from_slice(&py.stdout).unwrap();
    let mut compared = 0;
    for c in contexts.as_array().unwrap() {
        let o = run(&mut cli(&["eval", "--all", "--output", "json", "--context", &c.to_string()]));
        assert!(o.status.code() == Some(0), "{}", stderr(&o));
        let got: Value = serde_json::from_str(&stdout(&o)).unwrap();
        for r in got["results"].as_array().unwrap() {
            let want = py.iter().find(|p| p["context"] == *c && p["flag"] == r["flag"]).expect("Python evaluated it");
            for field in ["value", "variationIndex", "reason"] {
                assert_eq!(r[field], want[field], "{backend} {prefix}: {field} of {} for {c}", r["flag"]);
            }
            compared += 1;
        }
    }
    assert_eq!(compared, py.len());
}

/// The same data under three prefixes: synchronized now (HEALTHY), ten minutes ago (STALE), never.
fn eval_cases(backend: &str, target: &str, cfg: &StoreConfig, cli: &dyn Fn(&[&str], &str) -> std::process::Command) {
    let (_d, f) = temp_file("flags.json", &eval_flag_file());
    for (name, synced) in [("healthy", Some(now_ms())), ("stale", Some(now_ms() - 600_000)), ("never", None)] {
        let p = unique_prefix(&format!("bigseg-eval-{name}"));
        assert_code(&run(&mut cli(&["sync", "--from-file", f.to_str().unwrap()], &p)), 0);
        runtime().block_on(async {
            let s = open(cfg).await;
            let b = s.big_segments().unwrap();
            let ms = [
                (context_hash("userkey"), Membership::new(["beta.g2", "ruled.g1"], ["kinded.g1"])),
                (context_hash("test-user"), Membership::new(["beta.g1", "kinded.g1"], [])),
                (context_hash("both"), Membership::new(["beta.g2"], ["beta.g2"])),
                (context_hash("ruled-out"), Membership::new([], ["ruled.g1", "beta.g2"])),
            ];
            b.write_memberships(&p, &ms).await.unwrap();
            if let Some(t) = synced {
                b.write_metadata(&p, &Metadata { synchronized_on: Some(t.to_string()), cursor: None }).await.unwrap();
            }
        });
        eval_equals_python(backend, target, &|args: &[&str]| cli(args, &p), &p);
    }
}

#[test]
fn eval_matches_python_sdk_big_segments_on_redis() {
    let cli = |args: &[&str], p: &str| {
        let mut c = ldstore();
        c.args(args).args(["--redis", &redis_addr(), "--prefix", p]);
        c
    };
    eval_cases("redis", &redis_addr(), &redis_config(), &cli);
}

#[test]
fn eval_matches_python_sdk_big_segments_on_dynamodb() {
    let table = crate::support::ddb::new_table("bigseg-eval");
    let cli = |args: &[&str], p: &str| {
        let mut c = crate::support::ddb::ld_table(&table, args);
        c.args(["--prefix", p]);
        c
    };
    eval_cases("dynamodb", &table, &dynamodb_config(&table), &cli);
}

/// The Big Segments findings of `validate --output json`: (severity, check, reason).
#[track_caller]
fn big_findings(cmd: &mut std::process::Command) -> (i32, Vec<(String, String, String)>) {
    let o = run(cmd.args(["--output", "json"]));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let list = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"].as_str().unwrap().contains("big-segment"))
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("-").to_string();
            (s("severity"), s("check"), s("reason"))
        })
        .collect();
    (o.status.code().unwrap_or(-1), list)
}

fn checks(list: &[(String, String, String)]) -> Vec<&str> {
    list.iter().map(|(_, c, _)| c.as_str()).collect()
}

/// `validate`: a stale synchronization (warning), orphan refs (counted), never synchronized, an
/// unreadable sync time; a prefix of healthy Big Segments data has no Big Segments finding.
fn validate_big_segments(cli: &dyn Fn(&[&str], &str) -> std::process::Command, cfg: &StoreConfig) {
    let (_d, f) = temp_file("flags.json", &big_flag_file());
    let synced = |name: &str, at: Option<i64>| {
        let p = unique_prefix(name);
        assert_code(&run(&mut cli(&["sync", "--from-file", f.to_str().unwrap()], &p)), 0);
        if let Some(t) = at {
            put_inspect_data(cfg, &p, t);
        }
        p
    };
    let p = synced("bigseg-val-stale", Some(now_ms() - 600_000));
    let (_, found) = big_findings(&mut cli(&["validate"], &p));
    assert_eq!(checks(&found), ["big-segment-orphan-refs", "big-segments-stale", "big-segment-without-generation"]);
    assert_eq!(found[0].0, "warning");
    assert!(found[0].2.starts_with("1 membership ref in 1 context name no current segment generation"), "{found:?}");
    assert!(found[0].2.ends_with(": beta.g1 (1)"), "{found:?}");
    assert_eq!(found[1].0, "warning");
    assert!(found[1].2.contains("10m"), "{found:?}");
    assert!(found[1].2.contains("(stale after 2m)"), "{found:?}");
    // --stale-after: what the SDKs are configured with.
    let (_, found) = big_findings(&mut cli(&["validate", "--stale-after", "1h"], &p));
    assert_eq!(checks(&found), ["big-segment-orphan-refs", "big-segment-without-generation"]);
    let (_, found) = big_findings(&mut cli(&["validate", "--stale-after", "5m"], &p));
    assert!(found[1].2.contains("(stale after 5m)"), "{found:?}");
    let o = run(&mut cli(&["validate", "--stale-after", "soon"], &p));
    assert_code(&o, 2);

    let p = synced("bigseg-val-never", None);
    let (_, found) = big_findings(&mut cli(&["validate"], &p));
    assert_eq!(checks(&found), ["big-segments-never-synced", "big-segment-without-generation"]);
    assert_eq!(found[0].0, "warning");
    assert!(found[0].2.starts_with("4 unbounded segments but no Big Segments synchronization ever"), "{found:?}");

    let p = synced("bigseg-val-fresh", Some(now_ms()));
    let (_, found) = big_findings(&mut cli(&["validate"], &p));
    assert_eq!(checks(&found), ["big-segment-orphan-refs", "big-segment-without-generation"]);
}

#[test]
fn validate_big_segments_on_redis() {
    let cli = |args: &[&str], p: &str| {
        let mut c = ldstore();
        c.args(args).args(["--redis", &redis_addr(), "--prefix", p]);
        c
    };
    validate_big_segments(&cli, &redis_config());
    // A sync time no SDK can read (Redis stores text).
    let p = unique_prefix("bigseg-val-bad");
    redis_cli(&["SET", &format!("{p}:big_segments_synchronized_on"), "soon"]);
    redis_cli(&["SET", &format!("{p}:$inited"), ""]);
    let (code, found) = big_findings(&mut cli(&["validate"], &p));
    assert_eq!(code, 1);
    assert_eq!(
        found,
        [(
            "error".to_string(),
            "big-segments-unreadable-sync-time".to_string(),
            "synchronizedOn \"soon\" is not a Unix time in milliseconds: the SDKs report STORE_ERROR for every Big Segment"
                .to_string()
        )]
    );
}

#[test]
fn validate_big_segments_on_dynamodb() {
    let table = crate::support::ddb::new_table("bigseg-val");
    let cli = |args: &[&str], p: &str| {
        let mut c = crate::support::ddb::ld_table(&table, args);
        c.args(["--prefix", p]);
        c
    };
    validate_big_segments(&cli, &dynamodb_config(&table));
}

/// On Consul every unbounded segment is an error: no SDK reads Big Segments from Consul.
#[test]
fn validate_big_segment_in_a_consul_prefix() {
    let t = crate::consul::Target::local();
    let p = unique_prefix("bigseg-val-consul");
    let (_d, f) = temp_file("flags.json", &big_flag_file());
    assert_code(&run(t.cmd(&["sync", "--from-file", f.to_str().unwrap()]).args(["--prefix", &p])), 0);
    let (code, found) = big_findings(t.cmd(&["validate"]).args(["--prefix", &p]));
    assert_eq!(code, 1);
    let unusable: Vec<_> = found.iter().filter(|(_, c, _)| c == "big-segment-unusable").collect();
    assert_eq!(unusable.len(), 4, "{found:?}");
    assert!(unusable[0].2.contains("Consul holds no Big Segments"), "{found:?}");
}

/// Every membership of a prefix, sorted by hash.
fn all_memberships(cfg: &StoreConfig, prefix: &str) -> Vec<(String, Membership)> {
    runtime().block_on(async {
        let s = open(cfg).await;
        let mut all = Vec::new();
        s.big_segments()
            .unwrap()
            .read_memberships(prefix, &mut |h, m| {
                if !m.is_empty() {
                    all.push((h, m));
                }
                Ok(())
            })
            .await
            .unwrap();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    })
}

/// `prune --dry-run` names the unused refs and changes nothing; `prune` removes exactly those
/// (an old generation, a deleted segment's), leaving every other ref, the metadata and the flag
/// data as they were; an uninitialized prefix is refused.
fn prune_removes_only_unused_refs(cli: &dyn Fn(&[&str], &str) -> std::process::Command, cfg: &StoreConfig) {
    let p = unique_prefix("bigseg-prune");
    let (_d, f) = temp_file("flags.json", &big_flag_file());
    assert_code(&run(&mut cli(&["sync", "--from-file", f.to_str().unwrap()], &p)), 0);
    put_inspect_data(cfg, &p, 1_700_000_000_000);
    runtime().block_on(async {
        let s = open(cfg).await;
        let extra = [(context_hash("gone-user"), Membership::new(["empty.g1"], ["gone.g4"]))];
        s.big_segments().unwrap().write_memberships(&p, &extra).await.unwrap();
    });
    let before = all_memberships(cfg, &p);
    // The flag data (the dump's Big Segments part is what prune changes).
    let dump = |p: &str| {
        let mut v: Value = serde_json::from_str(&stdout(&run(&mut cli(&["dump"], p)))).unwrap();
        v.as_object_mut().unwrap().remove("bigSegments");
        v
    };
    let flags_before = dump(&p);
    let o = run(&mut cli(&["prune", "--dry-run", "--output", "json"], &p));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["refs"], json!({"beta.g1": 1, "gone.g4": 1}), "{v}");
    assert_eq!(
        (v["contexts"].clone(), v["refs_removed"].clone(), v["dry_run"].clone()),
        (json!(2), json!(2), json!(true))
    );
    assert_eq!(all_memberships(cfg, &p), before, "a dry run changes nothing");
    let o = run(&mut cli(&["prune"], &p));
    assert_code(&o, 0);
    assert!(stdout(&o).contains("removed 2 unused refs from 2 contexts"), "{}", stdout(&o));
    let want: Vec<(String, Membership)> = before
        .into_iter()
        .map(|(h, mut m)| {
            m.included.remove("beta.g1");
            m.excluded.remove("gone.g4");
            (h, m)
        })
        .collect();
    assert_eq!(all_memberships(cfg, &p), want);
    assert_eq!(dump(&p), flags_before);
    runtime().block_on(async {
        let s = open(cfg).await;
        let meta = s.big_segments().unwrap().metadata(&p).await.unwrap();
        assert_eq!(meta.synchronized_on.as_deref(), Some("1700000000000"));
    });
    let o = run(&mut cli(&["prune", "--output", "json"], &p));
    assert_eq!(serde_json::from_str::<Value>(&stdout(&o)).unwrap()["refs_removed"], 0);
    let o = run(&mut cli(&["prune"], &unique_prefix("bigseg-prune-none")));
    assert_code(&o, 2);
    assert!(stderr(&o).contains("is not initialized"), "{}", stderr(&o));
}

#[test]
fn prune_on_redis() {
    let cli = |args: &[&str], p: &str| {
        let mut c = ldstore();
        c.args(args).args(["--redis", &redis_addr(), "--prefix", p]);
        c
    };
    prune_removes_only_unused_refs(&cli, &redis_config());
}

#[test]
fn prune_on_dynamodb() {
    let table = crate::support::ddb::new_table("bigseg-prune");
    let cli = |args: &[&str], p: &str| {
        let mut c = crate::support::ddb::ld_table(&table, args);
        c.args(["--prefix", p]);
        c
    };
    prune_removes_only_unused_refs(&cli, &dynamodb_config(&table));
}

/// `sync --from <store>` moves the Big Segments data with the flags: Redis -> DynamoDB -> Redis keeps
/// every membership (more than one write batch) and the metadata; a context only the destination
/// held is removed; `diff`-free check by reading both sides.
#[test]
fn store_to_store_copy_keeps_every_membership() {
    let table = crate::support::ddb::new_table("bigseg-copy");
    let ddb = dynamodb_config(&table);
    let redis = redis_config();
    let (a, d, b) = (unique_prefix("bigseg-copy-a"), unique_prefix("bigseg-copy-d"), unique_prefix("bigseg-copy-b"));
    let (_f, f) = temp_file("flags.json", &big_flag_file());
    assert_code(
        &run(ldstore().args(["sync", "--from-file", f.to_str().unwrap(), "--redis", &redis_addr(), "--prefix", &a])),
        0,
    );
    let (many, meta) = many_memberships();
    runtime().block_on(async {
        let s = open(&redis).await;
        s.big_segments().unwrap().write_memberships(&a, &many).await.unwrap();
        s.big_segments().unwrap().write_metadata(&a, &meta).await.unwrap();
        // The destination already holds a context the source does not: it goes.
        let s = open(&ddb).await;
        s.big_segments()
            .unwrap()
            .write_memberships(&d, &[(context_hash("old"), Membership::new(["x.g1"], []))])
            .await
            .unwrap();
    });
    let from_redis = format!("redis://{}?prefix={a}", redis_addr());
    let o = run(&mut crate::support::ddb::ld_table(
        &table,
        &["sync", "--from", &from_redis, "--prefix", &d, "--output", "json"],
    ));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        (v["big_segments"]["contexts"].clone(), v["big_segments"]["removed"].clone()),
        (json!(2500), json!(1)),
        "{v}"
    );
    let from_ddb = format!("dynamodb://{table}?prefix={d}&endpoint={}", crate::support::ddb::endpoint());
    let o =
        run(crate::support::ddb::ld().args(["sync", "--from", &from_ddb, "--redis", &redis_addr(), "--prefix", &b]));
    assert_code(&o, 0);
    assert!(stderr(&o).contains("copied the Big Segments memberships of 2500 contexts"), "{}", stderr(&o));
    let mut want = many.clone();
    want.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(all_memberships(&ddb, &d), want);
    assert_eq!(all_memberships(&redis, &b), want);
    runtime().block_on(async {
        for (cfg, p) in [(&ddb, &d), (&redis, &b)] {
            let s = open(cfg).await;
            assert_eq!(s.big_segments().unwrap().metadata(p).await.unwrap(), meta);
        }
    });
}

/// `diff` of two store prefixes counts the contexts whose membership differs (and names their hashes
/// with `--show-values`); equal memberships and flag data are identical (exit 0).
#[test]
fn diff_reports_membership_differences() {
    let redis = redis_config();
    let (a, b) = (unique_prefix("bigseg-diff-a"), unique_prefix("bigseg-diff-b"));
    let (_f, f) = temp_file("flags.json", &big_flag_file());
    for p in [&a, &b] {
        assert_code(
            &run(ldstore().args(["sync", "--from-file", f.to_str().unwrap(), "--redis", &redis_addr(), "--prefix", p])),
            0,
        );
        put_inspect_data(&redis, p, 1_700_000_000_000);
    }
    let url = |p: &str| format!("redis://{}?prefix={p}", redis_addr());
    let o = run(ldstore().args(["diff", &url(&a), &url(&b), "--output", "json"]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["big_segments"], json!({"added": 0, "removed": 0, "changed": 0, "unchanged": 2}));
    assert_eq!(v["identical"], true);
    let (h_new, h_changed) = (context_hash("new-one"), context_hash("userkey"));
    runtime().block_on(async {
        let s = open(&redis).await;
        let ms =
            [(h_new.clone(), Membership::new(["beta.g2"], [])), (h_changed.clone(), Membership::new(["beta.g2"], []))];
        s.big_segments().unwrap().write_memberships(&b, &ms).await.unwrap();
        let gone = [(context_hash("test-user"), Membership::default())];
        s.big_segments().unwrap().write_memberships(&b, &gone).await.unwrap();
    });
    let o = run(ldstore().args(["diff", &url(&a), &url(&b), "--output", "json", "--show-values"]));
    assert_code(&o, 1);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["identical"], false);
    assert_eq!(
        v["big_segments"],
        json!({"added": 1, "removed": 1, "changed": 1, "unchanged": 0, "hashes": {
            "added": [h_new], "removed": [context_hash("test-user")], "changed": [h_changed]}})
    );
    let o = run(ldstore().args(["diff", &url(&a), &url(&b)]));
    assert_code(&o, 1);
    assert!(
        stdout(&o).contains("Big Segments memberships: 1 added, 1 removed, 1 changed (0 unchanged)"),
        "{}",
        stdout(&o)
    );
}

/// `dump` writes the Big Segments data (metadata and every membership) beside the flags and
/// segments, and `sync --from-file` of that dump restores it: Redis -> file -> Redis and -> DynamoDB
/// -> file -> Redis keep every membership (more than one write batch), the sync time and the cursor;
/// a context only the destination held is removed; a file without Big Segments data leaves the
/// destination's memberships alone.
#[test]
fn dump_and_sync_from_file_round_trip_big_segments() {
    let table = crate::support::ddb::new_table("bigseg-dump");
    let ddb = dynamodb_config(&table);
    let redis = redis_config();
    let (a, b, d, c) = (
        unique_prefix("bigseg-dump-a"),
        unique_prefix("bigseg-dump-b"),
        unique_prefix("bigseg-dump-d"),
        unique_prefix("bigseg-dump-c"),
    );
    let (_f, f) = temp_file("flags.json", &big_flag_file());
    let redis_cli = |args: &[&str], p: &str| {
        let mut c = ldstore();
        c.args(args).args(["--redis", &redis_addr(), "--prefix", p]);
        c
    };
    assert_code(&run(&mut redis_cli(&["sync", "--from-file", f.to_str().unwrap()], &a)), 0);
    let (many, meta) = many_memberships();
    runtime().block_on(async {
        let s = open(&redis).await;
        s.big_segments().unwrap().write_memberships(&a, &many).await.unwrap();
        s.big_segments().unwrap().write_metadata(&a, &meta).await.unwrap();
        s.big_segments()
            .unwrap()
            .write_memberships(&b, &[(context_hash("old"), Membership::new(["x.g1"], []))])
            .await
            .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let file_a = dir.path().join("a.json");
    assert_code(&run(&mut redis_cli(&["dump", "--out", file_a.to_str().unwrap()], &a)), 0);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&file_a).unwrap()).unwrap();
    let big = &v["bigSegments"];
    assert_eq!((big["synchronizedOn"].clone(), big["cursor"].clone()), (json!("1700000000123"), json!("cur-7")));
    assert_eq!(big["memberships"].as_object().unwrap().len(), 2500);
    let h0 = context_hash("user-0");
    assert_eq!(big["memberships"][&h0], json!({"included": ["beta.g1"], "excluded": ["kinded.g0"]}));
    assert_eq!(v["flags"].as_object().unwrap().len(), 1, "the flags are there too");
    let mut want = many.clone();
    want.sort_by(|x, y| x.0.cmp(&y.0));
    // Into another Redis prefix (which held a context of its own: it goes).
    let o = run(&mut redis_cli(&["sync", "--from-file", file_a.to_str().unwrap(), "--output", "json"], &b));
    assert_code(&o, 0);
    let out: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        (out["big_segments"]["contexts"].clone(), out["big_segments"]["removed"].clone()),
        (json!(2500), json!(1)),
        "{out}"
    );
    assert_eq!(all_memberships(&redis, &b), want);
    // Into DynamoDB, dumped from there, and back into Redis.
    let o = run(&mut crate::support::ddb::ld_table(
        &table,
        &["sync", "--from-file", file_a.to_str().unwrap(), "--prefix", &d],
    ));
    assert_code(&o, 0);
    assert!(stderr(&o).contains("restored the Big Segments memberships of 2500 contexts"), "{}", stderr(&o));
    assert_eq!(all_memberships(&ddb, &d), want);
    let file_d = dir.path().join("d.json");
    assert_code(
        &run(&mut crate::support::ddb::ld_table(&table, &["dump", "--out", file_d.to_str().unwrap(), "--prefix", &d])),
        0,
    );
    assert_code(&run(&mut redis_cli(&["sync", "--from-file", file_d.to_str().unwrap()], &c)), 0);
    assert_eq!(all_memberships(&redis, &c), want);
    runtime().block_on(async {
        for (cfg, p) in [(&redis, &b), (&ddb, &d), (&redis, &c)] {
            let s = open(cfg).await;
            assert_eq!(s.big_segments().unwrap().metadata(p).await.unwrap(), meta, "{p}");
        }
    });
    // An old-format file (no Big Segments part) syncs the flags and leaves memberships alone.
    assert_code(&run(&mut redis_cli(&["sync", "--from-file", f.to_str().unwrap()], &c)), 0);
    assert_eq!(all_memberships(&redis, &c), want);
    // A prefix without Big Segments data dumps exactly as before (no bigSegments member).
    let o = run(&mut redis_cli(&["dump"], &unique_prefix("bigseg-dump-none")));
    assert!(!stdout(&o).contains("bigSegments"), "{}", stdout(&o));
    // The part's name written with an escape, in a file read whole (not named .json): still found
    // (the quick search for the name before the exact read also looks for any \u escape).
    let escaped = std::fs::read_to_string(&file_a).unwrap().replacen("\"bigSegments\"", "\"\\u0062igSegments\"", 1);
    assert!(escaped.contains("\"\\u0062igSegments\":") && !escaped.contains("\"bigSegments\""));
    let file_e = dir.path().join("escaped.txt");
    std::fs::write(&file_e, escaped).unwrap();
    let e = unique_prefix("bigseg-dump-e");
    let o = run(&mut redis_cli(&["sync", "--from-file", file_e.to_str().unwrap()], &e));
    assert_code(&o, 0);
    assert!(stderr(&o).contains("restored the Big Segments memberships of 2500 contexts"), "{}", stderr(&o));
    assert_eq!(all_memberships(&redis, &e), want);
}

/// A dump whose Big Segments part is wrong, placed after the flags (so a sync into Redis has
/// already queued every item when it reads that part): refused naming the part (exit 4), and
/// nothing is written on any store, a dry run included; the Big Segments part is read in the
/// same pass as the flags when the sync writes while it reads.
#[test]
fn a_wrong_big_segments_part_after_the_flags_writes_nothing() {
    let table = crate::support::ddb::new_table("bigseg-bad-part");
    let p = unique_prefix("bigseg-bad-part");
    let (_f, good) = temp_file("flags.json", &big_flag_file());
    let changed = big_flag_file().replace(r#""key":"f","version":1"#, r#""key":"f","version":9"#);
    assert_ne!(changed, big_flag_file());
    let bad_part = |part: &str| format!("{},\"bigSegments\":{part}}}", changed.trim_end().strip_suffix('}').unwrap());
    let redis = |args: &[&str]| {
        let mut c = ldstore();
        c.args(args).args(["--redis", &redis_addr(), "--prefix", &p]);
        c
    };
    let dynamo = |args: &[&str]| crate::support::ddb::ld_table(&table, &[args, &["--prefix", &p]].concat());
    for cli in [&redis as &dyn Fn(&[&str]) -> std::process::Command, &dynamo] {
        assert_code(&run(&mut cli(&["sync", "--from-file", good.to_str().unwrap()])), 0);
        let before = stdout(&run(&mut cli(&["dump"])));
        for (part, named) in [
            (r#"{"memberships":{"h":{"included":"a.g1"}}}"#, "memberships \"h\""),
            (r#"{"synchronizedOn":"soon"}"#, "is not a Unix time"),
            (r#"{"memberships":{"h":{"included":[]}},"extra":1}"#, "unknown field \"extra\""),
        ] {
            let (_b, bad) = temp_file("dump.json", &bad_part(part));
            for dry in [false, true] {
                let mut args = vec!["sync", "--from-file", bad.to_str().unwrap()];
                if dry {
                    args.push("--dry-run");
                }
                let o = run(&mut cli(&args));
                assert_code(&o, 4);
                assert!(stderr(&o).contains("\"bigSegments\"") && stderr(&o).contains(named), "{part}: {}", stderr(&o));
                assert_eq!(stdout(&run(&mut cli(&["dump"]))), before, "{part}: nothing written (dry run: {dry})");
            }
        }
        // The same part made right is written, flags and Big Segments.
        let (_b, ok) = temp_file(
            "dump.json",
            &bad_part(r#"{"synchronizedOn":null,"cursor":"c","memberships":{"h":{"included":["beta.g2"]}}}"#),
        );
        assert_code(&run(&mut cli(&["sync", "--from-file", ok.to_str().unwrap()])), 0);
        let v: Value = serde_json::from_str(&stdout(&run(&mut cli(&["dump"])))).unwrap();
        assert_eq!(v["flags"]["f"]["version"], json!(9));
        assert_eq!(v["bigSegments"]["memberships"], json!({"h": {"included": ["beta.g2"], "excluded": []}}));
    }
}

/// A signal while a sync restores a dump's Big Segments stops it between batches (exit 143, said),
/// before the sync time and cursor: readers keep the old ones, and the prefix keeps what it held.
#[test]
fn a_signal_stops_a_big_segments_restore_between_batches() {
    let p = unique_prefix("bigseg-signal");
    let dump = |synced: &str, n: usize| {
        let members: Vec<String> =
            (0..n).map(|i| format!(r#""{}":{{"included":["beta.g2"]}}"#, context_hash(&format!("u{i}")))).collect();
        let flags = big_flag_file();
        format!(
            r#"{},"bigSegments":{{"synchronizedOn":"{synced}","cursor":"c","memberships":{{{}}}}}}}"#,
            flags.trim_end().strip_suffix('}').unwrap(),
            members.join(",")
        )
    };
    let cli = |args: &[&str]| {
        let mut c = ldstore();
        c.args(args).args(["--redis", &redis_addr(), "--prefix", &p]);
        c
    };
    let (_o, old) = temp_file("old.json", &dump("1600000000000", 10));
    assert_code(&run(&mut cli(&["sync", "--from-file", old.to_str().unwrap()])), 0);
    let (_n, new) = temp_file("new.json", &dump("1700000000000", 200_000));
    let child = cli(&["sync", "--from-file", new.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the restore has written some batches (the flags are written first).
    let pattern = format!("{p}:big_segment_include:*");
    let end = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while redis_cli(&["--scan", "--pattern", &pattern]).lines().count() < 3_000 {
        assert!(std::time::Instant::now() < end, "the restore never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let ok = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(ok.success());
    let o = child.wait_with_output().unwrap();
    assert_code(&o, 143);
    assert!(stderr(&o).contains("stopped between Big Segments batches"), "{}", stderr(&o));
    assert_eq!(redis_cli(&["GET", &format!("{p}:big_segments_synchronized_on")]).trim(), "1600000000000");
    let held = redis_cli(&["--scan", "--pattern", &pattern]).lines().count();
    assert!((3_000..200_000).contains(&held), "{held} contexts: stopped part-way, the old ones kept");
}

/// `inspect` of all prefixes shows each prefix's Big Segments status and sync age (against
/// `--stale-after`), in the table and the JSON.
fn inspect_all_shows_big_segments_status(
    all: &dyn Fn(&[&str]) -> std::process::Command,
    one: &dyn Fn(&[&str], &str) -> std::process::Command,
    cfg: &StoreConfig,
) {
    let (_d, f) = temp_file("flags.json", &big_flag_file());
    let p = unique_prefix("bigseg-all");
    assert_code(&run(&mut one(&["sync", "--from-file", f.to_str().unwrap()], &p)), 0);
    put_inspect_data(cfg, &p, now_ms() - 600_000);
    let row = |args: &[&str]| {
        let o = run(all(args).args(["--output", "json"]));
        assert_code(&o, 0);
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        v["prefixes"].as_array().unwrap().iter().find(|r| r["prefix"] == p.as_str()).cloned().expect("the prefix")
    };
    let r = row(&["inspect"]);
    assert_eq!(r["big_segments_status"], "STALE", "{r}");
    assert!(r["big_segments_age_ms"].as_i64().unwrap() >= 600_000, "{r}");
    assert_eq!(row(&["inspect", "--stale-after", "1h"])["big_segments_status"], "HEALTHY");
    let o = run(&mut all(&["inspect"]));
    let line = stdout(&o).lines().find(|l| l.contains(p.as_str())).expect("a row").to_string();
    assert!(line.contains("STALE (synced 10m"), "{line}");
}

#[test]
fn inspect_all_prefixes_big_segments_on_redis() {
    let all = |args: &[&str]| {
        let mut c = ldstore();
        c.args(args).args(["--redis", &redis_addr()]);
        c
    };
    let one = |args: &[&str], p: &str| {
        let mut c = ldstore();
        c.args(args).args(["--redis", &redis_addr(), "--prefix", p]);
        c
    };
    inspect_all_shows_big_segments_status(&all, &one, &redis_config());
}

#[test]
fn inspect_all_prefixes_big_segments_on_dynamodb() {
    let table = crate::support::ddb::new_table("bigseg-all");
    let all = |args: &[&str]| crate::support::ddb::ld_table(&table, args);
    let one = |args: &[&str], p: &str| {
        let mut c = crate::support::ddb::ld_table(&table, args);
        c.args(["--prefix", p]);
        c
    };
    inspect_all_shows_big_segments_status(&all, &one, &dynamodb_config(&table));
}

/// A context hash a dump names twice, in batches far apart, is refused before anything is written
/// (exit 4, naming it), on Redis (whose flag data is written while the file is read) and on
/// DynamoDB (where batches in flight together would leave either membership), real run and dry
/// run; the file without the second one writes every context, in several batches at once.
#[test]
fn a_context_named_twice_in_a_dump_is_refused() {
    let table = crate::support::ddb::new_table("bigseg-twice");
    let p = unique_prefix("bigseg-twice");
    let twice = context_hash("user-7");
    let members: Vec<String> =
        (0..4500).map(|i| format!(r#""{}":{{"included":["beta.g2"]}}"#, context_hash(&format!("user-{i}")))).collect();
    let dump = |members: &[String]| {
        format!(
            r#"{},"bigSegments":{{"synchronizedOn":"1700000000123","cursor":"9","memberships":{{{}}}}}}}"#,
            big_flag_file().trim_end().strip_suffix('}').unwrap(),
            members.join(",")
        )
    };
    let mut doubled = members.clone();
    doubled.push(format!(r#""{twice}":{{"included":["beta.g1"],"excluded":["kinded.g1"]}}"#));
    let (_f, bad) = temp_file("dump.json", &dump(&doubled));
    let (_g, good) = temp_file("dump.json", &dump(&members));
    let redis = |args: &[&str]| {
        let mut c = ldstore();
        c.args(args).args(["--redis", &redis_addr(), "--prefix", &p]);
        c
    };
    let dynamo = |args: &[&str]| crate::support::ddb::ld_table(&table, &[args, &["--prefix", &p]].concat());
    for (cli, cfg) in
        [(&redis as &dyn Fn(&[&str]) -> std::process::Command, redis_config()), (&dynamo, dynamodb_config(&table))]
    {
        let before = run(&mut cli(&["dump"]));
        for dry in [true, false] {
            let mut args = vec!["sync", "--from-file", bad.to_str().unwrap()];
            if dry {
                args.push("--dry-run");
            }
            let o = run(&mut cli(&args));
            assert_code(&o, 4);
            let line = format!("\"bigSegments\": memberships: the context hash \"{twice}\" is given twice");
            assert!(stderr(&o).contains(&line), "{}", stderr(&o));
            let after = run(&mut cli(&["dump"]));
            assert_eq!(
                (after.status.code(), stdout(&after)),
                (before.status.code(), stdout(&before)),
                "nothing written"
            );
        }
        assert_code(&run(&mut cli(&["sync", "--from-file", good.to_str().unwrap()])), 0);
        let all = all_memberships(&cfg, &p);
        assert_eq!(all.len(), 4500);
        assert!(all.iter().all(|(_, m)| *m == Membership::new(["beta.g2"], [])));
        runtime().block_on(async {
            let meta = open(&cfg).await.big_segments().unwrap().metadata(&p).await.unwrap();
            assert_eq!(meta, Metadata { synchronized_on: Some("1700000000123".into()), cursor: Some("9".into()) });
        });
    }
}

/// `sync --dry-run` of a dump with Big Segments, and of a store prefix holding them, says what the
/// real run would do to them (contexts written, contexts only the destination holds removed, the
/// metadata), in the same counts the real run then reports, and writes nothing; into Consul, which
/// holds none, it is refused as the real run is.
#[test]
fn dry_run_says_what_would_become_of_the_big_segments() {
    let table = crate::support::ddb::new_table("bigseg-dry");
    let p = unique_prefix("bigseg-dry");
    let (keep, old, new, empty) = (context_hash("keep"), context_hash("old"), context_hash("new"), context_hash("e"));
    let text = format!(
        r#"{},"bigSegments":{{"synchronizedOn":"1700000000123","cursor":"9","memberships":{{"{keep}":{{"included":["beta.g2"]}},"{new}":{{"excluded":["beta.g2"]}},"{empty}":{{}}}}}}}}"#,
        big_flag_file().trim_end().strip_suffix('}').unwrap(),
    );
    let (_f, dump) = temp_file("dump.json", &text);
    let (_g, flags) = temp_file("flags.json", &big_flag_file());
    let redis = |args: &[&str]| {
        let mut c = ldstore();
        c.args(args).args(["--redis", &redis_addr(), "--prefix", &p]);
        c
    };
    let dynamo = |args: &[&str]| crate::support::ddb::ld_table(&table, &[args, &["--prefix", &p]].concat());
    let want = json!({"contexts": 2, "removed": 1, "metadata": {"synchronized_on": "1700000000123", "cursor": "9"}});
    for (cli, cfg) in
        [(&redis as &dyn Fn(&[&str]) -> std::process::Command, redis_config()), (&dynamo, dynamodb_config(&table))]
    {
        assert_code(&run(&mut cli(&["sync", "--from-file", flags.to_str().unwrap()])), 0);
        runtime().block_on(async {
            let s = open(&cfg).await;
            let ms = [(keep.clone(), Membership::new(["beta.g2"], [])), (old.clone(), Membership::new(["x.g1"], []))];
            s.big_segments().unwrap().write_memberships(&p, &ms).await.unwrap();
        });
        let before = stdout(&run(&mut cli(&["dump"])));
        let o = run(&mut cli(&["sync", "--from-file", dump.to_str().unwrap(), "--dry-run", "--output", "json"]));
        assert_code(&o, 0);
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["big_segments"], want, "{v}");
        let o = run(&mut cli(&["sync", "--from-file", dump.to_str().unwrap(), "--dry-run"]));
        assert_code(&o, 0);
        let line = "dry run: Big Segments: the memberships of 2 contexts would be written (1 only the destination holds removed) and the sync time 1700000000123 and cursor 9 (nothing written)";
        assert!(stdout(&o).contains(line), "{}", stdout(&o));
        assert_eq!(stdout(&run(&mut cli(&["dump"]))), before, "nothing written");
        // The real run does what the dry run said.
        let o = run(&mut cli(&["sync", "--from-file", dump.to_str().unwrap(), "--output", "json"]));
        assert_code(&o, 0);
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["big_segments"], want, "{v}");
        // A dump without Big Segments: none planned.
        let o = run(&mut cli(&["sync", "--from-file", flags.to_str().unwrap(), "--dry-run", "--output", "json"]));
        assert_code(&o, 0);
        assert_eq!(serde_json::from_str::<Value>(&stdout(&o)).unwrap()["big_segments"], Value::Null);
    }
    // Store to store: the Redis prefix (now the dump's) into a DynamoDB prefix holding one other context.
    let d = unique_prefix("bigseg-dry-d");
    runtime().block_on(async {
        let s = open(&dynamodb_config(&table)).await;
        let ms = [(old.clone(), Membership::new(["x.g1"], []))];
        s.big_segments().unwrap().write_memberships(&d, &ms).await.unwrap();
    });
    let from_redis = format!("redis://{}?prefix={p}", redis_addr());
    let o = run(&mut crate::support::ddb::ld_table(
        &table,
        &["sync", "--from", &from_redis, "--prefix", &d, "--dry-run", "--output", "json"],
    ));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["big_segments"], want, "{v}");
    assert_eq!(all_memberships(&dynamodb_config(&table), &d), vec![(old.clone(), Membership::new(["x.g1"], []))]);
    // Into Consul: refused, as the real run.
    let t = crate::consul::Target::local();
    let c = unique_prefix("bigseg-dry-c");
    let dry = run(t.cmd(&["sync", "--from", &from_redis, "--dry-run"]).args(["--prefix", &c]));
    let real = run(t.cmd(&["sync", "--from", &from_redis]).args(["--prefix", &c]));
    assert_eq!(dry.status.code(), real.status.code(), "{}\n{}", stderr(&dry), stderr(&real));
    assert_ne!(dry.status.code(), Some(0));
    assert!(stderr(&dry).contains("Consul holds no Big Segments"), "{}", stderr(&dry));
}
