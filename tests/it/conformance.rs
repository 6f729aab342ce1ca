//! The store-contract conformance suite (`ldstore::store::conformance`: each scenario written
//! once) on every backend: Redis (the real redis-server), DynamoDB Local, the in-process Consul test
//! server, and the in-memory store. Real backends are driven through the built binary, as a user
//! runs it (`sync --from-file`, `dump`, `inspect`), and checked at the addresses the SDKs read.
//! A missing service fails these tests (never skips them).

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use ldstore::data::Kind;
use ldstore::store::conformance::Harness;
use ldstore::store::{self, Admin};
use serde_json::{Value, json};

use crate::support::*;

/// `ldstore <args>` with a harness's store options and `--prefix`.
type Cli<'a> = &'a dyn Fn(&[&str]) -> std::process::Command;

/// `ldstore sync --from-file` of a flag file's text: the exit code and standard error.
fn cli_sync(cli: Cli, file: &str) -> (i32, String) {
    let (_d, f) = temp_file("flags.json", file);
    let o = run(&mut cli(&["sync", "--from-file", f.to_str().unwrap()]));
    (o.status.code().unwrap_or(-1), stderr(&o))
}

/// `ldstore dump` (exit 0): standard output.
fn cli_dump(cli: Cli, include_deleted: bool) -> String {
    let mut c = cli(&["dump"]);
    if include_deleted {
        c.arg("--include-deleted");
    }
    let o = run(&mut c);
    assert_code(&o, 0);
    stdout(&o)
}

/// The `stats` of `ldstore inspect --output json`.
fn cli_stats(cli: Cli) -> Value {
    let o = run(&mut cli(&["inspect", "--output", "json"]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("inspect --output json is JSON");
    v["stats"].clone()
}

/// The [`Harness`] steps every backend driven through the binary shares: a fresh prefix, and
/// `sync`, `dump` and `inspect` run with the harness's own `cmd` (its store options).
macro_rules! cli_steps {
    () => {
        cli_steps!(|_: &Self, name: &str| unique_prefix(name));
    };
    ($fresh:expr) => {
        fn fresh_prefix(&self, name: &str) -> String {
            ($fresh)(self, name)
        }

        fn sync(&self, prefix: &str, file: &str) -> (i32, String) {
            cli_sync(&|args| self.cmd(args, prefix), file)
        }

        fn dump(&self, prefix: &str, include_deleted: bool) -> String {
            cli_dump(&|args| self.cmd(args, prefix), include_deleted)
        }

        fn stats(&self, prefix: &str) -> Value {
            cli_stats(&|args| self.cmd(args, prefix))
        }
    };
}

fn open_config(cfg: ldstore::config::StoreConfig) -> BoxFuture<'static, Box<dyn Admin>> {
    Box::pin(async move { store::open(&cfg).await.expect("store opens") })
}

/// The version inside an item's JSON (0 without one), for the DynamoDB `version` attribute.
fn json_version(json: &str) -> u64 {
    serde_json::from_str::<Value>(json).ok().and_then(|v| v["version"].as_u64()).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Redis: `<p>:features` / `<p>:segments` hashes and the `<p>:$inited` string.

/// The same harness on the three Redis deployment shapes scripts/test starts.
#[derive(Clone, Copy)]
enum RedisShape {
    Single,
    /// The Redis Cluster; `tagged`: prefixes with a hash tag (`{…}`, one slot, one MULTI/EXEC),
    /// else plain prefixes (keys in different slots, one transaction per hash).
    Cluster {
        tagged: bool,
    },
    /// The Sentinel set-up (the master found through the sentinels; separate passwords).
    Sentinel,
}

/// The shape, and (cluster, Sentinel) shared use of the set-up for as long as the test runs.
struct RedisHarness(RedisShape, #[allow(dead_code)] Option<std::sync::RwLockReadGuard<'static, ()>>);

impl RedisHarness {
    fn new(shape: RedisShape) -> RedisHarness {
        // Failover tests change masters: they wait for this test, and it for them.
        let guard = (!matches!(shape, RedisShape::Single)).then(redis_topology_shared);
        RedisHarness(shape, guard)
    }

    fn cmd(&self, args: &[&str], prefix: &str) -> std::process::Command {
        let mut c = ldstore();
        c.args(args);
        match self.0 {
            RedisShape::Single => c.args(["--redis", &redis_addr()]),
            RedisShape::Cluster { .. } => c.args(["--redis", &format!("redis+cluster://{}", redis_cluster_nodes())]),
            RedisShape::Sentinel => {
                let s = redis_sentinel();
                c.env("REDIS_SENTINEL_PASSWORD", &s.sentinel_password).args(["--redis", &s.url()])
            }
        };
        c.args(["--prefix", prefix]);
        c
    }

    /// A command at the key's own node (redis-cli -c follows MOVED on the cluster).
    fn cli(&self, args: &[&str]) -> String {
        match self.0 {
            RedisShape::Single => redis_cli(args),
            RedisShape::Cluster { .. } => redis_cluster_cli(args),
            RedisShape::Sentinel => redis_sentinel().master_cli(args),
        }
    }

    fn keys(&self, pattern: &str) -> Vec<String> {
        match self.0 {
            RedisShape::Cluster { .. } => redis_cluster_keys(pattern),
            _ => self.cli(&["KEYS", pattern]).lines().filter(|k| !k.is_empty()).map(str::to_string).collect(),
        }
    }

    fn hash(prefix: &str, kind: Kind) -> String {
        format!("{prefix}:{}", kind.namespace())
    }
}

impl Harness for RedisHarness {
    fn name(&self) -> String {
        match self.0 {
            RedisShape::Single => "Redis".into(),
            RedisShape::Cluster { tagged: true } => "Redis Cluster (hash-tagged prefix)".into(),
            RedisShape::Cluster { tagged: false } => "Redis Cluster (plain prefix)".into(),
            RedisShape::Sentinel => "Redis Sentinel".into(),
        }
    }

    cli_steps!(|h: &Self, name: &str| match h.0 {
        RedisShape::Cluster { tagged: true } => format!("{{{}}}", unique_prefix(name)),
        _ => unique_prefix(name),
    });

    fn raw_item(&self, prefix: &str, kind: Kind, key: &str) -> Option<String> {
        let h = Self::hash(prefix, kind);
        (self.cli(&["HEXISTS", &h, key]).trim() == "1")
            .then(|| self.cli(&["HGET", &h, key]).strip_suffix('\n').unwrap_or_default().to_string())
    }

    fn put_raw_item(&self, prefix: &str, kind: Kind, key: &str, value: &str) {
        self.cli(&["HSET", &Self::hash(prefix, kind), key, value]);
    }

    fn put_marker(&self, prefix: &str) {
        self.cli(&["SET", &format!("{prefix}:$inited"), ""]);
    }

    /// Read key by key (on the cluster: found on every master, each read where it lives), so the
    /// same expectations hold for every shape: the single-node layout.
    fn layout(&self, prefix: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let pattern = format!("{}:*", prefix.replace('{', "\\{").replace('}', "\\}"));
        for k in self.keys(&pattern) {
            let rest = &k[prefix.len() + 1..];
            match rest {
                "features" | "segments" => {
                    for field in self.cli(&["HKEYS", &k]).lines().filter(|f| !f.is_empty()) {
                        out.insert(format!("{rest}/{field}"));
                    }
                }
                _ => {
                    out.insert(rest.to_string());
                }
            }
        }
        out
    }

    fn put_other_key(&self, prefix: &str) -> String {
        self.cli(&["SET", &format!("{prefix}:unrelated"), "mine"]);
        "unrelated".into()
    }

    fn other_key(&self, prefix: &str) -> Option<String> {
        let k = format!("{prefix}:unrelated");
        (self.cli(&["EXISTS", &k]).trim() == "1").then(|| self.cli(&["GET", &k]).trim_end().to_string())
    }

    fn put_beside(&self, prefix: &str, value: &str) {
        self.cli(&["SET", &format!("{prefix}-other-app"), value]);
    }

    fn beside(&self, prefix: &str) -> Option<String> {
        let k = format!("{prefix}-other-app");
        (self.cli(&["EXISTS", &k]).trim() == "1").then(|| self.cli(&["GET", &k]).trim_end().to_string())
    }

    fn check_layout(&self, prefix: &str, items: &[(Kind, &str, u64, &str)]) {
        for (kind, _, _, _) in items {
            assert_eq!(self.cli(&["TYPE", &Self::hash(prefix, *kind)]).trim(), "hash");
        }
        assert_eq!(self.cli(&["TYPE", &format!("{prefix}:$inited")]).trim(), "string");
        assert_eq!(self.cli(&["GET", &format!("{prefix}:$inited")]), "\n", "Go/Node write an empty marker");
    }

    fn check_upserted(&self, _prefix: &str, _kind: Kind, _key: &str, _version: u64) {}

    fn reset_writes(&self) {}

    fn writes(&self, _prefix: &str) -> Option<Vec<String>> {
        // One MULTI/EXEC (one per hash on a cluster with a plain prefix, in an order
        // tests/it/redis_cluster.rs checks): no reader sees any order here.
        None
    }

    fn open(&self) -> BoxFuture<'_, Box<dyn Admin>> {
        use ldstore::config::{RedisShape as Shape, parse_redis_form, redis_from_parts};
        let (addr, shape) = match self.0 {
            RedisShape::Single => (redis_addr(), Shape::default()),
            RedisShape::Cluster { .. } => (format!("redis+cluster://{}", redis_cluster_nodes()), Shape::default()),
            RedisShape::Sentinel => {
                let s = redis_sentinel();
                (s.url(), Shape { sentinel_password: Some(s.sentinel_password.clone()), ..Default::default() })
            }
        };
        let p = parse_redis_form(&addr, false, &shape).expect("a valid Redis form");
        open_config(ldstore::config::StoreConfig::Redis(redis_from_parts(
            p.nodes,
            p.username,
            p.password,
            None,
            std::time::Duration::from_secs(10),
            p.topology,
        )))
    }

    fn holds_big_segments(&self) -> bool {
        true
    }

    fn put_raw_membership(&self, prefix: &str, hash: &str, included: &[&str], excluded: &[&str]) {
        for (which, refs) in [("include", included), ("exclude", excluded)] {
            if !refs.is_empty() {
                let key = format!("{prefix}:big_segment_{which}:{hash}");
                self.cli(&[&["SADD", key.as_str()], refs].concat());
            }
        }
    }

    fn put_raw_big_metadata(&self, prefix: &str, synchronized_on: &str, cursor: &str) {
        self.cli(&["SET", &format!("{prefix}:big_segments_synchronized_on"), synchronized_on]);
        self.cli(&["SET", &format!("{prefix}:big_segments_cursor"), cursor]);
    }

    fn raw_membership(&self, prefix: &str, hash: &str) -> Option<(BTreeSet<String>, BTreeSet<String>)> {
        let members = |which: &str| -> BTreeSet<String> {
            let key = format!("{prefix}:big_segment_{which}:{hash}");
            if self.cli(&["EXISTS", &key]).trim() == "1" {
                assert_eq!(self.cli(&["TYPE", &key]).trim(), "set", "{key}");
            }
            self.cli(&["SMEMBERS", &key]).lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
        };
        let (i, e) = (members("include"), members("exclude"));
        (!i.is_empty() || !e.is_empty()).then_some((i, e))
    }

    fn raw_big_metadata(&self, prefix: &str) -> (Option<String>, Option<String>) {
        let get = |name: &str| {
            let key = format!("{prefix}:{name}");
            (self.cli(&["EXISTS", &key]).trim() == "1").then(|| {
                assert_eq!(self.cli(&["TYPE", &key]).trim(), "string", "{key}");
                self.cli(&["GET", &key]).trim_end_matches('\n').to_string()
            })
        };
        (get("big_segments_synchronized_on"), get("big_segments_cursor"))
    }
}

mod redis {
    use super::*;
    ldstore::store_conformance!(RedisHarness::new(RedisShape::Single));
}

mod redis_cluster_tagged {
    use super::*;
    ldstore::store_conformance!(RedisHarness::new(RedisShape::Cluster { tagged: true }));
}

mod redis_cluster_plain {
    use super::*;
    ldstore::store_conformance!(RedisHarness::new(RedisShape::Cluster { tagged: false }));
}

mod redis_sentinel {
    use super::*;
    ldstore::store_conformance!(RedisHarness::new(RedisShape::Sentinel));
}

// ---------------------------------------------------------------------------------------------
// DynamoDB: rows (`namespace` = `<p>:features`/`<p>:segments`, `key`, `version`, `item`) and the
// `<p>:$inited` marker row, in a table of the test's own.

struct DynamoHarness {
    table: String,
}

impl DynamoHarness {
    fn new() -> DynamoHarness {
        DynamoHarness { table: crate::support::ddb::new_table("conformance") }
    }

    fn cmd(&self, args: &[&str], prefix: &str) -> std::process::Command {
        let mut c = crate::support::ddb::ld_table(&self.table, args);
        c.args(["--prefix", prefix]);
        c
    }

    fn rows(&self) -> Vec<Value> {
        crate::support::ddb::scan(&self.table)
    }

    fn row(&self, namespace: &str, key: &str) -> Option<Value> {
        self.rows().into_iter().find(|r| r["namespace"]["S"] == namespace && r["key"]["S"] == key)
    }

    fn attrs(row: &Value) -> Vec<String> {
        let mut a: Vec<String> = row.as_object().expect("a row").keys().cloned().collect();
        a.sort();
        a
    }
}

impl Harness for DynamoHarness {
    fn name(&self) -> String {
        format!("DynamoDB table {}", self.table)
    }

    cli_steps!();

    fn raw_item(&self, prefix: &str, kind: Kind, key: &str) -> Option<String> {
        self.row(&format!("{prefix}:{}", kind.namespace()), key)
            .map(|r| r["item"]["S"].as_str().unwrap_or_else(|| panic!("item is not S in {r}")).to_string())
    }

    fn put_raw_item(&self, prefix: &str, kind: Kind, key: &str, value: &str) {
        let ns = format!("{prefix}:{}", kind.namespace());
        crate::support::ddb::put(&self.table, &crate::support::ddb::row(&ns, key, json_version(value), value));
    }

    fn put_marker(&self, prefix: &str) {
        let m = format!("{prefix}:$inited");
        crate::support::ddb::put(&self.table, &json!({"namespace": {"S": m}, "key": {"S": m}}));
    }

    fn layout(&self, prefix: &str) -> BTreeSet<String> {
        let mine = format!("{prefix}:");
        let mut out = BTreeSet::new();
        for r in self.rows() {
            let (ns, key) = (r["namespace"]["S"].as_str().unwrap_or(""), r["key"]["S"].as_str().unwrap_or(""));
            let Some(rest) = ns.strip_prefix(&mine) else { continue };
            out.insert(match rest {
                "$inited" => "$inited".to_string(),
                _ => format!("{rest}/{key}"),
            });
        }
        out
    }

    fn put_other_key(&self, prefix: &str) -> String {
        // Big Segments rows of the same prefix are not LaunchDarkly flag data: never touched.
        crate::support::ddb::put(
            &self.table,
            &json!({"namespace": {"S": format!("{prefix}:big_segments_user")}, "key": {"S": "abc"}, "included": {"SS": ["seg.g1"]}}),
        );
        "big_segments_user/abc".into()
    }

    fn other_key(&self, prefix: &str) -> Option<String> {
        self.row(&format!("{prefix}:big_segments_user"), "abc").map(|r| r["included"].to_string())
    }

    fn put_beside(&self, prefix: &str, value: &str) {
        crate::support::ddb::put(
            &self.table,
            &json!({"namespace": {"S": format!("{prefix}-other-app")}, "key": {"S": "x"}, "value": {"S": value}}),
        );
    }

    fn beside(&self, prefix: &str) -> Option<String> {
        self.row(&format!("{prefix}-other-app"), "x").and_then(|r| r["value"]["S"].as_str().map(str::to_string))
    }

    fn check_layout(&self, prefix: &str, items: &[(Kind, &str, u64, &str)]) {
        let marker = format!("{prefix}:$inited");
        // The marker has exactly the two key attributes, both equal to `<p>:$inited`.
        assert_eq!(self.row(&marker, &marker), Some(json!({"namespace": {"S": marker}, "key": {"S": marker}})));
        for (kind, key, version, json) in items {
            let r = self.row(&format!("{prefix}:{}", kind.namespace()), key).expect("the item's row");
            // Exactly these attributes, never `deleted`.
            assert_eq!(Self::attrs(&r), ["item", "key", "namespace", "version"], "{r}");
            assert_eq!(r["version"], json!({"N": version.to_string()}));
            assert_eq!(r["item"]["S"], *json, "item JSON kept whole (unknown fields too)");
        }
    }

    fn check_upserted(&self, prefix: &str, kind: Kind, key: &str, version: u64) {
        let r = self.row(&format!("{prefix}:{}", kind.namespace()), key).expect("the item's row");
        assert_eq!(r["version"], json!({"N": version.to_string()}));
        assert!(r.get("deleted").is_none(), "never a deleted attribute");
    }

    fn reset_writes(&self) {}

    fn writes(&self, _prefix: &str) -> Option<Vec<String>> {
        // DynamoDB Local shows no order; tests/it/dynamodb.rs and sync_lease.rs check the requests
        // (the marker in the last TransactWriteItems) with a fake DynamoDB.
        None
    }

    fn open(&self) -> BoxFuture<'_, Box<dyn Admin>> {
        let _ = crate::support::ddb::ld(); // credentials: scripts/test sets them up (DynamoDB Local takes any)
        open_config(ldstore::config::StoreConfig::DynamoDb(ldstore::config::DynamoDbConfig {
            table: self.table.clone(),
            endpoint: Some(crate::support::ddb::endpoint()),
            region: Some("us-east-1".into()),
            timeout: std::time::Duration::from_secs(10),
            in_flight: ldstore::store::dynamodb::BATCHES_IN_FLIGHT,
        }))
    }

    fn holds_big_segments(&self) -> bool {
        true
    }

    fn put_raw_membership(&self, prefix: &str, hash: &str, included: &[&str], excluded: &[&str]) {
        let mut row = json!({"namespace": {"S": format!("{prefix}:big_segments_user")}, "key": {"S": hash}});
        for (attr, refs) in [("included", included), ("excluded", excluded)] {
            if !refs.is_empty() {
                row[attr] = json!({ "SS": refs });
            }
        }
        crate::support::ddb::put(&self.table, &row);
    }

    fn put_raw_big_metadata(&self, prefix: &str, synchronized_on: &str, cursor: &str) {
        let m = format!("{prefix}:big_segments_metadata");
        crate::support::ddb::put(
            &self.table,
            &json!({"namespace": {"S": m}, "key": {"S": m}, "synchronizedOn": {"N": synchronized_on}, "lastVersion": {"S": cursor}}),
        );
    }

    fn raw_membership(&self, prefix: &str, hash: &str) -> Option<(BTreeSet<String>, BTreeSet<String>)> {
        let r = self.row(&format!("{prefix}:big_segments_user"), hash)?;
        for a in Self::attrs(&r) {
            assert!(["namespace", "key", "included", "excluded"].contains(&a.as_str()), "{r}");
        }
        let refs = |attr: &str| -> BTreeSet<String> {
            r.get(attr)
                .map(|v| v["SS"].as_array().unwrap_or_else(|| panic!("{attr} is not SS in {r}")).clone())
                .unwrap_or_default()
                .iter()
                .map(|x| x.as_str().expect("a string").to_string())
                .collect()
        };
        Some((refs("included"), refs("excluded")))
    }

    fn raw_big_metadata(&self, prefix: &str) -> (Option<String>, Option<String>) {
        let m = format!("{prefix}:big_segments_metadata");
        let Some(r) = self.row(&m, &m) else { return (None, None) };
        let synced =
            r.get("synchronizedOn").map(|v| v["N"].as_str().unwrap_or_else(|| panic!("not N: {r}")).to_string());
        let cursor = r.get("lastVersion").map(|v| v["S"].as_str().unwrap_or_else(|| panic!("not S: {r}")).to_string());
        (synced, cursor)
    }
}

mod dynamodb {
    use super::*;
    ldstore::store_conformance!(DynamoHarness::new());
}

// ---------------------------------------------------------------------------------------------
// Consul: KV keys `<p>/features/<key>`, `<p>/segments/<key>`, `<p>/$inited`, on the in-process
// Consul test server (its counters show the order of the writes), and also on the real Consul
// named by CONSUL_HTTP_ADDR when it is set (as tests/it/consul.rs does).

struct ConsulHarness {
    t: crate::consul::Target,
}

impl ConsulHarness {
    fn new() -> ConsulHarness {
        ConsulHarness { t: crate::consul::Target::local() }
    }

    fn cmd(&self, args: &[&str], prefix: &str) -> std::process::Command {
        let mut c = self.t.cmd(args);
        c.args(["--prefix", prefix]);
        c
    }

    fn server(&self) -> Option<&crate::support::consul_server::ConsulServer> {
        self.t.server.as_ref()
    }
}

impl Harness for ConsulHarness {
    fn name(&self) -> String {
        self.t.name().into()
    }

    cli_steps!();

    fn raw_item(&self, prefix: &str, kind: Kind, key: &str) -> Option<String> {
        self.t
            .raw(&format!("{prefix}/{}/{key}", kind.namespace()))
            .map(|v| String::from_utf8(v).expect("a UTF-8 value"))
    }

    fn put_raw_item(&self, prefix: &str, kind: Kind, key: &str, value: &str) {
        self.t.put(&format!("{prefix}/{}/{key}", kind.namespace()), value);
    }

    fn put_marker(&self, prefix: &str) {
        self.t.put(&format!("{prefix}/$inited"), "");
    }

    fn layout(&self, prefix: &str) -> BTreeSet<String> {
        let dir = format!("{prefix}/");
        self.t.keys(&dir).into_iter().map(|k| k.strip_prefix(&dir).unwrap_or(&k).to_string()).collect()
    }

    fn put_other_key(&self, prefix: &str) -> String {
        self.t.put(&format!("{prefix}/other-tool"), "keep me");
        "other-tool".into()
    }

    fn other_key(&self, prefix: &str) -> Option<String> {
        self.t.raw(&format!("{prefix}/other-tool")).map(|v| String::from_utf8(v).expect("a UTF-8 value"))
    }

    fn put_beside(&self, prefix: &str, value: &str) {
        self.t.put(&format!("{prefix}x"), value);
    }

    fn beside(&self, prefix: &str) -> Option<String> {
        self.t.raw(&format!("{prefix}x")).map(|v| String::from_utf8(v).expect("a UTF-8 value"))
    }

    fn check_layout(&self, prefix: &str, items: &[(Kind, &str, u64, &str)]) {
        assert_eq!(self.t.raw(&format!("{prefix}/$inited")).unwrap(), b"", "marker value must be empty");
        // Stored values are the item JSON itself, byte for byte, not re-encoded.
        if let Some(s) = self.server() {
            let snap = s.snapshot();
            for (kind, key, _, json) in items {
                let v = &snap[&format!("{prefix}/{}/{key}", kind.namespace())].value;
                assert_eq!(v.as_slice(), json.as_bytes());
            }
        }
        // inspect shows the exact keys.
        let o = run(&mut self.t.cmd(&["inspect", "--prefix", prefix]));
        assert_code(&o, 0);
        let out = stdout(&o);
        assert!(
            out.contains(&format!("{prefix}/features/<flag key>")) && out.contains(&format!("{prefix}/$inited")),
            "{out}"
        );
    }

    fn check_upserted(&self, _prefix: &str, _kind: Kind, _key: &str, _version: u64) {}

    fn reset_writes(&self) {
        if let Some(s) = self.server() {
            s.reset_counters();
        }
    }

    fn writes(&self, prefix: &str) -> Option<Vec<String>> {
        // The keys each applied transaction set, in order, without the sync lease's operations.
        let (dir, lease) = (format!("{prefix}/"), format!("{prefix}/ldstore_sync"));
        let c = self.server()?.counters();
        Some(
            c.txn_ops
                .iter()
                .flat_map(|t| t.ops.iter())
                .filter(|(verb, k)| *k != lease && verb == "set")
                .filter_map(|(_, k)| k.strip_prefix(&dir).map(str::to_string))
                .collect(),
        )
    }

    fn open(&self) -> BoxFuture<'_, Box<dyn Admin>> {
        open_config(ldstore::config::StoreConfig::Consul(self.t.config()))
    }

    fn holds_big_segments(&self) -> bool {
        false
    }

    fn put_raw_membership(&self, _prefix: &str, _hash: &str, _included: &[&str], _excluded: &[&str]) {
        unreachable!("Consul holds no Big Segments")
    }

    fn put_raw_big_metadata(&self, _prefix: &str, _synchronized_on: &str, _cursor: &str) {
        unreachable!("Consul holds no Big Segments")
    }

    fn raw_membership(&self, _prefix: &str, _hash: &str) -> Option<(BTreeSet<String>, BTreeSet<String>)> {
        unreachable!("Consul holds no Big Segments")
    }

    fn raw_big_metadata(&self, _prefix: &str) -> (Option<String>, Option<String>) {
        unreachable!("Consul holds no Big Segments")
    }
}

mod consul {
    use super::*;
    ldstore::store_conformance!(ConsulHarness::new());

    /// Every scenario on the real Consul named by CONSUL_HTTP_ADDR, when it is set.
    #[test]
    fn on_a_real_consul_too() {
        for t in crate::consul::targets().into_iter().filter(|t| t.server.is_none()) {
            let h = ConsulHarness { t };
            for (_name, scenario) in ldstore::store::conformance::scenarios::<ConsulHarness>() {
                scenario(&h);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The in-memory store (also run by `cargo test --lib`).

mod memory {
    ldstore::store_conformance!(ldstore::store::conformance::MemoryHarness::new());
}
