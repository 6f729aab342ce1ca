//! Helpers for tests against DynamoDB Local (LDSTORE_TEST_DYNAMODB).

use std::process::Command;

use serde_json::{Value, json};

use super::{assert_code, ldstore, repo_path, run, service, unique_prefix};

/// The DynamoDB Local endpoint; panics (fails the test) when it is missing.
#[track_caller]
pub fn endpoint() -> String {
    service("LDSTORE_TEST_DYNAMODB", "DynamoDB Local")
}

/// ldstore with AWS settings DynamoDB Local accepts (any credentials, some region).
pub fn ld() -> Command {
    let mut c = ldstore();
    for (k, d) in [("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_REGION", "us-east-1")] {
        if std::env::var(k).map_or(true, |v| v.is_empty()) {
            c.env(k, d);
        }
    }
    c
}

/// ldstore with `--dynamodb TABLE --dynamodb-endpoint E` appended after `args`.
pub fn ld_table(table: &str, args: &[&str]) -> Command {
    let mut c = ld();
    c.args(args).args(["--dynamodb", table, "--dynamodb-endpoint", &endpoint()]);
    c
}

/// A table name no other test uses.
pub fn unique_table(name: &str) -> String {
    unique_prefix(name).replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-")
}

/// Create a table with ldstore and return its name.
#[track_caller]
pub fn new_table(name: &str) -> String {
    let t = unique_table(name);
    let o = run(ld().args(["dynamodb", "create-table", "--table", &t, "--dynamodb-endpoint", &endpoint()]));
    assert_code(&o, 0);
    t
}

/// Run the boto3 helper; returns stdout.
#[track_caller]
pub fn tool(args: &[&str]) -> String {
    let o = Command::new("python3")
        .arg(repo_path("tests/interop/ddb_tool.py"))
        .args(args)
        .env("LDSTORE_TEST_DYNAMODB", endpoint())
        .output()
        .expect("python3 must be installed");
    assert!(o.status.success(), "ddb_tool.py {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every item of a table, typed as DynamoDB returns them, sorted by (namespace, key).
#[track_caller]
pub fn scan(table: &str) -> Vec<Value> {
    serde_json::from_str(&tool(&["scan", table])).expect("scan output is JSON")
}

/// Put one typed item with boto3 (through stdin: items can be larger than one argument may be).
#[track_caller]
pub fn put(table: &str, item: &Value) {
    use std::io::Write;
    let mut child = Command::new("python3")
        .arg(repo_path("tests/interop/ddb_tool.py"))
        .args(["put", table, "-"])
        .env("LDSTORE_TEST_DYNAMODB", endpoint())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 must be installed");
    child.stdin.take().unwrap().write_all(item.to_string().as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "ddb_tool.py put: {}", String::from_utf8_lossy(&o.stderr));
}

/// A typed flag/segment row.
pub fn row(namespace: &str, key: &str, version: u64, item: &str) -> Value {
    json!({"namespace": {"S": namespace}, "key": {"S": key}, "version": {"N": version.to_string()}, "item": {"S": item}})
}
