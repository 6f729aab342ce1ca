//! Big Segments patches on Redis, as the Relay Proxy applies them: `WATCH <p>:big_segments_lock`,
//! `GET <p>:big_segments_cursor` (the patch is taken when the cursor is its `previousVersion`, or
//! while no cursor is stored), then one MULTI/EXEC: `SET lock ""`, `SET cursor <version>`, and the
//! SADD/SREM of every set the patch touches. A concurrent writer's EXEC aborts ours: the cursor is
//! read again (and the patch is then usually out of order).
//!
//! On a Redis Cluster whose prefix has no hash tag, the keys are in different slots and no
//! transaction may span them. Then: `WATCH` and `GET` the cursor; each set's changes in one
//! MULTI/EXEC per key (adds before removes, as Relay orders them); the cursor last, by a
//! MULTI/EXEC guarded by the WATCH. SADD/SREM of one ref are idempotent, so a patch interrupted
//! half-way (the cursor still at `previousVersion`) is applied again, whole, by the next attempt:
//! no update is lost. What is not guaranteed there is isolation between two writers applying
//! patches to the same prefix at the same time (a reader may see part of a patch; one writer per
//! prefix is assumed). Relay cannot write to such a prefix at all (its MULTI would be cross-slot).

use redis::Value;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};

use super::big_segments::{cursor_key, exclude_key, include_key, synced_on_key};
use super::{BACKEND, Conn, RedisStore, check_exec};
use crate::store::StoreError;
use crate::store::big_segments_patch::{Applied, Patch, Set};

/// Attempts when other writers keep aborting the transaction.
const ATTEMPTS: u32 = 10;

pub(super) fn lock_key(prefix: &str) -> String {
    format!("{prefix}:big_segments_lock")
}

/// The commands of each set the patch touches, one list per key, each in Relay's order.
fn per_key(prefix: &str, patch: &Patch) -> Vec<Vec<redis::Cmd>> {
    patch
        .per_set()
        .into_iter()
        .map(|((hash, set), adds)| {
            let key = match set {
                Set::Included => include_key(prefix, hash),
                Set::Excluded => exclude_key(prefix, hash),
            };
            adds.into_iter()
                .map(|add| redis::cmd(if add { "SADD" } else { "SREM" }).arg(&key).arg(&patch.segment_id).clone())
                .collect()
        })
        .collect()
}

impl RedisStore {
    pub(super) async fn apply_big_segments_patch(&self, prefix: &str, patch: &Patch) -> Result<Applied, StoreError> {
        let mut guard = self.tx_connection().await?;
        let conn = guard.as_mut().expect("connected");
        let result = self.apply_patch_on(conn, prefix, patch).await;
        if result.is_err() {
            *guard = None;
        }
        result
    }

    async fn unwatch(&self, conn: &mut Conn, watched: &str) -> Result<(), StoreError> {
        match conn {
            // UNWATCH names no key: on a cluster it goes to the node WATCH went to.
            Conn::Cluster(cc) => {
                let route = SingleNodeRoutingInfo::SpecificNode(Route::with_key(watched, SlotAddr::Master));
                cc.route_command(redis::cmd("UNWATCH"), RoutingInfo::SingleNode(route)).await.map(drop)
            }
            Conn::Single(_) => redis::cmd("UNWATCH").exec_async(conn).await,
        }
        .map_err(|e| self.err(e, "UNWATCH"))
    }

    async fn apply_patch_on(&self, conn: &mut Conn, prefix: &str, patch: &Patch) -> Result<Applied, StoreError> {
        let one_slot = self.one_slot(prefix);
        let cursor_key = cursor_key(prefix);
        // Relay's lock where every key shares a slot; else the cursor itself.
        let watched = if one_slot { lock_key(prefix) } else { cursor_key.clone() };
        for _ in 0..ATTEMPTS {
            redis::cmd("WATCH").arg(&watched).exec_async(conn).await.map_err(|e| self.err(e, "WATCH"))?;
            let cursor: Option<String> =
                redis::cmd("GET").arg(&cursor_key).query_async(conn).await.map_err(|e| self.err(e, "GET"))?;
            if cursor.as_ref().is_some_and(|c| *c != patch.previous_version) {
                self.unwatch(conn, &watched).await?;
                return Ok(Applied::OutOfOrder { cursor });
            }
            let mut pipe = redis::pipe();
            pipe.atomic();
            if one_slot {
                pipe.cmd("SET").arg(lock_key(prefix)).arg("").ignore();
                pipe.cmd("SET").arg(&cursor_key).arg(&patch.version).ignore();
                for c in per_key(prefix, patch).into_iter().flatten() {
                    pipe.add_command(c).ignore();
                }
            } else {
                // Each set on its own (the cursor stays at previousVersion until all landed).
                self.transact(prefix, per_key(prefix, patch), false, "applying a Big Segments patch").await?;
                pipe.cmd("SET").arg(&cursor_key).arg(&patch.version).ignore();
            }
            let result: Value = pipe.query_async(conn).await.map_err(|e| self.err(e, "EXEC"))?;
            if !matches!(result, Value::Nil) {
                check_exec(result)?;
                return Ok(Applied::Applied);
            }
            // Another writer changed the watched key: read the cursor again.
        }
        Err(StoreError::Contention { store: BACKEND, attempts: ATTEMPTS, what: watched })
    }

    pub(super) async fn mark_big_segments_synchronized(&self, prefix: &str, now_ms: i64) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        redis::cmd("SET")
            .arg(synced_on_key(prefix))
            .arg(now_ms)
            .exec_async(&mut c)
            .await
            .map_err(|e| self.err(e, "SET"))
    }
}
