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
    StoreConfig::Redis(ldstore::config::RedisConfig {
        url: format!("redis://{}", redis_addr()),
        username: None,
        password: None,
        ca_file: None,
        timeout: std::time::Duration::from_secs(10),
    })
}

fn dynamodb_config(table: &str) -> StoreConfig {
    let _ = crate::support::ddb::ld();
    StoreConfig::DynamoDb(ldstore::config::DynamoDbConfig {
        table: table.to_string(),
        endpoint: Some(crate::support::ddb::endpoint()),
        region: Some("us-east-1".into()),
        timeout: std::time::Duration::from_secs(10),
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
