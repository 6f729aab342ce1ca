//! A password in a URL (`http://user:password@host`), whatever its role (LaunchDarkly base or
//! stream URI, Consul address), is never printed: not in retry warnings, final errors, `-v` logs,
//! tables, JSON output, `relay` logs or its /status.

use std::process::{Output, Stdio};
use std::time::Duration;

use crate::support::consul_server::ConsulServer;
use crate::support::ld_server::{Fault, LdServer};
use crate::support::*;

const KEY: &str = "sdk-11111111-2222-3333-4444-5555555500aa";
const PASSWORD: &str = "S3cretPassw0rd";

/// One way of giving the URL: what it is, arguments, environment variables.
type Case = (&'static str, Vec<String>, Vec<(&'static str, String)>);

/// A port nobody listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Everything a run printed.
fn printed(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

#[track_caller]
fn assert_masked(text: &str, what: &str) {
    assert!(!text.contains(PASSWORD), "{what}: the password was printed:\n{text}");
    assert!(!text.contains(":pw@"), "{what}: the short password was printed:\n{text}");
    assert!(text.contains(":****@"), "{what}: the URL should be shown with its password masked:\n{text}");
}

/// A LaunchDarkly test server that fails every request (503), so ldstore retries and gives up.
fn failing_ld() -> LdServer {
    let server = LdServer::start();
    server.env(KEY, "{}");
    server.faults(&vec![Fault::Status(503); 50]);
    server
}

fn with_password(uri: &str, password: &str) -> String {
    uri.replacen("http://", &format!("http://user:{password}@"), 1)
}

#[test]
fn launchdarkly_uri_passwords_never_appear_in_warnings_or_errors() {
    let server = failing_ld();
    let uri = with_password(&server.uri, PASSWORD);
    let short = with_password(&server.uri, "pw");
    let cases: Vec<Case> = vec![
        ("--base-uri", vec!["--base-uri".into(), uri.clone()], vec![]),
        ("--base-uri (short password)", vec!["--base-uri".into(), short.clone()], vec![]),
        ("BASE_URI", vec![], vec![("BASE_URI", uri.clone())]),
        ("--stream-uri", vec!["--stream".into(), "--stream-uri".into(), uri.clone()], vec![]),
        ("STREAM_URI", vec!["--stream".into()], vec![("STREAM_URI", uri.clone())]),
    ];
    let runs: Vec<_> = cases
        .into_iter()
        .map(|(what, args, env)| {
            std::thread::spawn(move || {
                let prefix = unique_prefix("ldpw");
                let mut cmd = ldstore();
                cmd.args(["sync", "-v", "--sdk-key", KEY, "--timeout", "2s", "--redis", &redis_addr(), "--prefix"])
                    .arg(&prefix)
                    .args(&args)
                    .envs(env);
                (what, run(&mut cmd))
            })
        })
        .collect();
    for r in runs {
        let (what, o) = r.join().unwrap();
        assert_code(&o, 4);
        let text = printed(&o);
        assert!(text.contains("retrying in"), "{what}: no retry warning:\n{text}");
        assert!(text.contains("ldstore: error: gave up on LaunchDarkly"), "{what}:\n{text}");
        assert_masked(&text, what);
    }
}

#[test]
fn an_unreachable_launchdarkly_uri_with_a_password_is_masked() {
    let uri = format!("http://user:{PASSWORD}@127.0.0.1:{}", closed_port());
    let o = run(ldstore().args([
        "sync",
        "-vv",
        "--sdk-key",
        KEY,
        "--base-uri",
        &uri,
        "--timeout",
        "2s",
        "--redis",
        &redis_addr(),
        "--prefix",
        &unique_prefix("ldpw-down"),
    ]));
    assert_code(&o, 4);
    assert_masked(&printed(&o), "unreachable --base-uri");
}

/// Consul addresses with credentials, given three ways, for an unreachable Consul.
/// (The relay configuration file lives in the returned directory.)
fn consul_ways(addr: &str) -> (Vec<Case>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("relay.conf");
    std::fs::write(&conf, format!("[Consul]\nhost = {addr}\n")).unwrap();
    let ways = vec![
        ("--consul", vec!["--consul".into(), addr.to_string()], vec![]),
        ("CONSUL_HTTP_ADDR", vec![], vec![("CONSUL_HTTP_ADDR", addr.to_string())]),
        ("USE_CONSUL + CONSUL_HOST", vec![], vec![("USE_CONSUL", "1".into()), ("CONSUL_HOST", addr.to_string())]),
        ("[Consul] host", vec!["--config".into(), conf.display().to_string()], vec![]),
    ];
    (ways, dir)
}

#[test]
fn consul_address_passwords_never_appear_in_errors_or_logs() {
    let (_d, file) = temp_file("f.json", r#"{"flags":{"a":{"key":"a","version":1}}}"#);
    for password in [PASSWORD, "pw"] {
        let addr = format!("http://u:{password}@127.0.0.1:{}", closed_port());
        let (ways, _dir) = consul_ways(&addr);
        for (what, args, env) in ways {
            for command in
                [vec!["inspect", "-v"], vec!["dump"], vec!["sync", "-vv", "--from-file", file.to_str().unwrap()]]
            {
                let o = run(ldstore().args(&command).args(["--store-timeout", "2s"]).args(&args).envs(env.clone()));
                assert_code(&o, 3);
                let text = printed(&o);
                assert!(text.contains("cannot connect to Consul at http://u:****@127.0.0.1:"), "{what}:\n{text}");
                assert_masked(&text, &format!("{what} {command:?}"));
            }
        }
    }
}

#[test]
fn consul_address_passwords_are_masked_in_tables_and_json() {
    let consul = ConsulServer::start();
    let addr = with_password(&consul.url(), PASSWORD);
    let (_d, file) = temp_file("f.json", r#"{"flags":{"a":{"key":"a","version":1}}}"#);
    let p = unique_prefix("consulpw");
    for args in [
        vec!["sync", "--from-file", file.to_str().unwrap(), "--output", "json"],
        vec!["sync", "--from-file", file.to_str().unwrap()],
        vec!["inspect"],
        vec!["inspect", "--output", "json"],
        vec!["inspect", "--prefix", &p],
        vec!["validate", "--prefix", &p, "--output", "json"],
        vec!["validate", "--prefix", &p],
    ] {
        let o = run(ldstore().args(&args).args(["--consul", &addr]).args(if args.contains(&"--prefix") {
            vec![]
        } else {
            vec!["--prefix", &p]
        }));
        // validate finds the one-line flag incomplete (exit 1): only what it prints matters here.
        assert!(matches!(o.status.code(), Some(0 | 1)), "{args:?}: {}", printed(&o));
        assert_masked(&printed(&o), &format!("{args:?}"));
    }
}

/// The body of a GET (empty when nothing answers).
fn http_get(port: u16, path: &str) -> String {
    crate::support::http::call(&format!("127.0.0.1:{port}"), "GET", path, &[], b"")
        .map(|(_, body)| String::from_utf8_lossy(&body).into_owned())
        .unwrap_or_default()
}

/// `ldstore relay` for a few seconds: its log and /status.
fn relay_run(args: &[String], env: &[(&str, String)]) -> (String, String) {
    let port = closed_port();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("relay.log");
    let mut child = ldstore()
        .args(["relay", "-v", "--listen", &port.to_string(), "--store-timeout", "1s"])
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.clone())))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawn relay");
    std::thread::sleep(Duration::from_secs(4));
    let status = http_get(port, "/status");
    let _ = child.kill();
    let _ = child.wait();
    (std::fs::read_to_string(&log).unwrap(), status)
}

#[test]
fn relay_logs_and_status_mask_url_passwords() {
    let ld = with_password(&format!("http://127.0.0.1:{}", closed_port()), PASSWORD);
    let consul = format!("http://u:{PASSWORD}@127.0.0.1:{}", closed_port());
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("relay.conf");
    std::fs::write(&conf, format!("[Main]\nstreamUri = {ld}\n[Consul]\nhost = {consul}\n")).unwrap();
    let cases: Vec<Case> = vec![
        ("flags", vec!["--stream-uri".into(), ld.clone(), "--consul".into(), consul.clone()], vec![]),
        ("env", vec![], vec![("STREAM_URI", ld.clone()), ("CONSUL_HTTP_ADDR", consul.clone())]),
        ("config file", vec!["--config".into(), conf.display().to_string()], vec![]),
    ];
    for (what, args, mut env) in cases {
        env.push(("LD_SDK_KEY", KEY.to_string()));
        let (log, status) = relay_run(&args, &env);
        assert!(log.contains("store unavailable: cannot connect to Consul"), "{what}:\n{log}");
        assert_masked(&log, &format!("relay log ({what})"));
        let v: serde_json::Value =
            serde_json::from_str(&status).unwrap_or_else(|_| panic!("{what}: /status: {status}"));
        assert!(!status.contains(PASSWORD), "{what}: /status: {status}");
        let server = v["environments"]["default"]["dataStoreStatus"]["dbServer"].as_str().unwrap();
        assert!(server.starts_with("http://u:****@127.0.0.1:"), "{what}: {server}");
    }
}
