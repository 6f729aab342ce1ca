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
//! On a Redis Cluster under a prefix without a hash tag the two hashes live in different slots:
//! each staging hash is then named into the slot of the hash it replaces ([`Staging::per_slot`]),
//! and the probe, the check and the commit go per slot, segments first, the marker last.
//!
//! This module holds the keys, the commands and the checks; the streamed init (a blocking
//! connection to one node: a single server, the Sentinel master, or the master of a hash-tagged
//! prefix's slot) and `RedisStore::init` (an async one) send them. A Redis user that may not use
//! these commands (an ACL, a renamed command, Redis before 4.0) gets one `MULTI`/`EXEC` instead.

use redis::Value;

use super::RedisStore;
use crate::data::Kind;

/// How long a staging hash outlives its last write: its run has stopped long before (a write
/// waits at most --store-timeout), so it is only what a killed run left behind.
const STAGING_TTL_MS: &str = "3600000";

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
    /// On a Redis Cluster under a prefix without a hash tag, where `<p>:features` and
    /// `<p>:segments` live in different slots: each staging hash is named into the slot of the
    /// hash it replaces, and each kind is probed, checked and committed on its own (segments
    /// first), the marker set last. Otherwise everything is one group (one node, or one slot).
    pub per_slot: bool,
}

impl Staging {
    /// Staging hashes for a full write of `prefix`, named for this run: on a single node, or on a
    /// cluster under a hash-tagged prefix (the names start with the prefix, so they carry its tag).
    pub fn new(prefix: &str) -> Staging {
        let token = format!("{:016x}", rand::random::<u64>());
        Staging {
            prefix: prefix.to_string(),
            stage: Kind::ALL.map(|kind| format!("{prefix}:$ldstore_staging:{}:{token}", kind.namespace())),
            live: Kind::ALL.map(|kind| RedisStore::hash_key(prefix, kind)),
            per_slot: false,
        }
    }

    /// Staging hashes for a full write of a cluster prefix without a hash tag: each name ends in a
    /// hash tag (`{n}`, the first number whose slot is that of the hash it replaces), so Redis
    /// Cluster puts it in the slot of that hash, where `RENAME` may move it. `None` for a prefix
    /// with a `{` in it, where Redis would read a tag other than the one added.
    pub fn per_slot(prefix: &str) -> Option<Staging> {
        if prefix.contains('{') {
            return None;
        }
        let mut s = Staging::new(prefix);
        for k in 0..2 {
            let slot = redis::cluster_routing::Slot::for_key(&s.live[k]);
            // About 16,384 tries on average (CRC16 of a few digits each): measured, 0.6 ms a search on
            // average and 3 ms at worst over 200 prefixes, beside a sync of tens of milliseconds.
            let n = (0u32..).find(|n| redis::cluster_routing::Slot::for_key(n.to_string()) == slot).expect("a slot");
            s.stage[k] = format!("{}{{{n}}}", s.stage[k]);
        }
        s.per_slot = true;
        Some(s)
    }

    /// The kinds (by [`Kind::index`]) that share a slot, group by group: per slot, segments first.
    fn groups(&self) -> Vec<Vec<usize>> {
        if self.per_slot {
            Kind::INIT_ORDER.iter().map(|k| vec![k.index()]).collect()
        } else {
            vec![Kind::ALL.map(Kind::index).to_vec()]
        }
    }

    /// Whether this connection may use what a staged write needs is asked by queueing each command
    /// in a `MULTI` that is then discarded, so nothing runs. Only staging names, which no key has,
    /// are named, in case Redis refuses the `MULTI` itself (the commands would then run, harmlessly).
    /// One pipeline per group (each goes to the node of its slot).
    pub fn probe_groups(&self) -> Vec<Vec<Args>> {
        self.groups()
            .into_iter()
            .map(|g| {
                let (a, b) = (self.stage[g[0]].as_bytes(), self.stage[*g.last().expect("a kind")].as_bytes());
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
            })
            .collect()
    }

    /// [`Staging::probe_groups`] of one group (a single node, or a slot).
    pub fn probe_commands(&self) -> Vec<Args> {
        debug_assert!(!self.per_slot);
        self.probe_groups().swap_remove(0)
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

    /// Removes the staging hashes: one command per group.
    pub fn del_commands(&self) -> Vec<Args> {
        self.groups()
            .into_iter()
            .map(|g| {
                [b"DEL".to_vec()].into_iter().chain(g.iter().map(|k| self.stage[*k].as_bytes().to_vec())).collect()
            })
            .collect()
    }

    /// [`Staging::del_commands`] of one group (a single node, or a slot).
    pub fn del_command(&self) -> Args {
        debug_assert!(!self.per_slot);
        self.del_commands().swap_remove(0)
    }

    /// Keeps a staging hash of `kind` an hour after this write.
    pub fn expire_command(&self, k: usize) -> Args {
        args(&[b"PEXPIRE", self.stage[k].as_bytes(), STAGING_TTL_MS.as_bytes()])
    }

    /// Sent once every item has been, per group: `WATCH` of its staging hashes (the commit fails if
    /// one is evicted, expires or is written after this), then the `HLEN` of each; with the kinds
    /// (by [`Kind::index`]) whose lengths those are.
    pub fn check_groups(&self) -> Vec<(Vec<Args>, Vec<usize>)> {
        self.groups()
            .into_iter()
            .map(|g| {
                let mut watch = vec![b"WATCH".to_vec()];
                watch.extend(g.iter().map(|k| self.stage[*k].as_bytes().to_vec()));
                let mut cmds = vec![watch];
                cmds.extend(g.iter().map(|k| args(&[b"HLEN", self.stage[*k].as_bytes()])));
                (cmds, g)
            })
            .collect()
    }

    /// [`Staging::check_groups`] of one group (a single node, or a slot): `WATCH` of both, then the
    /// `HLEN` of each, in [`Kind::index`] order.
    pub fn check_commands(&self) -> Vec<Args> {
        debug_assert!(!self.per_slot);
        self.check_groups().swap_remove(0).0
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
        debug_assert!(!self.per_slot);
        self.commit_groups(wanted, marker).swap_remove(0)
    }

    /// [`Staging::commit_commands`] per group, each its own `MULTI`/`EXEC`, in order: with one
    /// group, everything; per slot, each kind (segments first), then the marker alone.
    pub fn commit_groups(&self, wanted: [i64; 2], marker: &str) -> Vec<Vec<Args>> {
        let mut out: Vec<Vec<Args>> = self
            .groups()
            .into_iter()
            .map(|g| {
                let mut cmds = Vec::new();
                for k in Kind::INIT_ORDER.map(Kind::index).into_iter().filter(|k| g.contains(k)) {
                    let (stage, live) = (self.stage[k].as_bytes(), self.live[k].as_bytes());
                    if wanted[k] == 0 {
                        cmds.push(args(&[b"DEL", live]));
                    } else {
                        cmds.push(args(&[b"UNLINK", live]));
                        cmds.push(args(&[b"RENAME", stage, live]));
                        cmds.push(args(&[b"PERSIST", live]));
                    }
                }
                cmds
            })
            .collect();
        let set = args(&[b"SET", marker.as_bytes(), b""]);
        match (self.per_slot, out.last_mut()) {
            (false, Some(last)) => last.push(set),
            _ => out.push(vec![set]),
        }
        out
    }

    /// The answer to an `EXEC` a `WATCH` aborted.
    pub const CHANGED: &str =
        "a staging hash changed before the commit (evicted, expired or written by another client): nothing was written";

    /// The same, per slot, after the commit of an earlier hash (the error then says what is new).
    pub const CHANGED_AFTER_A_COMMIT: &str =
        "a staging hash changed before its commit (evicted, expired or written by another client)";
}

/// Commands as one pipeline for an async connection.
pub(super) fn pipeline(commands: &[Args]) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    for c in commands {
        pipe.add_command(cmd(c));
    }
    pipe
}

/// A command for an async connection.
pub(super) fn cmd(c: &Args) -> redis::Cmd {
    let mut cmd = redis::cmd(&String::from_utf8_lossy(&c[0]));
    for a in &c[1..] {
        cmd.arg(&a[..]);
    }
    cmd
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
        assert_eq!(names(vec![s.del_command()]), [format!("DEL {} {}", s.stage[0], s.stage[1])]);
        assert!(s.check_lens([2, 3], [2, 3]).is_ok());
        assert!(s.check_lens([2, 1], [2, 3]).unwrap_err().contains("3 of 5 items"));
    }

    #[test]
    fn per_slot_staging_hashes_share_the_slot_of_what_they_replace() {
        use redis::cluster_routing::Slot;
        assert!(Staging::per_slot("ld:{prod}").is_none() && Staging::per_slot("a{b").is_none());
        let s = Staging::per_slot("ld:prod").expect("a plain prefix");
        let names = |cmds: &[Args]| -> Vec<String> {
            cmds.iter()
                .map(|c| c.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>().join(" "))
                .collect()
        };
        for k in Kind::ALL.map(Kind::index) {
            assert!(s.stage[k].starts_with(&format!("{}:$ldstore_staging:", "ld:prod")) && s.stage[k].ends_with('}'));
            assert_eq!(Slot::for_key(&s.stage[k]), Slot::for_key(&s.live[k]), "{}", s.stage[k]);
        }
        assert_ne!(Slot::for_key(&s.live[0]), Slot::for_key(&s.live[1]));
        // Every pipeline names keys of one slot only: per kind, segments first; the marker alone.
        let (seg, flags) = (&s.stage[Kind::Segments.index()], &s.stage[Kind::Flags.index()]);
        let probes: Vec<Vec<String>> = s.probe_groups().iter().map(|g| names(g)).collect();
        assert_eq!(probes.len(), 2);
        assert!(probes[0].contains(&format!("RENAME {seg} {seg}")) && !probes[0].iter().any(|c| c.contains(flags)));
        assert_eq!(names(&s.del_commands()), [format!("DEL {seg}"), format!("DEL {flags}")]);
        let checks: Vec<Vec<String>> = s.check_groups().iter().map(|(g, _)| names(g)).collect();
        assert_eq!(
            checks,
            [
                vec![format!("WATCH {seg}"), format!("HLEN {seg}")],
                vec![format!("WATCH {flags}"), format!("HLEN {flags}")]
            ]
        );
        let commits: Vec<Vec<String>> = s.commit_groups([3, 0], "ld:prod:$inited").iter().map(|g| names(g)).collect();
        assert_eq!(
            commits,
            [
                vec!["DEL ld:prod:segments".to_string()],
                vec![
                    "UNLINK ld:prod:features".into(),
                    format!("RENAME {flags} ld:prod:features"),
                    "PERSIST ld:prod:features".into()
                ],
                vec!["SET ld:prod:$inited ".into()],
            ]
        );
    }
}
