//! Noticing that a thread which feeds a server on the same machine shares its processor with that
//! server, and moving it off once that is clear.
//!
//! Why, measured (README, "Benchmarks", target 1 and "seventh session"): on the two-core
//! benchmark machine about one 10k-flag sync in ten into a local Redis took 34-44 ms instead of
//! 21-28. A kernel trace of 120 runs: 13 of the 15 slowest had ldstore's thread and
//! `redis-server` on one core, Redis waking on it with each write and preempting the encoder
//! (45-58 times a run, about once a write), the other core idle for the whole sync; nearly every
//! fast run had no such switch. The wake-up that a socket write causes is a "sync" one, which the
//! scheduler places on the writer's core; once Redis has last run there too, nothing moves either
//! of them (the load balancer did not within 30 ms), so their processor times add up instead of
//! overlapping.
//!
//! [`Sharing::after_write`] counts the thread's involuntary context switches (`getrusage`,
//! `RUSAGE_THREAD`) after each write: preempted during [`STRIKES`] writes in a row, the thread
//! is sharing its core with something as busy as itself, and moves to another of the cores it may
//! use (its affinity mask without the current core, set and at once restored: the kernel
//! migrates the thread to fulfil the first, and the restored mask lets the balancer place it
//! freely again). Redis, woken from the new core, stays on its own, now idle. At most
//! [`MAX_MOVES`] moves per feed; nothing is done on one core, off Linux, or when a call fails.

/// Writes in a row, each with at least one involuntary switch, that mean a shared core.
const STRIKES: u32 = 3;

/// Moves at most per feed: a machine busy everywhere gains nothing from more.
const MAX_MOVES: u32 = 3;

/// What [`Sharing`] has seen of the thread that made it (create it on the thread that writes).
#[derive(Debug)]
pub struct Sharing {
    /// Involuntary switches of this thread at the last write (`None`: not known yet).
    switches: Option<i64>,
    strikes: u32,
    moves: u32,
}

impl Default for Sharing {
    fn default() -> Self {
        Sharing { switches: sys::involuntary_switches(), strikes: 0, moves: 0 }
    }
}

impl Sharing {
    /// Call after each write that wakes the server; moves the thread when it has been preempted
    /// during [`STRIKES`] such writes in a row.
    pub fn after_write(&mut self) {
        // No move left: not even the system call.
        if self.moves >= MAX_MOVES {
            return;
        }
        let Some(now) = sys::involuntary_switches() else {
            return;
        };
        if !self.shared(now) {
            return;
        }
        match sys::move_off_this_core() {
            Some((from, to)) => tracing::debug!("sharing core {from} with a busy task; moved to core {to}"),
            // One core, or the calls fail: they would again.
            None => self.moves = MAX_MOVES,
        }
        // The move itself may count as a switch.
        self.switches = sys::involuntary_switches();
    }

    /// Note the thread's involuntary switches `now`, after a write: whether to move (and, if so,
    /// counted as a move).
    fn shared(&mut self, now: i64) -> bool {
        let Some(before) = self.switches.replace(now) else {
            return false;
        };
        self.strikes = if now > before { self.strikes + 1 } else { 0 };
        if self.strikes < STRIKES || self.moves >= MAX_MOVES {
            return false;
        }
        self.strikes = 0;
        self.moves += 1;
        true
    }
}

// The system calls; `unsafe` only here (and in the tests that check them).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod sys {
    use std::mem::{size_of, zeroed};

    /// This thread's involuntary context switches so far.
    pub(super) fn involuntary_switches() -> Option<i64> {
        // SAFETY: getrusage writes one rusage (plain integers) through a valid pointer.
        let mut usage: libc::rusage = unsafe { zeroed() };
        (unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) } == 0).then_some(usage.ru_nivcsw as i64)
    }

    /// Move this thread to another core it may run on, leaving its affinity as it was: the core
    /// left and the core now run on, or `None` when it cannot (one core, or a call failed).
    pub(super) fn move_off_this_core() -> Option<(usize, usize)> {
        // SAFETY: cpu_set_t is a plain bit set; the libc calls get its true size and a valid
        // pointer, and the CPU_* helpers are given indices they check against that size.
        unsafe {
            let from = usize::try_from(libc::sched_getcpu()).ok()?;
            let mut allowed: libc::cpu_set_t = zeroed();
            if libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut allowed) != 0 {
                return None;
            }
            if libc::CPU_COUNT(&allowed) < 2 || from >= libc::CPU_SETSIZE as usize || !libc::CPU_ISSET(from, &allowed) {
                return None;
            }
            let mut others = allowed;
            libc::CPU_CLR(from, &mut others);
            // The kernel moves the thread off `from` before this returns.
            if libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &others) != 0 {
                return None;
            }
            let to = libc::sched_getcpu();
            // Restoring the mask does not move the thread back; it only lets it go anywhere again.
            libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &allowed);
            Some((from, usize::try_from(to).ok()?))
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    pub(super) fn involuntary_switches() -> Option<i64> {
        None
    }

    pub(super) fn move_off_this_core() -> Option<(usize, usize)> {
        None
    }
}

#[cfg(test)]
#[allow(unsafe_code)]
mod tests {
    use super::*;

    fn fed(counts: &[i64]) -> Vec<bool> {
        let mut sharing = Sharing { switches: Some(0), strikes: 0, moves: 0 };
        counts.iter().map(|&n| sharing.shared(n)).collect()
    }

    #[test]
    fn three_preempted_writes_in_a_row_mean_a_shared_core() {
        assert_eq!(fed(&[1, 2, 3, 3]), [false, false, true, false]);
        // Counting starts again after a move.
        assert_eq!(fed(&[1, 2, 3, 4, 5, 6]), [false, false, true, false, false, true]);
    }

    #[test]
    fn a_preemption_now_and_then_is_not_sharing() {
        assert_eq!(fed(&[1, 2, 2, 3, 4, 4, 5, 5, 6]), [false; 9]);
        assert_eq!(fed(&[0, 0, 0, 0]), [false; 4]);
    }

    #[test]
    fn moves_stop_after_the_most_allowed() {
        let moves = fed(&(1..=30).collect::<Vec<_>>()).into_iter().filter(|&m| m).count();
        assert_eq!(moves, MAX_MOVES as usize);
    }

    #[test]
    fn an_unknown_start_only_starts_the_tally() {
        let mut sharing = Sharing { switches: None, strikes: 0, moves: 0 };
        assert_eq!([1, 2, 3, 4].map(|n| sharing.shared(n)), [false, false, false, true]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_move_changes_the_core_and_leaves_the_affinity_as_it_was() {
        use std::mem::{size_of, zeroed};
        std::thread::spawn(|| {
            let mask = || unsafe {
                let mut set: libc::cpu_set_t = zeroed();
                assert_eq!(libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set), 0);
                set
            };
            let before = mask();
            let cores = unsafe { libc::CPU_COUNT(&before) };
            match sys::move_off_this_core() {
                Some((from, to)) => {
                    assert!(cores >= 2);
                    assert_ne!(from, to, "moved to another core");
                }
                None => assert_eq!(cores, 1, "no move only when there is one core to run on"),
            }
            assert!(unsafe { libc::CPU_EQUAL(&before, &mask()) }, "the affinity is restored");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn involuntary_switches_are_counted_on_linux() {
        assert_eq!(sys::involuntary_switches().is_some(), cfg!(target_os = "linux"));
    }
}
