//! An in-process LaunchDarkly test server: polling `/sdk/latest-all` (ETag, 304, `?filter=`), SSE
//! `/all` (put, patch, delete, heartbeats), 401 for an unknown SDK key, injectable faults (N×503,
//! slow, truncated, malformed), served by the tests' one HTTP server ([`super::http`]); every
//! request's headers are recorded. The Big Segments endpoints as the Relay Proxy uses them: the
//! revisions poll `GET /sdk/big-segments/revisions[?after=<version>]` (the scripted patches after
//! that version, a page at a time, then `[]`) and the `/big-segments` event stream (patches pushed
//! by the test), with bodies (out of order, malformed) and faults (4xx/5xx) scripted per endpoint.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::http::{self as server, Response};

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    /// When it came.
    pub at: std::time::Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == &name.to_ascii_lowercase()).map(|(_, v)| v.as_str())
    }
}

/// A fault for the next request(s).
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and no data.
    Status(u16),
    /// Answer with this status, no data and this `Retry-After` header.
    StatusRetryAfter(u16, String),
    /// Wait this long before answering normally.
    Slow(Duration),
    /// Promise more body than is sent, then close.
    Truncate,
    /// A 200 with a body that is not JSON.
    Malformed,
    /// A 200 event stream whose first event never ends: after `event: put` and the start of its
    /// data line, `chunk` bytes of JSON whitespace every `every`, for up to 60 s.
    Endless { chunk: usize, every: Duration },
    /// A 200 with these bytes as a gzip-encoded body (`Content-Encoding: gzip`).
    Gzip(Vec<u8>),
}

#[derive(Default)]
struct State {
    /// SDK key -> the `/sdk/latest-all` body.
    envs: HashMap<String, String>,
    faults: VecDeque<Fault>,
    /// Raw SSE text sent before / after the put.
    before_put: String,
    after_put: String,
    requests: Vec<Recorded>,
    /// Open `/all` streams with the SDK key they were opened with (for pushing events or closing
    /// them).
    streams: Vec<(String, tokio::sync::mpsc::UnboundedSender<StreamCmd>)>,
    /// How long a stream stays open after the put (default 30 s).
    hold: Option<Duration>,
    /// SDK key -> its Big Segments patches, in LaunchDarkly's order.
    big: HashMap<String, Vec<serde_json::Value>>,
    /// Patches per revisions answer (default 100).
    big_page: Option<usize>,
    /// Raw bodies answering the next revisions polls (before the scripted patches).
    big_bodies: VecDeque<String>,
    /// Faults for the next Big Segments requests (poll or stream), one each.
    big_faults: VecDeque<Fault>,
    /// Open `/big-segments` streams.
    big_streams: Vec<tokio::sync::mpsc::UnboundedSender<StreamCmd>>,
}

/// A command for the open streams.
#[derive(Debug, Clone)]
enum StreamCmd {
    Send(String),
    Close,
}

pub struct LdServer {
    pub uri: String,
    state: Arc<Mutex<State>>,
    _server: server::Server,
}

/// The ETag the server gives a body.
pub fn etag_of(body: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    format!("\"{:016x}\"", h.finish())
}

impl LdServer {
    /// Start a server on a free port.
    pub fn start() -> LdServer {
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let server = server::Server::start(move |req| handle(req, st.clone()));
        LdServer { uri: server.url(), state, _server: server }
    }

    /// Serve `body` (a `/sdk/latest-all` JSON document) for `sdk_key`.
    pub fn env(&self, sdk_key: &str, body: &str) -> &Self {
        self.state.lock().unwrap().envs.insert(sdk_key.to_string(), body.to_string());
        self
    }

    /// Queue faults for the next requests (one each).
    pub fn faults(&self, faults: &[Fault]) -> &Self {
        self.state.lock().unwrap().faults.extend(faults.iter().cloned());
        self
    }

    /// Raw SSE text sent before the `put` (heartbeats, patches, unknown events...).
    pub fn before_put(&self, sse: &str) -> &Self {
        self.state.lock().unwrap().before_put = sse.to_string();
        self
    }

    /// Raw SSE text sent after the `put`.
    pub fn after_put(&self, sse: &str) -> &Self {
        self.state.lock().unwrap().after_put = sse.to_string();
        self
    }

    /// Keep streams open this long after the put (default 30 s).
    pub fn hold_streams(&self, d: Duration) -> &Self {
        self.state.lock().unwrap().hold = Some(d);
        self
    }

    /// Send raw SSE text on every open stream; returns how many streams got it.
    pub fn push(&self, sse: &str) -> usize {
        self.push_where(sse, |_| true)
    }

    /// Send raw SSE text on the open streams of one SDK key; returns how many streams got it.
    pub fn push_to(&self, sdk_key: &str, sse: &str) -> usize {
        self.push_where(sse, |k| k == sdk_key)
    }

    fn push_where(&self, sse: &str, to: impl Fn(&str) -> bool) -> usize {
        let mut s = self.state.lock().unwrap();
        s.streams.retain(|(_, t)| !t.is_closed());
        s.streams.iter().filter(|(k, t)| to(k) && t.send(StreamCmd::Send(sse.to_string())).is_ok()).count()
    }

    /// Close every open stream (clients see the stream end).
    pub fn close_streams(&self) {
        let mut s = self.state.lock().unwrap();
        for (_, t) in s.streams.drain(..) {
            let _ = t.send(StreamCmd::Close);
        }
    }

    /// How many streams are open (and have been sent their put).
    pub fn open_streams(&self) -> usize {
        let mut s = self.state.lock().unwrap();
        s.streams.retain(|(_, t)| !t.is_closed());
        s.streams.len()
    }

    /// How many `/all` stream requests carried this SDK key (answered or rejected).
    pub fn stream_requests(&self, sdk_key: &str) -> usize {
        let s = self.state.lock().unwrap();
        s.requests.iter().filter(|r| r.path == "/all" && r.header("authorization") == Some(sdk_key)).count()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Serve these Big Segments patches (JSON objects, in LaunchDarkly's order) for `sdk_key`: the
    /// revisions poll answers those after `?after=<version>` (all of them without `after`, or when
    /// no patch has that version).
    pub fn big_segments(&self, sdk_key: &str, patches: &[serde_json::Value]) -> &Self {
        self.state.lock().unwrap().big.insert(sdk_key.to_string(), patches.to_vec());
        self
    }

    /// Append patches to those served for `sdk_key`.
    pub fn add_big_segments(&self, sdk_key: &str, patches: &[serde_json::Value]) -> &Self {
        self.state.lock().unwrap().big.entry(sdk_key.to_string()).or_default().extend(patches.iter().cloned());
        self
    }

    /// At most this many patches per revisions answer.
    pub fn big_page(&self, n: usize) -> &Self {
        self.state.lock().unwrap().big_page = Some(n);
        self
    }

    /// Answer the next revisions polls with these raw bodies, one each, before the scripted patches
    /// (patches out of order, a malformed body...).
    pub fn big_bodies(&self, bodies: &[&str]) -> &Self {
        self.state.lock().unwrap().big_bodies.extend(bodies.iter().map(|b| b.to_string()));
        self
    }

    /// Faults for the next Big Segments requests (revisions poll or stream), one each.
    pub fn big_faults(&self, faults: &[Fault]) -> &Self {
        self.state.lock().unwrap().big_faults.extend(faults.iter().cloned());
        self
    }

    /// Send these patches as one event on every open `/big-segments` stream; returns how many
    /// streams got it.
    pub fn push_big(&self, patches: &[serde_json::Value]) -> usize {
        self.push_big_raw(&sse("patch", &serde_json::Value::from(patches.to_vec()).to_string()))
    }

    /// Send raw SSE text on every open `/big-segments` stream.
    pub fn push_big_raw(&self, sse: &str) -> usize {
        let mut s = self.state.lock().unwrap();
        s.big_streams.retain(|t| !t.is_closed());
        s.big_streams.iter().filter(|t| t.send(StreamCmd::Send(sse.to_string())).is_ok()).count()
    }

    /// Close every open `/big-segments` stream.
    pub fn close_big_streams(&self) {
        let mut s = self.state.lock().unwrap();
        for t in s.big_streams.drain(..) {
            let _ = t.send(StreamCmd::Close);
        }
    }

    /// How many `/big-segments` streams are open.
    pub fn open_big_streams(&self) -> usize {
        let mut s = self.state.lock().unwrap();
        s.big_streams.retain(|t| !t.is_closed());
        s.big_streams.len()
    }

    /// The Big Segments requests seen so far (revisions polls and stream opens), in order.
    pub fn big_requests(&self) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| is_big_path(&r.path)).collect()
    }
}

/// A patch as LaunchDarkly sends it: `segment_ref` gains/loses these context hashes.
pub fn big_patch(
    segment_ref: &str,
    version: &str,
    previous: &str,
    include_add: &[&str],
    include_remove: &[&str],
    exclude_add: &[&str],
    exclude_remove: &[&str],
) -> serde_json::Value {
    serde_json::json!({
        "environmentId": "env-1",
        "segmentId": segment_ref,
        "version": version,
        "previousVersion": previous,
        "changes": {
            "included": {"add": include_add, "remove": include_remove},
            "excluded": {"add": exclude_add, "remove": exclude_remove},
        },
    })
}

fn is_big_path(path: &str) -> bool {
    path == "/sdk/big-segments/revisions" || path == "/big-segments"
}

/// An SSE event with `data` split over lines as the protocol allows.
pub fn sse(event: &str, data: &str) -> String {
    let mut s = format!("event: {event}\n");
    for line in data.lines() {
        s.push_str(&format!("data: {line}\n"));
    }
    s.push('\n');
    s
}

async fn handle(req: server::Request, st: Arc<Mutex<State>>) -> Response {
    if is_big_path(&req.raw_path) {
        return handle_big(req, st).await;
    }
    let rec = Recorded {
        method: req.method.clone(),
        path: req.raw_path.clone(),
        query: req.has_query.then(|| req.raw_query.clone()),
        headers: req.headers.clone(),
        at: std::time::Instant::now(),
    };
    let (fault, body, before, after) = {
        let mut s = st.lock().unwrap();
        s.requests.push(rec.clone());
        let fault = s.faults.pop_front();
        let body = rec.header("authorization").and_then(|k| s.envs.get(k).cloned());
        (fault, body, s.before_put.clone(), s.after_put.clone())
    };
    match fault {
        Some(Fault::Status(code)) => return Response::new(code, ""),
        Some(Fault::StatusRetryAfter(code, wait)) => return Response::new(code, "").header("Retry-After", &wait),
        Some(Fault::Slow(d)) => tokio::time::sleep(d).await,
        Some(Fault::Malformed) => {
            return Response::new(200, "{\"flags\": {oops").header("Content-Type", "application/json");
        }
        Some(Fault::Truncate) => {
            // 1000 bytes promised, a few sent, then the connection is dropped.
            let (resp, body) = Response::stream(200);
            tokio::spawn(async move {
                body.send("{\"flags\":{");
                tokio::time::sleep(Duration::from_millis(50)).await;
                body.abort();
            });
            return resp.header("Content-Type", "application/json").header("Content-Length", "1000");
        }
        Some(Fault::Endless { chunk, every }) => {
            let (resp, out) = Response::stream(200);
            tokio::spawn(async move {
                out.send("event: put\ndata: {\"path\":\"/\",\"data\":");
                let spaces = bytes::Bytes::from(vec![b' '; chunk]);
                let until = tokio::time::Instant::now() + Duration::from_secs(60);
                while tokio::time::Instant::now() < until && out.send(spaces.clone()) {
                    tokio::time::sleep(every).await;
                }
            });
            return resp.header("Content-Type", "text/event-stream");
        }
        Some(Fault::Gzip(bytes)) => {
            return Response::new(200, bytes)
                .header("Content-Type", "application/json")
                .header("Content-Encoding", "gzip");
        }
        None => {}
    }
    let Some(body) = body else {
        return Response::new(401, "");
    };
    match rec.path.as_str() {
        "/sdk/latest-all" => {
            let etag = etag_of(&body);
            if rec.header("if-none-match") == Some(etag.as_str()) {
                return Response::new(304, "").header("ETag", &etag);
            }
            Response::new(200, body)
                .header("Content-Type", "application/json")
                .header("ETag", &etag)
                .header("X-LD-EnvID", "env-1")
        }
        "/all" => {
            // Registered before the put is sent: once a client has the put, pushes reach it.
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let hold = {
                let mut s = st.lock().unwrap();
                s.streams.push((rec.header("authorization").unwrap_or_default().to_string(), tx));
                s.hold.unwrap_or(Duration::from_secs(30))
            };
            let (resp, out) = Response::stream(200);
            tokio::spawn(async move {
                out.send(before);
                let put = sse("put", &format!("{{\"path\": \"/\", \"data\": {body}}}"));
                // Split the put over several writes to exercise the parser's buffering.
                let (a, b) = put.as_bytes().split_at(put.len() / 2);
                out.send(a.to_vec());
                tokio::time::sleep(Duration::from_millis(20)).await;
                out.send(b.to_vec());
                out.send(after);
                out.send(":heartbeat\n\n");
                // Keep the stream open a while, as the service does, sending what tests push.
                let deadline = tokio::time::sleep(hold);
                tokio::pin!(deadline);
                loop {
                    tokio::select! {
                        cmd = rx.recv() => match cmd {
                            Some(StreamCmd::Send(text)) => {
                                if !out.send(text) {
                                    break;
                                }
                            }
                            Some(StreamCmd::Close) | None => break,
                        },
                        _ = &mut deadline => break,
                    }
                }
                // Dropping `out` ends the body; the connection then closes.
            });
            resp.header("Content-Type", "text/event-stream")
                .header("Cache-Control", "no-cache")
                .header("Connection", "close")
        }
        _ => Response::new(404, ""),
    }
}

/// The Big Segments endpoints.
async fn handle_big(req: server::Request, st: Arc<Mutex<State>>) -> Response {
    let rec = Recorded {
        method: req.method.clone(),
        path: req.raw_path.clone(),
        query: req.has_query.then(|| req.raw_query.clone()),
        headers: req.headers.clone(),
        at: std::time::Instant::now(),
    };
    let (fault, patches, body, page) = {
        let mut s = st.lock().unwrap();
        s.requests.push(rec.clone());
        let fault = s.big_faults.pop_front();
        let patches = rec.header("authorization").and_then(|k| s.big.get(k).cloned());
        let body = if rec.path == "/sdk/big-segments/revisions" { s.big_bodies.pop_front() } else { None };
        (fault, patches, body, s.big_page.unwrap_or(100))
    };
    match fault {
        Some(Fault::Status(code)) => return Response::new(code, ""),
        Some(Fault::StatusRetryAfter(code, wait)) => return Response::new(code, "").header("Retry-After", &wait),
        Some(Fault::Slow(d)) => tokio::time::sleep(d).await,
        Some(Fault::Malformed) => {
            return Response::new(200, "[{\"segmentId\": oops").header("Content-Type", "application/json");
        }
        Some(_) => return Response::new(500, "fault not supported on the Big Segments endpoints"),
        None => {}
    }
    let Some(patches) = patches else {
        return Response::new(401, "");
    };
    if rec.path == "/big-segments" {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        st.lock().unwrap().big_streams.push(tx);
        let (resp, out) = Response::stream(200);
        tokio::spawn(async move {
            out.send(":heartbeat\n\n");
            let deadline = tokio::time::sleep(Duration::from_secs(60));
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    cmd = rx.recv() => match cmd {
                        Some(StreamCmd::Send(text)) => {
                            if !out.send(text) {
                                break;
                            }
                        }
                        Some(StreamCmd::Close) | None => break,
                    },
                    _ = &mut deadline => break,
                }
            }
        });
        return resp.header("Content-Type", "text/event-stream").header("Cache-Control", "no-cache");
    }
    if let Some(body) = body {
        return Response::new(200, body).header("Content-Type", "application/json");
    }
    let start = match req.param("after") {
        Some(after) => patches.iter().position(|p| p["version"] == after).map_or(0, |i| i + 1),
        None => 0,
    };
    let answer: Vec<serde_json::Value> = patches.into_iter().skip(start).take(page).collect();
    Response::new(200, serde_json::Value::from(answer).to_string()).header("Content-Type", "application/json")
}
