//! The sync lease: one writer at a time per DynamoDB or Consul prefix, and an unfinished full init
//! that stays visible.
//!
//! Redis writes a whole init in one `MULTI`/`EXEC`. DynamoDB and Consul have no transaction that
//! large, so an init there is many writes that readers see one by one. Before the first of them
//! (before even reading the keys it will replace), `init` records a lease in the store under a name
//! no SDK reads, in the spirit of the Relay Proxy's `big_segments_lock`:
//!
//! | store | where | value |
//! |---|---|---|
//! | DynamoDB | item `namespace` = `key` = `<p>:ldstore_sync` (`ldstore_sync` without a prefix) | attribute `lease` (S): the JSON |
//! | Consul | key `<p>/ldstore_sync` | the JSON |
//!
//! The JSON: `{"owner": "<random, one per process>", "host": "…", "pid": N, "process": "<opaque>",
//! "ldstoreVersion": "…", "startedAt": <Unix ms>, "expiresAt": <Unix ms>}`. `process` (Linux only)
//! lets another ldstore on the same machine tell whether that process still runs.
//!
//! - Taken atomically: created only when absent (DynamoDB `attribute_not_exists`, Consul `cas`
//!   with index 0), or replaced only when unchanged since it was read (DynamoDB: the stored JSON
//!   compared; Consul: `cas` with its ModifyIndex), and only when it is expired, ours (a retry
//!   of this process, as the relay does), or left by a process known to be gone. A lease of a live
//!   writer is never taken over: the init refuses with [`StoreError::Busy`].
//! - Renewed every third of its time while the init runs ([`while_renewing`]); the writes stop at
//!   the next batch when a renewal finds it taken over, or when it could not be renewed before
//!   it would expire ([`Guard::check`]).
//! - Deleted only in the same atomic write as the `$inited` marker, at the very end of an init
//!   (DynamoDB `TransactWriteItems`; Consul: the last transaction), or when the init stopped before
//!   writing anything. A record left behind is an unfinished write: `inspect` and `validate` report
//!   it ([`SyncStatus`]) until a later init completes.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::shutdown::{Shutdown, Signal};

/// The lease's name under a prefix.
pub const NAME: &str = "ldstore_sync";
/// How long a lease lasts without renewal.
const LEASE_TIME: Duration = Duration::from_secs(60);
/// Attempts to take the lease when others keep changing it.
const ACQUIRE_ATTEMPTS: u32 = 5;
/// Pause before retrying a renewal that failed (a network error).
const RENEW_RETRY: Duration = Duration::from_secs(1);

/// How long a lease lasts: 60 s (`LDSTORE_TEST_LEASE_MS` shortens it for tests).
pub fn lease_time() -> Duration {
    static T: OnceLock<Duration> = OnceLock::new();
    *T.get_or_init(|| {
        crate::config::vars::process_var("LDSTORE_TEST_LEASE_MS")
            .and_then(|v| v.parse::<u64>().ok())
            .map(|ms| Duration::from_millis(ms.max(300)))
            .unwrap_or(LEASE_TIME)
    })
}

/// How often a held lease is renewed.
pub fn renew_every() -> Duration {
    lease_time() / 3
}

/// How long after a renewal was sent this process still trusts its lease: a quarter of the lease
/// time short of its expiry, so that a paused or cut-off writer stops before anyone may take over.
fn trusted_for() -> Duration {
    lease_time() * 3 / 4
}

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Unix ms as RFC 3339 (seconds), or "an unknown time".
pub fn time_text(ms: i64) -> String {
    if ms <= 0 {
        return "an unknown time".into();
    }
    utc_seconds(ms)
}

/// A Unix time in ms as RFC 3339 UTC to the second (before 1970: 1970-01-01T00:00:00Z); a time past
/// the year 9999, which RFC 3339 cannot write, as `<ms> ms after 1970-01-01 (past the year 9999)`.
/// Times read back from a store may be anything.
pub fn utc_seconds(ms: i64) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    match write!(out, "{}", humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64))) {
        Ok(()) => out,
        Err(_) => format!("{ms} ms after 1970-01-01 (past the year 9999)"),
    }
}

/// This process's owner id: random, one per run.
pub fn owner_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| format!("{:032x}", rand::random::<u128>()))
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| crate::config::vars::process_var("HOSTNAME").filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

/// What identifies "this machine and PID namespace" (Linux): the kernel's boot id and the PID
/// namespace. Two processes with the same scope see the same PIDs.
fn pid_scope() -> Option<String> {
    static SCOPE: OnceLock<Option<String>> = OnceLock::new();
    SCOPE
        .get_or_init(|| {
            let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
            let ns = std::fs::read_link("/proc/self/ns/pid").ok()?;
            Some(format!("{}/{}", boot.trim(), ns.to_string_lossy()))
        })
        .clone()
}

/// A process's start time (clock ticks since boot, /proc/PID/stat field 22): with the PID it
/// names one process, even after the PID is reused.
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19).map(str::to_string)
}

/// The lease record, as stored (JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaseRecord {
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub pid: u32,
    /// Opaque: the writer's machine, PID namespace and process start time (Linux), so that another
    /// ldstore there can tell whether it still runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    #[serde(default)]
    pub ldstore_version: String,
    #[serde(default)]
    pub started_at: i64,
    #[serde(default)]
    pub expires_at: i64,
}

impl LeaseRecord {
    /// A new lease for this process, from `now`.
    pub fn for_this_process(now: i64) -> LeaseRecord {
        let pid = std::process::id();
        LeaseRecord {
            owner: owner_id().to_string(),
            host: host_name(),
            pid,
            process: pid_scope().and_then(|s| Some(format!("{s}/{}", start_time(pid)?))),
            ldstore_version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: now,
            expires_at: now + lease_time().as_millis() as i64,
        }
    }

    /// The same lease, expiring a lease time after `now`.
    pub fn renewed(&self, now: i64) -> LeaseRecord {
        LeaseRecord { expires_at: now + lease_time().as_millis() as i64, ..self.clone() }
    }

    /// A stored value read back; anything unreadable is a lease of nobody that expired long ago.
    pub fn parse(text: &str) -> LeaseRecord {
        serde_json::from_str(text).unwrap_or_default()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("serializable")
    }

    pub fn is_ours(&self) -> bool {
        self.owner == owner_id()
    }

    pub fn expired(&self, now: i64) -> bool {
        self.expires_at <= now
    }

    /// Whether the writer is known to have stopped: it ran on this machine, in this PID namespace,
    /// and that process is gone. `false` when that cannot be told (another machine, not Linux).
    pub fn owner_gone(&self) -> bool {
        if self.is_ours() {
            return false;
        }
        let (Some(theirs), Some(scope)) = (&self.process, pid_scope()) else { return false };
        let Some(started) = theirs.strip_prefix(&scope).and_then(|r| r.strip_prefix('/')) else { return false };
        start_time(self.pid).is_none_or(|t| t != started)
    }

    /// "pid 123 on host h (ldstore 0.1.0), started 2025-01-01T00:00:00Z"
    pub fn describe(&self) -> String {
        let version = if self.ldstore_version.is_empty() {
            String::new()
        } else {
            format!(" (ldstore {})", self.ldstore_version)
        };
        format!("pid {} on host {}{version}, started {}", self.pid, self.host_or_unknown(), time_text(self.started_at))
    }

    fn host_or_unknown(&self) -> &str {
        if self.host.is_empty() { "unknown" } else { &self.host }
    }

    /// What the record means to a reader now.
    pub fn status(&self, now: i64) -> SyncStatus {
        let gone = self.owner_gone();
        let live = !gone && !self.expired(now);
        let who = format!("pid {}, host {}", self.pid, self.host_or_unknown());
        let message = if live {
            format!("sync in progress since {} ({who})", time_text(self.started_at))
        } else {
            let why = if gone {
                "its process is gone".to_string()
            } else {
                format!("its lease expired at {}", time_text(self.expires_at))
            };
            format!(
                "INTERRUPTED: a sync started at {} ({who}) did not finish ({why}); the prefix may hold a mix of old and new data; run the sync again",
                time_text(self.started_at)
            )
        };
        SyncStatus {
            state: if live { "in-progress" } else { "interrupted" },
            started_at: self.started_at,
            expires_at: self.expires_at,
            host: self.host.clone(),
            pid: self.pid,
            ldstore_version: self.ldstore_version.clone(),
            message,
        }
    }
}

/// An unfinished full init of a prefix, as `inspect` shows it (`stats.sync` in JSON).
#[derive(Debug, Clone, Serialize)]
pub struct SyncStatus {
    /// `in-progress` (its writer holds a live lease) or `interrupted` (expired, or the writer is
    /// known to be gone).
    pub state: &'static str,
    pub started_at: i64,
    pub expires_at: i64,
    pub host: String,
    pub pid: u32,
    pub ldstore_version: String,
    pub message: String,
}

impl SyncStatus {
    pub fn interrupted(&self) -> bool {
        self.state == "interrupted"
    }
}

/// A lease as read from the store, with what a check-and-set needs to replace exactly it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub record: LeaseRecord,
    /// The stored text (DynamoDB compares it; `None` when the item has no `lease` attribute).
    pub raw: Option<String>,
    /// Consul's ModifyIndex (0 for DynamoDB).
    pub index: u64,
}

/// The three lease operations a store provides.
#[async_trait]
pub trait LeaseStore: Send + Sync {
    fn lease_backend(&self) -> &'static str;
    /// Where the lease lives, for messages.
    fn lease_key(&self, prefix: &str) -> String;
    async fn read_lease(&self, prefix: &str) -> Result<Option<Stored>, StoreError>;
    /// Store `new` only if the lease is still exactly `old` (`None`: absent). The lease now stored,
    /// or `None` when someone changed it since it was read.
    async fn swap_lease(
        &self,
        prefix: &str,
        old: Option<&Stored>,
        new: &LeaseRecord,
    ) -> Result<Option<Stored>, StoreError>;
    /// Delete the lease only if it is still exactly `held`; `false` when it changed.
    async fn drop_lease(&self, prefix: &str, held: &Stored) -> Result<bool, StoreError>;
}

/// Take the prefix's lease, or refuse with [`StoreError::Busy`] when a live writer holds it.
pub async fn acquire(store: &dyn LeaseStore, prefix: &str) -> Result<Stored, StoreError> {
    for _ in 0..ACQUIRE_ATTEMPTS {
        let now = now_ms();
        let current = store.read_lease(prefix).await?;
        // The lease of a writer that did not finish, taken over: said once it is ours.
        let mut taken_over = None;
        if let Some(cur) = &current {
            let r = &cur.record;
            if !r.is_ours() {
                let gone = r.owner_gone();
                if !gone && !r.expired(now) {
                    return Err(StoreError::Busy {
                        store: store.lease_backend(),
                        prefix: prefix.to_string(),
                        holder: r.describe(),
                    });
                }
                let why = if gone {
                    "its process is gone".to_string()
                } else {
                    format!("its lease expired at {}", time_text(r.expires_at))
                };
                taken_over = Some(format!("{} ({why})", r.describe()));
            }
        }
        if let Some(s) = store.swap_lease(prefix, current.as_ref(), &LeaseRecord::for_this_process(now)).await? {
            if let Some(previous) = taken_over {
                tracing::warn!(
                    "prefix \"{prefix}\": taking over the sync lease of {previous}: that sync did not finish, and this one replaces its data"
                );
            }
            tracing::debug!("prefix \"{prefix}\": took the sync lease {}", store.lease_key(prefix));
            return Ok(s);
        }
    }
    Err(StoreError::Contention {
        store: store.lease_backend(),
        attempts: ACQUIRE_ATTEMPTS,
        what: store.lease_key(prefix),
    })
}

/// Why a write stopped early.
#[derive(Debug, Clone)]
pub enum Halt {
    Signal(Signal),
    /// The lease was taken over or could not be renewed in time.
    Lost(String),
}

/// Why the writes of an init ended early: a halt (between batches, everything sent was
/// answered), or a failed write.
#[derive(Debug)]
pub enum Stop {
    Halt(Halt),
    Failed(StoreError),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Stop {
        Stop::Failed(e)
    }
}

/// How far an init's writes got, kept up to date while they run.
#[derive(Debug, Default)]
pub struct Tally {
    pub items: std::sync::atomic::AtomicUsize,
    pub items_total: std::sync::atomic::AtomicUsize,
    pub stale_removed: std::sync::atomic::AtomicUsize,
    pub stale_total: std::sync::atomic::AtomicUsize,
    /// Whether any write was sent (after which the prefix may differ from before).
    pub sent: std::sync::atomic::AtomicBool,
}

impl Tally {
    pub fn written(&self) -> Written {
        use std::sync::atomic::Ordering::SeqCst;
        Written {
            items: self.items.load(SeqCst),
            items_total: self.items_total.load(SeqCst),
            stale_removed: self.stale_removed.load(SeqCst),
            stale_total: self.stale_total.load(SeqCst),
        }
    }

    pub fn sent(&self) -> bool {
        self.sent.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The outcome of an init's writes done under `guard`: the report, or the error that says what
/// the prefix holds. When nothing was sent the lease is given back (the prefix is unchanged); once
/// anything was, it stays, marking the prefix unfinished. `in_flight` names what a halt let
/// finish ("the batches in flight").
pub async fn conclude<T>(
    store: &dyn LeaseStore,
    prefix: &str,
    guard: &Guard,
    tally: &Tally,
    in_flight: &str,
    outcome: Result<T, Stop>,
) -> Result<T, StoreError> {
    let backend = store.lease_backend();
    match outcome {
        Ok(v) => Ok(v),
        Err(stop) if !tally.sent() => {
            if let Err(e) = store.drop_lease(prefix, &guard.held()).await {
                tracing::warn!("prefix \"{prefix}\": could not give the sync lease back ({e})");
            }
            match stop {
                Stop::Halt(h) => Err(stopped_before_writing(backend, prefix, h)),
                Stop::Failed(e) => Err(e),
            }
        }
        Err(Stop::Halt(h)) => Err(stopped(backend, prefix, h, in_flight, &tally.written())),
        Err(Stop::Failed(e)) => Err(e),
    }
}

/// What one init holds while it writes: the lease, the shutdown request, and whether it may go on.
pub struct Guard {
    shutdown: Shutdown,
    held: Mutex<Stored>,
    /// The lease is trusted until then (pushed on by each renewal).
    trusted_until: Mutex<Instant>,
    lost: Mutex<Option<String>>,
    /// Held while a write that names the lease's version is in flight (Consul's transactions
    /// check its ModifyIndex), and while the lease is renewed, so the two never cross.
    pub write_lock: tokio::sync::Mutex<()>,
}

impl Guard {
    /// `taken_at`: when the request that took the lease was sent.
    pub fn new(shutdown: &Shutdown, held: Stored, taken_at: Instant) -> Guard {
        Guard {
            shutdown: shutdown.clone(),
            held: Mutex::new(held),
            trusted_until: Mutex::new(taken_at + trusted_for()),
            lost: Mutex::new(None),
            write_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Whether the next batch may be sent.
    pub fn check(&self) -> Result<(), Halt> {
        if let Some(why) = self.lost.lock().unwrap().clone() {
            return Err(Halt::Lost(why));
        }
        if Instant::now() >= *self.trusted_until.lock().unwrap() {
            let why = "it could not be renewed before it would expire".to_string();
            *self.lost.lock().unwrap() = Some(why.clone());
            return Err(Halt::Lost(why));
        }
        match self.shutdown.signal() {
            Some(sig) => Err(Halt::Signal(sig)),
            None => Ok(()),
        }
    }

    /// The lease as last stored.
    pub fn held(&self) -> Stored {
        self.held.lock().unwrap().clone()
    }

    fn renewed(&self, s: Stored, sent_at: Instant) {
        *self.held.lock().unwrap() = s;
        *self.trusted_until.lock().unwrap() = sent_at + trusted_for();
    }

    fn lose(&self, why: String) {
        self.lost.lock().unwrap().get_or_insert(why);
    }
}

/// Run `work` while the lease is renewed in the background (never cut off in the middle of a
/// renewal: once `work` is done, a renewal in flight completes before this returns).
pub async fn while_renewing<T>(
    store: &dyn LeaseStore,
    prefix: &str,
    guard: &Guard,
    work: impl Future<Output = T>,
) -> T {
    let done = tokio::sync::Notify::new();
    let work = async {
        let r = work.await;
        done.notify_one();
        r
    };
    let renew = async {
        let mut next = Instant::now() + renew_every();
        let mut failing = false;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(next.into()) => {}
                _ = done.notified() => return,
            }
            let _writes = guard.write_lock.lock().await;
            let sent_at = Instant::now();
            let held = guard.held();
            match store.swap_lease(prefix, Some(&held), &held.record.renewed(now_ms())).await {
                Ok(Some(s)) => {
                    guard.renewed(s, sent_at);
                    next = sent_at + renew_every();
                    failing = false;
                }
                Ok(None) => {
                    let by = match store.read_lease(prefix).await {
                        Ok(Some(s)) if !s.record.is_ours() => format!("taken over by {}", s.record.describe()),
                        Ok(None) => "deleted by someone else".to_string(),
                        _ => "changed by someone else".to_string(),
                    };
                    guard.lose(by);
                    return;
                }
                Err(e) => {
                    if failing {
                        tracing::debug!("prefix \"{prefix}\": could not renew the sync lease ({e}); retrying");
                    } else {
                        tracing::warn!("prefix \"{prefix}\": could not renew the sync lease ({e}); retrying");
                    }
                    failing = true;
                    next = Instant::now() + RENEW_RETRY.min(renew_every());
                }
            }
        }
    };
    let (r, ()) = tokio::join!(work, renew);
    r
}

/// How far a stopped init got.
#[derive(Debug, Default, Clone, Copy)]
pub struct Written {
    /// Items of the new data written, of `items_total`.
    pub items: usize,
    pub items_total: usize,
    /// Stored items the new data no longer has, removed, of `stale_total`.
    pub stale_removed: usize,
    pub stale_total: usize,
}

impl Written {
    pub fn nothing(&self) -> bool {
        self.items == 0 && self.stale_removed == 0
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What a prefix holds after an init stopped part-way.
pub fn partial_state(backend: &str, prefix: &str, w: &Written) -> String {
    if w.stale_removed == 0 && w.items < w.items_total {
        format!(
            "{backend} prefix \"{prefix}\" holds {} of {} items of the new data beside the old",
            thousands(w.items),
            thousands(w.items_total)
        )
    } else {
        format!(
            "{backend} prefix \"{prefix}\" holds all {} items of the new data, and {} of the {} old items it no longer has",
            thousands(w.items),
            thousands(w.stale_total - w.stale_removed),
            thousands(w.stale_total)
        )
    }
}

/// The error for an init that stopped after writing part of the data (`in_flight`: what it let
/// finish, e.g. "the batches in flight"). The lease record stays: it marks the prefix unfinished.
pub fn stopped(backend: &'static str, prefix: &str, halt: Halt, in_flight: &str, w: &Written) -> StoreError {
    let state = partial_state(backend, prefix, w);
    match halt {
        Halt::Signal(sig) => StoreError::Interrupted(crate::exit::Interrupted::new(
            sig,
            Some(format!(
                "stopped after {in_flight}; {state}; run the sync again to complete it (inspect and validate report it until then)"
            )),
        )),
        Halt::Lost(why) => {
            StoreError::LeaseLost { store: backend, prefix: prefix.to_string(), reason: format!("{why}; {state}") }
        }
    }
}

/// The error for an init that stopped before writing anything (its lease already given back).
pub fn stopped_before_writing(backend: &'static str, prefix: &str, halt: Halt) -> StoreError {
    match halt {
        Halt::Signal(sig) => StoreError::Interrupted(crate::exit::Interrupted::new(
            sig,
            Some(format!("stopped before writing anything; {backend} prefix \"{prefix}\" is unchanged")),
        )),
        Halt::Lost(why) => StoreError::LeaseLost {
            store: backend,
            prefix: prefix.to_string(),
            reason: format!("{why}; nothing was written"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the store_read fuzz target: a lease record read back with a time past the year
    /// 9999 (which RFC 3339 cannot write) panicked `inspect` and `sync` ("a Display implementation
    /// returned an error unexpectedly").
    #[test]
    fn times_past_the_year_9999_are_described_not_a_panic() {
        assert_eq!(time_text(253_402_300_799_000), "9999-12-31T23:59:59Z");
        assert_eq!(time_text(253_402_300_800_000), "253402300800000 ms after 1970-01-01 (past the year 9999)");
        let r = LeaseRecord { started_at: i64::MAX, expires_at: i64::MAX, ..LeaseRecord::default() };
        assert!(r.describe().contains("9223372036854775807 ms after 1970-01-01"), "{}", r.describe());
        assert_eq!(r.status(1).state, "in-progress");
        let r = LeaseRecord::parse(r#"{"startedAt":9223372036854775807,"expiresAt":300000000000000}"#);
        assert!(r.status(now_ms()).message.contains("past the year 9999"), "{:?}", r.status(now_ms()));
    }

    #[test]
    fn records_round_trip_and_unreadable_ones_are_expired() {
        let r = LeaseRecord::for_this_process(1_000);
        assert!(r.is_ours());
        assert_eq!(r.pid, std::process::id());
        assert_eq!(LeaseRecord::parse(&r.to_json()), r);
        assert!(!r.expired(1_000));
        assert!(r.expired(1_000 + lease_time().as_millis() as i64));
        assert!(!r.owner_gone(), "this process runs");
        let junk = LeaseRecord::parse("not json");
        assert!(junk.expired(1) && !junk.is_ours() && !junk.owner_gone());
        assert_eq!(junk.status(5).state, "interrupted");
        assert!(junk.status(5).message.contains("started at an unknown time"), "{}", junk.status(5).message);
    }

    #[test]
    fn a_process_that_is_gone_is_known_gone_on_this_machine_only() {
        let mut r = LeaseRecord::for_this_process(now_ms());
        r.owner = "someone-else".into();
        if r.process.is_none() {
            return; // not Linux: nothing can be told
        }
        assert!(!r.owner_gone(), "this process still runs");
        // The same PID with another start time is another process.
        r.process = Some(format!("{}/1", pid_scope().unwrap()));
        assert!(r.owner_gone());
        // Another machine: cannot tell.
        r.process = Some("other-boot/pid:[1]/1".into());
        assert!(!r.owner_gone());
        let live = r.status(now_ms());
        assert_eq!(live.state, "in-progress");
        assert!(live.message.starts_with("sync in progress since "), "{}", live.message);
    }

    #[test]
    fn numbers_and_partial_states() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_200), "1,200");
        assert_eq!(thousands(1_234_567), "1,234,567");
        let w = Written { items: 1_200, items_total: 10_000, stale_removed: 0, stale_total: 5 };
        assert_eq!(
            partial_state("DynamoDB", "p", &w),
            "DynamoDB prefix \"p\" holds 1,200 of 10,000 items of the new data beside the old"
        );
        let w = Written { items: 10, items_total: 10, stale_removed: 2, stale_total: 5 };
        assert_eq!(
            partial_state("Consul", "p", &w),
            "Consul prefix \"p\" holds all 10 items of the new data, and 3 of the 5 old items it no longer has"
        );
    }
}
