//! DynamoDB backend and `ldstore dynamodb create-table/check-table`, against the real DynamoDB Local
//! started by scripts/test (LDSTORE_TEST_DYNAMODB). Each test uses its own table.
//! The store-contract scenarios every backend shares (layout, round trip, re-sync, sibling prefix,
//! tombstones, upsert, marker order, failed init) are in conformance.rs.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::support::ddb::{endpoint, ld, ld_table, new_table, put, row, scan, tool, unique_table};
use crate::support::{assert_code, redis_addr, run, stderr, stdout, temp_file, unique_prefix};

fn flag(key: &str, version: u64, extra: Value) -> Value {
    let mut f = json!({
        "key": key, "version": version, "on": true, "salt": format!("salt-{key}"),
        "prerequisites": [], "targets": [], "contextTargets": [], "rules": [],
        "fallthrough": {"variation": 0}, "offVariation": 1, "variations": [true, false],
        "trackEvents": false, "trackEventsFallthrough": false, "debugEventsUntilDate": null,
        "clientSide": false, "deleted": false
    });
    if let (Some(o), Value::Object(e)) = (f.as_object_mut(), extra) {
        o.extend(e);
    }
    f
}

fn segment(key: &str, version: u64) -> Value {
    json!({"key": key, "version": version, "included": ["u1"], "excluded": [], "includedContexts": [],
           "excludedContexts": [], "rules": [], "salt": format!("salt-{key}"), "deleted": false})
}

fn data(flags: &[Value], segments: &[Value]) -> Value {
    let m =
        |v: &[Value]| v.iter().map(|i| (i["key"].as_str().unwrap().to_string(), i.clone())).collect::<BTreeMap<_, _>>();
    json!({"flags": m(flags), "segments": m(segments)})
}

/// Sync `data` into `table` under `prefix` (None = no --prefix); returns the output.
fn sync(table: &str, prefix: Option<&str>, data: &Value) -> std::process::Output {
    let (_dir, path) = temp_file("flags.json", &data.to_string());
    let mut c = ld_table(table, &["sync", "--from-file", path.to_str().unwrap()]);
    if let Some(p) = prefix {
        c.args(["--prefix", p]);
    }
    run(&mut c)
}

fn dump(table: &str, prefix: Option<&str>, extra: &[&str]) -> Value {
    let mut c = ld_table(table, &["dump"]);
    c.args(extra);
    if let Some(p) = prefix {
        c.args(["--prefix", p]);
    }
    let o = run(&mut c);
    assert_code(&o, 0);
    serde_json::from_str(&stdout(&o)).expect("dump is JSON")
}

fn s(v: &Value, attr: &str) -> String {
    v[attr]["S"].as_str().unwrap_or_else(|| panic!("{attr} is not S in {v}")).to_string()
}

/// Rows of one namespace, by key.
fn rows_in(rows: &[Value], ns: &str) -> BTreeMap<String, Value> {
    rows.iter().filter(|r| s(r, "namespace") == ns).map(|r| (s(r, "key"), r.clone())).collect()
}

#[test]
fn create_table_then_check_it_and_if_not_exists_is_idempotent() {
    let t = unique_table("create");
    let e = endpoint();
    let o = run(ld().args(["dynamodb", "create-table", "--table", &t, "--dynamodb-endpoint", &e, "--output", "json"]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["created"], true);
    assert_eq!(v["status"], "ACTIVE");
    assert_eq!(v["billing_mode"], "PAY_PER_REQUEST");

    let o = run(ld().args(["dynamodb", "check-table", "--table", &t, "--dynamodb-endpoint", &e, "--output", "json"]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["schema_ok"], true);
    assert_eq!(v["status"], "ACTIVE");
    assert_eq!(v["billing_mode"], "PAY_PER_REQUEST");
    assert_eq!(v["item_count"], 0);
    assert_eq!(v["prefixes"], json!([]));

    // Without --if-not-exists an existing table is an error that says so.
    let o = run(ld().args(["dynamodb", "create-table", "--table", &t, "--dynamodb-endpoint", &e]));
    assert_code(&o, 3);
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert!(stderr(&o).contains("--if-not-exists"), "{}", stderr(&o));

    // With it, the same table is success (twice).
    for _ in 0..2 {
        let o =
            run(ld().args(["dynamodb", "create-table", "--table", &t, "--dynamodb-endpoint", &e, "--if-not-exists"]));
        assert_code(&o, 0);
        assert!(stdout(&o).contains("already exists with the right key schema"), "{}", stdout(&o));
    }

    // check-table reports the prefixes once there is data; the table view names them.
    assert_code(&sync(&t, Some("prod"), &data(&[flag("f", 1, json!({}))], &[])), 0);
    assert_code(&sync(&t, None, &data(&[flag("f", 1, json!({}))], &[])), 0);
    let o = run(ld().args(["dynamodb", "check-table", "--table", &t, "--dynamodb-endpoint", &e]));
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(out.contains("ACTIVE") && out.contains("on-demand"), "{out}");
    assert!(out.contains("\"\", \"prod\""), "{out}");
    assert!(out.contains("ok: partition key \"namespace\" (S, HASH) and sort key \"key\" (S, RANGE)"), "{out}");
}

#[test]
fn create_table_provisioned_with_tags_and_bad_options() {
    let t = unique_table("prov");
    let e = endpoint();
    let o = run(ld().args([
        "dynamodb",
        "create-table",
        "--table",
        &t,
        "--dynamodb-endpoint",
        &e,
        "--billing",
        "provisioned",
        "--read-capacity",
        "5",
        "--write-capacity",
        "7",
        "--tag",
        "team=web",
        "--tag",
        "env=test",
        "--no-wait",
    ]));
    assert_code(&o, 0);
    let o = run(ld().args(["dynamodb", "check-table", "--table", &t, "--dynamodb-endpoint", &e, "--output", "json"]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["billing_mode"], "PROVISIONED");
    assert_eq!(v["read_capacity"], 5);
    assert_eq!(v["write_capacity"], 7);

    let bad: [&[&str]; 4] = [
        &["--billing", "provisioned"],
        &["--billing", "provisioned", "--read-capacity", "5"],
        &["--read-capacity", "5", "--write-capacity", "5"],
        &["--tag", "novalue"],
    ];
    for extra in bad {
        let t2 = unique_table("bad");
        let mut c = ld();
        c.args(["dynamodb", "create-table", "--table", &t2, "--dynamodb-endpoint", &e]).args(extra);
        let o = run(&mut c);
        assert_code(&o, 2);
        // Nothing was created.
        let o = run(ld().args(["dynamodb", "check-table", "--table", &t2, "--dynamodb-endpoint", &e]));
        assert_code(&o, 3);
    }
}

#[test]
fn wrong_key_schema_is_named_with_what_it_must_be() {
    let t = unique_table("wrong");
    let e = endpoint();
    tool(&["create-hash-only", &t]);
    let must = "it must have partition key \"namespace\" (S, HASH) and sort key \"key\" (S, RANGE)";

    let o = run(ld().args(["dynamodb", "create-table", "--table", &t, "--dynamodb-endpoint", &e, "--if-not-exists"]));
    assert_code(&o, 3);
    let err = stderr(&o);
    assert!(err.contains("partition key \"key\" (S) and no sort key"), "{err}");
    assert!(err.contains(must), "{err}");

    let o = run(ld().args(["dynamodb", "create-table", "--table", &t, "--dynamodb-endpoint", &e]));
    assert_code(&o, 3);
    assert!(stderr(&o).contains("already exists") && stderr(&o).contains(must), "{}", stderr(&o));

    let o = run(ld().args(["dynamodb", "check-table", "--table", &t, "--dynamodb-endpoint", &e, "--output", "json"]));
    assert_code(&o, 3);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["schema_ok"], false);
    assert!(v["schema_problem"].as_str().unwrap().contains(must));
    assert!(stderr(&o).contains(must));

    // Writing to it is a store error pointing at check-table; nothing is written.
    let o = sync(&t, Some("p"), &data(&[flag("f", 1, json!({}))], &[]));
    assert_code(&o, 3);
    assert!(stderr(&o).contains("check-table --table"), "{}", stderr(&o));
    assert!(scan(&t).is_empty());
}

#[test]
fn missing_table_and_unreachable_endpoint_are_clear_store_errors() {
    let t = unique_table("missing");
    let o = run(&mut ld_table(&t, &["dump", "--prefix", "p"]));
    assert_code(&o, 3);
    let err = stderr(&o);
    assert!(err.contains(&format!("DynamoDB table \"{t}\" does not exist")), "{err}");
    assert!(err.contains(&format!("ldstore dynamodb create-table --table {t}")), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let o = run(ld().args([
        "dump",
        "--dynamodb",
        &t,
        "--dynamodb-endpoint",
        "http://127.0.0.1:1",
        "--store-timeout",
        "3s",
    ]));
    assert_code(&o, 3);
    let err = stderr(&o);
    assert!(err.contains("cannot connect to DynamoDB at http://127.0.0.1:1"), "{err}");
    assert!(!err.contains("DispatchFailure {") && !err.contains("ConnectorError {"), "no debug dumps: {err}");
    assert!(err.contains("hint: check the endpoint"), "{err}");

    let o = run(ld().args(["dynamodb", "check-table", "--table", &t, "--dynamodb-endpoint", &endpoint()]));
    assert_code(&o, 3);
    assert!(stderr(&o).contains("create-table --table"), "{}", stderr(&o));
}

#[test]
fn layout_of_every_item_written() {
    let t = new_table("layout");
    let flags = [
        flag(
            "a-flag",
            7,
            json!({"rules": [{"id": "r1", "clauses": [{"attribute": "email", "op": "endsWith", "values": ["@x.com"], "negate": false}], "variation": 1, "trackEvents": false}], "futureField": {"kept": true}}),
        ),
        flag("b-flag", 2, json!({"prerequisites": [{"key": "a-flag", "variation": 0}]})),
    ];
    let segments = [segment("seg", 3)];
    for prefix in [Some("prod"), None] {
        assert_code(&sync(&t, prefix, &data(&flags, &segments)), 0);
    }
    let rows = scan(&t);
    assert_eq!(rows.len(), 2 * 4, "{rows:#?}");
    for (p, ns) in [("prod:", "prod"), ("", "")] {
        let _ = ns;
        let marker = format!("{p}$inited");
        let m = rows_in(&rows, &marker);
        assert_eq!(m.len(), 1);
        // The marker has exactly the two key attributes, both equal to `[p:]$inited`.
        assert_eq!(m[&marker], json!({"namespace": {"S": marker}, "key": {"S": marker}}));
        for (ns, items) in [(format!("{p}features"), &flags[..]), (format!("{p}segments"), &segments[..])] {
            let got = rows_in(&rows, &ns);
            assert_eq!(got.len(), items.len());
            for it in items {
                let key = it["key"].as_str().unwrap();
                let r = &got[key];
                let attrs: Vec<&String> = r.as_object().unwrap().keys().collect();
                let mut attrs: Vec<&str> = attrs.iter().map(|s| s.as_str()).collect();
                attrs.sort();
                // Exactly these attributes, never `deleted`.
                assert_eq!(attrs, ["item", "key", "namespace", "version"], "{r}");
                assert_eq!(r["version"], json!({"N": it["version"].to_string()}));
                let stored: Value = serde_json::from_str(&s(r, "item")).unwrap();
                assert_eq!(&stored, it, "item JSON kept whole (unknown fields too)");
            }
        }
    }
}

#[test]
fn resync_removes_stale_items_and_leaves_other_namespaces() {
    let t = new_table("stale");
    assert_code(
        &sync(&t, Some("p"), &data(&[flag("f1", 1, json!({})), flag("f2", 1, json!({}))], &[segment("s1", 1)])),
        0,
    );
    // Big Segments rows of the same prefix are not LaunchDarkly flag data: never touched.
    put(&t, &json!({"namespace": {"S": "p:big_segments_user"}, "key": {"S": "abc"}, "included": {"SS": ["seg.g1"]}}));
    assert_code(&sync(&t, Some("p"), &data(&[flag("f2", 2, json!({})), flag("f3", 1, json!({}))], &[])), 0);
    let rows = scan(&t);
    let keys = |ns: &str| rows_in(&rows, ns).keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys("p:features"), ["f2", "f3"]);
    assert!(keys("p:segments").is_empty());
    assert_eq!(keys("p:$inited"), ["p:$inited"]);
    assert_eq!(keys("p:big_segments_user"), ["abc"]);
    assert_eq!(rows_in(&rows, "p:features")["f2"]["version"], json!({"N": "2"}));
    let d = dump(&t, Some("p"), &[]);
    assert_eq!(d["flags"]["f2"]["version"], 2);
    assert!(d["flags"].get("f1").is_none());
}

#[test]
fn many_items_in_many_batches() {
    let t = new_table("many");
    let flags: Vec<Value> =
        (0..650).map(|i| flag(&format!("flag-{i:04}"), i + 1, json!({"description": "x".repeat(200)}))).collect();
    let segments: Vec<Value> = (0..40).map(|i| segment(&format!("seg-{i:03}"), 1)).collect();
    let o = sync(&t, Some("big"), &data(&flags, &segments));
    assert_code(&o, 0);
    let rows = scan(&t);
    assert_eq!(rows_in(&rows, "big:features").len(), 650);
    assert_eq!(rows_in(&rows, "big:segments").len(), 40);
    assert_eq!(rows_in(&rows, "big:$inited").len(), 1);
    let d = dump(&t, Some("big"), &[]);
    assert_eq!(d["flags"].as_object().unwrap().len(), 650);
    assert_eq!(d["flags"]["flag-0649"], flags[649]);
    // A smaller re-sync deletes the 600 stale keys, again in many batches.
    let o = sync(&t, Some("big"), &data(&flags[..50], &segments[..1]));
    assert_code(&o, 0);
    let rows = scan(&t);
    assert_eq!(rows_in(&rows, "big:features").len(), 50);
    assert_eq!(rows_in(&rows, "big:segments").len(), 1);
}

#[test]
fn an_item_over_400kb_is_skipped_and_named_with_exit_5() {
    let t = new_table("large");
    let big = flag("huge-flag", 1, json!({"variations": ["x".repeat(450 * 1024), "y"]}));
    let flags = vec![flag("small-1", 1, json!({})), big, flag("small-2", 1, json!({}))];
    let o = sync(&t, Some("p"), &data(&flags, &[segment("s", 1)]));
    assert_code(&o, 5);
    let err = stderr(&o);
    assert!(
        err.contains("The item \"huge-flag\" in \"p:features\" was too large to store in DynamoDB and was dropped"),
        "{err}"
    );
    // The summary counts what was written, not what the source held.
    assert!(err.contains("synced 2 of 3 flags and 1 segments ("), "{err}");
    assert!(err.contains("; 1 item skipped (named above)"), "{err}");
    let rows = scan(&t);
    assert_eq!(rows_in(&rows, "p:features").keys().collect::<Vec<_>>(), ["small-1", "small-2"]);
    assert_eq!(rows_in(&rows, "p:segments").len(), 1);
    assert_eq!(rows_in(&rows, "p:$inited").len(), 1, "the marker is written after the rest landed");

    // --output json names it too.
    let (_d, path) = temp_file("f.json", &data(&flags, &[]).to_string());
    let o =
        run(&mut ld_table(&t, &["sync", "--from-file", path.to_str().unwrap(), "--prefix", "p", "--output", "json"]));
    assert_code(&o, 5);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["skipped"][0]["key"], "huge-flag");
}

#[test]
fn prefixes_are_isolated_in_one_table_and_inspect_lists_them() {
    let t = new_table("iso");
    let a = data(&[flag("a", 1, json!({}))], &[segment("sa", 1)]);
    let b = data(&[flag("b", 2, json!({}))], &[]);
    let none = data(&[flag("n", 3, json!({}))], &[]);
    // `ab` must not be confused with `a` (a sibling whose name starts the same).
    let ab = data(&[flag("ab", 4, json!({}))], &[]);
    assert_code(&sync(&t, Some("a"), &a), 0);
    assert_code(&sync(&t, Some("b"), &b), 0);
    assert_code(&sync(&t, None, &none), 0);
    assert_code(&sync(&t, Some("ab"), &ab), 0);
    put(
        &t,
        &json!({"namespace": {"S": "b:big_segments_metadata"}, "key": {"S": "b:big_segments_metadata"},
                    "synchronizedOn": {"N": "1700000000000"}, "lastVersion": {"S": "v9"}}),
    );

    assert_eq!(dump(&t, Some("a"), &[]), a);
    // b's Big Segments metadata is dumped after its flag data.
    let mut got_b = dump(&t, Some("b"), &[]);
    assert_eq!(
        got_b.as_object_mut().unwrap().remove("bigSegments"),
        Some(json!({"synchronizedOn": "1700000000000", "cursor": "v9", "memberships": {}}))
    );
    assert_eq!(got_b, b);
    assert_eq!(dump(&t, None, &[]), none);
    assert_eq!(dump(&t, Some("ab"), &[]), ab);

    // Emptying one prefix (on purpose: --allow-empty) leaves the others whole.
    let (_e, empty) = temp_file("empty.json", &data(&[], &[]).to_string());
    let o = run(&mut ld_table(&t, &["sync", "--allow-empty", "--from-file", empty.to_str().unwrap(), "--prefix", "a"]));
    assert_code(&o, 0);
    assert_eq!(dump(&t, Some("a"), &[]), data(&[], &[]));
    assert_eq!(dump(&t, Some("ab"), &[]), ab);
    assert_eq!(dump(&t, None, &[]), none);

    let o = run(&mut ld_table(&t, &["inspect", "--output", "json"]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let ps: Vec<&str> = v["prefixes"].as_array().unwrap().iter().map(|p| p["prefix"].as_str().unwrap()).collect();
    assert_eq!(ps, ["", "a", "ab", "b"]);
    let b_stats = v["prefixes"].as_array().unwrap().iter().find(|p| p["prefix"] == "b").unwrap();
    assert_eq!(b_stats["flags"], 1);
    assert_eq!(b_stats["big_segments_synced_on"], 1700000000000i64);
    assert_eq!(v["default_prefix"], "");

    let o = run(&mut ld_table(&t, &["inspect"]));
    assert_code(&o, 0);
    assert!(stdout(&o).contains(&format!("DynamoDB table \"{t}\" at")), "{}", stdout(&o));
}

#[test]
fn sync_from_dynamodb_into_redis() {
    let t = new_table("from");
    let d = data(
        &[flag("x", 4, json!({"prerequisites": [{"key": "y", "variation": 0}]})), flag("y", 2, json!({}))],
        &[segment("s", 5)],
    );
    assert_code(&sync(&t, Some("src"), &d), 0);
    let redis = redis_addr();
    let rp = unique_prefix("fromddb");
    let from = format!("dynamodb://{t}?prefix=src&endpoint={}", endpoint());
    let o = run(ld().args(["sync", "--from", &from, "--redis", &redis, "--prefix", &rp]));
    assert_code(&o, 0);
    let o = run(ld().args(["dump", "--redis", &redis, "--prefix", &rp]));
    assert_code(&o, 0);
    let got: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(got, d);
    // Byte-identical: the Redis dump is the DynamoDB dump.
    let o2 = run(ld().args(["dump", "--dynamodb", &t, "--dynamodb-endpoint", &endpoint(), "--prefix", "src"]));
    assert_code(&o2, 0);
    assert_eq!(stdout(&o), stdout(&o2));
}

/// Run tests/interop/dynamodb_interop.py (the official Python SDK); fails when python3 or the SDK
/// is missing.
fn python_sdk(args: &[&str]) -> std::process::Output {
    std::process::Command::new("python3")
        .arg(crate::support::repo_path("tests/interop/dynamodb_interop.py"))
        .args(args)
        .env("LDSTORE_TEST_DYNAMODB", endpoint())
        .output()
        .expect("python3 must be installed (scripts/test installs the Python SDK)")
}

#[test]
fn official_python_sdk_reads_what_ldstore_wrote_and_ldstore_reads_what_the_sdk_wrote() {
    let t = new_table("interop");
    let fixture = crate::support::repo_path("tests/fixtures/dynamodb-interop.json");
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();

    // The SDK in daemon mode evaluates what ldstore wrote.
    let o = run(&mut ld_table(&t, &["sync", "--from-file", fixture.to_str().unwrap(), "--prefix", "lds"]));
    assert_code(&o, 0);
    let o = python_sdk(&["evaluate", &t, "lds"]);
    assert!(o.status.success(), "SDK evaluation failed:\n{}\n{}", stdout(&o), stderr(&o));
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["initialized"], true, "the SDK sees ldstore's $inited marker");
    assert_eq!(v["results"].as_array().unwrap().len(), 10);
    // The same check on a prefix with no data must fail (the evaluation really reads the store).
    let o = python_sdk(&["evaluate", &t, "nothing-here"]);
    assert!(!o.status.success(), "{}", stdout(&o));

    // The SDK's own init() (and a delete) writes what ldstore reads back with the same data.
    let o = python_sdk(&["write", &t, "sdk", fixture.to_str().unwrap()]);
    assert!(o.status.success(), "SDK write failed: {}", stderr(&o));
    assert_eq!(dump(&t, Some("sdk"), &[]), expected);
    let with_deleted = dump(&t, Some("sdk"), &["--include-deleted"]);
    assert_eq!(with_deleted["flags"]["sdk-deleted"]["version"], 3);
    assert_eq!(with_deleted["flags"]["sdk-deleted"]["deleted"], true);
    let o = run(&mut ld_table(&t, &["inspect", "--prefix", "sdk", "--output", "json"]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["stats"]["initialized"], true);
    assert_eq!(v["stats"]["flags"], 6);
    assert_eq!(v["stats"]["segments"], 1);
    assert_eq!(v["stats"]["tombstones"], 1);
}

// ---- Behaviour DynamoDB Local never shows, against an in-process fake of the DynamoDB API ----

mod fake {
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};

    use serde_json::{Value, json};

    use super::{data, flag, segment};
    use crate::support::ddb::ld;
    use crate::support::fake_ddb::{Call, FakeDynamo, error};
    use crate::support::{assert_code, run, stderr, temp_file};

    fn requests(c: &Call) -> Vec<Value> {
        c.body["RequestItems"]["t"].as_array().cloned().unwrap_or_default()
    }

    fn sync_into(fake: &FakeDynamo, d: &Value) -> std::process::Output {
        let (_dir, path) = temp_file("flags.json", &d.to_string());
        run(ld().args([
            "sync",
            "--from-file",
            path.to_str().unwrap(),
            "--dynamodb",
            "t",
            "--dynamodb-endpoint",
            &fake.endpoint,
            "--prefix",
            "p",
        ]))
    }

    #[test]
    fn create_table_sends_the_tags() {
        // DynamoDB Local does not support tagging, so the request itself is checked here.
        let table = json!({"TableName": "tagged", "TableStatus": "CREATING", "KeySchema": [
            {"AttributeName": "namespace", "KeyType": "HASH"}, {"AttributeName": "key", "KeyType": "RANGE"}]});
        let fake = FakeDynamo::start(move |c, before| match c.op.as_str() {
            "CreateTable" => (200, json!({"TableDescription": table})),
            "DescribeTable" if before.iter().any(|b| b.op == "CreateTable") => (200, json!({"Table": table})),
            "DescribeTable" => (400, error("ResourceNotFoundException", "Requested resource not found")),
            other => (400, error("ValidationException", &format!("unexpected {other}"))),
        });
        let o = run(ld().args([
            "dynamodb",
            "create-table",
            "--table",
            "tagged",
            "--dynamodb-endpoint",
            &fake.endpoint,
            "--tag",
            "team=web",
            "--tag",
            "env=test",
            "--no-wait",
        ]));
        assert_code(&o, 0);
        let calls = fake.calls();
        let create = calls.iter().find(|c| c.op == "CreateTable").expect("CreateTable sent");
        assert_eq!(create.body["Tags"], json!([{"Key": "team", "Value": "web"}, {"Key": "env", "Value": "test"}]));
    }

    #[test]
    fn parallel_batches_write_prerequisites_before_dependants() {
        // 100 base flags and 100 flags depending on them: 8 batches. Each batch is acknowledged
        // after 50 ms; a batch holding a dependant must not arrive before every base is acknowledged.
        let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
        let early: Arc<Mutex<Vec<String>>> = Arc::default();
        let (a2, e2) = (acked.clone(), early.clone());
        let fake = FakeDynamo::start(move |c, _| match c.op.as_str() {
            "Query" => (200, json!({"Items": [], "Count": 0, "ScannedCount": 0})),
            "BatchWriteItem" => {
                let keys: Vec<String> = requests(c)
                    .iter()
                    .map(|r| r["PutRequest"]["Item"]["key"]["S"].as_str().unwrap().to_string())
                    .collect();
                if keys.iter().any(|k| k.starts_with("dep-")) {
                    let acked = a2.lock().unwrap();
                    let missing = (0..100).filter(|i| !acked.contains(&format!("base-{i:03}"))).count();
                    if missing > 0 {
                        e2.lock().unwrap().push(format!("{} sent with {missing} bases unacknowledged", keys[0]));
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
                a2.lock().unwrap().extend(keys);
                (200, json!({"UnprocessedItems": {}}))
            }
            // The sync lease: none held (GetItem), taken (PutItem), ended with the marker.
            "GetItem" | "PutItem" | "TransactWriteItems" => (200, json!({})),
            other => (400, error("ValidationException", &format!("unexpected {other}"))),
        });
        let mut flags: Vec<Value> = (0..100).map(|i| flag(&format!("base-{i:03}"), 1, json!({}))).collect();
        flags.extend((0..100).map(|i| {
            flag(&format!("dep-{i:03}"), 1, json!({"prerequisites": [{"key": format!("base-{i:03}"), "variation": 0}]}))
        }));
        assert_code(&sync_into(&fake, &data(&flags, &[])), 0);
        assert_eq!(acked.lock().unwrap().len(), 200);
        let early = early.lock().unwrap();
        assert!(early.is_empty(), "dependants written before their prerequisites: {early:?}");
    }

    #[test]
    fn unprocessed_items_are_resent_until_none_remain_and_the_marker_is_last() {
        // Every BatchWriteItem leaves (about) half of its requests unprocessed, for the first 12 calls.
        let done: Arc<Mutex<HashSet<String>>> = Arc::default();
        let d2 = done.clone();
        let fake = FakeDynamo::start(move |c, before| match c.op.as_str() {
            "Query" if c.body["ExpressionAttributeValues"][":namespace"]["S"] == "p:features" => {
                let items: Vec<Value> = (0..30)
                    .map(|i| json!({"namespace": {"S": "p:features"}, "key": {"S": format!("old-{i}")}}))
                    .collect();
                (200, json!({"Items": items, "Count": 30, "ScannedCount": 30}))
            }
            "Query" => (200, json!({"Items": [], "Count": 0, "ScannedCount": 0})),
            "BatchWriteItem" => {
                let reqs = requests(c);
                let earlier = before.iter().filter(|b| b.op == "BatchWriteItem").count();
                let keep = if earlier < 12 { reqs.len().div_ceil(2) } else { reqs.len() };
                for r in &reqs[..keep] {
                    let (kind, k) = match (&r["PutRequest"]["Item"], &r["DeleteRequest"]["Key"]) {
                        (Value::Object(i), _) => ("put", i["key"]["S"].as_str().unwrap().to_string()),
                        (_, Value::Object(k)) => ("delete", k["key"]["S"].as_str().unwrap().to_string()),
                        _ => panic!("unexpected request {r}"),
                    };
                    d2.lock().unwrap().insert(format!("{kind} {k}"));
                }
                (
                    200,
                    json!({"UnprocessedItems": if keep < reqs.len() { json!({"t": reqs[keep..]}) } else { json!({}) }}),
                )
            }
            "GetItem" | "PutItem" | "TransactWriteItems" => (200, json!({})),
            other => (400, error("ValidationException", &format!("unexpected {other}"))),
        });
        let flags: Vec<Value> = (0..60).map(|i| flag(&format!("f{i}"), 1, json!({}))).collect();
        let o = sync_into(&fake, &data(&flags, &[segment("s", 1)]));
        assert_code(&o, 0);
        let done = done.lock().unwrap();
        for i in 0..60 {
            assert!(done.contains(&format!("put f{i}")), "f{i} was lost");
        }
        assert!(done.contains("put s"));
        for i in 0..30 {
            assert!(done.contains(&format!("delete old-{i}")), "old-{i} not deleted");
        }
        let calls = fake.calls();
        assert!(fake.count("BatchWriteItem") > 12, "unprocessed items were resent");
        // No batch ever held more than 25 requests.
        assert!(calls.iter().filter(|c| c.op == "BatchWriteItem").all(|c| requests(c).len() <= 25));
        // Deletes only after every put, and the marker strictly last.
        let last_put = calls.iter().rposition(|c| requests(c).iter().any(|r| r.get("PutRequest").is_some())).unwrap();
        let first_delete =
            calls.iter().position(|c| requests(c).iter().any(|r| r.get("DeleteRequest").is_some())).unwrap();
        assert!(first_delete > last_put);
        // The sync lease is taken before anything else is written (conditional PutItem)...
        let lease = calls.iter().position(|c| c.op == "PutItem").unwrap();
        assert!(lease < calls.iter().position(|c| c.op == "BatchWriteItem").unwrap());
        assert_eq!(calls[lease].body["Item"]["namespace"], json!({"S": "p:ldstore_sync"}));
        assert_eq!(calls[lease].body["ConditionExpression"], "attribute_not_exists(#namespace)");
        assert_eq!(fake.count("PutItem"), 1);
        // ...and the marker is strictly last, in one transaction with the end of the lease.
        let last = calls.last().unwrap();
        assert_eq!(last.op, "TransactWriteItems");
        let items = last.body["TransactItems"].as_array().unwrap();
        assert_eq!(items[0]["Put"]["Item"], json!({"namespace": {"S": "p:$inited"}, "key": {"S": "p:$inited"}}));
        assert_eq!(
            items[1]["Delete"]["Key"],
            json!({"namespace": {"S": "p:ldstore_sync"}, "key": {"S": "p:ldstore_sync"}})
        );
    }

    #[test]
    fn throttling_is_a_clear_store_error_and_no_marker_is_written() {
        let fake = FakeDynamo::start(|c, _| match c.op.as_str() {
            "Query" => (200, json!({"Items": [], "Count": 0, "ScannedCount": 0})),
            // The sync lease is taken; the batches are throttled.
            "GetItem" | "PutItem" => (200, json!({})),
            _ => (
                400,
                error(
                    "ProvisionedThroughputExceededException",
                    "The level of configured provisioned throughput for the table was exceeded.",
                ),
            ),
        });
        let o = sync_into(&fake, &data(&[flag("f", 1, json!({}))], &[]));
        assert_code(&o, 3);
        let err = stderr(&o);
        assert!(err.contains("throttled") && err.contains("ProvisionedThroughputExceededException"), "{err}");
        assert!(!err.contains("ServiceError {"), "no debug dumps: {err}");
        assert!(fake.count("BatchWriteItem") > 0);
        assert_eq!(fake.count("TransactWriteItems"), 0, "the marker must not be written after a failed write");
        assert_eq!(fake.count("DeleteItem"), 0, "the lease stays: the prefix may be part-written");
    }

    #[test]
    fn expired_credentials_are_a_clear_store_error() {
        let fake = FakeDynamo::start(|_, _| {
            (400, error("ExpiredTokenException", "The security token included in the request is expired"))
        });
        let o = run(ld().args(["dump", "--dynamodb", "t", "--dynamodb-endpoint", &fake.endpoint, "--prefix", "p"]));
        assert_code(&o, 3);
        let err = stderr(&o);
        assert!(err.contains("refused the credentials") && err.contains("ExpiredTokenException"), "{err}");
        assert!(err.contains("hint: check the AWS credentials"), "{err}");
        assert_eq!(err.lines().count(), 2, "{err}");
    }
}

#[test]
fn validate_finds_version_attribute_mismatches_and_items_near_the_size_limit() {
    let t = new_table("validate");
    let flags =
        vec![flag("ok", 1, json!({})), flag("near-limit", 1, json!({"variations": ["x".repeat(370 * 1024), "y"]}))];
    assert_code(&sync(&t, Some("v"), &data(&flags, &[])), 0);
    // A row whose `version` attribute disagrees with its JSON (SDK conditional writes compare the attribute).
    put(&t, &row("v:features", "drifted", 3, &flag("drifted", 4, json!({})).to_string()));
    // Over the SDKs' 400,000-byte estimate, yet under DynamoDB's own 400 KiB: it exists, SDKs drop it.
    let big = flag("too-big", 1, json!({"variations": ["x".repeat(401_000), "y"]})).to_string();
    put(&t, &row("v:features", "too-big", 1, &big));
    // A row that is not LaunchDarkly data, and a longer prefix's data (not "unknown" to `v`).
    put(&t, &json!({"namespace": {"S": "v:notes"}, "key": {"S": "n1"}}));
    put(&t, &row("v:sub:features", "other", 1, &flag("other", 1, json!({})).to_string()));
    let o = run(&mut ld_table(&t, &["validate", "--prefix", "v", "--output", "json"]));
    assert_code(&o, 1);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let of = |check: &str| findings.iter().filter(|f| f["check"] == check).collect::<Vec<_>>();
    let mismatch = of("version-mismatch");
    assert_eq!(mismatch.len(), 1, "{findings:?}");
    assert_eq!(mismatch[0]["key"], "drifted");
    assert_eq!(mismatch[0]["severity"], "error");
    let near = of("near-size-limit");
    assert_eq!(near.len(), 1, "{findings:?}");
    assert_eq!(near[0]["key"], "near-limit");
    assert_eq!(near[0]["severity"], "warning");
    let large = of("too-large");
    assert_eq!(
        (large.len(), &large[0]["key"], &large[0]["severity"]),
        (1, &json!("too-big"), &json!("error")),
        "{findings:?}"
    );
    let unknown = of("unknown-key");
    assert_eq!(unknown.len(), 1, "{findings:?}");
    assert_eq!(unknown[0]["key"], "v:notes / n1");
    assert_eq!(findings.len(), 4, "{findings:?}");
}
