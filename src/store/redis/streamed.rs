//! A full init written while it is fed (see [`Store::init_streamed`](crate::store::Store)), on a
//! blocking connection of its own to the node that holds every key of the prefix (a single server,
//! the Sentinel master, or on a cluster the master of a hash-tagged prefix's slot).
//!
//! Each item is encoded as it comes into its kind's pending `HSET` (at most HSET_MAX_FIELDS
//! items); a full `HSET` is written at once, and nobody waits for Redis' answers: they are read
//! once, when everything has been sent (the kernel's socket buffer lets the feed read on while
//! Redis applies what was sent). Items are written in source order.
//!
//! Staged, the feed's own thread writes: with a thread of its own, a 10k-flag sync used 2 ms (7%)
//! more processor time for the same wall time, measured (again on 2026-12-05: 1.4 ms more, the
//! same median, a slower tail), because each handover wakes a thread and on a machine whose other
//! core runs Redis, busy applying the `HSET`s, the woken one waits for a processor. After each
//! write the feed's thread checks that it does not share its core with a Redis on the same
//! machine, which each write wakes, and moves off it if it does ([`crate::processor`]). In one
//! transaction Redis only queues the commands until `EXEC`, its core is half idle meanwhile, and a
//! thread of its own writes them (see [`To::Sender`]).
//!
//! Staged when the Redis user may (see [`super::staging`]): the `HSET`s go to staging hashes,
//! which Redis applies while the feed is still reading the source, and one short `MULTI`/`EXEC`
//! moves them into place. Otherwise the same `MULTI`, `DEL`s, `HSET`s, `SET` of the marker and
//! `EXEC` as `RedisStore::init_on`, around everything.
//!
//! Either way, a feed that gives up, a signal or a lost connection leaves the store's data
//! untouched: Redis only queues what precedes `EXEC`, and staging hashes are removed (or expire).

use std::sync::Arc;

use redis::{RedisError, Value};

use super::staging::{Args, Staging};
use super::{HSET_MAX_FIELDS, RedisStore};
use crate::data::Kind;
use crate::processor::Sharing;
use crate::shutdown::Shutdown;
use crate::store::{FedCounts, Feed, InitReport, ItemSink, Progress, StoreError};

/// Bytes of items per `HSET` (at most HSET_MAX_FIELDS items): pieces this small stay in the
/// processor's caches between encoding and sending, and the same two buffers are reused.
const PIECE_BYTES: usize = 256 * 1024;

/// Room kept at the start of each kind's pending fields for the commands that go before its
/// `HSET` (a `PEXPIRE`, the `HSET` and its hash's name), so that a piece is one write: a small
/// write of its own would be a TCP segment, and a wake-up of Redis, of its own.
const HEAD_ROOM: usize = 512;

/// Turns a Redis error into a store error, given what was being done.
pub(super) type Classify<'a> = &'a (dyn Fn(RedisError, &str) -> StoreError + Sync);

/// Run a streamed init on `conn`: `None`, with nothing written, when the feed gave up. A signal
/// on `shutdown` stops the feed and abandons the init (nothing written) with
/// [`StoreError::Interrupted`].
pub(super) fn init(
    mut conn: redis::Connection,
    prefix: &str,
    feed: Feed,
    progress: Arc<dyn Progress>,
    shutdown: &Shutdown,
    classify: Classify,
) -> Result<Option<(InitReport, FedCounts)>, StoreError> {
    let staging = probe(&mut conn, prefix).map_err(|e| classify(e, "checking the commands it may use"))?;
    match &staging {
        Some(_) => tracing::debug!("connected for a streamed init of prefix \"{prefix}\" (staged)"),
        None => tracing::debug!("connected for a streamed init of prefix \"{prefix}\" (one transaction)"),
    }
    let mut init = Streamed::start(conn, prefix, staging.as_ref(), progress, shutdown.clone());
    let fed = feed(&mut init);
    // A signal during the feed, or after it but before the commit is sent, abandons it.
    let signal = shutdown.signal();
    let Some(counts) = fed.filter(|_| init.out.ok() && signal.is_none()) else {
        let (queued, sent) = (init.report.items_written, init.sent);
        let (mut conn, failed) = init.out.into_parts();
        // Dropping the connection discards an uncommitted transaction; a staging hash is removed
        // (or, when that fails, expires).
        let how = match (&staging, &failed) {
            (None, _) => "before EXEC",
            (Some(staging), None) => match remove(staging, &mut conn, sent) {
                Ok(()) => "before its commit, its staging hashes removed",
                Err(_) => "before its commit, its staging hashes left to expire",
            },
            (Some(_), Some(_)) => "before its commit, its staging hashes left to expire",
        };
        tracing::debug!("streamed init of prefix \"{prefix}\" abandoned after {queued} items, {how} (nothing written)");
        if let Some(sig) = signal {
            return Err(super::discarded(sig, prefix));
        }
        return match failed {
            Some(e) => Err(classify(e, "queueing HSET")),
            None => Ok(None),
        };
    };
    tracing::debug!("all {} items of prefix \"{prefix}\" read; committing", init.report.items_written);
    let Some(staging) = staging else {
        let (report, queued, conn) = init.finish(&RedisStore::inited_key(prefix));
        // A write that failed did not send all of it, EXEC last: nothing is written.
        let mut conn = conn.map_err(|e| classify(e, "queueing HSET"))?;
        read_answers(&mut conn, queued, classify).map_err(|lost| match lost {
            // Everything, EXEC included, was sent: its outcome is unknown.
            Answers::Lost(e) => super::outcome_unknown(prefix, &e),
            Answers::Failed(e) => e,
        })?;
        tracing::debug!("EXEC of prefix \"{prefix}\" done");
        return Ok(Some((report, counts)));
    };
    let (report, sent, conn) = init.finish_staged();
    let mut conn = conn.map_err(|e| classify(e, "writing HSET"))?;
    commit(&staging, &mut conn, sent, &counts, &RedisStore::inited_key(prefix), classify)?;
    tracing::debug!("EXEC of prefix \"{prefix}\" done");
    Ok(Some((report, counts)))
}

/// Staging hashes for `prefix` if this connection may use what a staged init needs (see
/// [`Staging::probe_commands`]); `None` when Redis refuses any of it.
fn probe(conn: &mut redis::Connection, prefix: &str) -> Result<Option<Staging>, RedisError> {
    let staging = Staging::new(prefix);
    let commands = staging.probe_commands();
    conn.send_packed_command(&Resp::of(&commands).0)?;
    let answers = (0..commands.len()).map(|_| conn.recv_response()).collect::<Result<Vec<_>, _>>()?;
    Ok(Staging::refused(&commands, &answers).is_none().then_some(staging))
}

/// Remove the staging hashes, after the `sent` commands still unanswered.
fn remove(staging: &Staging, conn: &mut redis::Connection, sent: usize) -> Result<(), RedisError> {
    conn.send_packed_command(&Resp::of(&[staging.del_command()]).0)?;
    for _ in 0..=sent {
        conn.recv_response()?;
    }
    Ok(())
}

/// A failed staged init: its staging hashes removed (when Redis still answers), the store unchanged.
fn fail(staging: &Staging, conn: &mut redis::Connection, reason: String, during: &str) -> StoreError {
    let _ = remove(staging, conn, 0);
    StoreError::Command { store: super::BACKEND, during: during.into(), reason }
}

/// Read the answers to the `sent` commands (the writes, then [`Staging::check_commands`]); if
/// every write was applied and the staging hashes hold every item, move them into place in one
/// `MULTI`/`EXEC` with the `SET` of `marker`. Anything else removes them and fails with the store
/// unchanged.
fn commit(
    staging: &Staging,
    conn: &mut redis::Connection,
    sent: usize,
    counts: &FedCounts,
    marker: &str,
    classify: Classify,
) -> Result<(), StoreError> {
    let lost = |e: RedisError, during: &str| {
        if super::connection_lost(&e) {
            StoreError::Other(format!(
                "{}; nothing was written (the new data had not been moved into place; what was staged expires within the hour)",
                classify(e, during)
            ))
        } else {
            classify(e, during)
        }
    };
    let mut first_error = None;
    let mut lens = [0; 2];
    for i in 0..sent {
        match conn.recv_response().map_err(|e| lost(e, "writing HSET"))? {
            Value::ServerError(e) => {
                first_error.get_or_insert(super::server_error_text(&e));
            }
            Value::Int(n) if i + 2 >= sent => lens[i + 2 - sent] = n,
            _ => {}
        }
    }
    let wanted = Kind::ALL.map(|kind| match kind {
        Kind::Flags => counts.flags as i64,
        Kind::Segments => counts.segments as i64,
    });
    if let Some(e) = first_error {
        return Err(fail(staging, conn, e, "HSET"));
    }
    if let Err(e) = staging.check_lens(lens, wanted) {
        return Err(fail(staging, conn, e, "checking the staged data"));
    }
    let inner = staging.commit_commands(wanted, marker);
    let mut tx = Resp::default();
    tx.command(&[b"MULTI"]);
    tx.append(&inner);
    tx.command(&[b"EXEC"]);
    conn.send_packed_command(&tx.0).map_err(|e| lost(e, "MULTI"))?;
    let unknown = |e: RedisError| super::outcome_unknown(&staging.prefix, &e);
    let mut queue_error = None;
    for _ in 0..=inner.len() {
        if let Value::ServerError(e) = conn.recv_response().map_err(unknown)? {
            queue_error.get_or_insert(super::server_error_text(&e));
        }
    }
    let exec = conn.recv_response().map_err(unknown)?;
    if let Some(e) = queue_error {
        return Err(fail(staging, conn, e, "EXEC"));
    }
    match exec {
        Value::Nil => Err(fail(staging, conn, Staging::CHANGED.into(), "EXEC")),
        other => super::check_exec(other),
    }
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
    /// Commands to send before the next `HSET` (`MULTI` and the `DEL`s at first), and how many.
    head: Resp,
    head_commands: usize,
    /// Staged: the `PEXPIRE` after each `HSET` of a staging hash (per kind), and what ends the
    /// writes (see [`Streamed::finish_staged`]).
    expire: Option<[Args; 2]>,
    check: Vec<Args>,
    /// Where the commands are written as they are encoded.
    out: Out,
    /// Commands written, whose answers are still to be read.
    sent: usize,
    report: InitReport,
    progress: Arc<dyn Progress>,
    shutdown: Shutdown,
}

impl Streamed {
    fn start(
        conn: redis::Connection,
        prefix: &str,
        staging: Option<&Staging>,
        progress: Arc<dyn Progress>,
        shutdown: Shutdown,
    ) -> Streamed {
        progress.set_total_unknown();
        let mut head = Resp::default();
        let hashes = match staging {
            Some(staging) => {
                head.append(&[staging.del_command()]);
                staging.stage.clone()
            }
            None => {
                let hashes = Kind::ALL.map(|kind| RedisStore::hash_key(prefix, kind));
                head.command(&[b"MULTI"]);
                for hash in &hashes {
                    head.command(&[b"DEL", hash.as_bytes()]);
                }
                hashes
            }
        };
        Streamed {
            hashes,
            pending: Default::default(),
            head_commands: if staging.is_some() { 1 } else { 3 },
            expire: staging.map(|s| [0, 1].map(|k| s.expire_command(k))),
            check: staging.map(Staging::check_commands).unwrap_or_default(),
            head,
            out: match staging {
                Some(_) => Out::here(conn),
                None => Out::sender(conn),
            },
            sent: 0,
            report: InitReport::default(),
            progress,
            shutdown,
        }
    }

    /// Write the pending `HSET` of one kind (after the commands before it).
    fn hset(&mut self, k: usize) {
        let n = std::mem::take(&mut self.pending[k].1);
        if n == 0 {
            return;
        }
        self.head.array_len(2 + 2 * n);
        self.head.bulk(b"HSET");
        self.head.bulk(self.hashes[k].as_bytes());
        let (head, fields) = (&mut self.head.0, &mut self.pending[k].0.0);
        match HEAD_ROOM.checked_sub(head.len()) {
            Some(start) => {
                fields[start..HEAD_ROOM].copy_from_slice(head);
                let piece = std::mem::take(fields);
                *fields = self.out.write_piece(piece, start);
            }
            // A prefix longer than the room: two writes.
            None => {
                self.out.write(head);
                self.out.write(&fields[HEAD_ROOM..]);
            }
        }
        // The buffers are kept, emptied, for the next commands.
        head.clear();
        fields.clear();
        self.progress.advance(n as u64);
        self.sent += std::mem::take(&mut self.head_commands) + 1;
        if let Some(expire) = &self.expire {
            self.head.append(&[expire[k].clone()]);
            self.head_commands += 1;
        }
    }

    /// Staged: write the rest, then `WATCH` the staging hashes and ask their lengths (see
    /// [`commit`]); what was written, how many commands await their answers, and the connection
    /// (or the first error writing to it).
    fn finish_staged(mut self) -> (InitReport, usize, Result<redis::Connection, RedisError>) {
        for k in 0..2 {
            self.hset(k);
        }
        let check = std::mem::take(&mut self.check);
        self.head.append(&check);
        self.progress.message("committing");
        let sent = self.sent + self.head_commands + check.len();
        self.close(sent)
    }

    /// Write the rest, `SET` of the marker and `EXEC`; what was written, how many commands were
    /// queued, and the connection (or the first error writing to it).
    fn finish(mut self, marker: &str) -> (InitReport, usize, Result<redis::Connection, RedisError>) {
        for k in 0..2 {
            self.hset(k);
        }
        self.head.command(&[b"SET", marker.as_bytes(), b""]);
        self.head.command(&[b"EXEC"]);
        self.progress.message("committing");
        // Queued (answered `QUEUED`): every command sent or still in `head` but `MULTI`, and the
        // marker's `SET`, which `head_commands` does not count.
        let queued = self.sent + self.head_commands;
        self.close(queued)
    }

    /// Write what `head` holds; what was written, `n`, and the connection (or the first error
    /// writing to it).
    fn close(mut self, n: usize) -> (InitReport, usize, Result<redis::Connection, RedisError>) {
        self.out.write(&self.head.0);
        let conn = match self.out.into_parts() {
            (_, Some(e)) => Err(e),
            (conn, None) => Ok(conn),
        };
        (self.report, n, conn)
    }
}

/// Where a streamed init's commands are written, and the first error writing them (the feed then
/// stops, and nothing more is written).
struct Out {
    to: To,
    failed: Option<RedisError>,
    /// The sender stopped at a failed write (its error comes back with the connection).
    stopped: bool,
}

/// Who writes to the connection.
enum To {
    /// The feed's thread, which checks after each write that it does not share its core with
    /// Redis (see [`crate::processor`]). Staged: Redis applies each `HSET` as it comes, so its core
    /// is busy all along, and a thread of its own measured no faster (see the module's
    /// documentation).
    Here(redis::Connection, Sharing),
    /// One transaction: a thread of its own. Redis only queues what precedes `EXEC`, so its core
    /// is half idle while the file is read; the writes (the kernel's copy into the socket, and the
    /// loopback delivering it) move there, off the feed's thread, which then only reads and checks
    /// the file. Measured (2026-12-05, the benchmark's files, the build before and this one in
    /// turn with `redis-cli --pipe` of the same `MULTI`/`EXEC`): this one's wall time, over the
    /// other's in the same round, was 0.95 at 10k flags (median of 60 rounds) and 0.96 at 100k
    /// (15 rounds), for the same processor time.
    Sender(Sender),
}

/// The thread that writes a one-transaction init's pieces, in order.
struct Sender {
    pieces: std::sync::mpsc::SyncSender<(Vec<u8>, usize)>,
    /// Buffers of written pieces, to encode the next ones into.
    spare: std::sync::mpsc::Receiver<Vec<u8>>,
    /// Gives the connection back, with the first error writing to it.
    thread: std::thread::JoinHandle<(redis::Connection, Option<RedisError>)>,
}

impl Sender {
    /// Hand `piece[start..]` over to be written; `false` when the sender has stopped at a failed
    /// write.
    fn take(&self, piece: Vec<u8>, start: usize) -> bool {
        self.pieces.send((piece, start)).is_ok()
    }
}

/// Pieces handed to the sender and not yet written: the feed reads on while Redis takes them.
const PIECES_AHEAD: usize = 2;

impl Out {
    fn here(conn: redis::Connection) -> Out {
        Out { to: To::Here(conn, Sharing::default()), failed: None, stopped: false }
    }

    /// Written by a thread of its own; from this thread when none can be started.
    fn sender(conn: redis::Connection) -> Out {
        let (pieces, to_write) = std::sync::mpsc::sync_channel::<(Vec<u8>, usize)>(PIECES_AHEAD);
        let (written, spare) = std::sync::mpsc::channel();
        let (give, take) = std::sync::mpsc::sync_channel::<redis::Connection>(1);
        let started = std::thread::Builder::new().name("ldstore-send".into()).spawn(move || {
            let mut conn = take.recv().expect("the connection, once started");
            for (mut piece, start) in to_write {
                if let Err(e) = conn.send_packed_command(&piece[start..]) {
                    return (conn, Some(e));
                }
                piece.clear();
                // The feed may have finished meanwhile.
                let _ = written.send(piece);
            }
            (conn, None)
        });
        match started {
            Ok(thread) => {
                give.send(conn).expect("the sender waits for its connection");
                Out { to: To::Sender(Sender { pieces, spare, thread }), failed: None, stopped: false }
            }
            Err(e) => {
                tracing::debug!("no thread to write the transaction ({e}); writing it from the feed's");
                Out::here(conn)
            }
        }
    }

    fn ok(&self) -> bool {
        self.failed.is_none() && !self.stopped
    }

    /// Write `bytes` unless a write failed already.
    fn write(&mut self, bytes: &[u8]) {
        if !self.ok() {
            return;
        }
        match &mut self.to {
            To::Here(conn, sharing) => {
                self.failed = conn.send_packed_command(bytes).err();
                sharing.after_write();
            }
            // A short write (the head, the commit) takes no spare buffer: those are for pieces.
            To::Sender(sender) => self.stopped = !sender.take(bytes.to_vec(), 0),
        }
    }

    /// Write `piece[start..]` unless a write failed already; a buffer for the next piece.
    fn write_piece(&mut self, piece: Vec<u8>, start: usize) -> Vec<u8> {
        match &self.to {
            To::Sender(sender) if self.ok() => {
                let capacity = piece.capacity();
                if !sender.take(piece, start) {
                    self.stopped = true;
                    return Vec::new();
                }
                sender.spare.try_recv().unwrap_or_else(|_| Vec::with_capacity(capacity))
            }
            _ => {
                self.write(&piece[start..]);
                piece
            }
        }
    }

    /// The connection, once everything handed over is written, and the first error writing.
    fn into_parts(self) -> (redis::Connection, Option<RedisError>) {
        match self.to {
            To::Here(conn, _) => (conn, self.failed),
            To::Sender(Sender { pieces, thread, .. }) => {
                drop(pieces);
                let (conn, failed) = thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (conn, self.failed.or(failed))
            }
        }
    }
}

impl ItemSink for Streamed {
    fn push(&mut self, kind: Kind, key: &str, json: &str) -> bool {
        let k = kind.index();
        let (fields, n) = &mut self.pending[k];
        if *n == 0 {
            fields.0.resize(HEAD_ROOM, 0);
        }
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
        self.out.ok()
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

    fn append(&mut self, commands: &[Args]) {
        for c in commands {
            self.command(&c.iter().map(Vec::as_slice).collect::<Vec<_>>());
        }
    }

    fn of(commands: &[Args]) -> Resp {
        let mut r = Resp::default();
        r.append(commands);
        r
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
