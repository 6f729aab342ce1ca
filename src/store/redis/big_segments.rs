//! Big Segments on Redis, as the SDKs read them and the Relay Proxy writes them:
//! `<p>:big_segments_synchronized_on` (string, Unix ms), `<p>:big_segments_cursor` (string),
//! `<p>:big_segment_include:<hash>` and `<p>:big_segment_exclude:<hash>` (sets of refs).

use std::collections::BTreeSet;

use async_trait::async_trait;

use futures::future::try_join_all;

use super::{BACKEND, RedisStore, glob_escape, has_hash_tag};
use crate::store::StoreError;
use crate::store::big_segments::{self, BigSegmentStore, HashVisitor, Membership, MembershipVisitor, Metadata};
use crate::store::big_segments_patch::{Applied, Patch};

/// Contexts per MULTI/EXEC when memberships are written.
const WRITE_BATCH: usize = 1_000;

pub(super) fn synced_on_key(prefix: &str) -> String {
    format!("{prefix}:big_segments_synchronized_on")
}

pub(super) fn cursor_key(prefix: &str) -> String {
    format!("{prefix}:big_segments_cursor")
}

pub(super) fn include_key(prefix: &str, hash: &str) -> String {
    format!("{prefix}:big_segment_include:{hash}")
}

pub(super) fn exclude_key(prefix: &str, hash: &str) -> String {
    format!("{prefix}:big_segment_exclude:{hash}")
}

/// The include and exclude set keys of each context of `batch`, with the refs meant for each.
fn sets<'a>(
    prefix: &'a str,
    batch: &'a [(String, Membership)],
) -> impl Iterator<Item = (String, &'a BTreeSet<String>)> {
    batch
        .iter()
        .flat_map(move |(hash, m)| [(include_key(prefix, hash), &m.included), (exclude_key(prefix, hash), &m.excluded)])
}

impl RedisStore {
    /// Whether every key of the prefix is in one slot: always off a cluster; on a cluster only with
    /// a hash-tagged prefix. Otherwise a pipeline or transaction may name one key only (Redis
    /// Cluster refuses a cross-slot one), so each key is sent on its own, concurrently where the
    /// order does not matter.
    pub(super) fn one_slot(&self, prefix: &str) -> bool {
        !self.on_cluster() || has_hash_tag(prefix)
    }

    /// `cmd KEY` for each of `keys`, concurrently; the answers in the keys' order.
    async fn each_key<T: redis::FromRedisValue>(&self, keys: &[String], cmd: &str) -> Result<Vec<T>, StoreError> {
        let conn = self.conn().await?;
        try_join_all(keys.iter().map(|k| {
            let mut c = conn.clone();
            let mut command = redis::cmd(cmd);
            command.arg(k);
            async move { command.query_async::<T>(&mut c).await.map_err(|e| self.err(e, cmd)) }
        }))
        .await
    }

    /// The hashes of a page of `<head><hash>` keys, each with its membership.
    async fn page_memberships(
        &self,
        prefix: &str,
        head: &str,
        keys: &[String],
    ) -> Result<Vec<(String, Membership)>, StoreError> {
        let hashes: Vec<String> = keys.iter().filter_map(|k| k.strip_prefix(head)).map(str::to_string).collect();
        let memberships = self.memberships_of(prefix, &hashes).await?;
        Ok(hashes.into_iter().zip(memberships).collect())
    }

    /// The commands of several keys (`per_key`: one list per key): one MULTI/EXEC where the keys
    /// share a slot ([`Self::one_slot`]); elsewhere one MULTI/EXEC per key, concurrently, or one
    /// after the other in the given order when `ordered`.
    pub(super) async fn transact(
        &self,
        prefix: &str,
        per_key: Vec<Vec<redis::Cmd>>,
        ordered: bool,
        during: &str,
    ) -> Result<(), StoreError> {
        let pipeline = |cmds: Vec<redis::Cmd>| {
            let mut pipe = redis::pipe();
            pipe.atomic();
            for c in cmds {
                pipe.add_command(c).ignore();
            }
            pipe
        };
        let conn = self.conn().await?;
        let send = |pipe: redis::Pipeline| {
            let mut c = conn.clone();
            async move { pipe.query_async::<()>(&mut c).await.map_err(|e| self.err(e, during)) }
        };
        if self.one_slot(prefix) {
            send(pipeline(per_key.into_iter().flatten().collect())).await
        } else if ordered {
            for cmds in per_key {
                send(pipeline(cmds)).await?;
            }
            Ok(())
        } else {
            try_join_all(per_key.into_iter().map(|cmds| send(pipeline(cmds)))).await.map(|_| ())
        }
    }

    /// The memberships of these hashes, in one round trip (one per key on a cluster without a
    /// hash-tagged prefix).
    async fn memberships_of(&self, prefix: &str, hashes: &[String]) -> Result<Vec<Membership>, StoreError> {
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = hashes.iter().flat_map(|h| [include_key(prefix, h), exclude_key(prefix, h)]).collect();
        let sets: Vec<BTreeSet<String>> = if self.one_slot(prefix) {
            let mut pipe = redis::pipe();
            for k in &keys {
                pipe.cmd("SMEMBERS").arg(k);
            }
            let mut c = self.conn().await?;
            pipe.query_async(&mut c).await.map_err(|e| self.err(e, "SMEMBERS"))?
        } else {
            self.each_key(&keys, "SMEMBERS").await?
        };
        let mut sets = sets.into_iter();
        Ok(hashes
            .iter()
            .map(|_| Membership {
                included: sets.next().unwrap_or_default(),
                excluded: sets.next().unwrap_or_default(),
            })
            .collect())
    }
}

#[async_trait]
impl BigSegmentStore for RedisStore {
    async fn metadata(&self, prefix: &str) -> Result<Metadata, StoreError> {
        let mut c = self.conn().await?;
        let (synchronized_on, cursor): (Option<String>, Option<String>) = if self.one_slot(prefix) {
            redis::pipe()
                .cmd("GET")
                .arg(synced_on_key(prefix))
                .cmd("GET")
                .arg(cursor_key(prefix))
                .query_async(&mut c)
                .await
                .map_err(|e| self.err(e, "GET"))?
        } else {
            let mut both = self.each_key::<Option<String>>(&[synced_on_key(prefix), cursor_key(prefix)], "GET").await?;
            let cursor = both.pop().flatten();
            (both.pop().flatten(), cursor)
        };
        Ok(Metadata { synchronized_on, cursor })
    }

    async fn membership(&self, prefix: &str, hash: &str) -> Result<Membership, StoreError> {
        Ok(self.memberships_of(prefix, &[hash.to_string()]).await?.pop().unwrap_or_default())
    }

    async fn read_memberships(&self, prefix: &str, visit: &mut MembershipVisitor<'_>) -> anyhow::Result<()> {
        // Every hash with an include set, with both its sets (a SCAN page at a time); then every
        // hash with an exclude set only (one whose include set exists was passed already).
        // A page of keys read, its memberships visited, then the next page: bounded memory on
        // every shape (on a cluster the scan walks every master).
        for which in ["include", "exclude"] {
            let head = format!("{prefix}:big_segment_{which}:");
            let pattern = format!("{}*", glob_escape(&head));
            let exclude_pass = which == "exclude";
            let mut scan = self.key_scan(Some(&pattern)).await?;
            let mut page = scan.next_page(self).await?;
            while let Some(keys) = page {
                // The next page is asked for while this one's sets are read (one connection, the
                // two requests sent back to back): one round trip per page instead of two.
                let (memberships, next) =
                    futures::join!(self.page_memberships(prefix, &head, &keys), scan.next_page(self));
                for (h, m) in memberships? {
                    // Skipped: one gone since it was listed; in the exclude pass, one whose include
                    // set was visited.
                    if m.is_empty() || (exclude_pass && !m.included.is_empty()) {
                        continue;
                    }
                    visit(h, m)?;
                }
                page = next?;
            }
        }
        Ok(())
    }

    async fn read_hashes(&self, prefix: &str, visit: &mut HashVisitor<'_>) -> anyhow::Result<()> {
        // The keys alone: Redis holds no empty set, so a context with an include or exclude key
        // has a membership. A hash with both comes twice (the caller keeps each once).
        for which in ["include", "exclude"] {
            let head = format!("{prefix}:big_segment_{which}:");
            let pattern = format!("{}*", glob_escape(&head));
            let mut scan = self.key_scan(Some(&pattern)).await?;
            while let Some(page) = scan.next_page(self).await? {
                for hash in page.iter().filter_map(|k| k.strip_prefix(head.as_str())) {
                    visit(hash.to_string())?;
                }
            }
        }
        Ok(())
    }

    async fn write_memberships(&self, prefix: &str, memberships: &[(String, Membership)]) -> Result<(), StoreError> {
        big_segments::check_unique(BACKEND, memberships)?;
        for batch in memberships.chunks(WRITE_BATCH) {
            // Each set replaced: DEL, then SADD of its refs.
            if self.one_slot(prefix) {
                // One transaction built in place: the per-key commands below cost an allocation
                // or more each (a perf profile of 1,000,000 memberships from a dump: allocator
                // functions were over a third of ldstore's CPU).
                let mut pipe = redis::pipe();
                pipe.atomic();
                for (key, refs) in sets(prefix, batch) {
                    pipe.cmd("DEL").arg(&key).ignore();
                    if !refs.is_empty() {
                        pipe.cmd("SADD").arg(&key).arg(refs.iter().collect::<Vec<_>>()).ignore();
                    }
                }
                let mut c = self.conn().await?;
                pipe.query_async::<()>(&mut c).await.map_err(|e| self.err(e, "writing memberships"))?;
                continue;
            }
            let per_key = sets(prefix, batch)
                .map(|(key, refs)| {
                    let mut cmds = vec![redis::cmd("DEL").arg(&key).clone()];
                    if !refs.is_empty() {
                        cmds.push(redis::cmd("SADD").arg(&key).arg(refs.iter().collect::<Vec<_>>()).clone());
                    }
                    cmds
                })
                .collect();
            self.transact(prefix, per_key, false, "writing memberships").await?;
        }
        Ok(())
    }

    async fn write_metadata(&self, prefix: &str, metadata: &Metadata) -> Result<(), StoreError> {
        big_segments::check_metadata(BACKEND, metadata)?;
        let per_key = [(synced_on_key(prefix), &metadata.synchronized_on), (cursor_key(prefix), &metadata.cursor)]
            .into_iter()
            .map(|(key, value)| match value {
                Some(v) => vec![redis::cmd("SET").arg(key).arg(v).clone()],
                None => vec![redis::cmd("DEL").arg(key).clone()],
            })
            .collect();
        // Where the keys do not share a slot: one after the other, the cursor last.
        self.transact(prefix, per_key, true, "writing Big Segments metadata").await
    }

    async fn remove_refs(&self, prefix: &str, removals: &[(String, Membership)]) -> Result<(), StoreError> {
        big_segments::check_unique(BACKEND, removals)?;
        for batch in removals.chunks(WRITE_BATCH) {
            let per_key = sets(prefix, batch)
                .filter(|(_, refs)| !refs.is_empty())
                .map(|(key, refs)| vec![redis::cmd("SREM").arg(&key).arg(refs.iter().collect::<Vec<_>>()).clone()])
                .collect();
            self.transact(prefix, per_key, false, "removing refs").await?;
        }
        Ok(())
    }

    async fn apply_patch(&self, prefix: &str, patch: &Patch) -> Result<Applied, StoreError> {
        self.apply_big_segments_patch(prefix, patch).await
    }

    async fn mark_synchronized(&self, prefix: &str, now_ms: i64) -> Result<(), StoreError> {
        self.mark_big_segments_synchronized(prefix, now_ms).await
    }
}
