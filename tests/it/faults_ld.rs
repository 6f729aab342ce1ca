//! The fault matrix of issue #21, LaunchDarkly's side: what a one-shot `sync` (polling and
//! `--stream`) and `relay` do when LaunchDarkly (or something in front of it) misbehaves. Each
//! server here is scripted per request on the one in-process HTTP test server. After each fault:
//! the documented exit code, one line naming the cause, bounded time, and the store untouched
//! unless the data arrived whole.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::relay::{KEY, Relay, body, free_port};
use crate::support::http::{Response, Server};
use crate::support::ld_server::sse;
use crate::support::*;

/// A server that answers the n-th request (0-based) with `script(n, path)`, recording when each
/// request arrived.
struct Scripted {
    server: Server,
    arrivals: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl Scripted {
    fn start(script: impl Fn(usize, &str) -> Response + Send + Sync + 'static) -> Scripted {
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let seen = arrivals.clone();
        let script = Arc::new(script);
        let server = Server::start(move |req| {
            let path = req.raw_path.clone();
            let n = {
                let mut a = seen.lock().unwrap();
                a.push((Instant::now(), path.clone()));
                a.len() - 1
            };
            let script = script.clone();
            async move { script(n, &path) }
        });
        Scripted { server, arrivals }
    }

    fn uri(&self) -> String {
        self.server.url()
    }

    fn count(&self) -> usize {
        self.arrivals.lock().unwrap().len()
    }

    /// Seconds between request `a` and request `b`.
    fn gap(&self, a: usize, b: usize) -> f64 {
        let v = self.arrivals.lock().unwrap();
        v[b].0.duration_since(v[a].0).as_secs_f64()
    }
}

fn data() -> String {
    body(&[("a", 1), ("b", 2)])
}

/// `ldstore sync` from `uri` (polling, or the stream with `stream`) into a fresh Redis prefix.
fn sync_from(uri: &str, stream: bool, extra: &[&str]) -> (std::process::Output, String, Duration) {
    let prefix = unique_prefix("ldfault");
    let mut c = ldstore();
    c.args(["sync", "--sdk-key", KEY, "--redis", &redis_addr(), "--prefix", &prefix]);
    if stream {
        c.args(["--stream", "--stream-uri", uri]);
    } else {
        c.args(["--base-uri", uri]);
    }
    c.args(extra);
    let started = Instant::now();
    let o = run(&mut c);
    (o, prefix, started.elapsed())
}

fn keys_of(prefix: &str) -> String {
    redis_cli(&["--scan", "--pattern", &format!("{prefix}:*")])
}

#[track_caller]
fn assert_one_error_line(o: &std::process::Output, needle: &str) {
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("ldstore: error:")).collect();
    assert_eq!(lines.len(), 1, "one error line expected:\n{err}");
    assert!(lines[0].contains(needle), "the error line must name {needle:?}:\n{err}");
    assert!(!err.contains(KEY), "the SDK key leaked:\n{err}");
}

#[test]
fn retry_after_on_429_and_503_is_honoured_by_sync() {
    // Seconds form on 429, HTTP-date form on 503 (about 2 s ahead), then the data. Without
    // Retry-After the backoff would retry after 0.5-1 s.
    for (status, form) in [(429, "seconds"), (503, "date")] {
        let server = Scripted::start(move |n, _| match n {
            0 => {
                let value = match form {
                    "seconds" => "2".to_string(),
                    _ => httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(3)),
                };
                Response::new(status, "slow down").header("Retry-After", &value)
            }
            _ => Response::new(200, data()),
        });
        let (o, prefix, _) = sync_from(&server.uri(), false, &[]);
        assert_code(&o, 0);
        assert_eq!(server.count(), 2);
        // An HTTP date has one-second resolution: at least 2 s after the first answer.
        assert!(server.gap(0, 1) >= 1.9, "{status} {form}: retried after {:.2} s", server.gap(0, 1));
        assert!(stderr(&o).contains("Retry-After"), "the wait is said: {}", stderr(&o));
        assert!(keys_of(&prefix).contains(":features"));
    }
}

#[test]
fn retry_after_beyond_the_timeout_gives_up_at_once() {
    let server = Scripted::start(|_, _| Response::new(429, "").header("Retry-After", "3600"));
    let (o, prefix, took) = sync_from(&server.uri(), false, &["--timeout", "20s"]);
    assert_code(&o, 4);
    assert_one_error_line(&o, "Retry-After");
    assert!(took < Duration::from_secs(15), "gave up after {took:?}: it must not wait for a retry it cannot make");
    assert_eq!(server.count(), 1);
    assert_eq!(keys_of(&prefix).trim(), "");
}

#[test]
fn retry_after_on_the_stream_is_honoured_by_sync_stream() {
    let server = Scripted::start(|n, _| match n {
        0 => Response::new(503, "").header("Retry-After", "2"),
        _ => Response::new(200, sse("put", &format!(r#"{{"path":"/","data":{}}}"#, data())))
            .header("Content-Type", "text/event-stream"),
    });
    let (o, prefix, _) = sync_from(&server.uri(), true, &[]);
    assert_code(&o, 0);
    assert!(server.gap(0, 1) >= 1.9, "retried after {:.2} s", server.gap(0, 1));
    assert!(keys_of(&prefix).contains(":features"));
}

#[test]
fn relay_waits_as_long_as_retry_after_says() {
    let server = Scripted::start(|n, _| match n {
        0 => Response::new(429, "").header("Retry-After", "3"),
        _ => {
            let (resp, w) = Response::stream(200);
            w.send(sse("put", &format!(r#"{{"path":"/","data":{}}}"#, data())));
            // Hold the stream open (the writer lives as long as the test needs it).
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(30));
                drop(w);
            });
            resp.header("Content-Type", "text/event-stream")
        }
    });
    let prefix = unique_prefix("ldfault-relay");
    let port = free_port();
    let relay = Relay::start(
        &[
            "--stream-uri",
            &server.uri(),
            "--redis",
            &redis_addr(),
            "--prefix",
            &prefix,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ],
        &[("LD_SDK_KEY", KEY)],
    );
    relay.wait_for("the put in the store", || keys_of(&prefix).contains(":features"));
    assert!(server.gap(0, 1) >= 2.9, "reconnected after {:.2} s", server.gap(0, 1));
    assert!(relay.log().contains("Retry-After"), "{}", relay.log());
}

fn put_event() -> String {
    sse("put", &format!(r#"{{"path":"/","data":{}}}"#, data()))
}

/// An event stream that sends `pieces` one by one (each its own chunk, flushed), then stays open
/// for `hold`.
fn stream_of(pieces: Vec<Vec<u8>>, hold: Duration) -> Response {
    let (resp, w) = Response::stream(200);
    std::thread::spawn(move || {
        for p in pieces {
            if !w.send(p) {
                return;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        std::thread::sleep(hold);
        drop(w);
    });
    resp.header("Content-Type", "text/event-stream")
}

#[test]
fn a_put_split_at_every_byte_boundary_is_read_whole() {
    let bytes: Vec<Vec<u8>> = put_event().into_bytes().into_iter().map(|b| vec![b]).collect();
    let server = Scripted::start(move |_, _| stream_of(bytes.clone(), Duration::from_secs(5)));
    let (o, prefix, _) = sync_from(&server.uri(), true, &[]);
    assert_code(&o, 0);
    assert_eq!(server.count(), 1);
    let dumped = run(ldstore().args(["dump", "--redis", &redis_addr(), "--prefix", &prefix]));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stdout(&dumped)).unwrap(),
        serde_json::from_str::<serde_json::Value>(&data()).unwrap()
    );
}

#[test]
fn invalid_utf8_from_launchdarkly_is_bad_data_and_nothing_is_written() {
    let mut event = put_event().into_bytes();
    let at = event.windows(3).position(|w| w == b"\"a\"").unwrap() + 1;
    event[at] = 0xff;
    // Polling and the stream.
    let body = event.clone();
    let polled = Scripted::start(move |_, _| {
        let text = String::from_utf8_lossy(&body).replace("event: put\ndata: ", "");
        let mut raw = text.into_bytes();
        let at = raw.iter().position(|&b| b == 0xef).unwrap();
        raw.splice(at..at + 3, [0xff]);
        Response::new(200, raw)
    });
    let (o, prefix, _) = sync_from(&polled.uri(), false, &[]);
    assert_code(&o, 4);
    assert_one_error_line(&o, "UTF-8");
    assert_eq!(keys_of(&prefix).trim(), "");
    let streamed = Scripted::start(move |_, _| stream_of(vec![event.clone()], Duration::from_secs(5)));
    let (o, prefix, _) = sync_from(&streamed.uri(), true, &[]);
    assert_code(&o, 4);
    assert_one_error_line(&o, "UTF-8");
    assert_eq!(keys_of(&prefix).trim(), "");
}

#[test]
fn redirects_are_followed_and_a_redirect_loop_is_named() {
    // A proxy in front of LaunchDarkly that moves the endpoint on the same host.
    let server = Scripted::start(|_, path| match path {
        "/sdk/latest-all" => Response::new(307, "").header("Location", "/moved/sdk/latest-all"),
        _ => Response::new(200, data()),
    });
    let (o, prefix, _) = sync_from(&server.uri(), false, &[]);
    assert_code(&o, 0);
    assert!(keys_of(&prefix).contains(":features"));

    let looping = Scripted::start(|_, path| Response::new(302, "").header("Location", path));
    let (o, prefix, took) = sync_from(&looping.uri(), false, &["--timeout", "5s"]);
    assert_code(&o, 4);
    assert_one_error_line(&o, "redirect");
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert_eq!(keys_of(&prefix).trim(), "");
}

#[test]
fn a_tls_failure_is_named_and_bounded() {
    // https:// to a server that speaks plain HTTP: the TLS handshake fails.
    let server = Scripted::start(|_, _| Response::new(200, data()));
    let uri = server.uri().replace("http://", "https://");
    let (o, prefix, took) = sync_from(&uri, false, &["--timeout", "3s"]);
    assert_code(&o, 4);
    assert_one_error_line(&o, "TLS failure");
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert_eq!(keys_of(&prefix).trim(), "");
}

#[test]
fn a_50_mb_put_is_taken_whole() {
    // 50 MB of flags in one put (well under the 256 MiB payload limit), one chunk per 64 KiB.
    let flags: Vec<(String, u64)> = (0..100).map(|i| (format!("big-{i:03}"), 1)).collect();
    let pad = "x".repeat(500_000);
    let mut items = Vec::new();
    for (k, v) in &flags {
        items.push(format!(
            r#""{k}":{{"key":"{k}","version":{v},"on":false,"variations":["{pad}"],"offVariation":0,"fallthrough":{{"variation":0}}}}"#
        ));
    }
    let event = sse("put", &format!(r#"{{"path":"/","data":{{"flags":{{{}}},"segments":{{}}}}}}"#, items.join(",")));
    assert!(event.len() > 50_000_000);
    let pieces: Vec<Vec<u8>> = event.as_bytes().chunks(64 << 10).map(<[u8]>::to_vec).collect();
    let server = Scripted::start(move |_, _| stream_of(pieces.clone(), Duration::from_secs(5)));
    let (o, prefix, _) = sync_from(&server.uri(), true, &["--timeout", "120s"]);
    assert_code(&o, 0);
    let n = redis_cli(&["HLEN", &format!("{prefix}:features")]);
    assert_eq!(n.trim(), "100");
}

#[test]
fn a_silent_stream_is_reconnected_by_relay_after_the_read_timeout() {
    // The first stream answers 200 and then says nothing at all; the second sends the put.
    let server = Scripted::start(|n, _| match n {
        0 => stream_of(vec![b":\n".to_vec()], Duration::from_secs(60)),
        _ => stream_of(vec![put_event().into_bytes()], Duration::from_secs(30)),
    });
    let prefix = unique_prefix("ldfault-silent");
    let port = free_port();
    let relay = Relay::start(
        &[
            "--stream-uri",
            &server.uri(),
            "--redis",
            &redis_addr(),
            "--prefix",
            &prefix,
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--read-timeout",
            "2s",
        ],
        &[("LD_SDK_KEY", KEY)],
    );
    relay.wait_for("the put from the second stream", || keys_of(&prefix).contains(":features"));
    assert!(server.gap(0, 1) >= 2.0, "reconnected after {:.2} s", server.gap(0, 1));
    assert!(relay.log().contains("no data for 2s"), "{}", relay.log());
}

#[test]
fn a_silent_stream_is_bounded_by_the_sync_timeout() {
    let server = Scripted::start(|_, _| stream_of(vec![b":\n".to_vec()], Duration::from_secs(60)));
    let (o, prefix, took) = sync_from(&server.uri(), true, &["--timeout", "3s"]);
    assert_code(&o, 4);
    assert_one_error_line(&o, "gave up");
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert_eq!(keys_of(&prefix).trim(), "");
}
