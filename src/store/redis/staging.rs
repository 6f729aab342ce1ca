//! A staged full write (docs/store-layout.md, "Full write, staged"): the items go with `HSET` into
//! staging hashes of this run, `<p>:$ldstore_staging:<kind>:<token>`, each `PEXPIRE`d to an hour
//! after its last write (so what a killed run leaves behind goes away by itself), which Redis
//! applies as they come; then, after `WATCH`ing them and checking with `HLEN` that they hold every
//! item (a staging hash evicted under `maxmemory` is never moved into place), one short
//! `MULTI`/`EXEC` moves them into place (`UNLINK` of the old hash, whose memory Redis frees in the
//! background, `RENAME`, `PERSIST`, as a rename keeps the expiry) with the `SET` of the marker.
//! Readers see the old data or the new, as with one transaction, but Redis is never busy applying
//! the whole data set at once: measured, another client's `HGET` waited up to about 150 ms during
//! a 100,000-flag write in one transaction, and under 5 ms staged (`scripts/bench`, part `stall`).
//!
//! This module holds the keys, the commands and the checks; the streamed init (a blocking
//! connection) and `RedisStore::init` (an async one) send them. A Redis user that may not use
//! these commands (an ACL, a renamed command, Redis before 4.0) gets one `MULTI`/`EXEC` instead.

use redis::Value;

use super::RedisStore;
use crate::data::Kind;

/// How long a staging hash outlives its last write: its run has stopped long before (a write
/// waits at most --store-timeout), so it is only what a killed run left behind.
pub(super) const STAGING_TTL_MS: &str = "3600000";

/// A command's name and arguments.
pub(super) type Args = Vec<Vec<u8>>;

fn args(parts: &[&[u8]]) -> Args {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// The staging hashes of one run (indexed by [`Kind::index`]) and the hashes they replace.
pub(super) struct Staging {
    pub prefix: String,
    pub stage: [String; 2],
    pub live: [String; 2],
}

impl Staging {
    /// Staging hashes for a full write of `prefix`, named for this run.
    pub fn new(prefix: &str) -> Staging {
        let token = format!("{:016x}", rand::random::<u64>());
        Staging {
            prefix: prefix.to_string(),
            stage: Kind::ALL.map(|kind| format!("{prefix}:$ldstore_staging:{}:{token}", kind.namespace())),
            live: Kind::ALL.map(|kind| RedisStore::hash_key(prefix, kind)),
        }
    }

    /// Whether this connection may use what a staged write needs is asked by queueing each command
    /// in a `MULTI` that is then discarded, so nothing runs. Only staging names, which no key has,
    /// are named, in case Redis refuses the `MULTI` itself (the commands would then run, harmlessly).
    pub fn probe_commands(&self) -> Vec<Args> {
        let (a, b) = (self.stage[0].as_bytes(), self.stage[1].as_bytes());
        vec![
            args(&[b"WATCH", a]),
            args(&[b"UNWATCH"]),
            args(&[b"MULTI"]),
            args(&[b"PEXPIRE", a, STAGING_TTL_MS.as_bytes()]),
            args(&[b"HLEN", a]),
            args(&[b"UNLINK", a]),
            args(&[b"RENAME", a, b]),
            args(&[b"PERSIST", b]),
            args(&[b"DEL", a]),
            args(&[b"DISCARD"]),
        ]
    }

    /// What Redis refused of the probe (`RENAME: NOPERM …`), given its answers; `None`: the
    /// write can be staged.
    pub fn refused(probe: &[Args], answers: &[Value]) -> Option<String> {
        let refused = probe.iter().zip(answers).find_map(|(c, answer)| match answer {
            Value::ServerError(e) => {
                Some(format!("{}: {}", String::from_utf8_lossy(&c[0]), super::server_error_text(e)))
            }
            _ => None,
        });
        if let Some(why) = &refused {
            tracing::debug!("Redis refuses what a staged init needs ({why}): writing one transaction");
        }
        refused
    }

    /// Removes the staging hashes.
    pub fn del_command(&self) -> Args {
        args(&[b"DEL", self.stage[0].as_bytes(), self.stage[1].as_bytes()])
    }

    /// Keeps a staging hash of `kind` an hour after this write.
    pub fn expire_command(&self, k: usize) -> Args {
        args(&[b"PEXPIRE", self.stage[k].as_bytes(), STAGING_TTL_MS.as_bytes()])
    }

    /// Sent once every item has been: `WATCH` of the staging hashes (the commit fails if either is
    /// evicted, expires or is written after this), then the `HLEN` of each, in [`Kind::index`] order.
    pub fn check_commands(&self) -> Vec<Args> {
        let (a, b) = (self.stage[0].as_bytes(), self.stage[1].as_bytes());
        vec![args(&[b"WATCH", a, b]), args(&[b"HLEN", a]), args(&[b"HLEN", b])]
    }

    /// Whether the staging hashes hold every item: `lens` from [`Staging::check_commands`],
    /// `wanted` the items written of each kind.
    pub fn check_lens(&self, lens: [i64; 2], wanted: [i64; 2]) -> Result<(), String> {
        if lens == wanted {
            return Ok(());
        }
        Err(format!(
            "the new data was staged but Redis no longer holds all of it ({} of {} items; evicted under maxmemory?): nothing was written",
            lens[0] + lens[1],
            wanted[0] + wanted[1]
        ))
    }

    /// The commands of the commit, to run between `MULTI` and `EXEC`: per kind (segments first) the
    /// old hash unlinked and the staging hash renamed into place without its expiry, or, for a kind
    /// without items, the old hash deleted; then the marker.
    pub fn commit_commands(&self, wanted: [i64; 2], marker: &str) -> Vec<Args> {
        let mut out = Vec::new();
        for k in Kind::INIT_ORDER.map(Kind::index) {
            let (stage, live) = (self.stage[k].as_bytes(), self.live[k].as_bytes());
            if wanted[k] == 0 {
                out.push(args(&[b"DEL", live]));
            } else {
                out.push(args(&[b"UNLINK", live]));
                out.push(args(&[b"RENAME", stage, live]));
                out.push(args(&[b"PERSIST", live]));
            }
        }
        out.push(args(&[b"SET", marker.as_bytes(), b""]));
        out
    }

    /// The answer to an `EXEC` a `WATCH` aborted.
    pub const CHANGED: &str =
        "a staging hash changed before the commit (evicted, expired or written by another client): nothing was written";
}

/// Commands as one pipeline for an async connection.
pub(super) fn pipeline(commands: &[Args]) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    for c in commands {
        let mut cmd = redis::cmd(&String::from_utf8_lossy(&c[0]));
        for a in &c[1..] {
            cmd.arg(&a[..]);
        }
        pipe.add_command(cmd);
    }
    pipe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_names_and_commit() {
        let s = Staging::new("ld:prod");
        assert!(s.stage[Kind::Flags.index()].starts_with("ld:prod:$ldstore_staging:features:"));
        assert!(s.stage[Kind::Segments.index()].starts_with("ld:prod:$ldstore_staging:segments:"));
        let names = |cmds: Vec<Args>| -> Vec<String> {
            cmds.iter()
                .map(|c| c.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>().join(" "))
                .collect()
        };
        let mut wanted = [0; 2];
        wanted[Kind::Flags.index()] = 3;
        let commit = names(s.commit_commands(wanted, "ld:prod:$inited"));
        let flags_stage = &s.stage[Kind::Flags.index()];
        assert_eq!(
            commit,
            [
                "DEL ld:prod:segments".to_string(),
                "UNLINK ld:prod:features".into(),
                format!("RENAME {flags_stage} ld:prod:features"),
                "PERSIST ld:prod:features".into(),
                "SET ld:prod:$inited ".into(),
            ]
        );
        // The probe names no key but the staging hashes, and is discarded.
        let probe = names(s.probe_commands());
        assert!(probe.iter().all(|c| !c.contains("ld:prod:features") && !c.contains("ld:prod:segments ")), "{probe:?}");
        assert_eq!(probe[2], "MULTI");
        assert_eq!(probe.last().unwrap(), "DISCARD");
        assert!(s.check_lens([2, 3], [2, 3]).is_ok());
        assert!(s.check_lens([2, 1], [2, 3]).unwrap_err().contains("3 of 5 items"));
    }
}
