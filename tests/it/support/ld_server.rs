//! An in-process LaunchDarkly test server: polling `/sdk/latest-all` (ETag, 304, `?filter=`), SSE
//! `/all` (put, patch, delete, heartbeats), 401 for an unknown SDK key, injectable faults (N×503,
//! slow, truncated, malformed), served by the tests' one HTTP server ([`super::http`]); every
//! request's headers are recorded.

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
    let rec = Recorded {
        method: req.method.clone(),
        path: req.raw_path.clone(),
        query: req.has_query.then(|| req.raw_query.clone()),
        headers: req.headers.clone(),
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
