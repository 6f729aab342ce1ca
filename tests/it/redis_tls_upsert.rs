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

#[test]
fn rediss_with_a_private_ca() {
    let certs = crate::support::tls::make_certs();
    let d = certs.dir.path();
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

/// The store-layer configuration for a plain Redis at `addr`.
fn redis_config(addr: &str) -> ldstore::config::StoreConfig {
    let (url, _, _) = ldstore::config::parse_redis_addr(addr, false).unwrap();
    ldstore::config::StoreConfig::Redis(ldstore::config::redis_from_parts(
        vec![url],
        None,
        None,
        None,
        std::time::Duration::from_secs(5),
        ldstore::config::RedisTopology::Single,
    ))
}

#[tokio::test]
async fn redis_upsert_is_version_guarded() {
    use ldstore::data::{Item, Kind};
    use ldstore::store::{self, Upserted};
    let cfg = redis_config(&redis_addr());
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

/// A TCP proxy in front of the real Redis that, just before forwarding each EXEC, changes the
/// watched hash through another connection: every WATCH/MULTI/EXEC round is aborted. Returns the
/// proxy's address and the number of EXECs it saw.
async fn interfering_proxy(hash: String) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let execs = std::sync::Arc::new(AtomicUsize::new(0));
    let count = execs.clone();
    tokio::spawn(async move {
        loop {
            let (client, _) = listener.accept().await.unwrap();
            let upstream = tokio::net::TcpStream::connect(redis_addr()).await.unwrap();
            let (mut cr, mut cw) = client.into_split();
            let (mut ur, mut uw) = upstream.into_split();
            tokio::spawn(async move { tokio::io::copy(&mut ur, &mut cw).await });
            let (hash, count) = (hash.clone(), count.clone());
            tokio::spawn(async move {
                let intruder = redis::Client::open(format!("redis://{}", redis_addr())).unwrap();
                let mut intruder = intruder.get_multiplexed_async_connection().await.unwrap();
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = match cr.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    if buf[..n].windows(10).any(|w| w == b"$4\r\nEXEC\r\n") {
                        let round = count.fetch_add(1, Ordering::SeqCst);
                        let _: () = redis::cmd("HSET")
                            .arg(&hash)
                            .arg("intruder")
                            .arg(round)
                            .query_async(&mut intruder)
                            .await
                            .unwrap();
                    }
                    if uw.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, execs)
}

/// Other writers changing the hash on every attempt: the upsert gives up after its bounded number
/// of WATCH retries with a contention error (exit 3 in a command), and writes nothing.
#[tokio::test]
async fn redis_upsert_gives_up_after_bounded_watch_retries() {
    use ldstore::data::{Item, Kind};
    use ldstore::store::{self, StoreError};
    let p = unique_prefix("contention");
    let hash = format!("{p}:features");
    let (addr, execs) = interfering_proxy(hash.clone()).await;
    let cfg = redis_config(&addr);
    let s = store::open(&cfg).await.unwrap();
    let item = Item::parse(Kind::Flags, "f", r#"{"key":"f","version":3}"#.to_string()).unwrap();
    let err = s.upsert(&p, Kind::Flags, &item).await.unwrap_err();
    assert!(matches!(err, StoreError::Contention { attempts: 10, .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!("Redis could not apply the change after 10 attempts: other writers kept changing {hash}")
    );
    assert_eq!(execs.load(std::sync::atomic::Ordering::SeqCst), 10);
    assert_eq!(ldstore::exit_code(&anyhow::Error::new(err)), ldstore::exit::STORE);
    // Nothing of ours was written; the other writer's field is there.
    assert_eq!(redis_cli(&["HEXISTS", &hash, "f"]).trim(), "0");
    assert_eq!(redis_cli(&["HGET", &hash, "intruder"]).trim(), "9");
}
