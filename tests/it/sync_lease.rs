//! Interrupted and concurrent writes (issue #17, items 8 and 9). DynamoDB and Consul have no
//! transaction as large as a full init, so a sync there takes the prefix's sync lease
//! (`<p>:ldstore_sync` / `<p>/ldstore_sync`): a second writer refuses while the first runs, and a
//! sync that never finished (signal, SIGKILL, lost connection) leaves the record behind for
//! `inspect` and `validate` to report until a later sync completes. SIGINT/SIGTERM stop a sync
//! between batches and say what the prefix holds; on Redis they abandon the MULTI.
//!
//! Against DynamoDB Local, the in-process Consul test server and the shared redis-server; a slow
//! TCP proxy (support::slow_proxy) stretches a write so it can be interrupted part-way.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use crate::support::consul_server::{self, ConsulServer};
use crate::support::ld_server::LdServer;
use crate::support::slow_proxy::SlowProxy;
use crate::support::*;

// ---- data ----

/// A data set of `n` flags `<tag>-00000`… of about `pad` bytes each, and one segment.
fn data_set(tag: &str, n: usize, pad: usize) -> Value {
    let flags: serde_json::Map<String, Value> = (0..n)
        .map(|i| {
            let key = format!("{tag}-{i:05}");
            let f = json!({
                "key": key, "version": 1, "on": true, "prerequisites": [], "targets": [], "contextTargets": [],
                "rules": [], "fallthrough": {"variation": 0}, "offVariation": 1, "variations": [true, false],
                "salt": format!("salt-{key}"), "trackEvents": false, "trackEventsFallthrough": false,
                "clientSide": false, "deleted": false, "description": "d".repeat(pad)
            });
            (key, f)
        })
        .collect();
    let seg = json!({"key": format!("{tag}-seg"), "version": 1, "included": ["u1"], "excluded": [],
                     "includedContexts": [], "excludedContexts": [], "rules": [], "salt": "s", "deleted": false});
    json!({"flags": flags, "segments": {format!("{tag}-seg"): seg}})
}

fn keys_of(data: &Value) -> BTreeSet<String> {
    data["flags"].as_object().unwrap().keys().cloned().collect()
}

/// The data set in a file named `name` (its extension decides how it is read).
fn file_named(name: &str, data: &Value) -> (tempfile::TempDir, PathBuf) {
    temp_file(name, &data.to_string())
}

fn file(data: &Value) -> (tempfile::TempDir, PathBuf) {
    file_named("flags.json", data)
}

/// A lease record as another writer (elsewhere) would store it.
fn foreign_lease(started_at: i64, expires_at: i64) -> String {
    json!({"owner": "0123456789abcdef0123456789abcdef", "host": "elsewhere.example", "pid": 4242,
           "ldstoreVersion": "9.9.9", "startedAt": started_at, "expiresAt": expires_at})
    .to_string()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

fn rfc3339(ms: i64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_millis(ms as u64)).to_string()
}

fn kill(sig: &str, child: &Child) {
    let ok = Command::new("kill").args([sig, &child.id().to_string()]).status().unwrap().success();
    assert!(ok, "kill {sig}");
}

fn spawn(mut c: Command) -> Child {
    c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn ldstore")
}

fn json_out(o: &Output) -> Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

/// The findings of `validate --output json` with this check id.
fn findings<'a>(v: &'a Value, check: &str) -> Vec<&'a Value> {
    v["findings"].as_array().unwrap().iter().filter(|f| f["check"] == check).collect()
}

// ---- the stores ----

/// A store whose syncs take the lease, with native reads and writes for the assertions.
trait Target {
    fn backend(&self) -> &'static str;
    /// ldstore's store arguments, to the store itself or through `via`.
    fn args(&self, via: Option<&SlowProxy>) -> Vec<String>;
    /// `host:port` of the store (for a proxy in front of it).
    fn upstream(&self) -> String;
    /// A `--from` source for a prefix of this store.
    fn source(&self, prefix: &str) -> String;
    /// The stored lease JSON of a prefix.
    fn lease(&self, prefix: &str) -> Option<String>;
    /// Store a lease record as another writer would.
    fn put_lease(&self, prefix: &str, json: &str);
    /// Flag keys stored under the prefix.
    fn flag_keys(&self, prefix: &str) -> BTreeSet<String>;
    /// What a halted write let finish.
    fn in_flight(&self) -> &'static str;
}

fn ld(t: &dyn Target, via: Option<&SlowProxy>, args: &[&str]) -> Command {
    let mut c = ldstore();
    c.args(args).args(t.args(via));
    for (k, d) in [("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_REGION", "us-east-1")] {
        if std::env::var(k).map_or(true, |v| v.is_empty()) {
            c.env(k, d);
        }
    }
    c
}

fn sync_cmd(t: &dyn Target, via: Option<&SlowProxy>, prefix: &str, file: &std::path::Path) -> Command {
    ld(t, via, &["sync", "--from-file", file.to_str().unwrap(), "--prefix", prefix])
}

#[track_caller]
fn sync_ok(t: &dyn Target, prefix: &str, data: &Value) -> Output {
    let (_d, f) = file(data);
    let o = run(&mut sync_cmd(t, None, prefix, &f));
    assert_code(&o, 0);
    o
}

/// DynamoDB Local, a table of the test's own.
struct Dynamo {
    endpoint: String,
    table: String,
    client: aws_sdk_dynamodb::Client,
    rt: tokio::runtime::Runtime,
}

impl Dynamo {
    fn new(name: &str) -> Dynamo {
        use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
        let endpoint = crate::support::ddb::endpoint();
        let table = crate::support::ddb::new_table(name);
        let var = |k: &str, d: &str| std::env::var(k).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| d.into());
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&endpoint)
            .region(Region::new(var("AWS_REGION", "us-east-1")))
            .credentials_provider(Credentials::new(
                var("AWS_ACCESS_KEY_ID", "test"),
                var("AWS_SECRET_ACCESS_KEY", "test"),
                None,
                None,
                "test",
            ))
            .build();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Dynamo { endpoint, table, client: aws_sdk_dynamodb::Client::from_conf(conf), rt }
    }

    fn lease_ns(prefix: &str) -> String {
        format!("{prefix}:ldstore_sync")
    }

    /// Every (namespace, key) of the table.
    fn all_keys(&self) -> BTreeSet<(String, String)> {
        self.rt.block_on(async {
            let mut out = BTreeSet::new();
            let mut start = None;
            loop {
                let page = self
                    .client
                    .scan()
                    .table_name(&self.table)
                    .consistent_read(true)
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .expect("Scan");
                for r in page.items.unwrap_or_default() {
                    out.insert((r["namespace"].as_s().unwrap().clone(), r["key"].as_s().unwrap().clone()));
                }
                match page.last_evaluated_key {
                    Some(k) if !k.is_empty() => start = Some(k),
                    _ => return out,
                }
            }
        })
    }
}

impl Target for Dynamo {
    fn backend(&self) -> &'static str {
        "DynamoDB"
    }
    fn args(&self, via: Option<&SlowProxy>) -> Vec<String> {
        let endpoint = via.map_or(self.endpoint.clone(), |p| p.url());
        vec!["--dynamodb".into(), self.table.clone(), "--dynamodb-endpoint".into(), endpoint]
    }
    fn upstream(&self) -> String {
        self.endpoint.trim_start_matches("http://").trim_end_matches('/').to_string()
    }
    fn source(&self, prefix: &str) -> String {
        format!("dynamodb://{}?prefix={prefix}&endpoint={}", self.table, self.endpoint)
    }
    fn lease(&self, prefix: &str) -> Option<String> {
        let l = Self::lease_ns(prefix);
        let out = self.rt.block_on(
            self.client
                .get_item()
                .table_name(&self.table)
                .key("namespace", AttributeValue::S(l.clone()))
                .key("key", AttributeValue::S(l))
                .consistent_read(true)
                .send(),
        );
        out.expect("GetItem").item.map(|row| row["lease"].as_s().expect("lease is S").clone())
    }
    fn put_lease(&self, prefix: &str, json: &str) {
        let l = Self::lease_ns(prefix);
        self.rt
            .block_on(
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .item("namespace", AttributeValue::S(l.clone()))
                    .item("key", AttributeValue::S(l))
                    .item("lease", AttributeValue::S(json.into()))
                    .send(),
            )
            .expect("PutItem");
    }
    fn flag_keys(&self, prefix: &str) -> BTreeSet<String> {
        let ns = format!("{prefix}:features");
        self.all_keys().into_iter().filter(|(n, _)| *n == ns).map(|(_, k)| k).collect()
    }
    fn in_flight(&self) -> &'static str {
        "the batches in flight"
    }
}

/// The in-process Consul test server, one per test.
struct Consul(ConsulServer);

impl Consul {
    fn new() -> Consul {
        Consul(ConsulServer::start())
    }
}

impl Target for Consul {
    fn backend(&self) -> &'static str {
        "Consul"
    }
    fn args(&self, via: Option<&SlowProxy>) -> Vec<String> {
        vec!["--consul".into(), via.map_or(self.0.url(), |p| p.url())]
    }
    fn upstream(&self) -> String {
        self.0.addr.clone()
    }
    fn source(&self, prefix: &str) -> String {
        format!("consul://{}?prefix={prefix}", self.0.addr)
    }
    fn lease(&self, prefix: &str) -> Option<String> {
        consul_server::raw_value(&self.0.url(), &format!("{prefix}/ldstore_sync"), None)
            .map(|v| String::from_utf8(v).unwrap())
    }
    fn put_lease(&self, prefix: &str, json: &str) {
        self.0.put(&format!("{prefix}/ldstore_sync"), json.as_bytes());
    }
    fn flag_keys(&self, prefix: &str) -> BTreeSet<String> {
        let dir = format!("{prefix}/features/");
        self.0.snapshot().into_keys().filter_map(|k| k.strip_prefix(&dir).map(str::to_string)).collect()
    }
    fn in_flight(&self) -> &'static str {
        "the transaction in flight"
    }
}

// ---- item 9: concurrent writers ----

/// While one sync writes (slowed down by a proxy), a second one into the same prefix refuses with
/// exit 3 naming the first; the first completes and the prefix holds exactly its data. Meanwhile
/// the lease is shown by inspect and validate, and is never an unknown key, a prefix of its own,
/// dumped or copied.
fn a_second_sync_refuses_while_the_first_writes(t: &dyn Target) {
    let p = "conc";
    sync_ok(t, p, &data_set("init", 5, 10));
    let (a, b) = (data_set("a", 1500, 300), data_set("b", 1500, 300));
    let (_da, fa) = file(&a);
    let (_db, fb) = file(&b);
    let proxy = SlowProxy::start(&t.upstream(), 150_000);
    let first = spawn(sync_cmd(t, Some(&proxy), p, &fa));
    proxy.wait_forwarded(40_000, 60);

    let o = run(&mut sync_cmd(t, None, p, &fb));
    assert_code(&o, 3);
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    let want = format!(
        "ldstore: error: {} prefix \"{p}\" is being written by another sync: pid {} on host ",
        t.backend(),
        first.id()
    );
    assert!(lines[0].starts_with(&want), "{err}");
    assert!(lines[0].contains(&format!("(ldstore {}), started 20", env!("CARGO_PKG_VERSION"))), "{err}");
    assert!(
        lines[1].starts_with(
            "hint: run the sync again when that one has finished; the lease of a writer that was killed or lost its connection expires 1m after its last renewal"
        ),
        "{err}"
    );

    // While it runs: inspect and validate say so; the lease is LaunchDarkly bookkeeping.
    let o = run(&mut ld(t, None, &["inspect", "--prefix", p]));
    assert_code(&o, 0);
    assert!(stdout(&o).contains("sync in progress since 20"), "{}", stdout(&o));
    let o = run(&mut ld(t, None, &["--output", "json", "inspect"]));
    let v = json_out(&o);
    let rows = v["prefixes"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "the lease is no prefix of its own: {v}");
    assert_eq!(rows[0]["prefix"], p);
    assert_eq!(rows[0]["sync"]["state"], "in-progress", "{v}");
    let o = run(&mut ld(t, None, &["--output", "json", "validate", "--prefix", p]));
    let v = json_out(&o);
    assert!(findings(&v, "unknown-key").is_empty(), "the lease is not an unknown key: {v}");
    let w = findings(&v, "sync-in-progress");
    assert_eq!(w.len(), 1, "{v}");
    assert_eq!(w[0]["severity"], "warning");
    assert!(findings(&v, "interrupted-sync").is_empty(), "{v}");
    let o = run(&mut ld(t, None, &["dump", "--prefix", p]));
    assert_code(&o, 0);
    assert!(!stdout(&o).contains("ldstore_sync"), "dump never holds the lease");
    // A copy of the prefix does not copy its lease, nor touch it.
    let o = run(&mut ld(t, None, &["sync", "--from", &t.source(p), "--prefix", "copy"]));
    assert_code(&o, 0);
    assert!(t.lease("copy").is_none(), "the copy's own lease is gone once it completed");
    assert!(t.lease(p).is_some(), "the first sync's lease is untouched");

    let o = first.wait_with_output().unwrap();
    assert_code(&o, 0);
    assert_eq!(t.flag_keys(p), keys_of(&a), "exactly the first sync's data set");
    assert!(t.lease(p).is_none(), "a completed sync gives its lease back");
    let o = run(&mut ld(t, None, &["validate", "--prefix", p]));
    assert_code(&o, 0);
}

#[test]
fn dynamodb_a_second_sync_refuses_while_the_first_writes() {
    a_second_sync_refuses_while_the_first_writes(&Dynamo::new("lease-conc"));
}

#[test]
fn consul_a_second_sync_refuses_while_the_first_writes() {
    a_second_sync_refuses_while_the_first_writes(&Consul::new());
}

/// The issue's reproduction: two syncs started together. Every time, each exits 0 or refuses
/// with 3, and the prefix holds exactly one of the two data sets.
fn racing_syncs_leave_exactly_one_data_set(t: &dyn Target) {
    let (a, b) = (data_set("a", 500, 200), data_set("b", 500, 200));
    let (_da, fa) = file(&a);
    let (_db, fb) = file(&b);
    for round in 0..4 {
        let p = format!("race{round}");
        let (ca, cb) = (spawn(sync_cmd(t, None, &p, &fa)), spawn(sync_cmd(t, None, &p, &fb)));
        let (oa, ob) = (ca.wait_with_output().unwrap(), cb.wait_with_output().unwrap());
        for o in [&oa, &ob] {
            let code = o.status.code();
            assert!(code == Some(0) || code == Some(3), "round {round}: {code:?}: {}", stderr(o));
            if code == Some(3) {
                assert!(stderr(o).contains("is being written by another sync"), "{}", stderr(o));
            }
        }
        assert!(oa.status.success() || ob.status.success(), "round {round}: one of them completes");
        let keys = t.flag_keys(&p);
        assert!(keys == keys_of(&a) || keys == keys_of(&b), "round {round}: a mix of both data sets");
        assert!(t.lease(&p).is_none(), "round {round}");
    }
}

#[test]
fn dynamodb_racing_syncs_leave_exactly_one_data_set() {
    racing_syncs_leave_exactly_one_data_set(&Dynamo::new("lease-race"));
}

#[test]
fn consul_racing_syncs_leave_exactly_one_data_set() {
    racing_syncs_leave_exactly_one_data_set(&Consul::new());
}

/// A live lease of a writer elsewhere is never taken over (and left exactly as it was); an
/// expired one is, with a warning naming it, and the sync then completes.
fn an_expired_lease_is_taken_over_and_a_live_one_never(t: &dyn Target) {
    let p = "planted";
    let (x, y) = (data_set("x", 20, 10), data_set("y", 30, 10));
    sync_ok(t, p, &x);
    let (_dy, fy) = file(&y);

    let started = now_ms() - 5_000;
    let live = foreign_lease(started, now_ms() + 3_600_000);
    t.put_lease(p, &live);
    let o = run(&mut sync_cmd(t, None, p, &fy));
    assert_code(&o, 3);
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "ldstore: error: {} prefix \"{p}\" is being written by another sync: pid 4242 on host elsewhere.example (ldstore 9.9.9), started {}\nhint: ",
            t.backend(),
            rfc3339(started)
        )),
        "{err}"
    );
    assert_eq!(t.lease(p).as_deref(), Some(live.as_str()), "a live lease is left exactly as it was");
    assert_eq!(t.flag_keys(p), keys_of(&x), "nothing written");
    let o = run(&mut ld(t, None, &["inspect", "--prefix", p]));
    assert!(
        stdout(&o).contains(&format!("sync in progress since {} (pid 4242, host elsewhere.example)", rfc3339(started))),
        "{}",
        stdout(&o)
    );
    let o = run(&mut ld(t, None, &["validate", "--prefix", p]));
    assert_code(&o, 0);
    assert!(stdout(&o).contains("sync-in-progress"), "{}", stdout(&o));
    let o = run(&mut ld(t, None, &["validate", "--strict", "--prefix", p]));
    assert_code(&o, 1);

    let started = now_ms() - 600_000;
    t.put_lease(p, &foreign_lease(started, started + 60_000));
    let o = run(&mut ld(t, None, &["inspect", "--prefix", p]));
    let out = stdout(&o);
    assert!(out.contains(&format!("INTERRUPTED: a sync started at {}", rfc3339(started))), "{out}");
    assert!(out.contains("its lease expired at"), "{out}");
    let o = run(&mut ld(t, None, &["--output", "json", "validate", "--prefix", p]));
    assert_code(&o, 1);
    let v = json_out(&o);
    let f = findings(&v, "interrupted-sync");
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["severity"], "error");
    assert!(f[0]["reason"].as_str().unwrap().starts_with(&format!("a sync started at {}", rfc3339(started))), "{v}");

    let o = run(&mut sync_cmd(t, None, p, &fy));
    assert_code(&o, 0);
    assert!(
        stderr(&o).contains("taking over the sync lease of pid 4242 on host elsewhere.example (ldstore 9.9.9)"),
        "{}",
        stderr(&o)
    );
    assert!(t.lease(p).is_none());
    assert_eq!(t.flag_keys(p), keys_of(&y));
    let o = run(&mut ld(t, None, &["validate", "--prefix", p]));
    assert_code(&o, 0);
}

#[test]
fn dynamodb_an_expired_lease_is_taken_over_and_a_live_one_never() {
    an_expired_lease_is_taken_over_and_a_live_one_never(&Dynamo::new("lease-planted"));
}

#[test]
fn consul_an_expired_lease_is_taken_over_and_a_live_one_never() {
    an_expired_lease_is_taken_over_and_a_live_one_never(&Consul::new());
}

/// With a lease of 2 s (test hook), a sync that runs far longer keeps it by renewing it; when
/// someone takes it over behind its back, the sync stops writing with exit 3 and leaves the other
/// writer's lease alone.
fn the_lease_is_renewed_and_a_lost_lease_stops_the_writes(t: &dyn Target) {
    let p = "renew";
    sync_ok(t, p, &data_set("init", 5, 10));
    let a = data_set("a", 3000, 300);
    let (_da, fa) = file(&a);
    let proxy = SlowProxy::start(&t.upstream(), 150_000);
    let mut c = sync_cmd(t, Some(&proxy), p, &fa);
    c.env("LDSTORE_TEST_LEASE_MS", "2000");
    let first = spawn(c);
    proxy.wait_forwarded(20_000, 60);
    std::thread::sleep(Duration::from_secs(4));
    let (_db, fb) = file(&data_set("b", 5, 10));
    let o = run(&mut sync_cmd(t, None, p, &fb));
    assert_code(&o, 3);
    assert!(stderr(&o).contains(&format!("another sync: pid {}", first.id())), "{}", stderr(&o));

    let intruder = foreign_lease(now_ms(), now_ms() + 3_600_000);
    t.put_lease(p, &intruder);
    let end = Instant::now() + Duration::from_secs(30);
    let o = first.wait_with_output().unwrap();
    assert!(Instant::now() < end);
    assert_code(&o, 3);
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "{} prefix \"{p}\": this sync lost its lease and stopped writing: taken over by pid 4242 on host elsewhere.example",
            t.backend()
        )),
        "{err}"
    );
    assert!(err.contains("items of the new data beside the old"), "{err}");
    assert!(t.flag_keys(p).len() < 3000 + 5, "it stopped before writing everything");
    assert_eq!(t.lease(p).as_deref(), Some(intruder.as_str()), "the other writer's lease is left alone");
}

#[test]
fn dynamodb_the_lease_is_renewed_and_a_lost_lease_stops_the_writes() {
    the_lease_is_renewed_and_a_lost_lease_stops_the_writes(&Dynamo::new("lease-renew"));
}

#[test]
fn consul_the_lease_is_renewed_and_a_lost_lease_stops_the_writes() {
    the_lease_is_renewed_and_a_lost_lease_stops_the_writes(&Consul::new());
}

// ---- item 8: interrupted writes ----

/// A sync interrupted by `sig` part-way: it lets what is in flight finish, exits `code` with one
/// line saying what the prefix holds (and that count is what the store holds); then `validate`
/// fails naming the interrupted sync and `inspect` shows it (one prefix, all prefixes, table and
/// JSON), until a new sync completes and both are clean again.
fn an_interrupted_sync_is_reported_until_a_sync_completes(t: &dyn Target, sig: &str, signame: &str, code: i32) {
    let p = "int";
    let old = data_set("old", 50, 100);
    let new = data_set("new", 2000, 300);
    sync_ok(t, p, &old);
    let (_dn, fnew) = file(&new);
    let proxy = SlowProxy::start(&t.upstream(), 100_000);
    let child = spawn(sync_cmd(t, Some(&proxy), p, &fnew));
    let pid = child.id();
    proxy.wait_forwarded(60_000, 60);
    kill(sig, &child);
    let o = child.wait_with_output().unwrap();
    assert_code(&o, code);
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    let head = format!(
        "ldstore: error: interrupted by {signame}: stopped after {}; {} prefix \"{p}\" holds ",
        t.in_flight(),
        t.backend()
    );
    // 2,000 flags and a segment.
    let tail = " of 2,001 items of the new data beside the old; run the sync again to complete it (inspect and validate report it until then)\n";
    assert!(err.starts_with(&head) && err.ends_with(tail), "{err}");
    let said: usize = err[head.len()..err.len() - tail.len()].replace(',', "").parse().expect("a count");
    let keys = t.flag_keys(p);
    let stored = keys.iter().filter(|k| k.starts_with("new-")).count();
    // The segment is written first.
    assert_eq!(stored + 1, said, "what it says is what the store holds: no batch was abandoned half-sent");
    assert!(said > 1 && said < 2001, "{said}");
    assert_eq!(keys.iter().filter(|k| k.starts_with("old-")).count(), 50);
    assert!(t.lease(p).is_some(), "the record of the unfinished sync stays");

    // validate fails, naming when it started.
    let o = run(&mut ld(t, None, &["--output", "json", "validate", "--prefix", p]));
    assert_code(&o, 1);
    let v = json_out(&o);
    let f = findings(&v, "interrupted-sync");
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["severity"], "error");
    let reason = f[0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("a sync started at 20"), "{reason}");
    assert!(reason.contains(&format!("(pid {pid}, host ")), "{reason}");
    assert!(reason.contains("did not finish (its process is gone)"), "{reason}");
    assert!(reason.contains("the prefix may hold a mix of old and new data"), "{reason}");
    let o = run(&mut ld(t, None, &["validate", "--prefix", p]));
    assert_code(&o, 1);
    assert!(stdout(&o).contains("interrupted-sync"), "{}", stdout(&o));
    // inspect: one prefix and all of them, table and JSON.
    let o = run(&mut ld(t, None, &["inspect", "--prefix", p]));
    assert!(stdout(&o).contains("INTERRUPTED: a sync started at 20"), "{}", stdout(&o));
    let o = run(&mut ld(t, None, &["inspect"]));
    let out = stdout(&o);
    assert!(out.contains("(INTERRUPTED sync)"), "{out}");
    assert!(out.contains(&format!("prefix \"{p}\": INTERRUPTED: a sync started at 20")), "{out}");
    let v = json_out(&run(&mut ld(t, None, &["--output", "json", "inspect", "--prefix", p])));
    assert_eq!(v["stats"]["sync"]["state"], "interrupted", "{v}");
    assert_eq!(v["stats"]["sync"]["pid"], pid);
    let v = json_out(&run(&mut ld(t, None, &["--output", "json", "inspect"])));
    assert_eq!(v["prefixes"][0]["sync"]["state"], "interrupted", "{v}");

    // A new sync takes over (the interrupted one's process is gone) and completes.
    let o = run(&mut sync_cmd(t, None, p, &fnew));
    assert_code(&o, 0);
    assert!(stderr(&o).contains(&format!("taking over the sync lease of pid {pid} on host")), "{}", stderr(&o));
    assert!(t.lease(p).is_none());
    assert_eq!(t.flag_keys(p), keys_of(&new));
    let o = run(&mut ld(t, None, &["validate", "--prefix", p]));
    assert_code(&o, 0);
    let v = json_out(&run(&mut ld(t, None, &["--output", "json", "inspect", "--prefix", p])));
    assert_eq!(v["stats"]["sync"], Value::Null, "{v}");
}

#[test]
fn dynamodb_sigint_mid_sync_stops_after_the_batches_in_flight_and_is_reported() {
    an_interrupted_sync_is_reported_until_a_sync_completes(&Dynamo::new("lease-int"), "-INT", "SIGINT", 130);
}

#[test]
fn dynamodb_sigterm_mid_sync_stops_after_the_batches_in_flight_and_is_reported() {
    an_interrupted_sync_is_reported_until_a_sync_completes(&Dynamo::new("lease-term"), "-TERM", "SIGTERM", 143);
}

#[test]
fn consul_sigint_mid_sync_stops_after_the_transaction_in_flight_and_is_reported() {
    an_interrupted_sync_is_reported_until_a_sync_completes(&Consul::new(), "-INT", "SIGINT", 130);
}

#[test]
fn consul_sigterm_mid_sync_stops_after_the_transaction_in_flight_and_is_reported() {
    an_interrupted_sync_is_reported_until_a_sync_completes(&Consul::new(), "-TERM", "SIGTERM", 143);
}

/// A sync killed outright (SIGKILL, no chance to say anything) leaves its lease: inspect shows the
/// sync as interrupted at once (its process is gone), validate fails, and the next sync takes the
/// lease over and completes.
fn a_killed_sync_is_reported_and_its_lease_taken_over(t: &dyn Target) {
    let p = "killed";
    sync_ok(t, p, &data_set("old", 20, 10));
    let new = data_set("new", 2000, 300);
    let (_dn, fnew) = file(&new);
    let proxy = SlowProxy::start(&t.upstream(), 100_000);
    let mut child = spawn(sync_cmd(t, Some(&proxy), p, &fnew));
    let pid = child.id();
    proxy.wait_forwarded(60_000, 60);
    child.kill().unwrap();
    child.wait().unwrap();
    let o = run(&mut ld(t, None, &["inspect", "--prefix", p]));
    assert!(
        stdout(&o).contains("INTERRUPTED: a sync started at 20") && stdout(&o).contains("its process is gone"),
        "{}",
        stdout(&o)
    );
    let o = run(&mut ld(t, None, &["validate", "--prefix", p]));
    assert_code(&o, 1);
    assert!(stdout(&o).contains("interrupted-sync"), "{}", stdout(&o));
    let o = run(&mut sync_cmd(t, None, p, &fnew));
    assert_code(&o, 0);
    assert!(stderr(&o).contains(&format!("taking over the sync lease of pid {pid} on host")), "{}", stderr(&o));
    assert!(t.lease(p).is_none());
    assert_eq!(t.flag_keys(p), keys_of(&new));
    assert_code(&run(&mut ld(t, None, &["validate", "--prefix", p])), 0);
}

#[test]
fn dynamodb_a_killed_sync_is_reported_and_its_lease_taken_over() {
    a_killed_sync_is_reported_and_its_lease_taken_over(&Dynamo::new("lease-kill"));
}

#[test]
fn consul_a_killed_sync_is_reported_and_its_lease_taken_over() {
    a_killed_sync_is_reported_and_its_lease_taken_over(&Consul::new());
}

/// A writer killed where its process cannot be seen (as on another machine) keeps others out
/// until its lease expires (a 5 s lease here, test hook); then inspect and validate call it
/// interrupted, and the next sync takes it over.
fn a_killed_writer_elsewhere_blocks_until_its_lease_expires(t: &dyn Target) {
    let p = "expiry";
    sync_ok(t, p, &data_set("old", 20, 10));
    let new = data_set("new", 2000, 300);
    let (_dn, fnew) = file(&new);
    let proxy = SlowProxy::start(&t.upstream(), 100_000);
    let mut c = sync_cmd(t, Some(&proxy), p, &fnew);
    c.env("LDSTORE_TEST_LEASE_MS", "5000");
    let mut child = spawn(c);
    let pid = child.id();
    proxy.wait_forwarded(60_000, 60);
    child.kill().unwrap();
    child.wait().unwrap();
    let mut lease: Value = serde_json::from_str(&t.lease(p).expect("the killed writer's lease")).unwrap();
    lease["host"] = json!("elsewhere.example");
    lease["process"] = json!("another-boot-id/pid:[1]/1");
    t.put_lease(p, &lease.to_string());
    let expires_at = lease["expiresAt"].as_i64().unwrap();
    assert!(now_ms() < expires_at - 1_000, "the test is too slow for its 5 s lease");
    let o = run(&mut sync_cmd(t, None, p, &fnew));
    assert_code(&o, 3);
    assert!(stderr(&o).contains(&format!("another sync: pid {pid} on host elsewhere.example")), "{}", stderr(&o));
    let o = run(&mut ld(t, None, &["inspect", "--prefix", p]));
    assert!(stdout(&o).contains("sync in progress since"), "{}", stdout(&o));

    while now_ms() <= expires_at + 100 {
        std::thread::sleep(Duration::from_millis(100));
    }
    let o = run(&mut ld(t, None, &["inspect", "--prefix", p]));
    assert!(stdout(&o).contains("INTERRUPTED: a sync started at"), "{}", stdout(&o));
    assert!(stdout(&o).contains(&format!("its lease expired at {}", rfc3339(expires_at))), "{}", stdout(&o));
    let o = run(&mut ld(t, None, &["validate", "--prefix", p]));
    assert_code(&o, 1);
    assert!(stdout(&o).contains("interrupted-sync"), "{}", stdout(&o));
    let o = run(&mut sync_cmd(t, None, p, &fnew));
    assert_code(&o, 0);
    assert!(
        stderr(&o).contains(&format!("taking over the sync lease of pid {pid} on host elsewhere.example")),
        "{}",
        stderr(&o)
    );
    assert!(t.lease(p).is_none());
    assert_eq!(t.flag_keys(p), keys_of(&new));
}

#[test]
fn dynamodb_a_killed_writer_elsewhere_blocks_until_its_lease_expires() {
    a_killed_writer_elsewhere_blocks_until_its_lease_expires(&Dynamo::new("lease-expiry"));
}

#[test]
fn consul_a_killed_writer_elsewhere_blocks_until_its_lease_expires() {
    a_killed_writer_elsewhere_blocks_until_its_lease_expires(&Consul::new());
}

/// A signal before the first write: nothing written, the lease given back, nothing to report.
#[test]
fn consul_a_signal_before_the_first_write_leaves_the_prefix_unchanged_and_unmarked() {
    let t = Consul::new();
    let p = "early";
    let old = data_set("old", 5, 10);
    sync_ok(&t, p, &old);
    // Slow enough that the signal arrives while the lease is being taken, before any item is sent
    // (all of them would go in one transaction).
    let proxy = SlowProxy::start(&t.upstream(), 1000);
    let (_d, f) = file(&data_set("new", 10, 10));
    let child = spawn(sync_cmd(&t, Some(&proxy), p, &f));
    proxy.wait_forwarded(100, 30);
    kill("-INT", &child);
    let o = child.wait_with_output().unwrap();
    assert_code(&o, 130);
    let err = stderr(&o);
    assert!(err.starts_with("ldstore: error: interrupted by SIGINT: "), "{err}");
    assert!(err.contains("unchanged") || err.contains("nothing was written"), "{err}");
    assert_eq!(t.flag_keys(p), keys_of(&old));
    assert!(t.lease(p).is_none(), "{err}");
    assert_code(&run(&mut ld(&t, None, &["validate", "--prefix", p])), 0);
}

/// The lease record of a nested prefix (`<p>/sub`) is neither an unknown key of `<p>` nor deleted
/// by an init of `<p>`.
#[test]
fn consul_an_init_never_deletes_another_prefixs_lease() {
    let t = Consul::new();
    let live = foreign_lease(now_ms(), now_ms() + 3_600_000);
    t.put_lease("p/sub", &live);
    sync_ok(&t, "p", &data_set("a", 3, 10));
    sync_ok(&t, "p", &data_set("b", 3, 10));
    assert_eq!(t.lease("p/sub").as_deref(), Some(live.as_str()));
    let v = json_out(&run(&mut ld(&t, None, &["--output", "json", "validate", "--prefix", "p"])));
    assert!(findings(&v, "unknown-key").is_empty(), "{v}");
    assert_eq!(v["ok"], true, "{v}");
}

// ---- the official Python SDK reads a prefix that holds a lease record ----

#[test]
fn dynamodb_python_sdk_reads_a_prefix_with_a_lease_record() {
    let t = Dynamo::new("lease-sdk");
    let fixture = repo_path("tests/fixtures/dynamodb-interop.json");
    let o = run(&mut sync_cmd(&t, None, "lds", &fixture));
    assert_code(&o, 0);
    t.put_lease("lds", &foreign_lease(now_ms(), now_ms() + 3_600_000));
    let o = Command::new("python3")
        .arg(repo_path("tests/interop/dynamodb_interop.py"))
        .args(["evaluate", &t.table, "lds"])
        .env("LDSTORE_TEST_DYNAMODB", &t.endpoint)
        .output()
        .expect("python3 must be installed (scripts/test installs the Python SDK)");
    assert!(o.status.success(), "SDK evaluation failed:\n{}\n{}", stdout(&o), stderr(&o));
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["initialized"], true);
    assert!(t.all_keys().contains(&("lds:ldstore_sync".into(), "lds:ldstore_sync".into())));
}

#[test]
fn consul_python_sdk_reads_a_prefix_with_a_lease_record() {
    let t = Consul::new();
    let fixture = repo_path("tests/fixtures/consul-interop.json");
    let o = run(&mut sync_cmd(&t, None, "lds", &fixture));
    assert_code(&o, 0);
    t.put_lease("lds", &foreign_lease(now_ms(), now_ms() + 3_600_000));
    let (host, port) = t.0.addr.rsplit_once(':').unwrap();
    let mut c = Command::new("python3");
    c.arg(repo_path("tests/interop/consul_interop.py")).args(["evaluate", host, port, "lds"]);
    for (k, _) in std::env::vars() {
        if k.starts_with("CONSUL_") {
            c.env_remove(k);
        }
    }
    let o = c.output().expect("python3 must be installed with the SDK (tests/interop/requirements.txt)");
    assert!(o.status.success(), "consul_interop.py failed:\n{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["initialized"], true);
    assert_eq!(v["results"]["bool-flag/alice"], true, "{v}");
    assert!(t.lease("lds").is_some());
}

// ---- the relay writes through the same init ----

#[test]
fn relay_waits_while_another_writer_holds_the_lease() {
    const KEY: &str = "sdk-11111111-2222-3333-4444-5555555lease";
    let t = Consul::new();
    let p = "relayed";
    let ld_server = LdServer::start();
    ld_server
        .env(
            KEY,
            r#"{"flags":{"a":{"key":"a","version":1,"on":true,"variations":[true,false],"offVariation":1,"fallthrough":{"variation":0}}},"segments":{}}"#,
        )
        .hold_streams(Duration::from_secs(600));
    t.put_lease(p, &foreign_lease(now_ms(), now_ms() + 3_600_000));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("relay.log");
    let mut relay = ldstore()
        .args(["relay", "--stream-uri", &ld_server.uri, "--prefix", p])
        .args(t.args(None))
        .env("LD_SDK_KEY", KEY)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    let wait_for = |what: &str, cond: &dyn Fn() -> bool| {
        let end = Instant::now() + Duration::from_secs(30);
        while !cond() {
            assert!(Instant::now() < end, "timed out waiting for {what}\n{}", read_log());
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_for("the refusal", &|| read_log().contains("is being written by another sync: pid 4242"));
    assert!(t.flag_keys(p).is_empty(), "nothing written while the other writer holds the lease");
    // The other writer is done: the relay's next attempt writes.
    let (code, _) = consul_server::http(&t.0.url(), "DELETE", &format!("/v1/kv/{p}/ldstore_sync"), b"", None);
    assert_eq!(code, 200);
    wait_for("the write", &|| t.flag_keys(p).contains("a") && t.lease(p).is_none());
    let _ = relay.kill();
    let _ = relay.wait();
}

// ---- Redis: a signal abandons the MULTI ----

/// A Redis sync interrupted part-way writes nothing at all: the transaction is never committed.
/// `name`: the file's name (`.json` is written while it is read; other names are read first).
fn a_signal_abandons_a_redis_sync(name: &str, sig: &str, signame: &str, code: i32) {
    a_signal_abandons_a_redis_sync_as(name, sig, signame, code, None);
}

/// [`a_signal_abandons_a_redis_sync`] as `user` (`name:password`) when given: a user that may not
/// `RENAME` gets one `MULTI`/`EXEC` (see `redis_streamed`), whose commands a thread of their own
/// writes.
fn a_signal_abandons_a_redis_sync_as(name: &str, sig: &str, signame: &str, code: i32, user: Option<&str>) {
    let p = unique_prefix("redis-int");
    let old = data_set("old", 5, 10);
    let (_d0, f0) = file(&old);
    assert_code(
        &run(ldstore().args(["sync", "--from-file"]).arg(&f0).args(["--redis", &redis_addr(), "--prefix", &p])),
        0,
    );
    let (_d, f) = file_named(name, &data_set("new", 10_000, 800));
    let proxy = SlowProxy::start(&redis_addr(), 1_000_000);
    let mut c = ldstore();
    let url = match user {
        Some(user) => format!("redis://{user}@{}", proxy.addr),
        None => proxy.addr.clone(),
    };
    c.args(["sync", "--from-file"]).arg(&f).args(["--redis", &url, "--prefix", &p]);
    let child = spawn(c);
    proxy.wait_forwarded(500_000, 60);
    kill(sig, &child);
    let o = child.wait_with_output().unwrap();
    assert_code(&o, code);
    assert_eq!(
        stderr(&o),
        format!(
            "ldstore: error: interrupted by {signame}: nothing was written (stopped before the commit); Redis prefix \"{p}\" is unchanged\n"
        )
    );
    let fields: BTreeSet<String> =
        redis_cli(&["hkeys", &format!("{p}:features")]).lines().map(str::to_string).collect();
    assert_eq!(fields, keys_of(&old));
    // The streamed sync had staged thousands of items: removed before it exited.
    assert_eq!(redis_cli(&["--scan", "--pattern", &format!("{p}:$ldstore_staging:*")]), "");
}

#[test]
fn redis_sigint_mid_streamed_sync_writes_nothing() {
    a_signal_abandons_a_redis_sync("flags.json", "-INT", "SIGINT", 130);
}

#[test]
fn redis_sigint_mid_one_transaction_sync_writes_nothing() {
    let user = format!("norenameint{}", std::process::id());
    redis_cli(&["ACL", "SETUSER", &user, "on", ">secret-pw", "~*", "&*", "+@all", "-rename"]);
    a_signal_abandons_a_redis_sync_as("flags.json", "-INT", "SIGINT", 130, Some(&format!("{user}:secret-pw")));
    redis_cli(&["ACL", "DELUSER", &user]);
}

#[test]
fn redis_sigterm_mid_sync_writes_nothing() {
    a_signal_abandons_a_redis_sync("flags.data", "-TERM", "SIGTERM", 143);
}

// ---- other commands ----

#[test]
fn sigterm_stops_a_reading_command_with_143() {
    // A server that accepts connections and never answers: ldstore waits until stopped.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let child = spawn({
        let mut c = ldstore();
        c.args(["inspect", "--redis", &format!("127.0.0.1:{port}"), "--store-timeout", "60s"]);
        c
    });
    let _conn = listener.accept().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    kill("-TERM", &child);
    let o = child.wait_with_output().unwrap();
    assert_code(&o, 143);
    assert_eq!(stderr(&o), "ldstore: error: interrupted by SIGTERM\n");
}
