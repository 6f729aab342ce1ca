//! A TCP proxy that adds latency, as a store across a network has: every chunk read from one side
//! is written to the other `delay` after it arrived. Chunks are not serialised behind each other's
//! delay (a reader thread timestamps them, a writer thread sends each when it is due), so many
//! requests in flight on one connection, and many connections, each pay the delay once, as on a
//! real link. Works for any TCP protocol.
//!
//! "A Redis that answers with 5 ms latency" in the relay measurement is
//! `LatencyProxy::start(redis, Duration::ZERO, 5 ms)`: every reply arrives 5 ms late, so every
//! round trip costs 5 ms more.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub struct LatencyProxy {
    /// `127.0.0.1:PORT`
    pub addr: String,
    accepted: Arc<AtomicUsize>,
}

impl LatencyProxy {
    /// Proxy to `upstream` (`host:port`): what clients send is delayed by `up`, what the server
    /// answers by `down`.
    pub fn start(upstream: &str, up: Duration, down: Duration) -> LatencyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().unwrap().to_string();
        let upstream = upstream.to_string();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(&upstream) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                delayed_pump(client, server, up);
                delayed_pump(s2, c2, down);
            }
        });
        LatencyProxy { addr, accepted }
    }

    /// Connections clients have opened through the proxy so far (a client that sends requests one
    /// after another keeps reusing one; requests in flight together need one each, over HTTP/1.1).
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// `from` -> `to`, each chunk written `delay` after it was read (two threads: the reader never
/// waits for the writer's delay).
fn delayed_pump(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send((Instant::now() + delay, buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = from.shutdown(Shutdown::Read);
    });
    std::thread::spawn(move || {
        for (due, chunk) in rx {
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}
