//! A TCP proxy that slows down what clients send (one shared rate over all its connections), so a
//! test can interrupt a long write part-way, at a point it chooses. It counts the bytes it has
//! forwarded upstream. Works for any TCP protocol (Redis, DynamoDB's and Consul's HTTP).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct SlowProxy {
    /// `127.0.0.1:PORT`
    pub addr: String,
    forwarded: Arc<AtomicU64>,
}

/// Paces the bytes of every connection together: `rate` bytes per second (no burst saved up
/// while idle).
struct Pace {
    rate: u64,
    /// When the bytes let through so far are due.
    next: Instant,
}

impl SlowProxy {
    /// Proxy to `upstream` (`host:port`), letting clients send `bytes_per_sec`.
    pub fn start(upstream: &str, bytes_per_sec: u64) -> SlowProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().unwrap().to_string();
        let forwarded = Arc::new(AtomicU64::new(0));
        let pace = Arc::new(Mutex::new(Pace { rate: bytes_per_sec, next: Instant::now() }));
        let (up, fw) = (upstream.to_string(), forwarded.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&up) else { continue };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (pace, fw) = (pace.clone(), fw.clone());
                std::thread::spawn(move || pump_slowly(client, server, &pace, &fw));
                std::thread::spawn(move || pump(s2, c2));
            }
        });
        SlowProxy { addr, forwarded }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn forwarded(&self) -> u64 {
        self.forwarded.load(Ordering::SeqCst)
    }

    /// Wait (at most `secs`) until `n` bytes have gone upstream.
    #[track_caller]
    pub fn wait_forwarded(&self, n: u64, secs: u64) {
        let end = Instant::now() + Duration::from_secs(secs);
        while self.forwarded() < n {
            assert!(Instant::now() < end, "only {} of {n} bytes went through the proxy in {secs} s", self.forwarded());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn pump_slowly(mut from: TcpStream, mut to: TcpStream, pace: &Mutex<Pace>, forwarded: &AtomicU64) {
    let mut buf = [0u8; 2048];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let due = {
            let mut p = pace.lock().unwrap();
            p.next = p.next.max(Instant::now()) + Duration::from_secs_f64(n as f64 / p.rate as f64);
            p.next
        };
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        forwarded.fetch_add(n as u64, Ordering::SeqCst);
    }
    let _ = to.shutdown(Shutdown::Write);
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}
