//! Defects found by a hostile pass (issue #21 section 1): each test failed before its fix.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// A flag file with `n` boolean flags (enough output to fill a pipe many times over).
fn many_flags(n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    many_flags_serving(n, true)
}

fn many_flags_serving(n: usize, value: bool) -> (tempfile::TempDir, std::path::PathBuf) {
    let values: Vec<String> = (0..n).map(|i| format!("\"flag-{i:05}\":{value}")).collect();
    temp_file("flags.json", &format!("{{\"flagValues\":{{{}}}}}", values.join(",")))
}

/// Run with standard output (and standard error too, when `stderr_too`, as with `2>&1 | head`) a
/// pipe whose reader is already gone.
fn into_closed_pipe(cmd: &mut Command, stderr_too: bool) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    if stderr_too {
        cmd.stderr(Stdio::from(writer.try_clone().unwrap()));
    } else {
        cmd.stderr(Stdio::piped());
    }
    cmd.stdout(Stdio::from(writer));
    let child = cmd.spawn().unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_reader_that_goes_away_is_not_an_error() {
    let (_d, flags) = many_flags(3000);
    let f = flags.to_str().unwrap().to_string();
    let (_d2, other) = many_flags_serving(3000, false);
    let ctx = r#"{"kind":"user","key":"u1"}"#;
    let p = unique_prefix("pipe");
    let redis = redis_addr();
    assert_code(&run(ldstore().args(["sync", "--from", &f, "--redis", &redis, "--prefix", &p])), 0);
    let store = |verb: &str| -> Vec<String> {
        [verb, "--redis", &redis, "--prefix", &p].iter().map(|s| s.to_string()).collect()
    };
    let cmds: Vec<Vec<String>> = vec![
        vec!["eval".into(), "--all".into(), "--from".into(), f.clone(), "--context".into(), ctx.into()],
        vec!["diff".into(), f.clone(), other.to_str().unwrap().into(), "--show-values".into()],
        vec!["completions".into(), "bash".into()],
        store("validate"),
        store("inspect"),
        store("dump"),
    ];
    for args in cmds {
        for stderr_too in [false, true] {
            let o = into_closed_pipe(ldstore().args(&args), stderr_too);
            // The command's answer stands: diff's is "different" (1).
            let ok = if args[0] == "diff" { Some(1) } else { Some(0) };
            assert!(o.status.code() == ok, "{args:?} (stderr too: {stderr_too}): {:?}\n{}", o.status, stderr(&o));
            assert_eq!(stderr(&o), "", "{args:?}: nothing said for a closed pipe");
        }
    }
}

#[test]
fn a_full_standard_output_is_a_usage_error_naming_it() {
    let (_d, flags) = many_flags(3000);
    for args in [
        vec!["completions", "bash"],
        vec!["eval", "--all", "--from", flags.to_str().unwrap(), "--context", r#"{"kind":"user","key":"u1"}"#],
    ] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let o = ldstore().args(&args).stdout(Stdio::from(full)).output().unwrap();
        assert_code(&o, 2);
        assert!(stderr(&o).starts_with("ldstore: error: cannot write standard output: "), "{args:?}: {}", stderr(&o));
    }
}

/// A named pipe is read once: its content is gone after the first read.
#[test]
fn a_fifo_flag_file_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("flags.json");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    // flagValues needs the full parser (the streamed reader gives up on it).
    for content in [r#"{"flagValues":{"a":true}}"#, r#"{"flags":{"a":{"key":"a","version":1,"on":true}}}"#] {
        let writer = {
            let fifo = fifo.clone();
            let content = content.to_string();
            std::thread::spawn(move || std::fs::write(fifo, content))
        };
        let p = unique_prefix("fifo");
        let mut child = ldstore()
            .args(["sync", "--from"])
            .arg(&fifo)
            .args(["--redis", &redis_addr(), "--prefix", &p])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > Duration::from_secs(30) {
                child.kill().unwrap();
                // Unblock the writer thread should it still wait for a reader (O_NONBLOCK: never
                // wait for a writer here).
                use std::os::unix::fs::OpenOptionsExt;
                let _ = std::fs::OpenOptions::new().read(true).custom_flags(0o4000).open(&fifo);
                panic!("sync of a FIFO holding {content} still running after 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let o = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert_code(&o, 0);
        assert_eq!(redis_cli(&["HKEYS", &format!("{p}:features")]).trim(), "a", "{content}");
    }
}

#[test]
fn a_duplicate_environment_section_is_named() {
    let (_d, conf) = temp_file(
        "relay.conf",
        "[Redis]\nhost = localhost\n\n[Environment \"a\"]\nsdkKey = sdk-1\n\n[Environment \"a\"]\nsdkKey = sdk-2\n",
    );
    let o = run(ldstore().args(["inspect", "--config"]).arg(&conf));
    assert_code(&o, 2);
    assert!(stderr(&o).contains("line 7: duplicate section [Environment \"a\"] (first at line 4)"), "{}", stderr(&o));
}

#[test]
fn a_zero_store_timeout_is_a_usage_error() {
    for args in [
        vec!["inspect", "--redis", "127.0.0.1:1", "--store-timeout", "0s"],
        vec!["dynamodb", "check-table", "--table", "t", "--store-timeout", "0ms"],
    ] {
        let o = run(ldstore().args(&args));
        assert_code(&o, 2);
        let err = stderr(&o);
        assert!(err.contains("--store-timeout") && err.contains("must be more than 0"), "{args:?}: {err}");
        assert!(!err.contains("Redis is running"), "{err}");
    }
}

#[test]
fn a_malformed_dynamodb_url_is_a_usage_error() {
    let o = run(ldstore()
        .args(["inspect"])
        .env("USE_DYNAMODB", "true")
        .env("DYNAMODB_TABLE", "t")
        .env("DYNAMODB_URL", "http//localhost:8000"));
    assert_code(&o, 2);
    assert!(
        stderr(&o).starts_with("ldstore: error: invalid DynamoDB endpoint \"http//localhost:8000\""),
        "{}",
        stderr(&o)
    );
    let o = run(ldstore().args(["inspect", "--dynamodb", "t", "--dynamodb-endpoint", "localhost:8000:x"]));
    assert_code(&o, 2);
    let o = run(ldstore().args(["diff", "dynamodb://t?prefix=p&endpoint=ftp%3A%2F%2F", "/dev/null"]));
    assert_code(&o, 2);
}

/// A DynamoDB endpoint that accepts connections and never answers: the whole operation, the SDK's
/// retries included, takes --store-timeout, and the message says how long it waited.
#[test]
fn dynamodb_honours_the_store_timeout_against_a_silent_endpoint() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    // Accept and hold every connection (never answer).
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in silent.incoming() {
            held.push(c);
        }
    });
    let started = Instant::now();
    let o = run(ldstore()
        .args(["inspect", "--dynamodb", "t", "--dynamodb-endpoint", &endpoint, "--store-timeout", "2s"])
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_REGION", "us-east-1"));
    let took = started.elapsed();
    assert_code(&o, 3);
    assert!(took < Duration::from_millis(4500), "took {took:?} with --store-timeout 2s: {}", stderr(&o));
    assert!(stderr(&o).contains("timed out after 2"), "{}", stderr(&o));
}

/// One prefix whose `features` key is a Redis string: inspect names that key and its type, marks
/// the prefix broken, still shows the other prefixes, and exits 3.
#[test]
fn inspect_names_a_wrong_typed_redis_key_and_shows_the_others() {
    let redis = redis_addr();
    let good = unique_prefix("good");
    let bad = unique_prefix("wrongtype");
    let (_d, flags) = temp_file("f.json", r#"{"flagValues":{"a":true}}"#);
    for p in [&good, &bad] {
        assert_code(&run(ldstore().args(["sync", "--from"]).arg(&flags).args(["--redis", &redis, "--prefix", p])), 0);
    }
    redis_cli(&["DEL", &format!("{bad}:features")]);
    redis_cli(&["SET", &format!("{bad}:features"), "oops"]);
    let o = run(ldstore().args(["inspect", "--redis", &redis]));
    assert_code(&o, 3);
    let out = stdout(&o);
    let key = format!("{bad}:features");
    assert!(out.contains(&good), "the good prefix is shown:\n{out}");
    assert!(
        out.contains(&format!("prefix \"{bad}\": cannot read: Redis key \"{key}\" is a string, not a hash")),
        "{out}\n{}",
        stderr(&o)
    );
    // One prefix alone: the same words as an error.
    let o = run(ldstore().args(["inspect", "--redis", &redis, "--prefix", &bad]));
    assert_code(&o, 3);
    assert!(stderr(&o).contains(&format!("Redis key \"{key}\" is a string, not a hash")), "{}", stderr(&o));
    redis_cli(&["DEL", &key]);
}

/// Runs `ldstore` and kills it after `limit` (a hang must fail the test, not hold the suite).
fn run_within(cmd: &mut Command, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            let o = child.wait_with_output().unwrap();
            panic!("still running after {limit:?}; stderr: {}", stderr(&o));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (child.wait_with_output().unwrap(), started.elapsed())
}

fn ld_sync(server: &LdServer, extra: &[&str]) -> Command {
    let mut c = ldstore();
    c.args(["sync", "--sdk-key", "sdk-defects", "--base-uri", &server.uri, "--stream-uri", &server.uri])
        .args(["--redis", &redis_addr(), "--prefix", &unique_prefix("bounds")])
        .args(extra);
    c
}

use crate::support::ld_server::{Fault, LdServer};

/// One event that never ends, arriving steadily: `--timeout` still ends the sync on time.
#[test]
fn stream_timeout_bounds_one_endless_event() {
    let server = LdServer::start();
    server.env("sdk-defects", "{}");
    server.faults(&[Fault::Endless { chunk: 1 << 20, every: Duration::from_millis(25) }]);
    let (o, took) = run_within(&mut ld_sync(&server, &["--stream", "--timeout", "3s"]), Duration::from_secs(20));
    assert_code(&o, 4);
    assert!(took < Duration::from_secs(8), "--timeout 3s took {took:?}");
    assert!(stderr(&o).contains("gave up on LaunchDarkly streaming"), "{}", stderr(&o));
}

/// One event larger than the limit (256 MiB) sent as fast as it can be: refused (exit 4) as soon as
/// it passes the limit, without waiting for its end.
#[test]
fn stream_events_are_bounded_in_size() {
    let server = LdServer::start();
    server.env("sdk-defects", "{}");
    server.faults(&[Fault::Endless { chunk: 4 << 20, every: Duration::from_millis(1) }]);
    let (o, _) = run_within(&mut ld_sync(&server, &["--stream", "--timeout", "120s"]), Duration::from_secs(60));
    assert_code(&o, 4);
    assert!(stderr(&o).contains("an event larger than 256 MiB"), "{}", stderr(&o));
}

/// A small gzip body that unpacks to more than the limit (256 MiB): refused (exit 4) once the
/// unpacked bytes pass it, never unpacked whole.
#[test]
fn a_gzip_bomb_is_refused_at_the_payload_limit() {
    let gz = Command::new("sh").args(["-c", "head -c 300000000 /dev/zero | gzip -1"]).output().unwrap();
    assert!(gz.status.success() && gz.stdout.len() < 2_000_000, "{}", gz.stdout.len());
    let server = LdServer::start();
    server.env("sdk-defects", "{}");
    server.faults(&[Fault::Gzip(gz.stdout)]);
    let (o, _) = run_within(&mut ld_sync(&server, &["--timeout", "120s"]), Duration::from_secs(60));
    assert_code(&o, 4);
    assert!(stderr(&o).contains("a payload larger than 256 MiB"), "{}", stderr(&o));
}

/// Decided: a flag file that is not UTF-8 is bad data (exit 4, like other bad content), naming
/// where; a UTF-8 byte order mark is skipped with a warning saying so.
#[test]
fn flag_file_encoding_invalid_utf8_is_bad_data_and_a_bom_is_skipped_out_loud() {
    for name in ["f.json", "f.yaml"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, b"{\"flagValues\":{\"a\":\"x\xff\"}}").unwrap();
        let o = run(ldstore().args(["diff"]).arg(&path).arg(&path));
        assert_code(&o, 4);
        assert!(stderr(&o).contains("not UTF-8 (invalid byte at offset 21)"), "{name}: {}", stderr(&o));

        std::fs::write(&path, "\u{feff}{\"flagValues\":{\"a\":true}}").unwrap();
        let p = unique_prefix("bom");
        let o = run(ldstore().args(["sync", "--from"]).arg(&path).args(["--redis", &redis_addr(), "--prefix", &p]));
        assert_code(&o, 0);
        assert!(stderr(&o).contains("starts with a UTF-8 byte order mark: skipped"), "{name}: {}", stderr(&o));
        assert_eq!(redis_cli(&["HKEYS", &format!("{p}:features")]).trim(), "a");
    }
}

/// Decided: a YAML tag that is not one of YAML's own (`!!str`, `!!int`, …) has no JSON meaning and
/// is refused naming where it is, rather than read as something else.
#[test]
fn a_custom_yaml_tag_is_refused_naming_where() {
    let (_d, path) = temp_file("f.yaml", "flags:\n  a:\n    key: a\n    variations: [1, !weird 2]\n");
    let o = run(ldstore().args(["diff"]).arg(&path).arg(&path));
    assert_code(&o, 4);
    assert!(stderr(&o).contains("YAML tag !weird (at flags.a.variations[1]) has no JSON meaning"), "{}", stderr(&o));
}

/// Decided: no colour codes on standard error unless it is a terminal.
#[test]
fn warnings_are_plain_text_when_stderr_is_not_a_terminal() {
    let (_d, empty) = temp_file("empty.json", "");
    let o = run(ldstore().args(["diff"]).arg(&empty).arg(&empty).env_remove("NO_COLOR"));
    assert_code(&o, 0);
    assert!(stderr(&o).contains("is empty"), "{}", stderr(&o));
    assert!(!stderr(&o).contains('\x1b'), "{:?}", stderr(&o));
}

/// Decided: a command-line mistake is reported like every other error, `ldstore: error: …`.
#[test]
fn command_line_mistakes_are_ldstore_errors() {
    let o = run(ldstore().args(["sync", "--bogus"]));
    assert_code(&o, 2);
    assert!(stderr(&o).starts_with("ldstore: error: unexpected argument '--bogus' found"), "{}", stderr(&o));
    assert!(stderr(&o).contains("Usage: ldstore sync"), "{}", stderr(&o));
}

/// Decided: `eval --all` that had to skip unreadable items is a partial answer (exit 5), not 0.
#[test]
fn eval_all_with_skipped_items_exits_5() {
    let p = unique_prefix("evalskip");
    let (_d, flags) = temp_file("f.json", r#"{"flagValues":{"a":true}}"#);
    assert_code(
        &run(ldstore().args(["sync", "--from"]).arg(&flags).args(["--redis", &redis_addr(), "--prefix", &p])),
        0,
    );
    redis_cli(&["HSET", &format!("{p}:features"), "broken", "not json"]);
    let o = run(ldstore().args([
        "eval",
        "--all",
        "--context",
        r#"{"kind":"user","key":"u"}"#,
        "--redis",
        &redis_addr(),
        "--prefix",
        &p,
    ]));
    assert_code(&o, 5);
    assert!(stderr(&o).contains("skipped unreadable item"), "{}", stderr(&o));
    assert!(stdout(&o).contains(" a "), "the readable flags are still evaluated:\n{}", stdout(&o));
}

/// A TCP proxy to Redis that forwards everything until a client sends `EXEC`, then drops that
/// connection without passing Redis' answer back (Redis still applies the transaction).
fn proxy_cutting_exec(upstream: String) -> String {
    use std::io::{Read, Write};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let Ok(mut server) = std::net::TcpStream::connect(&upstream) else { continue };
            let cut = Arc::new(AtomicBool::new(false));
            let (mut c2, mut s2, cut2) = (client.try_clone().unwrap(), server.try_clone().unwrap(), cut.clone());
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 1 << 16];
                // Redis -> client, until the cut.
                while let Ok(n) = s2.read(&mut buf) {
                    if n == 0 || cut2.load(Ordering::SeqCst) || c2.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = c2.shutdown(std::net::Shutdown::Both);
            });
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 1 << 16];
                let mut tail: Vec<u8> = Vec::new();
                while let Ok(n) = client.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    tail.extend_from_slice(&buf[..n]);
                    if tail.windows(10).any(|w| w == b"$4\r\nEXEC\r\n") {
                        cut.store(true, Ordering::SeqCst);
                    }
                    let keep = tail.len().saturating_sub(16);
                    tail.drain(..keep);
                    if server.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = server.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    addr
}

/// Decided: an init whose EXEC answer is lost says the outcome is unknown and how to check,
/// rather than a plain failure (the transaction may well have been applied).
#[test]
fn a_lost_exec_answer_is_an_unknown_outcome() {
    let proxy = proxy_cutting_exec(redis_addr());
    // .json: the streamed init; .yaml: the whole-data-set init.
    for (name, text) in [("f.json", r#"{"flagValues":{"a":true}}"#), ("f.yaml", "flagValues:\n  a: true\n")] {
        let (_d, path) = temp_file(name, text);
        let p = unique_prefix("lostexec");
        let (o, _) = run_within(
            ldstore().args(["sync", "--from"]).arg(&path).args([
                "--redis",
                &proxy,
                "--prefix",
                &p,
                "--store-timeout",
                "5s",
            ]),
            Duration::from_secs(30),
        );
        assert_code(&o, 3);
        let err = stderr(&o);
        assert!(err.contains("after EXEC was sent, before its answer"), "{name}: {err}");
        assert!(err.contains("the outcome is unknown"), "{name}: {err}");
        assert!(err.contains(&format!("ldstore inspect --prefix {p}")), "{name}: {err}");
        // Here Redis did apply it.
        assert_eq!(redis_cli(&["HKEYS", &format!("{p}:features")]).trim(), "a", "{name}");
    }
}
