//! The reader: one LaunchDarkly stream per environment → memory → the writer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio::sync::{mpsc, watch};

use super::state::{ConnState, Env, ErrorKind, EventKind, Op};
use super::stopped;
use crate::data::{Item, Kind};
use crate::exit::chain_text;
use crate::source::ld::{Backoff, Failure, LdConfig};
use crate::source::stream::{EventReader, LdEvent, StreamEnd, StreamSource};
use crate::store;

/// How long a connection must stay good before the backoff starts over.
const HEALTHY_RESET: Duration = Duration::from_secs(60);

pub(super) async fn reader(
    env: Arc<Env>,
    cfg: LdConfig,
    tx: mpsc::UnboundedSender<Op>,
    read_timeout: Duration,
    exit_on_error: bool,
    mut stop: watch::Receiver<bool>,
) -> Result<()> {
    let source = StreamSource { cfg };
    let mut schedule = Reconnect::default();
    let name = env.name.clone();
    loop {
        let attempt = tokio::select! {
            r = source.connect() => r,
            _ = stopped(&mut stop) => return Ok(()),
        };
        let delay = match attempt {
            Ok(resp) => {
                tracing::info!("stream connected");
                schedule.connected();
                let connected_at = Instant::now();
                let mut events = EventReader::new(resp).with_read_timeout(read_timeout);
                let why = loop {
                    let next = tokio::select! {
                        r = events.next() => r,
                        _ = stopped(&mut stop) => return Ok(()),
                    };
                    match next {
                        Err(StreamEnd::Broken(why)) => break why,
                        Err(StreamEnd::Malformed(why)) => {
                            env.count_event(EventKind::Malformed);
                            tracing::warn!("malformed event ({why}); reconnecting for a fresh put");
                            break why;
                        }
                        Ok(ev) => apply(&env, ev, &tx),
                    }
                };
                env.count_reconnect();
                env.set_conn(ConnState::Interrupted, Some((ErrorKind::NetworkError, why.clone())));
                let d = schedule.after_stream(connected_at.elapsed());
                tracing::warn!("stream interrupted: {why}; reconnecting in {:.1} s", d.as_secs_f64());
                d
            }
            Err(Failure::Retry(why)) => cannot_connect(&env, &mut schedule, why, Duration::ZERO),
            Err(Failure::RetryAfter(why, asked)) => cannot_connect(&env, &mut schedule, why, asked),
            Err(Failure::Fatal(e)) => {
                let msg = chain_text(&e);
                env.set_conn(ConnState::Off, Some((ErrorKind::ErrorResponse, msg.clone())));
                if exit_on_error {
                    tracing::error!("{msg}; exiting (--exit-on-error)");
                    return Err(e.context(format!("environment \"{name}\"")));
                }
                let d = schedule.after_rejection();
                tracing::error!(
                    "{msg}: this environment's store is left untouched; retrying in {}",
                    humantime::format_duration(Duration::from_secs(d.as_secs()))
                );
                d
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stopped(&mut stop) => return Ok(()),
        }
    }
}

/// A connection attempt failed recoverably: say so in `/status` and the log, and how long to wait
/// (a `Retry-After` the server sent, `asked`, is a floor under the backoff; see ld::MAX_RETRY_AFTER).
fn cannot_connect(env: &Env, schedule: &mut Reconnect, why: String, asked: Duration) -> Duration {
    let state = if env.has_data() { ConnState::Interrupted } else { ConnState::Initializing };
    env.set_conn(state, Some((ErrorKind::NetworkError, why.clone())));
    let d = schedule.after_failure().max(asked);
    tracing::warn!("cannot connect: {why}; retrying in {:.1} s", d.as_secs_f64());
    d
}

/// The reader's reconnect schedule (protocol reference): recoverable failures and broken streams
/// on the normal backoff (1 s doubling to 30 s, jitter), which starts over once a connection stayed
/// good for [`HEALTHY_RESET`]; a rejected SDK key (401/403) on the slow one (5 min doubling to 1 h),
/// which starts over once a connection succeeds.
#[derive(Debug, Clone)]
pub(super) struct Reconnect {
    normal: Backoff,
    slow: Backoff,
}

impl Default for Reconnect {
    fn default() -> Self {
        let mut slow = Backoff::default();
        slow.initial = Duration::from_secs(300);
        slow.max = Duration::from_secs(3600);
        Reconnect { normal: Backoff::default(), slow }
    }
}

impl Reconnect {
    /// The stream answered 200.
    fn connected(&mut self) {
        self.slow.reset();
    }
    /// A stream that was connected for `lasted` ended (or broke).
    fn after_stream(&mut self, lasted: Duration) -> Duration {
        if lasted >= HEALTHY_RESET {
            self.normal.reset();
        }
        self.normal.next_delay()
    }
    /// A connection attempt failed recoverably (network error, 5xx...).
    fn after_failure(&mut self) -> Duration {
        self.normal.next_delay()
    }
    /// LaunchDarkly rejected the SDK key.
    fn after_rejection(&mut self) -> Duration {
        self.slow.next_delay()
    }
}

/// Apply one event to memory and hand the store operation to the writer.
fn apply(env: &Env, ev: LdEvent, tx: &mpsc::UnboundedSender<Op>) {
    match ev {
        LdEvent::Put(mut data) => {
            env.count_event(EventKind::Put);
            // Items whose key the store cannot hold and read back are left out (and said).
            for kind in Kind::ALL {
                data.items_mut(kind).retain(|key, _| match env.store.key_problem(key) {
                    None => true,
                    Some(why) => {
                        tracing::error!("{}", cannot_hold(env, kind, key, &why));
                        false
                    }
                });
            }
            tracing::info!("put: {} flags, {} segments", data.flags.len(), data.segments.len());
            let put = env.replace(data);
            env.set_conn(ConnState::Valid, None);
            let _ = tx.send(Op::Init(put));
        }
        LdEvent::Patch { kind, item } => {
            env.count_event(EventKind::Patch);
            upsert_memory(env, kind, item, tx);
        }
        LdEvent::Delete { kind, key, version } => {
            env.count_event(EventKind::Delete);
            upsert_memory(env, kind, Item::tombstone(kind, &key, version), tx);
        }
        LdEvent::Unknown { event, path } => {
            env.count_event(EventKind::Unknown);
            tracing::info!("ignoring event \"{event}\" (path {})", path.as_deref().unwrap_or("-"));
        }
    }
}

/// "skipping flag "a//b": Consul cannot hold its key and read it back: …".
fn cannot_hold(env: &Env, kind: Kind, key: &str, why: &str) -> String {
    let what = if kind == Kind::Flags { "flag" } else { "segment" };
    format!(
        "skipping {what} {}: {} cannot hold its key and read it back: {why}",
        store::shown_key(key),
        env.store.backend()
    )
}

fn upsert_memory(env: &Env, kind: Kind, item: Item, tx: &mpsc::UnboundedSender<Op>) {
    if let Some(why) = env.store.key_problem(&item.key) {
        tracing::error!("{}", cannot_hold(env, kind, &item.key, &why));
        return;
    }
    match env.upsert(kind, &item) {
        Ok(()) => {}
        Err(None) => {
            tracing::warn!("{kind} \"{}\" received before the first put; ignored", item.key);
            return;
        }
        Err(Some(held)) => {
            tracing::debug!("{kind} \"{}\" v{} is not newer than v{held}; ignored", item.key, item.version);
            return;
        }
    }
    let _ = tx.send(Op::Upsert(kind, item));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every delay is the schedule's base minus at most 50 % jitter (the protocol reference).
    #[track_caller]
    fn assert_jittered(d: Duration, base_secs: f64) {
        let d = d.as_secs_f64();
        assert!(d <= base_secs && d >= base_secs * 0.5, "{d} s is not within [{}, {base_secs}] s", base_secs * 0.5);
    }

    #[test]
    fn reconnects_double_from_1s_to_30s_minus_up_to_half_jitter() {
        let bases = [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0];
        let mut fractions = Vec::new();
        for _ in 0..200 {
            let mut r = Reconnect::default();
            for base in bases {
                let d = r.after_failure();
                assert_jittered(d, base);
                fractions.push(1.0 - d.as_secs_f64() / base);
            }
        }
        // The jitter is random and spans its range (1,600 draws: the chance of missing either end
        // by chance is below 1e-150).
        let lo = fractions.iter().copied().fold(f64::MAX, f64::min);
        let hi = fractions.iter().copied().fold(f64::MIN, f64::max);
        assert!(lo < 0.1 && hi > 0.4, "jitter fractions from {lo} to {hi}");
    }

    #[test]
    fn broken_streams_continue_the_schedule_until_a_connection_stayed_good_for_60s() {
        let mut r = Reconnect::default();
        assert_jittered(r.after_failure(), 1.0);
        assert_jittered(r.after_failure(), 2.0);
        // A stream that broke after a short while: no reset, the schedule goes on.
        assert_jittered(r.after_stream(Duration::from_secs(5)), 4.0);
        assert_jittered(r.after_stream(HEALTHY_RESET - Duration::from_millis(1)), 8.0);
        // A stream that stayed good for 60 s: back to 1 s.
        assert_eq!(HEALTHY_RESET, Duration::from_secs(60));
        assert_jittered(r.after_stream(HEALTHY_RESET), 1.0);
        assert_jittered(r.after_failure(), 2.0);
        assert_jittered(r.after_stream(Duration::from_secs(3600)), 1.0);
        // A successful connect alone does not reset the normal schedule (only staying up does).
        r.connected();
        assert_jittered(r.after_stream(Duration::ZERO), 2.0);
    }

    #[test]
    fn rejected_keys_retry_from_5min_doubling_to_1h_and_start_over_after_a_connection() {
        for _ in 0..50 {
            let mut r = Reconnect::default();
            for base in [300.0, 600.0, 1200.0, 2400.0, 3600.0, 3600.0, 3600.0] {
                assert_jittered(r.after_rejection(), base);
            }
            // The slow schedule is separate from the normal one...
            assert_jittered(r.after_failure(), 1.0);
            // ...and starts over once LaunchDarkly accepts the key again.
            r.connected();
            assert_jittered(r.after_rejection(), 300.0);
            assert_jittered(r.after_rejection(), 600.0);
        }
    }
}
