//! A full init written while it is fed (see [`Store::init_streamed`](crate::store::Store)): the
//! same `MULTI`, `DEL`s, `HSET`s of at most HSET_MAX_FIELDS items, `SET` of the marker and `EXEC`
//! as `RedisStore::init_on`, on a blocking connection of its own.
//!
//! Each item is encoded as it comes into its kind's pending `HSET`; a full `HSET` goes to a thread
//! that only sends (so the feed's thread reads and checks the source while the kernel copies what
//! is done), and nobody waits for Redis' `QUEUED` answers: they are read once, after `EXEC`.
//! Redis only queues what precedes `EXEC`, so a feed that gives up, or a lost connection, leaves
//! the store untouched. Items are written in source order, which inside one transaction nobody
//! can observe.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use redis::{RedisError, Value};

use super::{HSET_MAX_FIELDS, RedisStore};
use crate::data::Kind;
use crate::shutdown::Shutdown;
use crate::store::{FedCounts, Feed, InitReport, ItemSink, Progress, StoreError};

/// Bytes of items per `HSET` (at most HSET_MAX_FIELDS items): pieces this small stay in the
/// processor's caches between encoding and sending, and a few buffers of this size are reused.
const PIECE_BYTES: usize = 256 * 1024;

/// Encoded pieces waiting for the sending thread: enough to keep it busy while the next is
/// encoded, few enough to bound the memory.
const IN_FLIGHT: usize = 4;

/// Turns a Redis error into a store error, given what was being done.
pub(super) type Classify<'a> = &'a (dyn Fn(RedisError, &str) -> StoreError + Sync);

/// Run a streamed init on `conn`: `None`, with nothing written, when the feed gave up. A signal
/// on `shutdown` stops the feed and abandons the transaction (nothing written) with
/// [`StoreError::Interrupted`].
pub(super) fn init(
    mut conn: redis::Connection,
    prefix: &str,
    feed: Feed,
    progress: Arc<dyn Progress>,
    shutdown: &Shutdown,
    classify: Classify,
) -> Result<Option<(InitReport, FedCounts)>, StoreError> {
    tracing::debug!("connected for a streamed init of prefix \"{prefix}\"");
    std::thread::scope(|scope| {
        let (to_send, pieces) = sync_channel::<Vec<u8>>(IN_FLIGHT);
        let (give_back, spare) = sync_channel::<Vec<u8>>(IN_FLIGHT + 4);
        let sender = scope.spawn(move || send_all(&mut conn, pieces, give_back).map(|_| conn));
        let mut init = Streamed::start(prefix, to_send, spare, progress, shutdown.clone());
        let fed = feed(&mut init);
        // A signal during the feed, or after it but before EXEC is handed over, abandons it.
        let signal = shutdown.signal();
        let Some(counts) = fed.filter(|_| !init.stopped && signal.is_none()) else {
            // Dropping the connection discards the uncommitted transaction.
            let queued = init.report.items_written;
            drop(init);
            let sent = sender.join().expect("sending thread");
            tracing::debug!(
                "streamed init of prefix \"{prefix}\" abandoned after {queued} items, before EXEC (nothing written)"
            );
            if let Some(sig) = signal {
                return Err(super::discarded(sig, prefix));
            }
            sent.map_err(|e| classify(e, "queueing HSET"))?;
            return Ok(None);
        };
        tracing::debug!("all {} items of prefix \"{prefix}\" read; committing", init.report.items_written);
        let (report, queued) = init.finish(&RedisStore::inited_key(prefix));
        let mut conn = sender.join().expect("sending thread").map_err(|e| classify(e, "queueing HSET"))?;
        read_answers(&mut conn, queued, classify).map_err(|lost| match lost {
            // Everything, EXEC included, was sent: its outcome is unknown.
            Answers::Lost(e) => super::outcome_unknown(prefix, &e),
            Answers::Failed(e) => e,
        })?;
        tracing::debug!("EXEC of prefix \"{prefix}\" done");
        Ok(Some((report, counts)))
    })
}

/// Send each piece as it comes, handing the buffers back for reuse; stops at the first error.
fn send_all(
    conn: &mut redis::Connection,
    pieces: Receiver<Vec<u8>>,
    give_back: SyncSender<Vec<u8>>,
) -> Result<(), RedisError> {
    for mut piece in pieces {
        conn.send_packed_command(&piece)?;
        piece.clear();
        let _ = give_back.try_send(piece);
    }
    Ok(())
}

/// Read `MULTI`'s OK, the answer to each of the `queued` commands, then `EXEC`'s: the first error
/// fails the init (an error while queueing makes Redis abort the whole transaction).
fn read_answers(conn: &mut redis::Connection, queued: usize, classify: Classify) -> Result<(), Answers> {
    let lost_or = |e: RedisError, during: &str| {
        if super::connection_lost(&e) { Answers::Lost(e) } else { Answers::Failed(classify(e, during)) }
    };
    let mut first_error = None;
    for _ in 0..=queued {
        if let Value::ServerError(e) = conn.recv_response().map_err(|e| lost_or(e, "queueing HSET"))? {
            first_error.get_or_insert(super::server_error_text(&e));
        }
    }
    let result = conn.recv_response();
    if let Some(e) = first_error {
        return Err(Answers::Failed(super::exec_failed(e)));
    }
    super::check_exec(result.map_err(|e| lost_or(e, "EXEC"))?).map_err(Answers::Failed)
}

/// Why the answers of a sent transaction could not all be read.
enum Answers {
    /// The connection went away (the transaction was sent whole, EXEC included).
    Lost(RedisError),
    /// Redis answered with an error.
    Failed(StoreError),
}

/// The encoding side of a streamed init: the feed's sink.
struct Streamed {
    /// `<p>:features` and `<p>:segments` (indexed by [`Kind::index`]).
    hashes: [String; 2],
    /// The field/value pairs of each kind's pending `HSET`, encoded, and how many.
    pending: [(Resp, usize); 2],
    /// Commands to send before the next `HSET` (`MULTI` and the `DEL`s at first).
    head: Resp,
    to_send: SyncSender<Vec<u8>>,
    spare: Receiver<Vec<u8>>,
    /// Commands sent after `MULTI` (each answered `QUEUED`, or an error).
    queued: usize,
    report: InitReport,
    progress: Arc<dyn Progress>,
    /// The sending thread has stopped (an error, returned when it is joined).
    stopped: bool,
    shutdown: Shutdown,
}

impl Streamed {
    fn start(
        prefix: &str,
        to_send: SyncSender<Vec<u8>>,
        spare: Receiver<Vec<u8>>,
        progress: Arc<dyn Progress>,
        shutdown: Shutdown,
    ) -> Streamed {
        let hashes = Kind::ALL.map(|kind| RedisStore::hash_key(prefix, kind));
        progress.set_total_unknown();
        let mut head = Resp::default();
        head.command(&[b"MULTI"]);
        for hash in &hashes {
            head.command(&[b"DEL", hash.as_bytes()]);
        }
        Streamed {
            hashes,
            pending: Default::default(),
            head,
            to_send,
            spare,
            queued: 2,
            report: InitReport::default(),
            progress,
            stopped: false,
            shutdown,
        }
    }

    /// A buffer the sending thread is done with, or a new one.
    fn buffer(&self) -> Vec<u8> {
        self.spare.try_recv().unwrap_or_else(|_| Vec::with_capacity(PIECE_BYTES + PIECE_BYTES / 2))
    }

    /// Hand the pending `HSET` of one kind to the sending thread (after the commands before it).
    fn hset(&mut self, k: usize) {
        let n = std::mem::take(&mut self.pending[k].1);
        if n == 0 {
            return;
        }
        self.head.array_len(2 + 2 * n);
        self.head.bulk(b"HSET");
        self.head.bulk(self.hashes[k].as_bytes());
        let (new_head, new_fields) = (self.buffer(), self.buffer());
        let head = std::mem::replace(&mut self.head.0, new_head);
        let fields = std::mem::replace(&mut self.pending[k].0.0, new_fields);
        self.queued += 1;
        self.progress.advance(n as u64);
        if self.to_send.send(head).and_then(|_| self.to_send.send(fields)).is_err() {
            self.stopped = true;
        }
    }

    /// Hand over the rest, `SET` of the marker and `EXEC`; what was written and how many commands
    /// were queued.
    fn finish(mut self, marker: &str) -> (InitReport, usize) {
        for k in 0..2 {
            self.hset(k);
        }
        self.head.command(&[b"SET", marker.as_bytes(), b""]);
        self.queued += 1;
        self.head.command(&[b"EXEC"]);
        self.progress.message("committing");
        let _ = self.to_send.send(std::mem::take(&mut self.head.0));
        (self.report, self.queued)
    }
}

impl ItemSink for Streamed {
    fn push(&mut self, kind: Kind, key: &str, json: &str) -> bool {
        let k = kind.index();
        let (fields, n) = &mut self.pending[k];
        fields.bulk(key.as_bytes());
        fields.bulk(json.as_bytes());
        *n += 1;
        self.report.items_written += 1;
        self.report.bytes_written += json.len();
        if *n >= HSET_MAX_FIELDS || fields.0.len() >= PIECE_BYTES {
            self.hset(k);
            // Between pieces: a signal stops the feed (the transaction is then abandoned).
            if self.shutdown.signal().is_some() {
                return false;
            }
        }
        !self.stopped
    }
}

/// Commands encoded in RESP.
#[derive(Default)]
struct Resp(Vec<u8>);

impl Resp {
    fn array_len(&mut self, n: usize) {
        self.0.push(b'*');
        self.0.extend_from_slice(itoa(n, &mut [0; 20]));
        self.0.extend_from_slice(b"\r\n");
    }

    fn bulk(&mut self, b: &[u8]) {
        self.0.push(b'$');
        self.0.extend_from_slice(itoa(b.len(), &mut [0; 20]));
        self.0.extend_from_slice(b"\r\n");
        self.0.extend_from_slice(b);
        self.0.extend_from_slice(b"\r\n");
    }

    fn command(&mut self, args: &[&[u8]]) {
        self.array_len(args.len());
        for a in args {
            self.bulk(a);
        }
    }
}

/// Decimal digits of `n`, in `buf`.
fn itoa(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resp_encoding() {
        let mut r = Resp::default();
        r.command(&[b"HSET", b"k", b"", b"\xe9\r\n"]);
        assert_eq!(r.0, b"*4\r\n$4\r\nHSET\r\n$1\r\nk\r\n$0\r\n\r\n$3\r\n\xe9\r\n\r\n");
        assert_eq!(itoa(0, &mut [0; 20]), b"0");
        assert_eq!(itoa(usize::MAX, &mut [0; 20]), usize::MAX.to_string().as_bytes());
    }
}
