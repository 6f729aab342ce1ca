//! Big Segments patches on DynamoDB, as the Relay Proxy applies them: `TransactWriteItems` of at
//! most 24 `Update`s of membership items plus one `ConditionCheck` on the metadata item
//! (`lastVersion = previousVersion`; for a `previousVersion` of `""` a missing `lastVersion` is
//! accepted too), as many transactions as the patch needs, then the cursor by an `UpdateItem` under
//! the same condition. A transaction may not touch one item twice, so the changes are grouped per
//! item: first every addition (`ADD included/excluded`), then every removal (`DELETE`), which is
//! Relay's order (included.add, excluded.add, included.remove, excluded.remove) per set.
//!
//! A patch of more than one transaction is not applied atomically: if one fails the cursor stays
//! at `previousVersion`, and the next attempt applies the patch again, whole (ADD/DELETE of one ref
//! are idempotent). The condition on every transaction stops a writer whose patch another writer
//! has overtaken.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem, Update};

use super::big_segments::{ATTR_CURSOR, ATTR_EXCLUDED, ATTR_INCLUDED, ATTR_SYNCED_ON, METADATA, USER};
use super::{DynamoStore, namespace};
use crate::store::StoreError;
use crate::store::big_segments::BigSegmentStore;
use crate::store::big_segments_patch::{Applied, Patch, Set};

/// Membership updates per transaction (with the condition check: 25, DynamoDB's limit at the time
/// Relay was written).
const UPDATES_PER_TRANSACTION: usize = 24;
/// Attempts when a transaction conflicts with another one.
const ATTEMPTS: u32 = 10;

fn built(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Other(e.to_string())
}

/// The condition on the metadata item: the cursor is the patch's `previousVersion`.
fn condition(patch: &Patch) -> &'static str {
    if patch.previous_version.is_empty() { "attribute_not_exists(#v) OR #v = :prev" } else { "#v = :prev" }
}

impl DynamoStore {
    /// One `Update` per item: the refs added (`add`) or removed to/from its sets.
    fn membership_updates(&self, prefix: &str, patch: &Patch, add: bool) -> Result<Vec<Update>, StoreError> {
        let ns = namespace(prefix, USER);
        let mut per_item: BTreeMap<&str, Vec<Set>> = BTreeMap::new();
        for c in patch.changes().filter(|c| c.add == add) {
            let sets = per_item.entry(c.hash).or_default();
            if !sets.contains(&c.set) {
                sets.push(c.set);
            }
        }
        let refs = AttributeValue::Ss(vec![patch.segment_id.clone()]);
        per_item
            .into_iter()
            .map(|(hash, sets)| {
                let mut u = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(Self::key_map(&ns, hash)))
                    .expression_attribute_values(":r", refs.clone());
                let mut parts = Vec::new();
                for set in sets {
                    let (name, attr) = match set {
                        Set::Included => ("#i", ATTR_INCLUDED),
                        Set::Excluded => ("#e", ATTR_EXCLUDED),
                    };
                    parts.push(format!("{name} :r"));
                    u = u.expression_attribute_names(name, attr);
                }
                let verb = if add { "ADD" } else { "DELETE" };
                u.update_expression(format!("{verb} {}", parts.join(", "))).build().map_err(built)
            })
            .collect()
    }

    fn metadata_check(&self, prefix: &str, patch: &Patch) -> Result<ConditionCheck, StoreError> {
        let m = namespace(prefix, METADATA);
        ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key_map(&m, &m)))
            .condition_expression(condition(patch))
            .expression_attribute_names("#v", ATTR_CURSOR)
            .expression_attribute_values(":prev", AttributeValue::S(patch.previous_version.clone()))
            .build()
            .map_err(built)
    }

    async fn out_of_order(&self, prefix: &str) -> Result<Applied, StoreError> {
        Ok(Applied::OutOfOrder { cursor: self.metadata(prefix).await?.cursor })
    }

    pub(super) async fn apply_big_segments_patch(&self, prefix: &str, patch: &Patch) -> Result<Applied, StoreError> {
        let updates = [self.membership_updates(prefix, patch, true)?, self.membership_updates(prefix, patch, false)?];
        for phase in updates {
            for batch in phase.chunks(UPDATES_PER_TRANSACTION) {
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let mut tx = self.client.transact_write_items().transact_items(
                        TransactWriteItem::builder().condition_check(self.metadata_check(prefix, patch)?).build(),
                    );
                    for u in batch {
                        tx = tx.transact_items(TransactWriteItem::builder().update(u.clone()).build());
                    }
                    match tx.send().await {
                        Ok(_) => break,
                        Err(e) => {
                            if let Some(TransactWriteItemsError::TransactionCanceledException(t)) = e.as_service_error()
                            {
                                let reasons = t.cancellation_reasons();
                                if reasons.first().and_then(|r| r.code()) == Some("ConditionalCheckFailed") {
                                    return self.out_of_order(prefix).await;
                                }
                                if attempt < ATTEMPTS && reasons.iter().any(|r| r.code() == Some("TransactionConflict"))
                                {
                                    continue;
                                }
                            }
                            return Err(self.err(e, "TransactWriteItems (Big Segments patch)"));
                        }
                    }
                }
            }
        }
        // The cursor last, under the same condition.
        let m = namespace(prefix, METADATA);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key_map(&m, &m)))
            .update_expression("SET #v = :version")
            .condition_expression(condition(patch))
            .expression_attribute_names("#v", ATTR_CURSOR)
            .expression_attribute_values(":prev", AttributeValue::S(patch.previous_version.clone()))
            .expression_attribute_values(":version", AttributeValue::S(patch.version.clone()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Applied::Applied),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                self.out_of_order(prefix).await
            }
            Err(e) => Err(self.err(e, "UpdateItem (Big Segments cursor)")),
        }
    }

    pub(super) async fn mark_big_segments_synchronized(&self, prefix: &str, now_ms: i64) -> Result<(), StoreError> {
        let m = namespace(prefix, METADATA);
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key_map(&m, &m)))
            .update_expression("SET #s = :s")
            .expression_attribute_names("#s", ATTR_SYNCED_ON)
            .expression_attribute_values(":s", AttributeValue::N(now_ms.to_string()))
            .send()
            .await
            .map_err(|e| self.err(e, "UpdateItem (Big Segments sync time)"))?;
        Ok(())
    }
}
