//! The one in-process HTTP/1.1 server the fake services are built on (the Consul KV server, the
//! LaunchDarkly server): hyper on its own tokio runtime in a background thread, on a free loopback
//! port, stopped when dropped. It parses requests (keep-alive, `Content-Length` and chunked bodies)
//! and hands each one, whole, to the service's handler as a [`Request`]: method, the path exactly as
//! sent (nothing cleaned or decoded, so a service can be as picky about paths as the real one) and
//! percent-decoded to bytes, the query, headers and body. The handler answers with a
//! [`Response`]: a whole body, or a stream the service keeps writing to (server-sent events), which
//! it may also cut short.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path as sent (still percent-encoded, never cleaned).
    pub raw_path: String,
    /// The path percent-decoded to bytes, as Go decodes a URL path (`URL.Path`).
    pub path: Vec<u8>,
    /// The query as sent, without the `?` (empty when there is none).
    pub raw_query: String,
    /// Whether the target had a `?` at all.
    pub has_query: bool,
    /// The query's parameters, decoded (`+` is a space); `None` for a bare name (`?keys`).
    pub query: Vec<(String, Option<String>)>,
    /// Header names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of a header (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    /// Whether the query names this parameter.
    pub fn has(&self, name: &str) -> bool {
        self.query.iter().any(|(k, _)| k == name)
    }

    /// A query parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.as_deref())
    }
}

/// Percent-decoding to bytes; a `%` not followed by two hex digits stays as it is.
pub fn percent_decode_bytes(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn query_decode(s: &str) -> String {
    String::from_utf8_lossy(&percent_decode_bytes(&s.replace('+', " "))).into_owned()
}

type Body = BoxBody<Bytes, std::io::Error>;

/// An answer: a status, headers and a body.
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Body,
}

impl Response {
    /// A response with a whole body (`Content-Length` is set from it).
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Response {
        let body = Full::new(Bytes::from(body.into())).map_err(|never: Infallible| match never {}).boxed();
        Response { status, headers: Vec::new(), body }
    }

    /// A response whose body the service writes as it goes: [`BodyWriter::send`] pieces (each
    /// sent to the client as soon as it is written), then drop the writer to end the body. With no
    /// `Content-Length` header the body goes chunked.
    pub fn stream(status: u16) -> (Response, BodyWriter) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<std::io::Result<Bytes>>();
        let frames =
            futures::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|piece| (piece.map(Frame::data), rx)) },
            );
        (Response { status, headers: Vec::new(), body: StreamBody::new(frames).boxed() }, BodyWriter(tx))
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// Writes a streamed body (see [`Response::stream`]).
pub struct BodyWriter(tokio::sync::mpsc::UnboundedSender<std::io::Result<Bytes>>);

impl BodyWriter {
    /// Send a piece of the body; false once the client has gone.
    pub fn send(&self, piece: impl Into<Bytes>) -> bool {
        self.0.send(Ok(piece.into())).is_ok()
    }

    /// Cut the response short: the connection is dropped where it is, without ending the body
    /// (a client sees a body shorter than its `Content-Length`, or a chunked body never ended).
    pub fn abort(self) {
        let _ = self.0.send(Err(std::io::Error::other("response cut short by the test server")));
    }
}

/// A running server; stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Serve on a free loopback port, answering every request with `handler`.
    pub fn start<F, Fut>(handler: F) -> Server
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
                addr_tx.send(listener.local_addr().expect("addr")).expect("send address");
                let accept = async {
                    loop {
                        let Ok((sock, _)) = listener.accept().await else { continue };
                        // One write per response and no Nagle delay keep keep-alive round trips fast.
                        let _ = sock.set_nodelay(true);
                        let handler = handler.clone();
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(move |req| serve(req, handler.clone()));
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(sock), service)
                                .await;
                        });
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = stop_rx => {}
                }
            });
        });
        let addr = addr_rx.recv().expect("test HTTP server started");
        Server { addr, stop: Some(stop_tx), thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve<F, Fut>(req: hyper::Request<Incoming>, handler: Arc<F>) -> Result<hyper::Response<Body>, hyper::Error>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes().to_vec();
    let raw_path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let query = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (query_decode(k), Some(query_decode(v))),
            None => (query_decode(p), None),
        })
        .collect();
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let req = Request {
        method: parts.method.as_str().to_string(),
        path: percent_decode_bytes(&raw_path),
        raw_path,
        has_query: parts.uri.query().is_some(),
        raw_query,
        query,
        headers,
        body,
    };
    let resp = handler(req).await;
    let mut out = hyper::Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        out = out.header(k, v);
    }
    Ok(out.body(resp.body).expect("a valid response"))
}

/// A blocking one-shot HTTP/1.1 request (`Connection: close`) for a test's own assertions, to any
/// HTTP server at `base` (`http://host:port` or `host:port`): the status and the body (a chunked
/// body put back together). An error when nothing answers there, or not with HTTP.
pub fn call(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    use std::io::{Read, Write};
    let hostport = base.trim_start_matches("http://").trim_end_matches('/');
    let mut sock = std::net::TcpStream::connect(hostport)?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    sock.write_all(head.as_bytes())?;
    sock.write_all(body)?;
    let mut raw = Vec::new();
    sock.read_to_end(&mut raw)?;
    let no_answer = || std::io::Error::other(format!("no HTTP response from {hostport}"));
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(no_answer)?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(no_answer)?;
    let mut body = raw[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let n = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + n]);
            rest = &rest[eol + 2 + n + 2..];
        }
        body = out;
    }
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::sync::Mutex;

    use super::*;

    /// What a service is handed: the path as sent and decoded to bytes, the query, headers and a
    /// body sent with `Content-Length` or chunked, over one kept-alive connection; then a
    /// streamed answer, and one cut short.
    #[test]
    fn the_server_hands_services_whole_requests() {
        let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
        let s2 = seen.clone();
        let server = Server::start(move |req| {
            s2.lock().unwrap().push(req.clone());
            async move {
                match req.raw_path.as_str() {
                    "/stream" => {
                        let (resp, out) = Response::stream(200);
                        tokio::spawn(async move {
                            out.send("a");
                            out.send("b");
                        });
                        resp
                    }
                    "/cut" => {
                        let (resp, out) = Response::stream(200);
                        tokio::spawn(async move {
                            out.send("{\"partial\":");
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            out.abort();
                        });
                        resp.header("Content-Length", "100")
                    }
                    _ => Response::new(201, format!("{} bytes", req.body.len())).header("X-Seen", "yes"),
                }
            }
        });
        let mut sock = std::net::TcpStream::connect(server.addr).unwrap();
        let two = "PUT /v1/kv/a%2Fb/%FF/./x?cas=3&keys&q=a+b%21 HTTP/1.1\r\nHost: h\r\nX-Consul-Token: t1\r\nContent-Length: 5\r\n\r\nhello\
                   POST //c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        sock.write_all(two.as_bytes()).unwrap();
        let mut raw = String::new();
        sock.read_to_string(&mut raw).unwrap();
        assert_eq!(raw.matches("HTTP/1.1 201 Created").count(), 2, "{raw}");
        assert!(raw.matches("5 bytes").count() == 2 && raw.to_ascii_lowercase().contains("x-seen: yes"));
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2);
        let (a, b) = (&seen[0], &seen[1]);
        assert_eq!((a.method.as_str(), a.raw_path.as_str()), ("PUT", "/v1/kv/a%2Fb/%FF/./x"));
        assert_eq!(a.path, b"/v1/kv/a/b/\xff/./x");
        assert_eq!(a.raw_query, "cas=3&keys&q=a+b%21");
        assert!(a.has_query && a.has("keys") && a.param("cas") == Some("3") && a.param("q") == Some("a b!"));
        assert_eq!((a.header("X-CONSUL-TOKEN"), a.body.as_slice()), (Some("t1"), &b"hello"[..]));
        assert_eq!((b.method.as_str(), b.raw_path.as_str(), b.body.as_slice()), ("POST", "//c", &b"abcde"[..]));
        assert!(!b.has_query && b.query.is_empty());

        let (status, body) = call(&server.url(), "GET", "/stream", &[], b"").unwrap();
        assert_eq!((status, body.as_slice()), (200, &b"ab"[..]));
        let mut sock = std::net::TcpStream::connect(server.addr).unwrap();
        sock.write_all(b"GET /cut HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
        let mut raw = Vec::new();
        let _ = sock.read_to_end(&mut raw);
        let raw = String::from_utf8_lossy(&raw);
        assert!(raw.to_ascii_lowercase().contains("content-length: 100"), "{raw}");
        assert!(raw.ends_with("\r\n\r\n{\"partial\":"), "cut short where it was: {raw}");
    }
}
