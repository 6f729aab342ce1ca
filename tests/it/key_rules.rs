//! Prefixes and item keys a store cannot hold and read back as themselves are refused (exit 2,
//! naming the rule) before anything is written or read, per store; the rules are the servers' own
//! (the in-process Consul server behaves as Consul's HTTP server does; DynamoDB Local's limits are
//! checked directly). Keys within the rules round-trip exactly.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::consul_server::{self, ConsulServer};
use crate::support::ddb::{self, ld, ld_table, new_table, scan};
use crate::support::ld_server::{LdServer, sse};
use crate::support::*;

const KEY: &str = "sdk-11111111-2222-3333-4444-5555555500bb";
const KEY2: &str = "sdk-11111111-2222-3333-4444-5555555500cc";

fn flag(key: &str, version: u64) -> Value {
    json!({"key": key, "version": version, "on": true, "variations": [true, false], "offVariation": 1,
           "fallthrough": {"variation": 0}, "salt": "s"})
}

/// `good-0` … `good-{n-1}` (version `v`) plus flags and segments with the given keys.
fn data_set(n: usize, v: u64, flags: &[&str], segments: &[&str]) -> Value {
    let mut f = serde_json::Map::new();
    for i in 0..n {
        let k = format!("good-{i}");
        f.insert(k.clone(), flag(&k, v));
    }
    for k in flags {
        f.insert(k.to_string(), flag(k, v));
    }
    let s: serde_json::Map<String, Value> =
        segments.iter().map(|k| (k.to_string(), json!({"key": k, "version": v, "included": ["u"]}))).collect();
    json!({"flags": f, "segments": s})
}

fn file_of(v: &Value) -> (tempfile::TempDir, std::path::PathBuf) {
    temp_file("flags.json", &v.to_string())
}

fn consul(server: &ConsulServer, args: &[&str]) -> Output {
    run(ldstore().args(args).args(["--consul", &server.url()]))
}

fn json_of(o: &Output) -> Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// Percent-encode a query value.
fn query_value(v: &str) -> String {
    v.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Consul prefixes the store cannot hold, with a fragment of the rule each breaks.
const BAD_CONSUL_PATHS: &[(&str, &str)] = &[
    ("/", "starts with \"/\""),
    ("/p", "starts with \"/\""),
    ("p/", "ends with \"/\""),
    ("a//b", "holds \"//\""),
    (".", "a \".\" segment"),
    ("..", "a \"..\" segment"),
    ("a/./b", "a \".\" segment"),
    ("a/../b", "a \"..\" segment"),
    ("x/..", "a \"..\" segment"),
    ("tab\there", "U+0009"),
    ("line\nbreak", "U+000A"),
    ("nb\u{a0}sp", "U+00A0"),
    ("zero\u{200b}width", "U+200B"),
];

#[test]
fn consul_prefixes_that_cannot_be_read_back_are_exit_2_before_anything_connects() {
    let server = ConsulServer::start();
    let (_d, file) = file_of(&data_set(3, 1, &[], &[]));
    let file = file.to_str().unwrap();
    for (prefix, rule) in BAD_CONSUL_PATHS {
        let context = r#"{"kind":"user","key":"u"}"#;
        let source = format!("consul://{}?prefix={}", server.addr, query_value(prefix));
        for args in [
            vec!["sync", "--from-file", file, "--prefix", prefix],
            vec!["sync", "--dry-run", "--from-file", file, "--prefix", prefix],
            vec!["dump", "--prefix", prefix],
            vec!["inspect", "--prefix", prefix],
            vec!["validate", "--prefix", prefix],
            vec!["eval", "--flag", "good-0", "--context", context, "--prefix", prefix],
        ] {
            let o = consul(&server, &args);
            assert_code(&o, 2);
            let err = stderr(&o);
            assert!(err.starts_with("ldstore: error: Consul cannot hold the prefix "), "{args:?}: {err}");
            assert!(err.contains(rule), "{args:?}: {err}");
        }
        // As a source, too.
        let o = run(ldstore().args(["sync", "--from", &source, "--redis", "127.0.0.1:1", "--prefix", "x"]));
        assert_code(&o, 2);
        assert!(stderr(&o).contains(rule), "{}", stderr(&o));
        let o = run(ldstore().args(["diff", &source, file]));
        assert_code(&o, 2);
        assert!(stderr(&o).contains("Consul cannot hold the prefix"), "{}", stderr(&o));
    }
    // Refused before connecting: Consul never heard of any of it.
    assert_eq!(server.counters().requests, 0);
    assert!(server.snapshot().is_empty());
}

#[test]
fn consul_item_keys_that_cannot_be_read_back_are_exit_2_and_nothing_is_written() {
    let server = ConsulServer::start();
    let p = unique_prefix("consul-keys");
    let (_d, before) = file_of(&data_set(3, 1, &[], &[]));
    assert_code(&consul(&server, &["sync", "--from-file", before.to_str().unwrap(), "--prefix", &p]), 0);
    let stored = server.snapshot();
    let mut cases: Vec<(&str, &str, &str)> = vec![("", "it is empty", "flag")];
    cases.extend(BAD_CONSUL_PATHS.iter().map(|(k, rule)| (*k, *rule, "flag")));
    cases.push(("", "it is empty", "segment"));
    cases.push(("s//t", "holds \"//\"", "segment"));
    for (key, rule, kind) in cases {
        let (flags, segments): (Vec<&str>, Vec<&str>) =
            if kind == "flag" { (vec![key], vec![]) } else { (vec![], vec![key]) };
        // Enough good items for several transactions: none of them may be written either.
        let (_d, file) = file_of(&data_set(150, 2, &flags, &segments));
        server.reset_counters();
        for dry in [false, true] {
            let mut args = vec!["sync", "--from-file", file.to_str().unwrap(), "--prefix", &p];
            if dry {
                args.push("--dry-run");
            }
            let o = consul(&server, &args);
            assert_code(&o, 2);
            let err = stderr(&o);
            assert!(
                err.starts_with("ldstore: error: Consul cannot hold an item key of this data set and read it back, so nothing was written: "),
                "{key:?}: {err}"
            );
            assert!(err.contains(&format!("{kind} \"{}\": ", key.escape_debug())), "{key:?}: {err}");
            assert!(err.contains(rule), "{key:?}: {err}");
        }
        assert!(server.counters().txns.is_empty(), "{key:?}: a transaction was sent");
        assert_eq!(server.snapshot().keys().collect::<Vec<_>>(), stored.keys().collect::<Vec<_>>(), "{key:?}");
    }
    // Several at once are all named (up to five, then counted).
    let (_d, file) = file_of(&data_set(1, 2, &["", "/a", "a/", ".", "..", "a//b", "x/./y"], &[]));
    let o = consul(&server, &["sync", "--from-file", file.to_str().unwrap(), "--prefix", &p]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("Consul cannot hold 7 item keys of this data set"), "{}", stderr(&o));
    assert!(stderr(&o).contains("; and 2 more"), "{}", stderr(&o));
}

#[test]
fn consul_keys_and_prefixes_within_the_rules_round_trip() {
    let server = ConsulServer::start();
    let keys = [
        "a/b",
        "a.b",
        "..a",
        "a..",
        ".hidden",
        "x y",
        "ä",
        "%2e",
        "a%2Fb",
        "$inited",
        "semi;colon?q=1#frag",
        "🚀",
        "deep/er/still",
    ];
    for prefix in ["team/prod.v2", "x y", "..p"] {
        let data = data_set(2, 1, &keys, &["seg/ment", "..."]);
        let (_d, file) = file_of(&data);
        assert_code(&consul(&server, &["sync", "--from-file", file.to_str().unwrap(), "--prefix", prefix]), 0);
        let o = consul(&server, &["dump", "--prefix", prefix]);
        assert_code(&o, 0);
        assert_eq!(json_of(&o), data, "prefix {prefix:?}");
        let o = consul(&server, &["validate", "--prefix", prefix, "--output", "json"]);
        assert!(!stdout(&o).contains("not-initialized"), "{}", stdout(&o));
    }
}

#[test]
fn the_test_server_treats_key_paths_as_consuls_http_server_does() {
    // Keys only /v1/txn can write as given: through /v1/kv/ Consul's Go HTTP server redirects an
    // unclean path to another key (301) and refuses a path that is not printable (400).
    let server = ConsulServer::start();
    let url = server.url();
    let keys =
        ["p/features/good", "p/features/a//b", "//features/x", "p/features/.", "p/features/a/../b", "p/features/t\tab"];
    let ops: Vec<Value> =
        keys.iter().map(|k| json!({"KV": {"Verb": "set", "Key": k, "Value": "eyJ2ZXJzaW9uIjoxfQ=="}})).collect();
    let (status, body) = consul_server::http(&url, "PUT", "/v1/txn", json!(ops).to_string().as_bytes(), None);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(server.snapshot().len(), keys.len(), "txn writes every key as given");
    let get = |path: &str| consul_server::http(&url, "GET", path, b"", None).0;
    assert_eq!(get("/v1/kv/p/features/good"), 200);
    assert_eq!(get("/v1/kv/p/features/a//b"), 301);
    assert_eq!(get("/v1/kv//features/x"), 301);
    assert_eq!(get("/v1/kv/p/features/."), 301);
    assert_eq!(get("/v1/kv/p/features/a/../b"), 301);
    assert_eq!(get("/v1/kv/p/features/t%09ab"), 400);
    // A trailing slash is kept (a folder listing), as Go's cleanPath keeps it.
    assert_eq!(get("/v1/kv/p/features/?keys"), 200);
    // A PUT is redirected too: HTTP clients then GET the other key, and nothing is written.
    let (status, _) = consul_server::http(&url, "PUT", "/v1/kv/q//x", b"v", None);
    assert_eq!(status, 301);
    assert!(!server.snapshot().keys().any(|k| k.starts_with("q")));
}

/// Put one typed item into a DynamoDB Local table; the error text when DynamoDB refuses it.
fn ddb_try_put(table: &str, item: &Value) -> Result<(), String> {
    use std::io::Write;
    let mut child = Command::new("python3")
        .arg(repo_path("tests/interop/ddb_tool.py"))
        .args(["put", table, "-"])
        .env("LDSTORE_TEST_DYNAMODB", ddb::endpoint())
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("python3 must be installed");
    child.stdin.take().unwrap().write_all(item.to_string().as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    if o.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&o.stderr).into_owned()) }
}

#[test]
fn dynamodb_limits_are_dynamodb_locals_own() {
    let table = new_table("ddb-limits");
    let row = |ns: &str, key: &str| json!({"namespace": {"S": ns}, "key": {"S": key}});
    assert_eq!(ddb_try_put(&table, &row("p:features", &"k".repeat(1024))), Ok(()));
    assert_eq!(ddb_try_put(&table, &row("p:features", &"é".repeat(512))), Ok(()));
    let e = ddb_try_put(&table, &row("p:features", &"k".repeat(1025))).unwrap_err();
    assert!(e.contains("range primary key values must be under 1024 bytes"), "{e}");
    let e = ddb_try_put(&table, &row("p:features", &format!("{}a", "é".repeat(512)))).unwrap_err();
    assert!(e.contains("range primary key values must be under 1024 bytes"), "{e}");
    let e = ddb_try_put(&table, &row("p:features", "")).unwrap_err();
    assert!(e.contains("cannot contain an empty string value"), "{e}");
    let longest = format!("{}:big_segments_metadata", "p".repeat(1002));
    assert_eq!(ddb_try_put(&table, &row(&longest, &longest)), Ok(()));
    let too_long = format!("{}:big_segments_metadata", "p".repeat(1003));
    assert!(ddb_try_put(&table, &row(&too_long, &too_long)).is_err());
}

#[test]
fn dynamodb_keys_and_prefixes_beyond_its_limits_are_exit_2_and_nothing_is_written() {
    let table = new_table("ddb-keys");
    let long_ascii = "k".repeat(1025);
    let long_utf8 = format!("{}a", "é".repeat(512));
    for (key, rule) in [
        ("", "it is empty (DynamoDB key attributes cannot be empty strings)"),
        (long_ascii.as_str(), "it has 1025 bytes (DynamoDB sort keys hold at most 1024 bytes)"),
        (long_utf8.as_str(), "it has 1025 bytes"),
    ] {
        // Many good items (several batches in flight) and one that DynamoDB refuses.
        let (_d, file) = file_of(&data_set(200, 1, &[key], &[]));
        for dry in [false, true] {
            let mut c = ld_table(&table, &["sync", "--from-file", file.to_str().unwrap(), "--prefix", "p"]);
            if dry {
                c.arg("--dry-run");
            }
            let o = run(&mut c);
            assert_code(&o, 2);
            assert!(stderr(&o).contains("DynamoDB cannot hold an item key of this data set"), "{}", stderr(&o));
            assert!(stderr(&o).contains(rule), "{}", stderr(&o));
        }
        assert!(scan(&table).is_empty(), "something was written for {key:?}");
    }
    // The longest prefix ldstore can use (1,002 bytes) and the longest key (1,024 bytes) round-trip.
    let prefix = "p".repeat(1002);
    let longest = "k".repeat(1024);
    let data = data_set(2, 1, &[&longest, &"é".repeat(512)], &[]);
    let (_d, file) = file_of(&data);
    assert_code(&run(&mut ld_table(&table, &["sync", "--from-file", file.to_str().unwrap(), "--prefix", &prefix])), 0);
    let o = run(&mut ld_table(&table, &["dump", "--prefix", &prefix]));
    assert_code(&o, 0);
    assert_eq!(json_of(&o), data);
    assert_code(&run(&mut ld_table(&table, &["inspect", "--prefix", &prefix])), 0);
    // One byte more is refused by every command, before DynamoDB is asked.
    let prefix = "p".repeat(1003);
    for args in [
        vec!["sync", "--from-file", file.to_str().unwrap(), "--prefix", &prefix],
        vec!["dump", "--prefix", &prefix],
        vec!["inspect", "--prefix", &prefix],
        vec!["validate", "--prefix", &prefix],
    ] {
        let o = run(&mut ld_table(&table, &args));
        assert_code(&o, 2);
        let err = stderr(&o);
        assert!(err.starts_with("ldstore: error: DynamoDB cannot hold the prefix \"ppppp"), "{args:?}: {err}");
        assert!(
            err.contains("…\" (1003 bytes) and read it back: it has 1003 bytes, and at most 1002 fit"),
            "{args:?}: {err}"
        );
    }
    let source = format!("dynamodb://{table}?prefix={prefix}&endpoint={}", ddb::endpoint());
    let o = run(ld().args(["diff", &source, file.to_str().unwrap()]));
    assert_code(&o, 2);
}

#[test]
fn redis_holds_any_key() {
    let p = unique_prefix("redis-any");
    let data = data_set(1, 1, &["", "a//b", "/", "..", "line\nbreak", "nb\u{a0}sp"], &[""]);
    let (_d, file) = file_of(&data);
    let redis = redis_addr();
    assert_code(
        &run(ldstore().args(["sync", "--from-file", file.to_str().unwrap(), "--redis", &redis, "--prefix", &p])),
        0,
    );
    let o = run(ldstore().args(["dump", "--redis", &redis, "--prefix", &p]));
    assert_code(&o, 0);
    assert_eq!(json_of(&o), data);
    for prefix in ["/", "a//b", "..", "x/"] {
        let p2 = format!("{p}{prefix}");
        assert_code(
            &run(ldstore().args(["sync", "--from-file", file.to_str().unwrap(), "--redis", &redis, "--prefix", &p2])),
            0,
        );
        let o = run(ldstore().args(["dump", "--redis", &redis, "--prefix", &p2]));
        assert_eq!(json_of(&o), data, "{p2:?}");
    }
}

fn put_body(flags: &[(&str, u64)]) -> String {
    let f: serde_json::Map<String, Value> = flags.iter().map(|(k, v)| (k.to_string(), flag(k, *v))).collect();
    json!({"flags": f, "segments": {}}).to_string()
}

fn patch(key: &str, version: u64) -> String {
    sse("patch", &json!({"path": format!("/flags/{key}"), "data": flag(key, version)}).to_string())
}

#[track_caller]
fn wait_for(what: &str, log: &std::path::Path, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(20);
    while !cond() {
        let log = std::fs::read_to_string(log).unwrap_or_default();
        assert!(Instant::now() < end, "timed out waiting for {what}\n--- relay log\n{log}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn relay_skips_items_consul_cannot_hold_and_refuses_such_a_prefix() {
    let consul = ConsulServer::start();
    let ld = LdServer::start();
    ld.env(KEY, &put_body(&[("good", 1), ("a//b", 1), ("", 1)]));
    let p = unique_prefix("relay-keys");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("relay.log");
    let mut child = ldstore()
        .args(["relay", "--stream-uri", &ld.uri, "--consul", &consul.url(), "--prefix", &p])
        .env("LD_SDK_KEY", KEY)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let stored = |k: &str| consul.snapshot().get(&format!("{p}/features/{k}")).map(|e| e.value.clone());
    wait_for("the put", &log, || consul.snapshot().contains_key(&format!("{p}/$inited")));
    assert!(stored("good").is_some());
    assert_eq!(consul.snapshot().len(), 2, "only the good flag and the marker: {:?}", consul.snapshot().keys());
    // Patches: one the store cannot hold (skipped, said), then a good one (applied).
    assert_eq!(ld.push(&patch("x/../y", 2)), 1);
    assert_eq!(ld.push(&patch("good", 2)), 1);
    wait_for("the good patch", &log, || {
        stored("good").is_some_and(|v| String::from_utf8_lossy(&v).contains("\"version\":2"))
    });
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    for key in ["a//b", "", "x/../y"] {
        assert!(
            text.contains(&format!(
                "ERROR [default] skipping flag \"{key}\": Consul cannot hold its key and read it back: "
            )),
            "{key:?}\n{text}"
        );
    }
    assert_eq!(consul.snapshot().len(), 2, "{:?}", consul.snapshot().keys());

    // A prefix Consul cannot hold: exit 2 at once.
    let o = run(ldstore()
        .args(["relay", "--stream-uri", &ld.uri, "--consul", &consul.url(), "--prefix", "x/"])
        .env("LD_SDK_KEY", KEY));
    assert_code(&o, 2);
    assert!(stderr(&o).contains("Consul cannot hold the prefix \"x/\""), "{}", stderr(&o));
}

#[test]
fn many_environments_each_checked_against_the_store_rules() {
    let consul = ConsulServer::start();
    let ld = LdServer::start();
    ld.env(KEY, &put_body(&[("good", 1)]));
    ld.env(KEY2, &put_body(&[("good", 1), ("a//b", 1)]));
    let (a, b, c) = (unique_prefix("env-ok"), unique_prefix("env-badkey"), "bad//prefix");
    let conf = format!(
        "[Main]\nbaseUri = {uri}\n[Consul]\nhost = {host}\n\
         [Environment \"Ok\"]\nsdkKey = {KEY}\nprefix = {a}\n\
         [Environment \"BadKey\"]\nsdkKey = {KEY2}\nprefix = {b}\n\
         [Environment \"BadPrefix\"]\nsdkKey = {KEY}\nprefix = {c}\n",
        uri = ld.uri,
        host = consul.url()
    );
    let (_dir, path) = temp_file("relay.conf", &conf);
    let o = run(ldstore().args(["sync", "--output", "json", "--config"]).arg(&path));
    assert_code(&o, 2);
    let rows = json_of(&o);
    let by_name = |n: &str| rows.as_array().unwrap().iter().find(|r| r["environment"] == n).expect(n).clone();
    assert_eq!(by_name("Ok")["status"], "ok");
    assert_eq!(by_name("BadKey")["exit_code"], 2);
    assert!(by_name("BadKey")["error"].as_str().unwrap().contains("flag \"a//b\": it holds \"//\""), "{rows}");
    assert_eq!(by_name("BadPrefix")["exit_code"], 2);
    assert!(
        by_name("BadPrefix")["error"].as_str().unwrap().contains("cannot hold the prefix \"bad//prefix\""),
        "{rows}"
    );
    let keys: Vec<String> = consul.snapshot().keys().cloned().collect();
    assert!(keys.iter().any(|k| k == &format!("{a}/features/good")), "{keys:?}");
    assert!(!keys.iter().any(|k| k.starts_with(&b) || k.starts_with("bad")), "{keys:?}");
}
