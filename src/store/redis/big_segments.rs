//! Big Segments on Redis, as the SDKs read them and the Relay Proxy writes them:
//! `<p>:big_segments_synchronized_on` (string, Unix ms), `<p>:big_segments_cursor` (string),
//! `<p>:big_segment_include:<hash>` and `<p>:big_segment_exclude:<hash>` (sets of refs).

use std::collections::BTreeSet;

use async_trait::async_trait;

use super::{BACKEND, RedisStore, glob_escape};
use crate::store::StoreError;
use crate::store::big_segments::{self, BigSegmentStore, Membership, MembershipVisitor, Metadata};

/// Contexts per MULTI/EXEC when memberships are written.
const WRITE_BATCH: usize = 1_000;
/// Keys asked for per SCAN page.
const SCAN_COUNT: usize = 1_000;

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

impl RedisStore {
    /// The memberships of these hashes, in one round trip.
    async fn memberships_of(&self, prefix: &str, hashes: &[String]) -> Result<Vec<Membership>, StoreError> {
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for h in hashes {
            pipe.cmd("SMEMBERS").arg(include_key(prefix, h)).cmd("SMEMBERS").arg(exclude_key(prefix, h));
        }
        let mut c = self.conn.clone();
        let sets: Vec<BTreeSet<String>> = pipe.query_async(&mut c).await.map_err(|e| self.err(e, "SMEMBERS"))?;
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
        let mut c = self.conn.clone();
        let (synchronized_on, cursor): (Option<String>, Option<String>) = redis::pipe()
            .cmd("GET")
            .arg(synced_on_key(prefix))
            .cmd("GET")
            .arg(cursor_key(prefix))
            .query_async(&mut c)
            .await
            .map_err(|e| self.err(e, "GET"))?;
        Ok(Metadata { synchronized_on, cursor })
    }

    async fn membership(&self, prefix: &str, hash: &str) -> Result<Membership, StoreError> {
        Ok(self.memberships_of(prefix, &[hash.to_string()]).await?.pop().unwrap_or_default())
    }

    async fn read_memberships(&self, prefix: &str, visit: &mut MembershipVisitor<'_>) -> anyhow::Result<()> {
        // Every hash with an include set, with both its sets (a SCAN page at a time); then every
        // hash with an exclude set only (one whose include set exists was passed already).
        let mut c = self.conn.clone();
        for which in ["include", "exclude"] {
            let head = format!("{prefix}:big_segment_{which}:");
            let pattern = format!("{}*", glob_escape(&head));
            let mut cursor: u64 = 0;
            loop {
                let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(SCAN_COUNT)
                    .query_async(&mut c)
                    .await
                    .map_err(|e| self.err(e, "SCAN"))?;
                let hashes: Vec<String> =
                    keys.iter().filter_map(|k| k.strip_prefix(&head)).map(str::to_string).collect();
                let memberships = self.memberships_of(prefix, &hashes).await?;
                for (h, m) in hashes.into_iter().zip(memberships) {
                    // Gone since the SCAN, or an include set met again in the exclude pass.
                    if m.is_empty() || (which == "exclude" && !m.included.is_empty()) {
                        continue;
                    }
                    visit(h, m)?;
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(())
    }

    async fn write_memberships(&self, prefix: &str, memberships: &[(String, Membership)]) -> Result<(), StoreError> {
        big_segments::check_unique(BACKEND, memberships)?;
        let mut c = self.conn.clone();
        for batch in memberships.chunks(WRITE_BATCH) {
            let mut pipe = redis::pipe();
            pipe.atomic();
            for (hash, m) in batch {
                for (key, refs) in [(include_key(prefix, hash), &m.included), (exclude_key(prefix, hash), &m.excluded)]
                {
                    pipe.cmd("DEL").arg(&key).ignore();
                    if !refs.is_empty() {
                        pipe.cmd("SADD").arg(&key).arg(refs.iter().collect::<Vec<_>>()).ignore();
                    }
                }
            }
            let _: () = pipe.query_async(&mut c).await.map_err(|e| self.err(e, "writing memberships"))?;
        }
        Ok(())
    }

    async fn write_metadata(&self, prefix: &str, metadata: &Metadata) -> Result<(), StoreError> {
        big_segments::check_metadata(BACKEND, metadata)?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (key, value) in [(synced_on_key(prefix), &metadata.synchronized_on), (cursor_key(prefix), &metadata.cursor)]
        {
            match value {
                Some(v) => pipe.cmd("SET").arg(key).arg(v).ignore(),
                None => pipe.cmd("DEL").arg(key).ignore(),
            };
        }
        let mut c = self.conn.clone();
        let _: () = pipe.query_async(&mut c).await.map_err(|e| self.err(e, "writing Big Segments metadata"))?;
        Ok(())
    }

    async fn remove_refs(&self, prefix: &str, removals: &[(String, Membership)]) -> Result<(), StoreError> {
        big_segments::check_unique(BACKEND, removals)?;
        let mut c = self.conn.clone();
        for batch in removals.chunks(WRITE_BATCH) {
            let mut pipe = redis::pipe();
            pipe.atomic();
            for (hash, m) in batch {
                for (key, refs) in [(include_key(prefix, hash), &m.included), (exclude_key(prefix, hash), &m.excluded)]
                {
                    if !refs.is_empty() {
                        pipe.cmd("SREM").arg(&key).arg(refs.iter().collect::<Vec<_>>()).ignore();
                    }
                }
            }
            let _: () = pipe.query_async(&mut c).await.map_err(|e| self.err(e, "removing refs"))?;
        }
        Ok(())
    }
}
