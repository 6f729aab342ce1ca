//! Consul backend tests. Every test runs against the in-process Consul KV server
//! (`support::consul_server`) and, when `CONSUL_HTTP_ADDR` is set, also against that real Consul
//! (with `CONSUL_HTTP_TOKEN` if set). Assertions on request counters need the in-process server.
//! The store-contract scenarios every backend shares (layout, round trip, re-sync, sibling prefix,
//! tombstones, upsert, marker order, failed init) are in conformance.rs (in-process server).

use serde_json::{Value, json};

use crate::support::consul_server::{self, ConsulServer, MAX_TXN_BODY, MAX_TXN_OPS};
use crate::support::*;

/// A Consul to test against.
pub struct Target {
    pub url: String,
    pub token: Option<String>,
    /// The in-process server (None for a real Consul).
    pub server: Option<ConsulServer>,
}

impl Target {
    pub fn local() -> Target {
        let server = ConsulServer::start();
        Target { url: server.url(), token: None, server: Some(server) }
    }

    pub fn name(&self) -> &'static str {
        if self.server.is_some() { "in-process Consul" } else { "real Consul (CONSUL_HTTP_ADDR)" }
    }

    /// `ldstore` with `--consul` (and the token) set.
    pub fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = ldstore();
        c.args(args).args(["--consul", &self.url]);
        if let Some(t) = &self.token {
            c.args(["--consul-token", t]);
        }
        c
    }

    pub fn keys(&self, prefix: &str) -> Vec<String> {
        consul_server::keys_under(&self.url, prefix, self.token.as_deref())
    }

    pub fn raw(&self, key: &str) -> Option<Vec<u8>> {
        consul_server::raw_value(&self.url, key, self.token.as_deref())
    }

    pub fn put(&self, key: &str, value: &str) {
        consul_server::put_value(&self.url, key, value.as_bytes(), self.token.as_deref())
    }

    pub fn config(&self) -> ldstore::config::ConsulConfig {
        ldstore::config::ConsulConfig {
            address: ldstore::config::parse_consul_addr(&self.url).unwrap(),
            token: self.token.clone(),
            ca_file: None,
            timeout: std::time::Duration::from_secs(30),
        }
    }
}

/// The in-process server, plus the real Consul named by CONSUL_HTTP_ADDR if any.
pub fn targets() -> Vec<Target> {
    let mut v = vec![Target::local()];
    if let Ok(addr) = std::env::var("CONSUL_HTTP_ADDR")
        && !addr.is_empty()
    {
        let url = if addr.contains("://") { addr } else { format!("http://{addr}") };
        let token = std::env::var("CONSUL_HTTP_TOKEN").ok().filter(|t| !t.is_empty());
        v.push(Target { url, token, server: None });
    }
    v
}

/// A realistic flag in the Go/Relay form.
pub fn flag(key: &str, version: u64, prereqs: &[&str], padding: usize) -> Value {
    let prerequisites: Vec<Value> = prereqs.iter().map(|p| json!({"key": p, "variation": 0})).collect();
    json!({
        "key": key, "version": version, "on": true, "prerequisites": prerequisites,
        "targets": [{"variation": 0, "values": ["user-a", "user-b"]}], "contextTargets": [],
        "rules": [{"id": format!("{key}-r1"), "clauses": [{"attribute": "email", "op": "endsWith", "values": ["@example.com"], "negate": false}], "variation": 0, "trackEvents": false}],
        "fallthrough": {"variation": 1}, "offVariation": 1, "variations": [true, false],
        "salt": format!("salt-{key}"), "trackEvents": false, "trackEventsFallthrough": false,
        "debugEventsUntilDate": null, "clientSide": false,
        "clientSideAvailability": {"usingMobileKey": false, "usingEnvironmentId": false},
        "description": "x".repeat(padding),
        "deleted": false
    })
}

pub fn segment(key: &str, version: u64) -> Value {
    json!({
        "key": key, "version": version, "included": ["u1"], "excluded": [], "includedContexts": [],
        "excludedContexts": [], "rules": [], "salt": format!("salt-{key}"), "generation": null, "deleted": false
    })
}

/// A flag file from flags and segments.
pub fn flag_file(flags: &[Value], segments: &[Value]) -> (tempfile::TempDir, std::path::PathBuf) {
    let f: serde_json::Map<String, Value> =
        flags.iter().map(|v| (v["key"].as_str().unwrap().to_string(), v.clone())).collect();
    let s: serde_json::Map<String, Value> =
        segments.iter().map(|v| (v["key"].as_str().unwrap().to_string(), v.clone())).collect();
    temp_file("flags.json", &json!({"flags": f, "segments": s}).to_string())
}

/// The keys written by each applied transaction, without the sync lease's operations (its
/// acquisition, the fence that begins each transaction, its deletion in the last one); transactions
/// about the lease alone are left out.
fn data_txns(c: &consul_server::Counters, prefix: &str) -> Vec<Vec<String>> {
    let lease = format!("{prefix}/ldstore_sync");
    c.txn_ops
        .iter()
        .map(|t| t.ops.iter().filter(|(_, k)| *k != lease).map(|(_, k)| k.clone()).collect::<Vec<_>>())
        .filter(|keys| !keys.is_empty())
        .collect()
}

fn sync(t: &Target, prefix: &str, file: &std::path::Path) -> std::process::Output {
    run(&mut t.cmd(&["sync", "--from-file", file.to_str().unwrap(), "--prefix", prefix]))
}

fn value_json(t: &Target, key: &str) -> Value {
    let raw = t.raw(key).unwrap_or_else(|| panic!("{key} missing"));
    serde_json::from_slice(&raw).unwrap_or_else(|e| panic!("{key}: {e}"))
}

#[test]
fn default_prefix_is_launchdarkly() {
    let t = Target::local();
    let (_d, file) = flag_file(&[flag("a", 1, &[], 0)], &[]);
    assert_code(&run(&mut t.cmd(&["sync", "--from-file", file.to_str().unwrap()])), 0);
    assert!(t.raw("launchdarkly/features/a").is_some());
    assert!(t.raw("launchdarkly/$inited").is_some());
}

#[test]
fn init_of_200_items_is_batched_by_count_and_size() {
    for t in targets() {
        let p = unique_prefix("batch");
        // 150 small flags (count-bound batches) and 50 flags of ~40 KB (size-bound batches), with
        // prerequisite chains, plus 10 segments.
        let mut flags = Vec::new();
        for i in 0..150 {
            let pre = if i > 0 && i % 3 != 0 { vec![format!("f{:03}", i - 1)] } else { vec![] };
            let pre: Vec<&str> = pre.iter().map(String::as_str).collect();
            flags.push(flag(&format!("f{i:03}"), 1, &pre, 0));
        }
        for i in 0..50 {
            flags.push(flag(&format!("big{i:02}"), 1, &["f149"], 40_000));
        }
        let segments: Vec<Value> = (0..10).map(|i| segment(&format!("s{i}"), 1)).collect();
        let (_d, file) = flag_file(&flags, &segments);
        if let Some(s) = &t.server {
            s.reset_counters();
        }
        let o = sync(&t, &p, &file);
        assert_code(&o, 0);
        assert_eq!(t.keys(&format!("{p}/")).len(), 211, "{}", t.name());
        let Some(s) = &t.server else { continue };
        let c = s.counters();
        assert!(c.txns.len() >= 6, "several transactions expected: {:?}", c.txns);
        for tx in &c.txns {
            assert!(tx.applied, "every transaction must be accepted: {tx:?}");
            assert!(tx.ops <= MAX_TXN_OPS, "{tx:?}");
            assert!(tx.body_bytes <= MAX_TXN_BODY, "{tx:?}");
        }
        assert!(c.txns.iter().any(|tx| tx.ops == MAX_TXN_OPS), "count limit reached: {:?}", c.txns);
        assert!(
            c.txns.iter().any(|tx| tx.ops < 20 && tx.body_bytes > MAX_TXN_BODY * 3 / 4),
            "size limit reached: {:?}",
            c.txns
        );
        assert_eq!(c.plain_puts, 0);
        // Dependency order across transactions: segments first, prerequisites before dependants,
        // and the marker is the very last operation.
        let order: Vec<String> = data_txns(&c, &p).into_iter().flatten().collect();
        assert_eq!(order.last().unwrap(), &format!("{p}/$inited"));
        assert!(c.txn_ops.last().unwrap().ops.iter().any(|(v, k)| v == "set" && k.ends_with("/$inited")));
        // The last transaction also ends the sync lease (delete-cas), so the marker and the end of
        // the lease are one atomic write.
        assert_eq!(
            c.txn_ops.last().unwrap().ops.last().unwrap(),
            &("delete-cas".to_string(), format!("{p}/ldstore_sync"))
        );
        let pos = |k: &str| order.iter().position(|x| x == &format!("{p}/{k}")).unwrap();
        assert!(pos("segments/s9") < pos("features/f000"));
        for i in 1..150 {
            if i % 3 != 0 {
                assert!(pos(&format!("features/f{:03}", i - 1)) < pos(&format!("features/f{i:03}")));
            }
        }
        assert!(pos("features/f149") < pos("features/big00"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_retries_on_cas_conflict() {
    use ldstore::data::{Item, Kind};
    use ldstore::store::Upserted;
    for t in targets() {
        let p = unique_prefix("cas");
        let store = ldstore::store::open(&ldstore::config::StoreConfig::Consul(t.config())).await.unwrap();
        let item = |v: u64| Item::parse(Kind::Flags, "f", flag("f", v, &[], 0).to_string()).unwrap();
        // Absent key: written with cas=0.
        assert_eq!(store.upsert(&p, Kind::Flags, &item(1)).await.unwrap(), Upserted::Applied);
        // Older or equal versions are refused.
        assert_eq!(store.upsert(&p, Kind::Flags, &item(1)).await.unwrap(), Upserted::Stale { stored_version: 1 });
        assert_eq!(store.upsert(&p, Kind::Flags, &item(5)).await.unwrap(), Upserted::Applied);
        assert_eq!(store.get(&p, Kind::Flags, "f").await.unwrap().unwrap().version, 5);
        let Some(s) = &t.server else { continue };
        let key = format!("{p}/features/f");
        // Another writer stores v7 between our GET and our PUT: the CAS fails, the retry sees v7.
        s.reset_counters();
        s.interfere_before_next_cas(&key, flag("f", 7, &[], 0).to_string().as_bytes());
        assert_eq!(store.upsert(&p, Kind::Flags, &item(9)).await.unwrap(), Upserted::Applied);
        let c = s.counters();
        assert_eq!((c.cas_puts, c.cas_failed), (2, 1), "{c:?}");
        assert_eq!(store.get(&p, Kind::Flags, "f").await.unwrap().unwrap().version, 9);
        // Another writer stores v12: after the retry our v10 is stale.
        s.interfere_before_next_cas(&key, flag("f", 12, &[], 0).to_string().as_bytes());
        assert_eq!(store.upsert(&p, Kind::Flags, &item(10)).await.unwrap(), Upserted::Stale { stored_version: 12 });
        // A tombstone is an upsert too.
        let tomb = Item::parse(Kind::Flags, "f", Kind::Flags.tombstone_json(13)).unwrap();
        assert_eq!(store.upsert(&p, Kind::Flags, &tomb).await.unwrap(), Upserted::Applied);
        assert!(store.get(&p, Kind::Flags, "f").await.unwrap().unwrap().deleted);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_gives_up_after_bounded_retries() {
    use ldstore::data::{Item, Kind};
    let t = Target::local();
    let s = t.server.as_ref().unwrap();
    let p = unique_prefix("contention");
    let key = format!("{p}/features/f");
    for v in 0..20 {
        s.interfere_before_next_cas(&key, flag("f", v, &[], 0).to_string().as_bytes());
    }
    let store = ldstore::store::open(&ldstore::config::StoreConfig::Consul(t.config())).await.unwrap();
    let item = Item::parse(Kind::Flags, "f", flag("f", 100, &[], 0).to_string()).unwrap();
    let e = store.upsert(&p, Kind::Flags, &item).await.unwrap_err();
    assert!(e.to_string().contains("other writers kept changing"), "{e}");
    assert_eq!(s.counters().cas_failed, 10);
}

#[test]
fn token_missing_or_wrong_exits_3_and_is_masked() {
    let token = "b7c5d8e2-1111-2222-3333-44445555abcd";
    let server = ConsulServer::start_with_token(token);
    let p = unique_prefix("acl");
    let (_d, file) = flag_file(&[flag("a", 1, &[], 0)], &[]);
    let base = |extra: &[&str]| {
        let mut c = ldstore();
        c.args(["sync", "--from-file", file.to_str().unwrap(), "--prefix", &p, "--consul", &server.url()]);
        c.args(extra);
        c
    };
    // No token.
    let o = run(&mut base(&[]));
    assert_code(&o, 3);
    let err = stderr(&o);
    assert!(err.contains("refused the credentials") && err.contains("no ACL token was given"), "{err}");
    assert!(err.contains("hint:") && err.contains("CONSUL_HTTP_TOKEN"), "{err}");
    // Wrong token: exit 3, the token never printed whole.
    let wrong = "0f0f0f0f-aaaa-bbbb-cccc-deadbeef9876";
    let o = run(&mut base(&["--consul-token", wrong]));
    assert_code(&o, 3);
    let err = stderr(&o);
    assert!(err.contains("ACL not found"), "{err}");
    assert!(!err.contains(wrong) && err.contains("…9876"), "{err}");
    // Same through CONSUL_HTTP_TOKEN.
    let o = run(base(&[]).env("CONSUL_HTTP_TOKEN", wrong));
    assert_code(&o, 3);
    assert!(!stderr(&o).contains(wrong));
    assert!(server.snapshot().is_empty(), "nothing may be written without permission");
    // The right token works (flag, CONSUL_TOKEN, token file).
    assert_code(&run(&mut base(&["--consul-token", token])), 0);
    assert_code(&run(base(&[]).env("CONSUL_TOKEN", token)), 0);
    let (_t, tf) = temp_file("token", &format!("{token}\n"));
    assert_code(&run(&mut base(&["--consul-token-file", tf.to_str().unwrap()])), 0);
    assert!(server.snapshot().contains_key(&format!("{p}/$inited")));
    // A list without read permission is empty, not denied: inspect must say so.
    let o = run(ldstore().args(["inspect", "--consul", &server.url()]));
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(out.contains("no LaunchDarkly data found (or no permission to read it: check the Consul token)"), "{out}");
    // With the token it lists the prefix.
    let o = run(ldstore().args(["inspect", "--consul", &server.url(), "--consul-token", token]));
    assert_code(&o, 0);
    assert!(stdout(&o).contains(&p), "{}", stdout(&o));
    // One prefix: reading its marker without a token is denied outright (exit 3).
    let o = run(ldstore().args(["inspect", "--consul", &server.url(), "--prefix", &p]));
    assert_code(&o, 3);
    assert!(stderr(&o).contains("refused the credentials"), "{}", stderr(&o));
    // A prefix that shows nothing is "no data or no permission", in the table and in JSON.
    let inspect_json = |extra: &[&str]| -> Value {
        let o = run(ldstore().args(["--output", "json", "inspect", "--consul", &server.url()]).args(extra));
        assert_code(&o, 0);
        serde_json::from_str(&stdout(&o)).unwrap()
    };
    let note = "no LaunchDarkly data found (or no permission to read it: check the Consul token) under this prefix";
    let empty = unique_prefix("acl-empty");
    let o = run(ldstore().args(["inspect", "--consul", &server.url(), "--prefix", &empty, "--consul-token", token]));
    assert_code(&o, 0);
    assert!(stdout(&o).contains(note), "{}", stdout(&o));
    let v = inspect_json(&["--prefix", &empty, "--consul-token", token]);
    assert_eq!(v["note"], note, "{v}");
    let v = inspect_json(&[]);
    assert_eq!(v["prefixes"], json!([]));
    assert!(v["note"].as_str().unwrap().contains("no permission"), "{v}");
    // With the token, the same prefix has data and no note.
    let v = inspect_json(&["--prefix", &p, "--consul-token", token]);
    assert_eq!((v["stats"]["flags"].as_u64(), v.get("note")), (Some(1), None), "{v}");

    // The token from CONSUL_TOKEN_FILE, and from a Relay config's [Consul] tokenFile.
    let q = unique_prefix("acl-file");
    let o = run(ldstore()
        .args(["sync", "--from-file", file.to_str().unwrap(), "--prefix", &q, "--consul", &server.url()])
        .env("CONSUL_TOKEN_FILE", &tf));
    assert_code(&o, 0);
    assert!(server.snapshot().contains_key(&format!("{q}/$inited")));
    let conf = format!("[Consul]\nhost = {}\ntokenFile = {}\n", server.url(), tf.display());
    let (_c, conf) = temp_file("relay.conf", &conf);
    let r = unique_prefix("acl-conf");
    let o = run(ldstore().args(["sync", "--from-file", file.to_str().unwrap(), "--prefix", &r, "--config"]).arg(&conf));
    assert_code(&o, 0);
    assert!(server.snapshot().contains_key(&format!("{r}/$inited")));
    // A token file that cannot be read is a configuration error naming the file.
    let o = run(ldstore().args(["inspect", "--consul", &server.url()]).env("CONSUL_TOKEN_FILE", "/nonexistent/token"));
    assert_code(&o, 2);
    assert!(stderr(&o).contains("cannot read Consul token file /nonexistent/token"), "{}", stderr(&o));
}

/// HTTPS to Consul: a private CA given with --consul-ca-file is trusted; without it the system
/// roots refuse the server (exit 3, one line).
#[test]
fn consul_over_tls_with_a_private_ca() {
    let certs = crate::support::tls::make_certs();
    let server = ConsulServer::start();
    let proxy = crate::support::tls::TlsProxy::start(&certs, &server.addr);
    let url = format!("https://localhost:{}", proxy.port);
    let p = unique_prefix("tls");
    let (_d, file) = flag_file(&[flag("a", 1, &[], 0)], &[segment("s", 1)]);
    let ca = certs.ca.to_str().unwrap();
    let o = run(ldstore().args([
        "sync",
        "--from-file",
        file.to_str().unwrap(),
        "--prefix",
        &p,
        "--consul",
        &url,
        "--consul-ca-file",
        ca,
    ]));
    assert_code(&o, 0);
    assert!(server.snapshot().contains_key(&format!("{p}/$inited")));
    let o =
        run(ldstore().args(["--output", "json", "inspect", "--prefix", &p, "--consul", &url, "--consul-ca-file", ca]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["stats"]["flags"], 1);
    // CONSUL_HTTP_ADDR with https:// works the same way.
    let o = run(ldstore().args(["dump", "--prefix", &p, "--consul-ca-file", ca]).env("CONSUL_HTTP_ADDR", &url));
    assert_code(&o, 0);
    assert!(stdout(&o).contains(r#""a":{"#), "{}", stdout(&o));
    // Without the CA: not trusted.
    let o = run(ldstore().args(["inspect", "--consul", &url, "--store-timeout", "5s"]));
    assert_code(&o, 3);
    let err = stderr(&o);
    assert_eq!(err.lines().filter(|l| l.starts_with("ldstore: error:")).count(), 1, "{err}");
    assert!(err.to_lowercase().contains("certificate"), "{err}");
}

#[test]
fn consul_http_addr_is_the_address_fallback() {
    let t = Target::local();
    let p = unique_prefix("envaddr");
    let (_d, file) = flag_file(&[flag("a", 1, &[], 0)], &[]);
    let o = run(ldstore()
        .args(["sync", "--from-file", file.to_str().unwrap(), "--prefix", &p])
        .env("CONSUL_HTTP_ADDR", t.addr_only()));
    assert_code(&o, 0);
    assert!(t.raw(&format!("{p}/$inited")).is_some());
}

impl Target {
    fn addr_only(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }
}

#[test]
fn inspect_of_an_empty_consul_says_no_data_or_no_permission() {
    let t = Target::local();
    let o = run(&mut t.cmd(&["inspect"]));
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(out.contains("no LaunchDarkly data found (or no permission to read it"), "{out}");
}

#[test]
fn unreachable_consul_exits_3() {
    let o = run(ldstore().args(["inspect", "--consul", "127.0.0.1:1"]));
    assert_code(&o, 3);
    assert!(stderr(&o).contains("cannot connect to Consul"), "{}", stderr(&o));
}

#[test]
fn value_too_big_for_a_transaction_is_written_with_a_plain_put() {
    for t in targets() {
        let p = unique_prefix("bigput");
        // ~450 KB: fits Consul's 512 KiB value limit but not a 512 KiB transaction after base64.
        let big = flag("huge", 1, &["a"], 450_000);
        let (_d, file) = flag_file(&[flag("a", 1, &[], 0), big.clone(), flag("z", 1, &["huge"], 0)], &[]);
        if let Some(s) = &t.server {
            s.reset_counters();
        }
        let o = sync(&t, &p, &file);
        assert_code(&o, 0);
        assert_eq!(value_json(&t, &format!("{p}/features/huge")), big, "{}", t.name());
        assert!(t.raw(&format!("{p}/$inited")).is_some());
        let Some(s) = &t.server else { continue };
        let c = s.counters();
        assert_eq!(c.plain_puts, 1, "{c:?}");
        assert!(c.txns.iter().all(|tx| tx.applied && tx.body_bytes <= MAX_TXN_BODY), "{:?}", c.txns);
        // Order kept: "a" before the plain PUT (its transaction was sent first), "z" and the marker after.
        let txns = data_txns(&c, &p);
        assert_eq!(txns[0], vec![format!("{p}/features/a")]);
        assert_eq!(txns.last().unwrap(), &vec![format!("{p}/features/z"), format!("{p}/$inited")]);
    }
}

#[test]
fn value_over_the_limit_is_skipped_with_exit_5() {
    for t in targets() {
        let p = unique_prefix("toobig");
        let (_d, file) = flag_file(&[flag("ok", 1, &[], 0), flag("enormous", 1, &[], 600_000)], &[segment("s", 1)]);
        let o = sync(&t, &p, &file);
        assert_code(&o, 5);
        let err = stderr(&o);
        assert!(err.contains("skipped flags \"enormous\"") && err.contains("524288"), "{err}");
        assert!(t.raw(&format!("{p}/features/enormous")).is_none());
        assert!(t.raw(&format!("{p}/features/ok")).is_some(), "{}", t.name());
        assert!(t.raw(&format!("{p}/segments/s")).is_some());
        assert!(t.raw(&format!("{p}/$inited")).is_some());
    }
}

/// Run the Python SDK interop script; fails when python3 or the SDK is missing.
fn python_interop(t: &Target, mode: &str, prefix: &str) -> Value {
    let hostport = t.url.trim_start_matches("http://").trim_end_matches('/');
    let (host, port) = hostport.rsplit_once(':').expect("host:port");
    let mut c = std::process::Command::new("python3");
    c.arg(repo_path("tests/interop/consul_interop.py")).args([mode, host, port, prefix]);
    // python-consul reads CONSUL_HTTP_ADDR / CONSUL_HTTP_TOKEN itself.
    for (k, _) in std::env::vars() {
        if k.starts_with("CONSUL_") {
            c.env_remove(k);
        }
    }
    if let Some(tok) = &t.token {
        c.env("CONSUL_HTTP_TOKEN", tok);
    }
    let o = c.output().expect(
        "python3 must be installed with launchdarkly-server-sdk and python-consul (tests/interop/requirements.txt)",
    );
    assert!(o.status.success(), "consul_interop.py {mode} failed:\n{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("consul_interop.py output: {e}: {}", String::from_utf8_lossy(&o.stdout)))
}

#[test]
fn python_sdk_evaluates_what_ldstore_wrote() {
    for t in targets() {
        let p = unique_prefix("py-eval");
        let fixture = repo_path("tests/fixtures/consul-interop.json");
        assert_code(&sync(&t, &p, &fixture), 0);
        let got = python_interop(&t, "evaluate", &p);
        assert_eq!(got["initialized"], true, "{}", t.name());
        let want = json!({
            "bool-flag/alice": true, "bool-flag/bob": false,
            "prereq-flag/alice": "yes", "prereq-flag/bob": "no",
            "segment-flag/alice": "ga", "segment-flag/bob": "beta",
            "rollout-flag/alice": "a", "rollout-flag/bob": "c",
            "off-flag/alice": "off", "off-flag/bob": "off",
            "missing-flag/alice": "default", "missing-flag/bob": "default",
        });
        assert_eq!(got["results"], want, "{}", t.name());
    }
}

#[test]
fn ldstore_reads_what_the_python_sdk_wrote() {
    for t in targets() {
        let p = unique_prefix("py-write");
        let written = python_interop(&t, "write", &p);
        assert_eq!(written["initialized"], true);
        let o = run(&mut t.cmd(&["dump", "--prefix", &p, "--include-deleted"]));
        assert_code(&o, 0);
        let dumped: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(dumped["flags"], written["flags"], "{}", t.name());
        assert_eq!(dumped["segments"], written["segments"]);
        // The tombstone the SDK wrote (Python form) and the upserted version.
        assert_eq!(dumped["flags"]["py-gone"], json!({"key": "py-gone", "version": 9, "deleted": true}));
        assert_eq!(dumped["flags"]["py-a"]["version"], 4);
        let o = run(&mut t.cmd(&["--output", "json", "inspect", "--prefix", &p]));
        assert_code(&o, 0);
        let j: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!((j["stats"]["initialized"].clone(), j["stats"]["flags"].clone()), (json!(true), json!(2)));
        assert_eq!(j["stats"]["tombstones"], 1);
        // A re-sync of the dump without tombstones replaces the SDK's init: the tombstone is gone.
        let (_d, file) = temp_file("dump.json", &stdout(&run(&mut t.cmd(&["dump", "--prefix", &p]))));
        assert_code(&sync(&t, &p, &file), 0);
        assert!(t.raw(&format!("{p}/features/py-gone")).is_none());
        assert!(t.raw(&format!("{p}/features/py-b")).is_some());
    }
}

/// Measurement, not a timing assertion: `cargo test --test it consul::measure -- --ignored --nocapture`.
#[test]
#[ignore]
fn measure_sync_of_10000_flags() {
    let t = Target::local();
    let s = t.server.as_ref().unwrap();
    let flags: Vec<Value> = (0..10_000)
        .map(|i| {
            let pre = if i % 10 == 9 { vec![format!("flag-{:05}", i - 1)] } else { vec![] };
            let pre: Vec<&str> = pre.iter().map(String::as_str).collect();
            flag(&format!("flag-{i:05}"), 1 + i % 7, &pre, 200 + (i as usize * 37) % 1500)
        })
        .collect();
    let segments: Vec<Value> = (0..100).map(|i| segment(&format!("seg-{i}"), 1)).collect();
    let (_d, file) = flag_file(&flags, &segments);
    let bytes = std::fs::metadata(&file).unwrap().len();
    for round in ["first sync", "re-sync (same data)"] {
        s.reset_counters();
        let started = std::time::Instant::now();
        // CPU time and memory of the ldstore process via /usr/bin/time, where it exists.
        let o = if std::path::Path::new("/usr/bin/time").exists() {
            let mut c = std::process::Command::new("/usr/bin/time");
            c.args(["-f", "ldstore: %e s elapsed, %U s user, %S s sys, %M KB max RSS"]).arg(bench_bin());
            c.args(["sync", "--from-file", file.to_str().unwrap(), "--prefix", "measure", "--consul", &t.url]);
            run(&mut c)
        } else {
            sync(&t, "measure", &file)
        };
        assert_code(&o, 0);
        let secs = started.elapsed().as_secs_f64();
        if let Some(line) = stderr(&o).lines().find(|l| l.starts_with("ldstore: ") && l.contains("max RSS")) {
            println!("{round}: {line}");
        }
        let c = s.counters();
        let ops: Vec<usize> = c.txns.iter().map(|t| t.ops).collect();
        let bodies: Vec<usize> = c.txns.iter().map(|t| t.body_bytes).collect();
        println!(
            "{round}: 10,000 flags + 100 segments ({bytes} bytes of JSON): {secs:.2} s, {} transactions, ops/txn min {} max {} mean {:.1}, body max {} bytes, {} requests",
            c.txns.len(),
            ops.iter().min().unwrap(),
            ops.iter().max().unwrap(),
            ops.iter().sum::<usize>() as f64 / ops.len() as f64,
            bodies.iter().max().unwrap(),
            c.requests,
        );
        assert!(c.txns.iter().all(|t| t.applied && t.ops <= MAX_TXN_OPS && t.body_bytes <= MAX_TXN_BODY));
    }
    assert_eq!(t.keys("measure/").len(), 10_101);
}

/// The in-process server itself behaves like Consul where the backend relies on it.
#[test]
fn test_server_follows_consuls_api() {
    use consul_server::http;
    let s = ConsulServer::start();
    let u = s.url();
    let op = |verb: &str, key: &str, value: &str| json!({"KV": {"Verb": verb, "Key": key, "Value": value}});
    // Too many operations, too big a body: 413, nothing applied.
    let ops: Vec<Value> = (0..65).map(|i| op("set", &format!("k{i}"), "dg==")).collect();
    let (st, body) = http(&u, "PUT", "/v1/txn", json!(ops).to_string().as_bytes(), None);
    assert_eq!(
        (st, String::from_utf8_lossy(&body).into_owned()),
        (413, "Transaction contains too many operations (65 > 64)".into())
    );
    let big = "A".repeat(MAX_TXN_BODY);
    let (st, _) = http(&u, "PUT", "/v1/txn", json!([op("set", "k", &big)]).to_string().as_bytes(), None);
    assert_eq!(st, 413);
    assert!(s.snapshot().is_empty());
    // A failing operation fails the whole transaction with 409 and Errors.
    let (st, body) = http(
        &u,
        "PUT",
        "/v1/txn",
        json!([op("set", "a", "dg=="), {"KV": {"Verb": "cas", "Key": "b", "Value": "dg==", "Index": 99}}])
            .to_string()
            .as_bytes(),
        None,
    );
    assert_eq!(st, 409);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["Results"], Value::Null);
    assert_eq!(v["Errors"][0]["OpIndex"], 1);
    assert!(s.snapshot().is_empty(), "a failed transaction must apply nothing");
    // CAS PUTs answer true/false; indexes move like raft indexes.
    let (_, b) = http(&u, "PUT", "/v1/kv/x/y?cas=0", b"1", None);
    assert_eq!(b, b"true");
    let (_, b) = http(&u, "PUT", "/v1/kv/x/y?cas=0", b"2", None);
    assert_eq!(b, b"false");
    let (st, b) = http(&u, "GET", "/v1/kv/x/y", b"", None);
    assert_eq!(st, 200);
    let e: Value = serde_json::from_slice(&b).unwrap();
    let idx = e[0]["ModifyIndex"].as_u64().unwrap();
    assert_eq!(e[0]["CreateIndex"], idx);
    assert_eq!(e[0]["Value"], "MQ==");
    let (_, b) = http(&u, "PUT", &format!("/v1/kv/x/y?cas={idx}"), b"3", None);
    assert_eq!(b, b"true");
    assert_eq!(consul_server::keys_under(&u, "x/", None), vec!["x/y".to_string()]);
    let (_, b) = http(&u, "GET", "/v1/kv/?keys&separator=/", b"", None);
    assert_eq!(serde_json::from_slice::<Value>(&b).unwrap(), json!(["x/"]));
    let (st, _) = http(&u, "GET", "/v1/kv/nope", b"", None);
    assert_eq!(st, 404);
    let (st, b) = http(&u, "PUT", "/v1/kv/huge", "v".repeat(MAX_TXN_BODY + 1).as_bytes(), None);
    assert_eq!((st, String::from_utf8_lossy(&b).into_owned()), (413, "Value exceeds 524288 byte limit".into()));
}

/// A store-to-store copy with a Consul source: `sync --from consul://…` into Redis holds exactly
/// the bytes Consul holds (dump of each side is identical), and back from Redis into Consul.
#[test]
fn consul_to_redis_copy_is_byte_identical() {
    for t in targets() {
        let p = unique_prefix("copy-consul");
        let examples = repo_path("examples/flags.json");
        assert_code(&sync(&t, &p, &examples), 0);
        let mut from = format!("consul://{}?prefix={p}", t.addr_only());
        if let Some(tok) = &t.token {
            from.push_str(&format!("&token={tok}"));
        }
        let rp = unique_prefix("copy-from-consul");
        let o = run(ldstore().args(["sync", "--from", &from, "--redis", &redis_addr(), "--prefix", &rp]));
        assert_code(&o, 0);
        let consul_dump = stdout(&run(&mut t.cmd(&["dump", "--prefix", &p])));
        let o = run(ldstore().args(["dump", "--redis", &redis_addr(), "--prefix", &rp]));
        assert_code(&o, 0);
        assert_eq!(stdout(&o), consul_dump, "{}", t.name());
        let ex: Value = serde_json::from_str(&std::fs::read_to_string(&examples).unwrap()).unwrap();
        let got: Value = serde_json::from_str(&consul_dump).unwrap();
        assert_eq!(got["flags"], ex["flags"]);
        // And back: Redis as the source, a new Consul prefix as the target.
        let back = unique_prefix("copy-back");
        let o =
            run(&mut t.cmd(&["sync", "--from", &format!("redis://{}?prefix={rp}", redis_addr()), "--prefix", &back]));
        assert_code(&o, 0);
        assert_eq!(stdout(&run(&mut t.cmd(&["dump", "--prefix", &back]))), consul_dump, "{}", t.name());
    }
}

/// validate on Consul: keys under `<p>/` that are not LaunchDarkly data are warnings; a nested
/// prefix's keys are not.
#[test]
fn validate_reports_unknown_consul_keys() {
    for t in targets() {
        let p = unique_prefix("validate");
        let (_d, file) = flag_file(&[flag("a", 2, &[], 0)], &[segment("s", 1)]);
        assert_code(&sync(&t, &p, &file), 0);
        t.put(&format!("{p}/stray"), "x");
        t.put(&format!("{p}/sub/features/b"), &flag("b", 1, &[], 0).to_string());
        t.put(&format!("{p}/sub/$inited"), "");
        let o = run(&mut t.cmd(&["--output", "json", "validate", "--prefix", &p]));
        assert_code(&o, 0);
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        let keys: Vec<&str> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                assert_eq!((&f["check"], &f["severity"]), (&json!("unknown-key"), &json!("warning")), "{f}");
                f["key"].as_str().unwrap()
            })
            .collect();
        assert_eq!(keys, [format!("{p}/stray")], "{}", t.name());
        assert_code(&run(&mut t.cmd(&["validate", "--strict", "--prefix", &p])), 1);
    }
}
