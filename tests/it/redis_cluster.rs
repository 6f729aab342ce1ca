//! Redis Cluster and Redis Sentinel (the real cluster and Sentinel set-up scripts/test starts):
//! the forms that select them, the write order on a cluster, `inspect` on every master (and the
//! Go go-redis store's `{ld}.` prefix), and dump / diff / validate / eval through both.
//! The store-contract scenarios on both are in conformance.rs.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::*;

fn cluster_url() -> String {
    format!("redis+cluster://{}", redis_cluster_nodes())
}

fn on_cluster(args: &[&str]) -> Command {
    let mut c = ldstore();
    c.args(args).args(["--redis", &cluster_url()]);
    c
}

fn on_sentinel(args: &[&str]) -> Command {
    let s = redis_sentinel();
    let mut c = ldstore();
    c.env("REDIS_SENTINEL_PASSWORD", &s.sentinel_password).args(args).args(["--redis", &s.url()]);
    c
}

fn examples() -> String {
    repo_path("examples/flags.json").to_str().unwrap().to_string()
}

#[test]
fn malformed_cluster_and_sentinel_forms_are_usage_errors() {
    let cases: Vec<(Command, &str)> = vec![
        (
            {
                let mut c = ldstore();
                c.args(["inspect", "--redis", "h1:1,h2:2"]);
                c
            },
            "2 addresses but neither Redis Cluster nor Sentinel",
        ),
        (
            {
                let mut c = ldstore();
                c.args(["inspect", "--redis", "redis+sentinel://:pa55word-x@h:1"]);
                c
            },
            "no master name",
        ),
        (
            {
                let mut c = ldstore();
                c.args(["inspect", "--redis", "redis+cluster://h:1/3"]);
                c
            },
            "Redis Cluster has only database 0",
        ),
        (
            {
                let mut c = ldstore();
                c.args(["inspect", "--redis", "h:1", "--redis-cluster", "--redis-sentinel-master", "m"]);
                c
            },
            "--redis-sentinel-master",
        ),
        (
            {
                let mut c = ldstore();
                c.args(["inspect"]).env("USE_REDIS", "1").env("REDIS_URL", "h:1").env("REDIS_CLUSTER", "maybe");
                c
            },
            "REDIS_CLUSTER=maybe",
        ),
        (
            {
                let mut c = ldstore();
                c.args(["diff", "redis+cluster://h1:1,,h2:2?prefix=p", "x.json"]);
                c
            },
            "an empty host in the address list",
        ),
    ];
    for (mut c, why) in cases {
        let o = run(&mut c);
        assert_code(&o, 2);
        assert!(stderr(&o).contains(why), "{why}: {}", stderr(&o));
        assert!(!stderr(&o).contains("pa55word"), "{}", stderr(&o));
    }
    let (_d, conf) = temp_file("relay.conf", "[Redis]\nurl = redis://h:1\ncluster = perhaps\n");
    let o = run(ldstore().args(["inspect", "--config"]).arg(&conf));
    assert_code(&o, 2);
    assert!(stderr(&o).contains("perhaps"), "{}", stderr(&o));
}

/// Flags, Relay-style variables, a Relay configuration file and source URLs all reach the cluster
/// (a list of seeds or one node as the configuration endpoint) and the Sentinel master (with the
/// data nodes' and the sentinels' passwords kept apart).
#[test]
fn every_form_reaches_the_cluster_and_the_sentinel_master() {
    let _shared = redis_topology_shared();
    let nodes = redis_cluster_nodes();
    let first = nodes.split(',').next().unwrap().to_string();
    let p = unique_prefix("forms");
    let o =
        run(ldstore().args(["sync", "--from-file", &examples(), "--prefix", &p, "--redis", &nodes, "--redis-cluster"]));
    assert_code(&o, 0);
    let dumped = stdout(&run(&mut on_cluster(&["dump", "--prefix", &p])));
    assert!(dumped.contains("\"age-gate\""), "{dumped}");
    // Relay-style environment variables.
    let o = run(ldstore()
        .args(["dump", "--prefix", &p])
        .env("USE_REDIS", "1")
        .env("REDIS_URL", &nodes)
        .env("REDIS_CLUSTER", "true"));
    assert_code(&o, 0);
    assert_eq!(stdout(&o), dumped);
    // A [Redis] section naming one node (a configuration endpoint).
    let (_d, conf) = temp_file("relay.conf", &format!("[Redis]\nurl = redis://{first}\ncluster = true\n"));
    let o = run(ldstore().args(["dump", "--prefix", &p, "--config"]).arg(&conf));
    assert_code(&o, 0);
    assert_eq!(stdout(&o), dumped);
    // A source URL.
    let o = run(ldstore().args(["diff", &format!("{}?prefix={p}", cluster_url()), &examples()]));
    assert_code(&o, 0);

    let s = redis_sentinel();
    let q = unique_prefix("forms");
    let o = run(ldstore()
        .args(["sync", "--from-file", &examples(), "--prefix", &q, "--redis", &s.sentinels])
        .args(["--redis-sentinel-master", &s.master])
        .env("REDIS_PASSWORD", &s.data_password)
        .env("REDIS_SENTINEL_PASSWORD", &s.sentinel_password));
    assert_code(&o, 0);
    assert!(!stderr(&o).contains(&s.data_password) && !stderr(&o).contains(&s.sentinel_password));
    assert!(s.master_cli(&["HGET", &format!("{q}:features"), "age-gate"]).contains("\"key\":\"age-gate\""));
    let dumped = stdout(&run(&mut on_sentinel(&["dump", "--prefix", &q])));
    let o = run(ldstore()
        .args(["dump", "--prefix", &q])
        .env("USE_REDIS", "1")
        .env("REDIS_URL", &s.sentinels)
        .env("REDIS_SENTINEL_MASTER", &s.master)
        .env("REDIS_PASSWORD", &s.data_password)
        .env("REDIS_SENTINEL_PASSWORD", &s.sentinel_password));
    assert_code(&o, 0);
    assert_eq!(stdout(&o), dumped);
    let sentinel1 = s.sentinels.split(',').next().unwrap();
    let (_d, conf) = temp_file(
        "relay.conf",
        &format!(
            "[Redis]\nurl = redis://{}\nsentinelMaster = {}\nsentinelPassword = {}\npassword = {}\n",
            s.sentinels, s.master, s.sentinel_password, s.data_password
        ),
    );
    let o = run(ldstore().args(["dump", "--prefix", &q, "--config"]).arg(&conf));
    assert_code(&o, 0);
    assert_eq!(stdout(&o), dumped);
    let o = run(ldstore()
        .args(["diff", &format!("redis+sentinel://:{}@{sentinel1}/{}?prefix={q}", s.data_password, s.master)])
        .arg(examples())
        .env("REDIS_SENTINEL_PASSWORD", &s.sentinel_password));
    assert_code(&o, 0);
    // The sentinels' password is not the data nodes': a wrong one is refused (exit 3), unprinted.
    let o = run(ldstore()
        .args(["dump", "--prefix", &q, "--redis", &s.url()])
        .env("REDIS_SENTINEL_PASSWORD", "wr0ng-sentinel-pw"));
    assert_code(&o, 3);
    assert!(!stderr(&o).contains("wr0ng-sentinel-pw") && !stderr(&o).contains(&s.data_password), "{}", stderr(&o));
}

/// A MONITOR of each cluster master while `f` runs: every command line seen, with its time, up to
/// the first line that contains `last` (waited for, not slept for: the lines reach redis-cli late
/// under load).
pub(crate) fn monitor_masters(last: &str, f: impl FnOnce()) -> Vec<(f64, String)> {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(f64, String)>::new()));
    let mut monitors = Vec::new();
    for m in redis_cluster_masters() {
        let (child, lines) = redis_monitor(&m);
        let seen = seen.clone();
        let reader = std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                if let Some((t, rest)) = l.split_once(' ') {
                    seen.lock().unwrap().push((t.parse::<f64>().unwrap_or(0.0), rest.to_string()));
                }
            }
        });
        monitors.push((child, reader));
    }
    f();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !seen.lock().unwrap().iter().any(|(_, l)| l.contains(last)) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    for (mut child, reader) in monitors {
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
    }
    let mut lines = std::mem::take(&mut *seen.lock().unwrap());
    lines.sort_by(|a, b| a.0.total_cmp(&b.0));
    lines
}

/// A plain prefix on a cluster: each hash replaced by a transaction of its own, segments before
/// flags, the marker last, and one note recommending a hash-tagged prefix. A hash-tagged prefix:
/// one transaction, no note.
#[test]
fn plain_prefix_on_a_cluster_writes_each_hash_atomically_segments_first_marker_last() {
    let _shared = redis_topology_shared();
    let p = unique_prefix("order");
    let mut out = None;
    let lines = monitor_masters(&format!("\"{p}:$inited\""), || {
        out = Some(run(&mut on_cluster(&["sync", "--from-file", &examples(), "--prefix", &p])))
    });
    let o = out.unwrap();
    assert_code(&o, 0);
    let err = stderr(&o);
    assert_eq!(err.matches("has no hash tag").count(), 1, "{err}");
    assert!(err.contains(&format!("\"{{{p}}}\"")), "recommends a hash-tagged prefix: {err}");
    let times = |key: &str| -> Vec<f64> {
        let quoted = format!("\"{key}\"");
        lines.iter().filter(|(_, l)| l.contains(&quoted)).map(|(t, _)| *t).collect()
    };
    let (seg, feat, marker) =
        (times(&format!("{p}:segments")), times(&format!("{p}:features")), times(&format!("{p}:$inited")));
    assert!(!seg.is_empty() && !feat.is_empty() && marker.len() == 1, "{lines:?}");
    let last = |v: &[f64]| v.iter().cloned().fold(f64::MIN, f64::max);
    let first = |v: &[f64]| v.iter().cloned().fold(f64::MAX, f64::min);
    assert!(last(&seg) < first(&feat), "segments before flags: {lines:?}");
    assert!(last(&feat) < marker[0], "the marker last: {lines:?}");
    // Each hash in a MULTI/EXEC of its own, staged: written into a staging hash in its slot, then
    // renamed into place.
    let multis = lines.iter().filter(|(_, l)| l.ends_with("\"MULTI\"")).count();
    assert!(multis >= 3, "{lines:?}");
    for kind in ["segments", "features"] {
        let staging = format!("\"{p}:$ldstore_staging:{kind}:");
        assert!(lines.iter().any(|(_, l)| l.contains("\"HSET\"") && l.contains(&staging)), "{kind}: {lines:?}");
        assert!(
            lines.iter().any(|(_, l)| l.contains("\"RENAME\"")
                && l.contains(&staging)
                && l.contains(&format!("\"{p}:{kind}\""))),
            "{kind}: {lines:?}"
        );
    }
    assert_eq!(redis_cluster_keys(&format!("{p}:$ldstore_staging:*")), Vec::<String>::new());

    let tagged = format!("{{{}}}", unique_prefix("order"));
    let o = run(&mut on_cluster(&["sync", "--from-file", &examples(), "--prefix", &tagged]));
    assert_code(&o, 0);
    assert!(!stderr(&o).contains("hash tag"), "{}", stderr(&o));
    assert_eq!(
        redis_cluster_cli(&["CLUSTER", "KEYSLOT", &format!("{tagged}:features")]),
        redis_cluster_cli(&["CLUSTER", "KEYSLOT", &format!("{tagged}:$inited")])
    );
}

/// Fields of a hash, sorted.
type Fields = Vec<(String, String)>;

/// A prefix's two hashes on the test cluster, field by field, and whether its marker exists.
fn cluster_contents(prefix: &str) -> (Fields, Fields, bool) {
    let hash = |key: String| -> Fields {
        let text = redis_cluster_cli(&["HGETALL", &key]);
        let lines: Vec<&str> = text.lines().collect();
        let mut pairs: Vec<(String, String)> =
            lines.chunks(2).map(|p| (p[0].to_string(), p.get(1).unwrap_or(&"").to_string())).collect();
        pairs.sort();
        pairs
    };
    let inited = redis_cluster_cli(&["EXISTS", &format!("{prefix}:$inited")]).trim() == "1";
    (hash(format!("{prefix}:features")), hash(format!("{prefix}:segments")), inited)
}

/// A hash-tagged prefix on a cluster is staged as on a single node (the staging hashes carry the
/// prefix's tag, so they live in its slot): HSETs into them, then one short MULTI/EXEC of renames,
/// nothing left behind. A Redis user that may not RENAME gets one MULTI/EXEC. A plain prefix is
/// staged a slot at a time (its order is checked above), or, for that user, written in a MULTI/EXEC
/// per hash. All four write the same bytes.
#[test]
fn full_writes_on_a_cluster_are_staged_unless_the_user_may_not_rename_with_the_same_bytes() {
    let _shared = redis_topology_shared();
    let nodes = redis_cluster_nodes();
    let plain = unique_prefix("cl-plain");
    assert_code(&run(&mut on_cluster(&["sync", "--from-file", &examples(), "--prefix", &plain])), 0);
    let expected = cluster_contents(&plain);
    assert!(expected.0.len() > 10 && expected.2, "{expected:?}");
    assert_eq!(redis_cluster_keys(&format!("{plain}:$ldstore_staging:*")), Vec::<String>::new());

    let tagged = format!("{{{}}}", unique_prefix("cl-staged"));
    let mut out = None;
    let lines = monitor_masters(&format!("\"{tagged}:$inited\""), || {
        out = Some(run(&mut on_cluster(&["-vv", "sync", "--from-file", &examples(), "--prefix", &tagged])))
    });
    let o = out.unwrap();
    assert_code(&o, 0);
    // A .json file under a hash-tagged prefix is written while it is read, on the slot's master.
    assert!(stderr(&o).contains("(staged)") && stderr(&o).contains("read; committing"), "{}", stderr(&o));
    let staging = format!("\"{tagged}:$ldstore_staging:features:");
    let of_prefix: Vec<&String> = lines.iter().map(|(_, l)| l).filter(|l| l.contains(&tagged)).collect();
    assert!(of_prefix.iter().any(|l| l.contains("\"HSET\"") && l.contains(&staging)), "{of_prefix:?}");
    assert!(
        of_prefix
            .iter()
            .any(|l| l.contains("\"RENAME\"") && l.contains(&staging) && l.contains(&format!("\"{tagged}:features\""))),
        "{of_prefix:?}"
    );
    assert!(
        !of_prefix.iter().any(|l| l.contains("\"HSET\"") && l.contains(&format!("\"{tagged}:features\""))),
        "{of_prefix:?}"
    );
    assert_eq!(cluster_contents(&tagged), expected);
    assert_eq!(redis_cluster_keys(&format!("{tagged}:$ldstore_staging:*")), Vec::<String>::new());
    for key in ["features", "segments"] {
        assert_eq!(redis_cluster_cli(&["TTL", &format!("{tagged}:{key}")]).trim(), "-1", "{key}");
        assert_eq!(redis_cluster_cli(&["TTL", &format!("{plain}:{key}")]).trim(), "-1", "{key}");
    }

    let user = format!("clnorename{}", std::process::id());
    for n in nodes.split(',') {
        redis_cli_at(n, None, &["ACL", "SETUSER", &user, "on", ">s3cret-pw", "~*", "&*", "+@all", "-rename"]);
    }
    let unstaged = [format!("{{{}}}", unique_prefix("cl-one-tx")), unique_prefix("cl-per-hash")];
    let outs: Vec<_> = unstaged
        .iter()
        .map(|p| {
            run(ldstore()
                .args(["-vv", "sync", "--from-file", &examples(), "--prefix", p, "--redis"])
                .arg(format!("redis+cluster://{user}:s3cret-pw@{nodes}")))
        })
        .collect();
    for n in nodes.split(',') {
        redis_cli_at(n, None, &["ACL", "DELUSER", &user]);
    }
    for (p, o) in unstaged.iter().zip(outs) {
        assert_code(&o, 0);
        // Streamed (as one transaction) under the tagged prefix only.
        assert_eq!(stderr(&o).contains("(one transaction)"), p.starts_with('{'), "{p}: {}", stderr(&o));
        assert!(stderr(&o).contains("Redis refuses what a staged init needs (RENAME: NOPERM"), "{}", stderr(&o));
        assert!(!stderr(&o).contains("s3cret-pw"), "{}", stderr(&o));
        assert_eq!(cluster_contents(p), expected, "{p}");
        assert_eq!(redis_cluster_keys(&format!("{p}:$ldstore_staging:*")), Vec::<String>::new());
    }
}

/// `inspect` lists prefixes whose keys live on different masters, and names the `{ld}.` form
/// LaunchDarkly's Go go-redis store writes; `dump` reads that form.
#[test]
fn inspect_scans_every_master_and_names_the_go_redis_prefix() {
    let _shared = redis_topology_shared();
    let p = unique_prefix("scan");
    assert_code(&run(&mut on_cluster(&["sync", "--from-file", &examples(), "--prefix", &p])), 0);
    // The keys of a plain prefix are spread over masters.
    let homes: std::collections::BTreeSet<String> = ["features", "segments", "$inited"]
        .iter()
        .map(|k| redis_cluster_cli(&["CLUSTER", "KEYSLOT", &format!("{p}:{k}")]))
        .collect();
    assert!(homes.len() > 1, "keys in different slots");
    // Written the go-redis way: "{ld}." before the prefix, a plain pipeline.
    let base = unique_prefix("goredis");
    let go = format!("{{ld}}.{base}");
    redis_cluster_cli(&["HSET", &format!("{go}:features"), "f", r#"{"key":"f","version":3}"#]);
    redis_cluster_cli(&["HSET", &format!("{go}:segments"), "s", r#"{"key":"s","version":1}"#]);
    redis_cluster_cli(&["SET", &format!("{go}:$inited"), ""]);

    let o = run(&mut on_cluster(&["inspect", "--output", "json"]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let listed: Vec<&str> = v["prefixes"].as_array().unwrap().iter().filter_map(|r| r["prefix"].as_str()).collect();
    assert!(listed.contains(&p.as_str()) && listed.contains(&go.as_str()), "{listed:?}");
    assert!(v["prefix_notes"][&go].as_str().unwrap_or("").contains("go-redis"), "{v}");
    let o = run(&mut on_cluster(&["inspect"]));
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains(&format!("prefix \"{go}\": the form LaunchDarkly's Go SDK store on go-redis")),
        "{}",
        stdout(&o)
    );
    let o = run(&mut on_cluster(&["dump", "--prefix", &go]));
    assert_code(&o, 0);
    assert!(stdout(&o).contains(r#""version":3"#), "{}", stdout(&o));
    // Asked for by the prefix the application was configured with: pointed to the tagged form.
    let o = run(&mut on_cluster(&["dump", "--prefix", &base]));
    assert_code(&o, 0);
    assert!(stderr(&o).contains(&format!("note: prefix \"{go}\" holds data")), "{}", stderr(&o));
    let o = run(ldstore().args(["diff", &format!("{}?prefix={base}", cluster_url()), &examples()]));
    assert_code(&o, 4);
    assert!(stderr(&o).contains(&format!("--prefix \"{go}\"")), "{}", stderr(&o));
}

/// validate and eval read through the cluster and the Sentinel master.
#[test]
fn validate_and_eval_on_cluster_and_sentinel() {
    let _shared = redis_topology_shared();
    for on in [on_cluster as fn(&[&str]) -> Command, on_sentinel] {
        let p = unique_prefix("eval");
        assert_code(&run(&mut on(&["sync", "--from-file", &examples(), "--prefix", &p])), 0);
        let o = run(&mut on(&["validate", "--prefix", &p]));
        assert_code(&o, 0);
        let o =
            run(&mut on(&["eval", "--prefix", &p, "--flag", "age-gate", "--context", r#"{"kind":"user","key":"u1"}"#]));
        assert_code(&o, 0);
        assert!(stdout(&o).contains("age-gate"), "{}", stdout(&o));
    }
}

/// An ACL user and password in the cluster address reach every node; a wrong password is refused
/// with exit 3, and neither is printed.
#[test]
fn cluster_acl_user_and_password() {
    let _shared = redis_topology_shared();
    let nodes = redis_cluster_nodes();
    let user = format!("ld{}", std::process::id());
    for n in nodes.split(',') {
        redis_cli_at(n, None, &["ACL", "SETUSER", &user, "on", ">s3cret-acl-pw", "~*", "+@all"]);
    }
    let p = unique_prefix("acl");
    let o = run(ldstore()
        .args(["sync", "--from-file", &examples(), "--prefix", &p, "--redis"])
        .arg(format!("redis+cluster://{user}:s3cret-acl-pw@{nodes}")));
    assert_code(&o, 0);
    assert!(!stderr(&o).contains("s3cret-acl-pw"), "{}", stderr(&o));
    let o = run(ldstore()
        .args(["dump", "--prefix", &p, "--redis", &format!("redis+cluster://{nodes}"), "--redis-cluster"])
        .env("REDIS_USERNAME", &user)
        .env("REDIS_PASSWORD", "wr0ng-acl-pw"));
    assert_code(&o, 3);
    assert!(!stderr(&o).contains("wr0ng-acl-pw"), "{}", stderr(&o));
    for n in nodes.split(',') {
        redis_cli_at(n, None, &["ACL", "DELUSER", &user]);
    }
}

/// Kills the servers a test started.
struct Servers(Vec<std::process::Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A free loopback port whose cluster bus port (port + 10000) is free too.
fn free_cluster_port() -> u16 {
    loop {
        let p: u16 = rand_port();
        let free = |q: u16| std::net::TcpListener::bind(("127.0.0.1", q)).is_ok();
        if free(p) && free(p + 10000) {
            return p;
        }
    }
}

fn rand_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    20000 + (h.finish() % 35000) as u16
}

/// A cluster of three TLS-only masters (its own, with a private CA): `rediss+cluster://` with
/// `--redis-ca-file` writes and reads it; without the CA, exit 3.
#[test]
fn tls_cluster_with_a_private_ca() {
    let certs = crate::support::tls::make_certs();
    let d = certs.dir.path();
    let mut ports = Vec::new();
    let mut servers = Servers(Vec::new());
    for i in 0..3 {
        let mut p = free_cluster_port();
        while ports.contains(&p) {
            p = free_cluster_port();
        }
        ports.push(p);
        let dir = d.join(format!("n{i}"));
        std::fs::create_dir(&dir).unwrap();
        servers.0.push(
            Command::new("redis-server")
                .current_dir(d)
                .args(["--port", "0", "--tls-port", &p.to_string(), "--bind", "127.0.0.1", "--save", ""])
                .args(["--appendonly", "no", "--cluster-enabled", "yes", "--tls-cluster", "yes"])
                .args(["--dir", dir.to_str().unwrap(), "--cluster-config-file", "nodes.conf"])
                // Absolute paths: --dir changes the working directory before the files are read.
                .arg("--tls-cert-file")
                .arg(&certs.cert)
                .arg("--tls-key-file")
                .arg(&certs.key)
                .arg("--tls-ca-cert-file")
                .arg(&certs.ca)
                .args(["--tls-auth-clients", "no"])
                .stdout(Stdio::null())
                .spawn()
                .expect("redis-server"),
        );
    }
    for p in &ports {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", *p)).is_err() {
            assert!(std::time::Instant::now() < end, "TLS cluster node {p} did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    let tls_cli = |args: &[&str]| {
        Command::new("redis-cli").args(["--tls", "--cacert"]).arg(&certs.ca).args(args).output().expect("redis-cli")
    };
    let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let mut create = vec!["--cluster", "create"];
    create.extend(addrs.iter().map(String::as_str));
    create.extend(["--cluster-replicas", "0", "--cluster-yes"]);
    let o = tls_cli(&create);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
    for p in &ports {
        loop {
            let o = tls_cli(&["-p", &p.to_string(), "CLUSTER", "INFO"]);
            if String::from_utf8_lossy(&o.stdout).contains("cluster_state:ok") {
                break;
            }
            assert!(std::time::Instant::now() < end, "the TLS cluster did not form");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    let url = format!("rediss+cluster://{}", addrs[0]);
    let ca = certs.ca.to_str().unwrap();
    let o = run(ldstore().args([
        "sync",
        "--from-file",
        &examples(),
        "--prefix",
        "plain",
        "--redis",
        &url,
        "--redis-ca-file",
        ca,
    ]));
    assert_code(&o, 0);
    // A hash-tagged prefix: the .json file is written straight to the slot's master, over TLS too.
    let o = run(ldstore()
        .args(["-vv", "sync", "--from-file", &examples(), "--prefix", "{tagged}", "--redis", &url])
        .args(["--redis-ca-file", ca]));
    assert_code(&o, 0);
    assert!(stderr(&o).contains("read; committing"), "{}", stderr(&o));
    let o = run(ldstore().args(["inspect", "--output", "json", "--redis", &url, "--redis-ca-file", ca]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let listed: Vec<(&str, u64)> = v["prefixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["prefix"].as_str().unwrap(), r["flags"].as_u64().unwrap()))
        .collect();
    assert_eq!(listed, [("plain", 37), ("{tagged}", 37)], "{v}");
    let o = run(ldstore().args(["inspect", "--redis", &url, "--store-timeout", "3s"]));
    assert_code(&o, 3);
}

/// A cluster node reached as a single node, a single node reached as a cluster, and a data node
/// given as a sentinel: exit 3 with a hint naming the mismatch.
#[test]
fn the_wrong_shape_is_named_in_the_hint() {
    let _shared = redis_topology_shared();
    let node = redis_cluster_nodes().split(',').next().unwrap().to_string();
    let p = unique_prefix("shape");
    let o = run(ldstore().args(["sync", "--from-file", &examples(), "--prefix", &p, "--redis", &node]));
    assert_code(&o, 3);
    assert!(stderr(&o).contains("hint: the server is a Redis Cluster node"), "{}", stderr(&o));
    let o = run(ldstore().args(["inspect", "--redis", &redis_addr(), "--redis-cluster"]));
    assert_code(&o, 3);
    assert!(stderr(&o).contains("hint: the server is not a Redis Cluster node"), "{}", stderr(&o));
    let o = run(ldstore().args(["inspect", "--redis", &redis_addr(), "--redis-sentinel-master", "m"]));
    assert_code(&o, 3);
    assert!(stderr(&o).contains("hint: under Sentinel the addresses are the sentinels'"), "{}", stderr(&o));
}

/// Sentinel over TLS (its own TLS-only master and sentinel, a private CA):
/// `rediss+sentinel://` with `--redis-ca-file` reaches the master through the sentinel.
#[test]
fn tls_sentinel_with_a_private_ca() {
    let certs = crate::support::tls::make_certs();
    let d = certs.dir.path();
    let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (master, sentinel) = (free(), free());
    let tls_args = |c: &mut Command| {
        c.arg("--tls-cert-file")
            .arg(&certs.cert)
            .arg("--tls-key-file")
            .arg(&certs.key)
            .arg("--tls-ca-cert-file")
            .arg(&certs.ca)
            .args(["--tls-auth-clients", "no", "--tls-replication", "yes"]);
    };
    let mut m = Command::new("redis-server");
    m.args(["--port", "0", "--tls-port", &master.to_string(), "--bind", "127.0.0.1", "--save", ""]);
    m.args(["--appendonly", "no"]).arg("--dir").arg(d).stdout(Stdio::null());
    tls_args(&mut m);
    let mut servers = Servers(vec![m.spawn().expect("redis-server")]);
    std::fs::write(
        d.join("sentinel.conf"),
        format!("sentinel monitor tlsmaster 127.0.0.1 {master} 1\nsentinel down-after-milliseconds tlsmaster 5000\n"),
    )
    .unwrap();
    let mut s = Command::new("redis-server");
    s.arg(d.join("sentinel.conf")).arg("--sentinel");
    s.args(["--port", "0", "--tls-port", &sentinel.to_string(), "--bind", "127.0.0.1"]).stdout(Stdio::null());
    tls_args(&mut s);
    servers.0.push(s.spawn().expect("redis-server --sentinel"));
    for p in [master, sentinel] {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", p)).is_err() {
            assert!(std::time::Instant::now() < end, "TLS server {p} did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    let url = format!("rediss+sentinel://127.0.0.1:{sentinel}/tlsmaster");
    let ca = certs.ca.to_str().unwrap();
    let o = run(ldstore().args(["sync", "--from-file", &examples(), "--redis", &url, "--redis-ca-file", ca]));
    assert_code(&o, 0);
    let o = run(ldstore().args(["inspect", "--output", "json", "--redis", &url, "--redis-ca-file", ca]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["prefixes"][0]["flags"], 37, "{v}");
    let o = run(ldstore().args(["inspect", "--redis", &url, "--store-timeout", "3s"]));
    assert_code(&o, 3);
    drop(servers);
}

/// A flag file with Big Segments data (a dump): segments `beta` (generation 2) and `kinded`
/// (generation 1, kind `org`), a flag `g` serving true to `beta`'s members, and `extra` contexts
/// included in `beta.g2` beside `userkey` (in beta, excluded from kinded) and `test-user` (an
/// orphan ref `beta.g1` only).
fn big_dump(extra: usize) -> String {
    use ldstore::store::big_segments::context_hash;
    let seg = |key: &str, extra: &str| {
        format!(
            r#""{key}":{{"key":"{key}","version":1,"included":[],"excluded":[],"rules":[],"salt":"s","unbounded":true{extra}}}"#
        )
    };
    let mut m = vec![
        format!(r#""{}":{{"included":["beta.g2"],"excluded":["kinded.g1"]}}"#, context_hash("userkey")),
        format!(r#""{}":{{"included":["beta.g1"],"excluded":[]}}"#, context_hash("test-user")),
    ];
    m.extend(
        (0..extra).map(|i| format!(r#""{}":{{"included":["beta.g2"],"excluded":[]}}"#, context_hash(&format!("u{i}")))),
    );
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    format!(
        r#"{{"flags":{{"g":{{"key":"g","version":1,"on":true,"variations":[false,true],"fallthrough":{{"variation":0}},"offVariation":0,"salt":"x","targets":[],"contextTargets":[],"prerequisites":[],"rules":[{{"id":"r","variation":1,"trackEvents":false,"clauses":[{{"contextKind":"user","attribute":"key","op":"segmentMatch","values":["beta"],"negate":false}}]}}],"trackEvents":false,"trackEventsFallthrough":false,"clientSide":false,"deleted":false}}}},"segments":{{{},{}}},"bigSegments":{{"synchronizedOn":"{now}","cursor":"c-1","memberships":{{{}}}}}}}"#,
        seg("beta", r#","generation":2"#),
        seg("kinded", r#","generation":1,"unboundedContextKind":"org""#),
        m.join(",")
    )
}

/// Every Big Segments command on one Redis shape: `on` runs ldstore there, `url` is its source URL
/// for a prefix. Restore from a dump, inspect, membership, eval, validate, dump, copy to the single
/// node and diff against it, prune, and diff again.
fn big_segments_commands(on: &dyn Fn(&[&str]) -> Command, url: &dyn Fn(&str) -> String, p: &str) {
    let contexts = 1502;
    let (_d, f) = temp_file("big.json", &big_dump(contexts - 2));
    let o = run(&mut on(&["sync", "--from-file", f.to_str().unwrap(), "--prefix", p]));
    assert_code(&o, 0);
    assert!(
        stderr(&o).contains(&format!("restored the Big Segments memberships of {contexts} contexts")),
        "{}",
        stderr(&o)
    );
    let o = run(&mut on(&["inspect", "--prefix", p, "--exact", "--output", "json"]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        (v["big_segments"]["contexts"].clone(), v["big_segments"]["status"].clone()),
        (contexts.into(), "HEALTHY".into()),
        "{v}"
    );
    assert_eq!(v["big_segments"]["cursor"], "c-1");
    let o = run(&mut on(&["membership", "--prefix", p, "--context-key", "userkey", "--output", "json"]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let verdicts: Vec<&str> =
        v["segments"].as_array().unwrap().iter().map(|s| s["verdict"].as_str().unwrap()).collect();
    assert_eq!(verdicts, ["included", "excluded"], "{v}");
    let o = run(&mut on(&[
        "eval",
        "--prefix",
        p,
        "--flag",
        "g",
        "--context",
        r#"{"kind":"user","key":"u7"}"#,
        "--output",
        "json",
    ]));
    assert_code(&o, 0);
    let out = stdout(&o);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["results"][0]["value"].clone(), v["results"][0]["reason"]["bigSegmentsStatus"].clone()),
        (true.into(), "HEALTHY".into()),
        "{out}"
    );
    let o = run(&mut on(&["validate", "--prefix", p, "--output", "json"]));
    assert!(stdout(&o).contains("big-segment-orphan-refs"), "{}", stdout(&o));
    let o = run(&mut on(&["dump", "--prefix", p]));
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["bigSegments"]["memberships"].as_object().unwrap().len(), contexts);
    // Copied to the single node, then compared.
    let q = unique_prefix("bigseg-copy");
    let single = format!("redis://{}?prefix={q}", redis_addr());
    let o = run(ldstore()
        .args(["sync", "--from", &url(p), "--redis", &redis_addr(), "--prefix", &q])
        .envs(on(&[]).get_envs().filter_map(|(k, v)| Some((k, v?)))));
    assert_code(&o, 0);
    assert!(
        stderr(&o).contains(&format!("copied the Big Segments memberships of {contexts} contexts")),
        "{}",
        stderr(&o)
    );
    let diff = |args: &[&str]| {
        run(ldstore()
            .args(["diff", &url(p), &single, "--output", "json"])
            .args(args)
            .envs(on(&[]).get_envs().filter_map(|(k, v)| Some((k, v?)))))
    };
    let o = diff(&[]);
    assert_code(&o, 0);
    let o = run(&mut on(&["prune", "--prefix", p]));
    assert_code(&o, 0);
    assert!(stdout(&o).contains("removed 1 unused ref from 1 context"), "{}", stdout(&o));
    let o = diff(&["--show-values"]);
    assert_code(&o, 1);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let h = ldstore::store::big_segments::context_hash("test-user");
    assert_eq!(v["big_segments"]["hashes"]["added"], serde_json::json!([h]), "{v}");
}

/// #20: the Big Segments commands on a Redis Cluster (a hash-tagged prefix and a plain one) and
/// through Sentinel.
#[test]
fn big_segments_commands_on_cluster_and_sentinel() {
    let _shared = redis_topology_shared();
    let cluster_url_of = |p: &str| format!("{}?prefix={}", cluster_url(), p.replace('{', "%7B").replace('}', "%7D"));
    big_segments_commands(&on_cluster, &cluster_url_of, &format!("{{{}}}", unique_prefix("bs-tagged")));
    big_segments_commands(&on_cluster, &cluster_url_of, &unique_prefix("bs-plain"));
    let s = redis_sentinel();
    let sentinel_url_of = |p: &str| format!("{}?prefix={p}", s.url());
    big_segments_commands(&on_sentinel, &sentinel_url_of, &unique_prefix("bs-sentinel"));
}
