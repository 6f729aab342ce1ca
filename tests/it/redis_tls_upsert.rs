//! Redis over TLS (rediss:// with --redis-ca-file) against a real TLS redis-server this test starts,
//! and the version-guarded upsert (WATCH/MULTI/EXEC) through the store layer.

use std::process::{Child, Command, Stdio};

use crate::support::*;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let o = Command::new("openssl").current_dir(dir).args(args).output().expect("openssl must be installed");
    assert!(o.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn rediss_with_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=ldstore test CA",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(d.join("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("redis-server")
        .current_dir(d)
        .args([
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args([
            "--tls-cert-file",
            "server.pem",
            "--tls-key-file",
            "server.key",
            "--tls-ca-cert-file",
            "ca.pem",
            "--tls-auth-clients",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server must be installed (scripts/test installs it)");
    let _server = Server(child);
    let mut up = false;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(up, "TLS redis-server did not start");

    let url = format!("rediss://localhost:{port}");
    let o = run(ldstore()
        .args(["sync", "--from-file"])
        .arg(repo_path("examples/flags.json"))
        .args(["--redis", &url, "--redis-ca-file"])
        .arg(d.join("ca.pem")));
    assert_code(&o, 0);
    let o = run(ldstore()
        .args(["inspect", "--output", "json", "--redis", &url, "--prefix", "launchdarkly", "--redis-ca-file"])
        .arg(d.join("ca.pem")));
    assert_code(&o, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["stats"]["flags"], 37);
    // Without the private CA, the system roots do not trust the server: a store error, one line.
    let o = run(ldstore().args(["inspect", "--redis", &url, "--store-timeout", "3s"]));
    assert_code(&o, 3);
    assert_eq!(stderr(&o).lines().filter(|l| l.starts_with("ldstore: error:")).count(), 1, "{}", stderr(&o));
    // --redis-tls turns a plain address into rediss://.
    let o = run(ldstore()
        .args(["inspect", "--redis", &format!("localhost:{port}"), "--redis-tls", "--redis-ca-file"])
        .arg(d.join("ca.pem")));
    assert_code(&o, 0);
}

#[tokio::test]
async fn redis_upsert_is_version_guarded() {
    use ldstore::data::{Item, Kind};
    use ldstore::store::{self, Upserted};
    let (url, _, _) = ldstore::config::parse_redis_addr(&redis_addr(), false).unwrap();
    let cfg = ldstore::config::StoreConfig::Redis(ldstore::config::RedisConfig {
        url,
        username: None,
        password: None,
        ca_file: None,
        timeout: std::time::Duration::from_secs(5),
    });
    let s = store::open(&cfg).await.unwrap();
    let p = unique_prefix("upsert");
    let v = |n: u64| Item::parse(Kind::Flags, "f", format!(r#"{{"key":"f","version":{n},"on":true}}"#)).unwrap();
    assert_eq!(s.upsert(&p, Kind::Flags, &v(2)).await.unwrap(), Upserted::Applied);
    assert_eq!(s.upsert(&p, Kind::Flags, &v(1)).await.unwrap(), Upserted::Stale { stored_version: 2 });
    assert_eq!(s.upsert(&p, Kind::Flags, &v(2)).await.unwrap(), Upserted::Stale { stored_version: 2 });
    assert_eq!(s.upsert(&p, Kind::Flags, &v(5)).await.unwrap(), Upserted::Applied);
    let tomb = Item::tombstone(Kind::Flags, "f", 6);
    assert_eq!(s.upsert(&p, Kind::Flags, &tomb).await.unwrap(), Upserted::Applied);
    assert_eq!(redis_cli(&["HGET", &format!("{p}:features"), "f"]).trim_end(), Kind::Flags.tombstone_json(6));
    let got = s.get(&p, Kind::Flags, "f").await.unwrap().unwrap();
    assert!(got.deleted && got.version == 6);
    // Concurrent writers: every upsert lands or is correctly refused; the highest version wins.
    let mut tasks = Vec::new();
    for n in 7..27u64 {
        let cfg = cfg.clone();
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            let s = store::open(&cfg).await.unwrap();
            s.upsert(
                &p,
                Kind::Flags,
                &Item::parse(Kind::Flags, "f", format!(r#"{{"key":"f","version":{n}}}"#)).unwrap(),
            )
            .await
            .unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(s.get(&p, Kind::Flags, "f").await.unwrap().unwrap().version, 26);
}
