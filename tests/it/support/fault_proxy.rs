//! A TCP proxy in front of a store whose behaviour a test switches at run time, to put one
//! fault in front of any backend (Redis, DynamoDB's and Consul's HTTP):
//! - [`Mode::Pass`]: forward both ways;
//! - [`Mode::Silent`]: accept connections and read what clients send, but forward and answer
//!   nothing (a store that accepts connections and never answers); open connections go silent too;
//! - [`Mode::Down`]: drop every open connection and every new one at once;
//! - [`Mode::Http500`]: answer every HTTP request on a new connection with `500` (an HTTP store
//!   refusing writes), open connections are dropped.
//!
//! It can also switch by itself to a mode once a number of bytes went upstream ([`FaultProxy::after`]),
//! to cut a long write part-way.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Pass,
    Silent,
    Down,
    Http500,
}

struct Shared {
    mode: Mutex<Mode>,
    /// Switch to this mode once this many bytes went upstream.
    trigger: Mutex<Option<(u64, Mode)>>,
    forwarded: AtomicU64,
    /// Every open connection (client side and upstream side), to shut them down.
    open: Mutex<Vec<(TcpStream, TcpStream)>>,
}

pub struct FaultProxy {
    /// `127.0.0.1:PORT`
    pub addr: String,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Proxy to `upstream` (`host:port`), starting in `mode`.
    pub fn start(upstream: &str, mode: Mode) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().unwrap().to_string();
        let shared = Arc::new(Shared {
            mode: Mutex::new(mode),
            trigger: Mutex::new(None),
            forwarded: AtomicU64::new(0),
            open: Mutex::new(Vec::new()),
        });
        let (up, sh) = (upstream.to_string(), shared.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let sh = sh.clone();
                let up = up.clone();
                std::thread::spawn(move || serve(client, &up, &sh));
            }
        });
        FaultProxy { addr, shared }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = mode;
        if mode != Mode::Pass {
            cut_all(&self.shared, mode == Mode::Silent);
        }
    }

    /// Switch to `mode` once `bytes` more bytes have gone upstream.
    pub fn after(&self, bytes: u64, mode: Mode) {
        let at = self.forwarded() + bytes;
        *self.shared.trigger.lock().unwrap() = Some((at, mode));
    }

    pub fn forwarded(&self) -> u64 {
        self.shared.forwarded.load(Ordering::SeqCst)
    }
}

/// Shut every open connection down; `silent` keeps the client side open (it just never hears
/// back) and closes only the upstream side.
fn cut_all(shared: &Shared, silent: bool) {
    for (client, server) in shared.open.lock().unwrap().drain(..) {
        let _ = server.shutdown(Shutdown::Both);
        if !silent {
            let _ = client.shutdown(Shutdown::Both);
        } else {
            // Keep the client's socket alive and unanswered: read and discard what it sends.
            std::thread::spawn(move || swallow(client));
        }
    }
}

fn swallow(mut client: TcpStream) {
    let mut buf = [0u8; 8192];
    while matches!(client.read(&mut buf), Ok(n) if n > 0) {}
}

fn serve(client: TcpStream, upstream: &str, shared: &Arc<Shared>) {
    let mode = *shared.mode.lock().unwrap();
    match mode {
        Mode::Silent => return swallow(client),
        Mode::Down => {
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        Mode::Http500 => return answer_500(client),
        Mode::Pass => {}
    }
    let Ok(server) = TcpStream::connect(upstream) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    shared.open.lock().unwrap().push((client.try_clone().unwrap(), server.try_clone().unwrap()));
    let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let sh = shared.clone();
    std::thread::spawn(move || pump_up(client, server, &sh));
    pump_down(s2, c2);
}

/// Client -> store, counting bytes and firing the trigger.
fn pump_up(mut from: TcpStream, mut to: TcpStream, shared: &Arc<Shared>) {
    let mut buf = [0u8; 4096];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if *shared.mode.lock().unwrap() != Mode::Pass {
            break;
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        let total = shared.forwarded.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
        let fire = {
            let mut t = shared.trigger.lock().unwrap();
            match *t {
                Some((at, mode)) if total >= at => {
                    *t = None;
                    Some(mode)
                }
                _ => None,
            }
        };
        if let Some(mode) = fire {
            *shared.mode.lock().unwrap() = mode;
            cut_all(shared, mode == Mode::Silent);
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

fn pump_down(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}

/// Answer each HTTP/1.1 request on the connection with a 500 (request bodies read by
/// Content-Length), until the client closes.
fn answer_500(mut client: TcpStream) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        // A whole head, then its body.
        let head_end = loop {
            if let Some(p) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            match client.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
            }
        };
        let head = String::from_utf8_lossy(&pending[..head_end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
            .unwrap_or(0);
        while pending.len() < head_end + len {
            match client.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
            }
        }
        pending.drain(..head_end + len);
        let body =
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected by the test"}"#;
        let resp = format!(
            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if client.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}
