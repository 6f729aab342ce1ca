//! Big Segments on DynamoDB, as the SDKs read them and the Relay Proxy writes them, in the flags'
//! table: the metadata item (`namespace` = `key` = `<p>:big_segments_metadata`, `synchronizedOn`
//! N, `lastVersion` S) and one item per context (`namespace` = `<p>:big_segments_user`, `key` =
//! the hash, `included` / `excluded` SS).

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use futures::StreamExt;
use futures::stream::FuturesUnordered;

use super::{ATTR_KEY, BACKEND, BATCH_SIZE, DynamoStore, namespace, row_string};
use crate::store::StoreError;
use crate::store::big_segments::{self, BigSegmentStore, Membership, MembershipVisitor, Metadata};
use crate::store::big_segments_patch::{Applied, Patch};

pub(super) const METADATA: &str = "big_segments_metadata";
pub(super) const USER: &str = "big_segments_user";
pub(super) const ATTR_SYNCED_ON: &str = "synchronizedOn";
pub(super) const ATTR_CURSOR: &str = "lastVersion";
pub(super) const ATTR_INCLUDED: &str = "included";
pub(super) const ATTR_EXCLUDED: &str = "excluded";

fn string_set(row: &HashMap<String, AttributeValue>, name: &str) -> BTreeSet<String> {
    match row.get(name) {
        Some(AttributeValue::Ss(v)) => v.iter().cloned().collect(),
        _ => BTreeSet::new(),
    }
}

pub(crate) fn membership_of(row: &HashMap<String, AttributeValue>) -> Membership {
    Membership { included: string_set(row, ATTR_INCLUDED), excluded: string_set(row, ATTR_EXCLUDED) }
}

/// The Big Segments metadata a row holds (a wrong-typed `synchronizedOn` is kept as text, which
/// [`Metadata::synchronized_on_ms`] then refuses).
pub(crate) fn metadata_of(row: &HashMap<String, AttributeValue>) -> Metadata {
    Metadata {
        synchronized_on: match row.get(ATTR_SYNCED_ON) {
            Some(AttributeValue::N(n)) => Some(n.clone()),
            Some(AttributeValue::S(s)) => Some(s.clone()),
            Some(other) => Some(format!("{other:?}")),
            None => None,
        },
        cursor: row_string(row, ATTR_CURSOR),
    }
}

impl DynamoStore {
    fn membership_request(prefix: &str, hash: &str, m: &Membership) -> Result<WriteRequest, StoreError> {
        let ns = namespace(prefix, USER);
        if m.is_empty() {
            return Self::delete_request(&ns, hash);
        }
        let mut item = Self::key_map(&ns, hash);
        // DynamoDB sets cannot be empty: an attribute with no ref is left out.
        for (name, refs) in [(ATTR_INCLUDED, &m.included), (ATTR_EXCLUDED, &m.excluded)] {
            if !refs.is_empty() {
                item.insert(name.to_string(), AttributeValue::Ss(refs.iter().cloned().collect()));
            }
        }
        let put = PutRequest::builder().set_item(Some(item)).build().map_err(|e| StoreError::Other(e.to_string()))?;
        Ok(WriteRequest::builder().put_request(put).build())
    }
}

#[async_trait]
impl BigSegmentStore for DynamoStore {
    async fn metadata(&self, prefix: &str) -> Result<Metadata, StoreError> {
        let m = namespace(prefix, METADATA);
        Ok(match self.get_row(&m, &m).await? {
            None => Metadata::default(),
            Some(row) => metadata_of(&row),
        })
    }

    async fn membership(&self, prefix: &str, hash: &str) -> Result<Membership, StoreError> {
        Ok(self.get_row(&namespace(prefix, USER), hash).await?.map(|r| membership_of(&r)).unwrap_or_default())
    }

    async fn read_memberships(&self, prefix: &str, visit: &mut MembershipVisitor<'_>) -> anyhow::Result<()> {
        self.query_namespace(&namespace(prefix, USER), false, &mut |row| {
            let Some(hash) = row_string(&row, ATTR_KEY) else { return Ok(()) };
            visit(hash, membership_of(&row))
        })
        .await
    }

    async fn write_memberships(&self, prefix: &str, memberships: &[(String, Membership)]) -> Result<(), StoreError> {
        big_segments::check_unique(BACKEND, memberships)?;
        // Batches of 25, several in flight; a batch's requests are built only as it is sent.
        let mut batches = memberships.chunks(BATCH_SIZE);
        let mut in_flight = FuturesUnordered::new();
        loop {
            while in_flight.len() < self.in_flight {
                let Some(batch) = batches.next() else { break };
                let requests =
                    batch.iter().map(|(h, m)| Self::membership_request(prefix, h, m)).collect::<Result<Vec<_>, _>>()?;
                in_flight.push(self.write_batch(requests));
            }
            match in_flight.next().await {
                None => return Ok(()),
                Some(done) => done?,
            }
        }
    }

    async fn write_metadata(&self, prefix: &str, metadata: &Metadata) -> Result<(), StoreError> {
        big_segments::check_metadata(BACKEND, metadata)?;
        let m = namespace(prefix, METADATA);
        let (mut set, mut remove) = (Vec::new(), Vec::new());
        let mut update = self.client.update_item().table_name(&self.table).set_key(Some(Self::key_map(&m, &m)));
        for (attr, name, value, n) in
            [(ATTR_SYNCED_ON, "#s", &metadata.synchronized_on, true), (ATTR_CURSOR, "#c", &metadata.cursor, false)]
        {
            update = update.expression_attribute_names(name, attr);
            match value {
                Some(v) => {
                    let val = format!(":{}", &name[1..]);
                    set.push(format!("{name} = {val}"));
                    let v = v.trim().to_string();
                    update = update
                        .expression_attribute_values(val, if n { AttributeValue::N(v) } else { AttributeValue::S(v) });
                }
                None => remove.push(name.to_string()),
            }
        }
        let mut expr = String::new();
        if !set.is_empty() {
            expr.push_str(&format!("SET {}", set.join(", ")));
        }
        if !remove.is_empty() {
            expr.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        update.update_expression(expr.trim()).send().await.map_err(|e| self.err(e, "UpdateItem"))?;
        Ok(())
    }

    async fn remove_refs(&self, prefix: &str, removals: &[(String, Membership)]) -> Result<(), StoreError> {
        big_segments::check_unique(BACKEND, removals)?;
        let ns = namespace(prefix, USER);
        let update = |hash: &str, m: &Membership| {
            let mut u = self.client.update_item().table_name(&self.table).set_key(Some(Self::key_map(&ns, hash)));
            let mut parts = Vec::new();
            for (attr, name, val, refs) in
                [(ATTR_INCLUDED, "#i", ":i", &m.included), (ATTR_EXCLUDED, "#e", ":e", &m.excluded)]
            {
                if !refs.is_empty() {
                    parts.push(format!("{name} {val}"));
                    u = u
                        .expression_attribute_names(name, attr)
                        .expression_attribute_values(val, AttributeValue::Ss(refs.iter().cloned().collect()));
                }
            }
            // Only an item that exists: never create one holding nothing.
            u.update_expression(format!("DELETE {}", parts.join(", ")))
                .condition_expression("attribute_exists(#k)")
                .expression_attribute_names("#k", ATTR_KEY)
        };
        let mut pending = removals.iter().filter(|(_, m)| !m.is_empty());
        let mut in_flight = FuturesUnordered::new();
        loop {
            while in_flight.len() < self.in_flight * BATCH_SIZE {
                let Some((hash, m)) = pending.next() else { break };
                in_flight.push(update(hash, m).send());
            }
            match in_flight.next().await {
                None => return Ok(()),
                Some(Ok(_)) => {}
                Some(Err(e)) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
                Some(Err(e)) => return Err(self.err(e, "UpdateItem")),
            }
        }
    }

    async fn apply_patch(&self, prefix: &str, patch: &Patch) -> Result<Applied, StoreError> {
        self.apply_big_segments_patch(prefix, patch).await
    }

    async fn mark_synchronized(&self, prefix: &str, now_ms: i64) -> Result<(), StoreError> {
        self.mark_big_segments_synchronized(prefix, now_ms).await
    }
}
