//! An in-process LaunchDarkly test server: polling `/sdk/latest-all` (ETag, 304, `?filter=`), SSE
//! `/all` (put, patch, delete, heartbeats), 401 for an unknown SDK key, injectable faults (N×503,
//! slow, truncated, malformed). A hand-written HTTP/1.1 server over a tokio TcpListener, running in
//! a background thread with its own runtime; every request's headers are recorded.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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
        let (tx, rx) = std::sync::mpsc::channel();
        let st = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                tx.send(listener.local_addr().expect("addr").port()).expect("send port");
                loop {
                    let Ok((sock, _)) = listener.accept().await else { continue };
                    let st = st.clone();
                    tokio::spawn(async move {
                        let _ = handle(sock, st).await;
                    });
                }
            });
        });
        let port = rx.recv().expect("server started");
        LdServer { uri: format!("http://127.0.0.1:{port}"), state }
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

async fn handle(mut sock: TcpStream, st: Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or("");
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.clone(), None),
    };
    let headers: Vec<(String, String)> = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rec = Recorded { method, path: path.clone(), query, headers };
    let (fault, body, before, after) = {
        let mut s = st.lock().unwrap();
        s.requests.push(rec.clone());
        let fault = s.faults.pop_front();
        let body = rec.header("authorization").and_then(|k| s.envs.get(k).cloned());
        (fault, body, s.before_put.clone(), s.after_put.clone())
    };
    match fault {
        Some(Fault::Status(code)) => return respond(&mut sock, code, &[], "").await,
        Some(Fault::Slow(d)) => tokio::time::sleep(d).await,
        Some(Fault::Malformed) => {
            return respond(&mut sock, 200, &[("Content-Type", "application/json")], "{\"flags\": {oops").await;
        }
        Some(Fault::Truncate) => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n{\"flags\":{";
            sock.write_all(head.as_bytes()).await?;
            return sock.shutdown().await;
        }
        None => {}
    }
    let Some(body) = body else {
        return respond(&mut sock, 401, &[], "").await;
    };
    match path.as_str() {
        "/sdk/latest-all" => {
            let etag = etag_of(&body);
            if rec.header("if-none-match") == Some(etag.as_str()) {
                return respond(&mut sock, 304, &[("ETag", &etag)], "").await;
            }
            respond(
                &mut sock,
                200,
                &[("Content-Type", "application/json"), ("ETag", &etag), ("X-LD-EnvID", "env-1")],
                &body,
            )
            .await
        }
        "/all" => {
            // Registered before the put is sent: once a client has the put, pushes reach it.
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let hold = {
                let mut s = st.lock().unwrap();
                s.streams.push((rec.header("authorization").unwrap_or_default().to_string(), tx));
                s.hold.unwrap_or(Duration::from_secs(30))
            };
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";
            sock.write_all(head.as_bytes()).await?;
            sock.write_all(before.as_bytes()).await?;
            sock.flush().await?;
            let put = sse("put", &format!("{{\"path\": \"/\", \"data\": {body}}}"));
            // Split the put over several writes to exercise the parser's buffering.
            let (a, b) = put.as_bytes().split_at(put.len() / 2);
            sock.write_all(a).await?;
            sock.flush().await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
            sock.write_all(b).await?;
            sock.write_all(after.as_bytes()).await?;
            sock.write_all(b":heartbeat\n\n").await?;
            sock.flush().await?;
            // Keep the stream open a while, as the service does, sending what tests push.
            let deadline = tokio::time::sleep(hold);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    cmd = rx.recv() => match cmd {
                        Some(StreamCmd::Send(text)) => {
                            sock.write_all(text.as_bytes()).await?;
                            sock.flush().await?;
                        }
                        Some(StreamCmd::Close) | None => break,
                    },
                    _ = &mut deadline => break,
                }
            }
            sock.shutdown().await
        }
        _ => respond(&mut sock, 404, &[], "").await,
    }
}

async fn respond(sock: &mut TcpStream, code: u16, headers: &[(&str, &str)], body: &str) -> std::io::Result<()> {
    let reason = match code {
        200 => "OK",
        304 => "Not Modified",
        401 => "Unauthorized",
        404 => "Not Found",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut s = format!("HTTP/1.1 {code} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (k, v) in headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s.push_str(body);
    sock.write_all(s.as_bytes()).await?;
    sock.shutdown().await
}
