//! DynamoDB backend: one table with partition key `namespace` and sort key `key`, laid out exactly
//! as the Go SDK, the Relay Proxy, and the Python and Node SDKs do (see store-layout.md).
//!
//! | item | attributes |
//! |---|---|
//! | flag | `namespace`=`<p>:features` (or `features`), `key`, `version` (N), `item` (S) |
//! | segment | `namespace`=`<p>:segments` (or `segments`), `key`, `version` (N), `item` (S) |
//! | marker | `namespace` = `key` = `<p>:$inited` (or `$inited`) |
//! | sync lease | `namespace` = `key` = `<p>:ldstore_sync` (or `ldstore_sync`), `lease` (S, JSON); see [`super::lease`] |
//!
//! The table administration used by `ldstore dynamodb create-table/check-table` is in [`table`].

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Region;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, DeleteRequest, Put, PutRequest, Select, TransactWriteItem, WriteRequest,
};
use futures::StreamExt;
use futures::stream::FuturesUnordered;

use super::lease::{self, Guard, LeaseRecord, LeaseStore, Stop, Stored, Tally};
use super::{
    Admin, Backend, Entry, InitReport, KeyInfo, Progress, SkippedItem, Store, StoreError, Upserted, VersionMismatch,
    Visitor, entry,
};
use crate::config::DynamoDbConfig;
use crate::data::{DataSet, Item, Kind};
use crate::secrets;
use crate::shutdown::Shutdown;

pub(crate) mod big_segments;
mod big_segments_patch;
mod table;
pub use table::{NewTable, REQUIRED_SCHEMA, TableFacts, schema_problem};

const BACKEND: &str = Backend::DynamoDb.as_str();
/// The SDKs' item size limit: 100 + the byte lengths of attribute names and values.
pub const ITEM_SIZE_LIMIT: usize = 400_000;
const ITEM_OVERHEAD: usize = 100;
/// `BatchWriteItem` takes at most 25 requests.
const BATCH_SIZE: usize = 25;
/// `BatchWriteItem` requests in flight at once (init, Big Segments). Chosen from measurement: a
/// 10,000-flag sync (404 batches) into DynamoDB Local behind scripts/latency-proxy.py, median
/// seconds of 3 runs per count (BENCH_DYNAMODB_IN_FLIGHT=4,8,16,32,64 BENCH_SKIP_SDK=1
/// BENCH_DYNAMODB_MODE=latency scripts/bench-dynamodb; 2 shared cores, load average 8-9):
///
/// | each way | 4 | 8 | 16 | 32 | 64 |
/// |---|---|---|---|---|---|
/// | 0 ms | 1.46 | 2.02 | 2.18 | 1.61 | 1.86 |
/// | 5 ms | 2.60 | 2.32 | 1.96 | 1.86 | 2.18 |
/// | 20 ms | 6.20 | 3.52 | 2.55 | 1.88 | 1.94 |
///
/// Each wave of batches waits a round trip, so below 32 the time grows with the latency (8 was
/// 1.9x slower at 20 ms); from 32 on it no longer does (DynamoDB Local's one storage thread is the
/// limit), and 64 gains nothing. Throttling on a provisioned table only means more
/// `UnprocessedItems`, resent by each batch with its own backoff ([`DynamoStore::write_batch`]).
pub const BATCHES_IN_FLIGHT: usize = 32;

/// Attempts without any progress before giving up on `UnprocessedItems`.
const UNPROCESSED_ATTEMPTS: u32 = 20;
const BACKOFF_START: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// The region used with an explicit endpoint when nothing else names one.
const ENDPOINT_DEFAULT_REGION: &str = "us-east-1";

const ATTR_NAMESPACE: &str = "namespace";
const ATTR_KEY: &str = "key";
const ATTR_VERSION: &str = "version";
const ATTR_ITEM: &str = "item";
/// The sync lease's one attribute besides the key: its JSON.
const ATTR_LEASE: &str = "lease";

/// A namespace under a prefix: `<p>:<name>`, or just `<name>` when the prefix is empty.
pub fn namespace(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_string() } else { format!("{prefix}:{name}") }
}

/// DynamoDB's limit on a sort key value (UTF-8 bytes); partition keys may hold 2,048.
pub const MAX_SORT_KEY_BYTES: usize = 1024;
/// The longest sort key ldstore reads or writes for a prefix: `<p>:big_segments_metadata`.
const LONGEST_PREFIX_KEY: &str = "big_segments_metadata";

/// Why DynamoDB cannot hold a prefix (`None`: it can). Every key ldstore uses for it must fit the
/// 1,024-byte sort key limit; the longest is `<prefix>:big_segments_metadata` (the marker's is
/// `<prefix>:$inited`), so a prefix may have at most 1,002 bytes.
pub fn prefix_problem(prefix: &str) -> Option<String> {
    let longest = namespace(prefix, LONGEST_PREFIX_KEY).len();
    (longest > MAX_SORT_KEY_BYTES).then(|| {
        format!(
            "it has {} bytes, and at most {} fit (the key \"<prefix>:{LONGEST_PREFIX_KEY}\" must fit DynamoDB's {MAX_SORT_KEY_BYTES}-byte sort key limit)",
            prefix.len(),
            MAX_SORT_KEY_BYTES - LONGEST_PREFIX_KEY.len() - 1
        )
    })
}

/// Why DynamoDB cannot hold an item key, its sort key (`None`: it can): key attributes cannot be
/// empty strings, and a sort key holds at most 1,024 bytes.
pub fn key_problem(key: &str) -> Option<String> {
    if key.is_empty() {
        return Some("it is empty (DynamoDB key attributes cannot be empty strings)".into());
    }
    (key.len() > MAX_SORT_KEY_BYTES)
        .then(|| format!("it has {} bytes (DynamoDB sort keys hold at most {MAX_SORT_KEY_BYTES} bytes)", key.len()))
}

/// The SDKs' estimate of a stored item's size.
pub fn estimated_size(namespace: &str, key: &str, version: u64, json: &str) -> usize {
    ITEM_OVERHEAD
        + ATTR_NAMESPACE.len()
        + namespace.len()
        + ATTR_KEY.len()
        + key.len()
        + ATTR_VERSION.len()
        + version.to_string().len()
        + ATTR_ITEM.len()
        + json.len()
}

/// Relay's wording for an item too large to store.
pub fn too_large_message(namespace: &str, key: &str) -> String {
    format!("The item \"{key}\" in \"{namespace}\" was too large to store in DynamoDB and was dropped")
}

/// Where the table is, for messages: the endpoint, or the AWS region.
fn describe_location(cfg: &DynamoDbConfig, region: &str) -> String {
    match &cfg.endpoint {
        Some(e) => secrets::redact_url(e),
        None => format!("AWS region {region}"),
    }
}

/// Build a DynamoDB client: region from the config, else the AWS chain, else (only with an explicit
/// endpoint) us-east-1; endpoint from the config; credentials from the AWS chain.
pub async fn client(cfg: &DynamoDbConfig) -> Result<(Client, String), StoreError> {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).timeout_config(
        // The whole operation, the SDK's retries included, within --store-timeout (not each of
        // its three attempts: a silent endpoint would otherwise take three times as long).
        TimeoutConfig::builder()
            .connect_timeout(cfg.timeout)
            .operation_attempt_timeout(cfg.timeout)
            .operation_timeout(cfg.timeout)
            .build(),
    );
    if let Some(r) = &cfg.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(e) = &cfg.endpoint {
        url::Url::parse(e).map_err(|err| {
            StoreError::Other(format!("invalid DynamoDB endpoint \"{}\": {err}", secrets::redact_url(e)))
        })?;
        loader = loader.endpoint_url(e);
    }
    let sdk = loader.load().await;
    let mut builder = aws_sdk_dynamodb::config::Builder::from(&sdk);
    let region = match sdk.region() {
        Some(r) => r.to_string(),
        None if cfg.endpoint.is_some() => {
            builder = builder.region(Region::new(ENDPOINT_DEFAULT_REGION));
            ENDPOINT_DEFAULT_REGION.to_string()
        }
        None => {
            return Err(StoreError::Other(
                "no AWS region for DynamoDB: give --region, set AWS_REGION, or set a region in the AWS profile".into(),
            ));
        }
    };
    Ok((Client::from_conf(builder.build()), region))
}

/// Turn an SDK error into a one-line [`StoreError`] (no debug dumps of SDK structures).
pub fn classify<E>(err: SdkError<E>, location: &str, table: &str, during: &str, timeout: Duration) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let text = || error_chain(&err);
    match &err {
        SdkError::TimeoutError(_) => {
            return StoreError::Timeout { store: BACKEND, timeout, during: during.to_string() };
        }
        SdkError::DispatchFailure(d) => {
            if d.is_timeout() {
                return StoreError::Timeout { store: BACKEND, timeout, during: during.to_string() };
            }
            let t = text();
            if t.contains("credential") || t.contains("identity") {
                return StoreError::Denied { store: BACKEND, addr: location.to_string(), reason: t };
            }
            // The SDK does not say whether the connection was up: its words do.
            if ["closed before message completed", "reset by peer", "Broken pipe", "connection closed"]
                .iter()
                .any(|m| t.contains(m))
            {
                return StoreError::Lost {
                    store: BACKEND,
                    addr: location.to_string(),
                    during: during.to_string(),
                    reason: t,
                };
            }
            return StoreError::Unreachable { store: BACKEND, addr: location.to_string(), reason: t };
        }
        SdkError::ConstructionFailure(_) => {
            let t = text();
            if t.contains("credential") || t.contains("identity") {
                return StoreError::Denied { store: BACKEND, addr: location.to_string(), reason: t };
            }
            return StoreError::Command { store: BACKEND, during: during.to_string(), reason: t };
        }
        _ => {}
    }
    let code = err.code().unwrap_or("").to_string();
    let message = err.message().map(one_line).unwrap_or_default();
    let reason = match (code.is_empty(), message.is_empty()) {
        (false, false) => format!("{code}: {message}"),
        (false, true) => code.clone(),
        (true, false) => message.clone(),
        (true, true) => text(),
    };
    match code.as_str() {
        "ResourceNotFoundException" => StoreError::Other(format!(
            "DynamoDB table \"{table}\" does not exist ({location}); create it with: ldstore dynamodb create-table --table {table}"
        )),
        // Query names it; GetItem/PutItem on a table keyed otherwise say the key does not match
        // (DynamoDB) or that it has too many key conditions (DynamoDB Local).
        "ValidationException"
            if message.contains("key schema")
                || message.contains("does not match the schema")
                || message.contains("number of conditions on the keys") =>
        {
            StoreError::Schema {
                store: BACKEND,
                reason: format!(
                    "table \"{table}\" does not have the key schema LaunchDarkly needs ({message}); check it with: ldstore dynamodb check-table --table {table}"
                ),
            }
        }
        "ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded" => {
            StoreError::Command {
                store: BACKEND,
                during: during.to_string(),
                reason: format!(
                    "throttled by DynamoDB even after retries ({reason}); raise the table's capacity or use on-demand billing"
                ),
            }
        }
        "ExpiredTokenException"
        | "ExpiredToken"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "AccessDeniedException"
        | "MissingAuthenticationTokenException"
        | "InvalidClientTokenId"
        | "IncompleteSignatureException"
        | "SignatureDoesNotMatch" => StoreError::Denied { store: BACKEND, addr: location.to_string(), reason },
        _ => StoreError::Command { store: BACKEND, during: during.to_string(), reason },
    }
}

/// An error and its sources on one line (Display only: never the Debug dump that
/// `DisplayErrorContext` appends).
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.last().is_some_and(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = e.source();
    }
    one_line(&parts.join(": "))
}

fn one_line(s: &str) -> String {
    secrets::mask(&s.split_whitespace().collect::<Vec<_>>().join(" "))
}

pub struct DynamoStore {
    client: Client,
    table: String,
    location: String,
    timeout: Duration,
    /// `BatchWriteItem` requests (and a relay batch's conditional `PutItem`s) kept in flight
    /// ([`BATCHES_IN_FLIGHT`] unless the settings say).
    in_flight: usize,
}

impl DynamoStore {
    pub async fn connect(cfg: &DynamoDbConfig) -> Result<DynamoStore, StoreError> {
        let (client, region) = client(cfg).await?;
        Ok(DynamoStore {
            client,
            table: cfg.table.clone(),
            location: describe_location(cfg, &region),
            timeout: cfg.timeout,
            in_flight: cfg.in_flight,
        })
    }

    fn err<E>(&self, e: SdkError<E>, during: &str) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        classify(e, &self.location, &self.table, during, self.timeout)
    }

    fn key_map(ns: &str, key: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (ATTR_NAMESPACE.to_string(), AttributeValue::S(ns.to_string())),
            (ATTR_KEY.to_string(), AttributeValue::S(key.to_string())),
        ])
    }

    fn item_map(ns: &str, item: &Item) -> HashMap<String, AttributeValue> {
        let mut m = Self::key_map(ns, &item.key);
        m.insert(ATTR_VERSION.to_string(), AttributeValue::N(item.version.to_string()));
        m.insert(ATTR_ITEM.to_string(), AttributeValue::S(item.json.to_string()));
        m
    }

    /// A `Query` of every row of one namespace, with consistent reads.
    fn namespace_query(&self, ns: &str) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("#namespace = :namespace")
            .expression_attribute_names("#namespace", ATTR_NAMESPACE)
            .expression_attribute_values(":namespace", AttributeValue::S(ns.to_string()))
    }

    /// Every page of a `Query` on one namespace (consistent reads, through the SDK's paginator),
    /// passing each row to `row`.
    async fn query_namespace(
        &self,
        ns: &str,
        keys_only: bool,
        row: &mut (dyn FnMut(HashMap<String, AttributeValue>) -> anyhow::Result<()> + Send),
    ) -> anyhow::Result<()> {
        let mut q = self.namespace_query(ns);
        if keys_only {
            q = q.projection_expression("#namespace, #key").expression_attribute_names("#key", ATTR_KEY);
        }
        let mut rows = q.into_paginator().items().send();
        while let Some(r) = rows.next().await {
            row(r.map_err(|e| self.err(e, "Query"))?)?;
        }
        Ok(())
    }

    async fn existing_keys(&self, ns: &str) -> Result<HashSet<String>, StoreError> {
        let mut keys = HashSet::new();
        self.query_namespace(ns, true, &mut |r| {
            if let Some(AttributeValue::S(k)) = r.get(ATTR_KEY) {
                keys.insert(k.clone());
            }
            Ok(())
        })
        .await
        .map_err(into_store_error)?;
        Ok(keys)
    }

    fn put_request(ns: &str, item: &Item) -> Result<WriteRequest, StoreError> {
        let put = PutRequest::builder()
            .set_item(Some(Self::item_map(ns, item)))
            .build()
            .map_err(|e| StoreError::Other(e.to_string()))?;
        Ok(WriteRequest::builder().put_request(put).build())
    }

    fn delete_request(ns: &str, key: &str) -> Result<WriteRequest, StoreError> {
        let del = DeleteRequest::builder()
            .set_key(Some(Self::key_map(ns, key)))
            .build()
            .map_err(|e| StoreError::Other(e.to_string()))?;
        Ok(WriteRequest::builder().delete_request(del).build())
    }

    /// One `BatchWriteItem` of at most 25 requests, resending `UnprocessedItems` with backoff
    /// until none are left.
    async fn write_batch(&self, mut requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        let mut backoff = BACKOFF_START;
        let mut stalled = 0u32;
        loop {
            let before = requests.len();
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await
                .map_err(|e| self.err(e, "BatchWriteItem"))?;
            let left = out.unprocessed_items.and_then(|mut m| m.remove(&self.table)).unwrap_or_default();
            if left.is_empty() {
                return Ok(());
            }
            if left.len() < before {
                stalled = 0;
            } else {
                stalled += 1;
                if stalled >= UNPROCESSED_ATTEMPTS {
                    return Err(StoreError::Command {
                        store: BACKEND,
                        during: "BatchWriteItem".into(),
                        reason: format!(
                            "DynamoDB left {} writes unprocessed {stalled} times in a row (throttled); raise the table's write capacity or use on-demand billing",
                            left.len()
                        ),
                    });
                }
            }
            tracing::debug!("{} unprocessed writes; resending after {backoff:?}", left.len());
            let jitter = rand::random_range(0..=backoff.as_millis() as u64 / 2);
            tokio::time::sleep(backoff + Duration::from_millis(jitter)).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
            requests = left;
        }
    }

    /// Send a request for each of `items` in batches of 25, several batches in flight, counting the
    /// requests done in `done`. Before each batch is sent `guard` is asked whether to go on: a halt
    /// (signal, lost lease) lets the batches in flight finish (none is ever abandoned half-sent),
    /// then stops. The first failed batch stops at once. Each batch's requests are built only as
    /// the batch is sent, so the first batches go out at once and no copy of every item is held.
    async fn write_all<T: Sync>(
        &self,
        items: &[T],
        request: impl Fn(&T) -> Result<WriteRequest, StoreError> + Sync,
        progress: &dyn Progress,
        guard: &Guard,
        tally: &Tally,
        done: &AtomicUsize,
    ) -> Result<(), Stop> {
        let request = &request;
        let mut batches = items.chunks(BATCH_SIZE);
        let mut in_flight = FuturesUnordered::new();
        let mut halt = None;
        loop {
            while halt.is_none() && in_flight.len() < self.in_flight {
                let Some(batch) = batches.next() else { break };
                if let Err(h) = guard.check() {
                    halt = Some(h);
                    break;
                }
                tally.sent.store(true, Ordering::SeqCst);
                in_flight.push(async move {
                    let requests = batch.iter().map(request).collect::<Result<Vec<_>, _>>()?;
                    self.write_batch(requests).await.map(|_| batch.len())
                });
            }
            match in_flight.next().await {
                None => break,
                Some(Ok(n)) => {
                    done.fetch_add(n, Ordering::SeqCst);
                    progress.advance(n as u64);
                }
                Some(Err(e)) => return Err(Stop::Failed(e)),
            }
        }
        match halt {
            Some(h) => Err(Stop::Halt(h)),
            None => Ok(()),
        }
    }

    /// The last write of an init, atomic: the `$inited` marker, and the deletion of this init's
    /// sync lease provided it still holds it (else nothing is written: [`StoreError::LeaseLost`]).
    async fn finish_init(&self, prefix: &str, held: &Stored) -> Result<(), StoreError> {
        let built = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Other(e.to_string());
        let m = namespace(prefix, "$inited");
        let l = namespace(prefix, lease::NAME);
        let put =
            Put::builder().table_name(&self.table).set_item(Some(Self::key_map(&m, &m))).build().map_err(built)?;
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key_map(&l, &l)))
            .condition_expression("#lease = :lease")
            .expression_attribute_names("#lease", ATTR_LEASE)
            .expression_attribute_values(":lease", AttributeValue::S(held.raw.clone().unwrap_or_default()))
            .build()
            .map_err(built)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().delete(delete).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
                if let Some(TransactWriteItemsError::TransactionCanceledException(t)) = e.as_service_error()
                    && t.cancellation_reasons().iter().any(|r| r.code() == Some("ConditionalCheckFailed"))
                {
                    let by = match self.read_lease(prefix).await {
                        Ok(Some(s)) => format!("taken over by {}", s.record.describe()),
                        _ => "deleted or changed by someone else".to_string(),
                    };
                    return Err(StoreError::LeaseLost {
                        store: BACKEND,
                        prefix: prefix.to_string(),
                        reason: format!(
                            "{by} before the $inited marker was written; the prefix holds all of this sync's data, mixed with what the other writer wrote"
                        ),
                    });
                }
                Err(self.err(e, "TransactWriteItems ($inited marker and sync lease)"))
            }
        }
    }

    /// The writes of an init, under `guard` (see [`Store::init`]).
    async fn init_writes(
        &self,
        prefix: &str,
        data: &DataSet,
        progress: &dyn Progress,
        guard: &Guard,
        tally: &Tally,
    ) -> Result<InitReport, Stop> {
        let mut report = InitReport::default();
        progress.message("reading existing keys");
        let namespaces = Kind::INIT_ORDER.map(|kind| namespace(prefix, kind.namespace()));
        let old: Vec<HashSet<String>> =
            futures::future::try_join_all(namespaces.iter().map(|ns| self.existing_keys(ns))).await?;
        // Per kind, the stored keys the new data no longer has, sorted.
        let stale: Vec<Vec<&String>> = Kind::INIT_ORDER
            .iter()
            .zip(&old)
            .map(|(kind, keys)| {
                let mut keys: Vec<&String> = keys.iter().filter(|k| !data.items(*kind).contains_key(*k)).collect();
                keys.sort();
                keys
            })
            .collect();
        let fits = |ns: &str, item: &Item| estimated_size(ns, &item.key, item.version, &item.json) <= ITEM_SIZE_LIMIT;
        let items_total: usize = Kind::INIT_ORDER
            .iter()
            .zip(&namespaces)
            .map(|(kind, ns)| data.items(*kind).values().filter(|i| fits(ns, i)).count())
            .sum();
        let stale_total = stale.iter().map(Vec::len).sum::<usize>();
        tally.items_total.store(items_total, Ordering::SeqCst);
        tally.stale_total.store(stale_total, Ordering::SeqCst);
        progress.set_total((data.len() + stale_total) as u64);
        progress.message("writing");
        // Segments before flags (each kind fully written before the next starts), prerequisites
        // before dependants within flags.
        for (kind, ns) in Kind::INIT_ORDER.into_iter().zip(&namespaces) {
            // Level by level (prerequisites in an earlier level), each level in parallel batches.
            for level in data.write_levels(kind) {
                let mut puts = Vec::with_capacity(level.len());
                for item in level {
                    if !fits(ns, item) {
                        report.skipped.push(SkippedItem {
                            kind,
                            key: item.key.clone(),
                            reason: too_large_message(ns, &item.key),
                        });
                        progress.advance(1);
                        continue;
                    }
                    report.items_written += 1;
                    report.bytes_written += item.json.len();
                    puts.push(item);
                }
                self.write_all(&puts, |item| Self::put_request(ns, item), progress, guard, tally, &tally.items).await?;
            }
        }
        // Then remove keys the new data no longer has. A key whose new item was too large keeps its
        // old stored version: nothing stored is lost because of a skipped item.
        let deletes: Vec<(&String, &String)> =
            namespaces.iter().zip(&stale).flat_map(|(ns, keys)| keys.iter().map(move |key| (ns, *key))).collect();
        self.write_all(
            &deletes,
            |(ns, key)| Self::delete_request(ns, key),
            progress,
            guard,
            tally,
            &tally.stale_removed,
        )
        .await?;
        Ok(report)
    }

    async fn get_row(&self, ns: &str, key: &str) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(true)
            .set_key(Some(Self::key_map(ns, key)))
            .send()
            .await
            .map_err(|e| self.err(e, "GetItem"))?;
        Ok(out.item)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// Back from the visitor-shaped `anyhow` result of [`DynamoStore::query_namespace`] to the
/// store's typed error.
fn into_store_error(e: anyhow::Error) -> StoreError {
    match e.downcast::<StoreError>() {
        Ok(s) => s,
        Err(e) => StoreError::Other(e.to_string()),
    }
}

fn row_string(row: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    match row.get(name) {
        Some(AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    }
}

/// The item a row of a kind's namespace holds (`None` for a row without a string `key`, which is
/// not an item; a missing or wrong-typed `item` reads as empty text, an unusable item).
pub(crate) fn row_entry(kind: Kind, row: &HashMap<String, AttributeValue>) -> Option<Entry> {
    let key = row_string(row, ATTR_KEY)?;
    let json = row_string(row, ATTR_ITEM).unwrap_or_default();
    Some(entry(kind, &key, json))
}

pub(crate) fn row_version(row: &HashMap<String, AttributeValue>) -> Option<u64> {
    match row.get(ATTR_VERSION) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

/// The LaunchDarkly prefix a namespace belongs to, if it is one of ours.
pub fn prefix_of_namespace(ns: &str) -> Option<String> {
    for name in ["features", "segments", "$inited", "big_segments_metadata", lease::NAME] {
        if ns == name {
            return Some(String::new());
        }
        if let Some(p) = ns.strip_suffix(name).and_then(|p| p.strip_suffix(':'))
            && !p.is_empty()
        {
            return Some(p.to_string());
        }
    }
    None
}

#[async_trait]
impl Store for DynamoStore {
    fn backend(&self) -> Backend {
        Backend::DynamoDb
    }

    fn effective_prefix(&self, requested: Option<&str>) -> String {
        requested.unwrap_or("").to_string()
    }

    async fn read_all(&self, prefix: &str, kind: Kind, visit: &mut Visitor<'_>) -> anyhow::Result<()> {
        let ns = namespace(prefix, kind.namespace());
        self.query_namespace(&ns, false, &mut |row| match row_entry(kind, &row) {
            Some(e) => visit(e),
            None => Ok(()),
        })
        .await
    }

    async fn get(&self, prefix: &str, kind: Kind, key: &str) -> Result<Option<Item>, StoreError> {
        let ns = namespace(prefix, kind.namespace());
        match self.get_row(&ns, key).await? {
            None => Ok(None),
            Some(row) => {
                let json = row_string(&row, ATTR_ITEM).unwrap_or_default();
                entry(kind, key, json).map(Some).map_err(|b| StoreError::BadItem(b.error, BACKEND))
            }
        }
    }

    async fn is_initialized(&self, prefix: &str) -> Result<bool, StoreError> {
        let m = namespace(prefix, "$inited");
        Ok(self.get_row(&m, &m).await?.is_some())
    }

    async fn has_items(&self, prefix: &str, kind: Kind) -> Result<bool, StoreError> {
        // One row is enough: a Query with no filter returns it when there is one.
        let out = self
            .namespace_query(&namespace(prefix, kind.namespace()))
            .projection_expression("#namespace")
            .limit(1)
            .send()
            .await
            .map_err(|e| self.err(e, "Query"))?;
        Ok(out.items.is_some_and(|i| !i.is_empty()))
    }

    async fn init(
        &self,
        prefix: &str,
        data: &DataSet,
        progress: &dyn Progress,
        shutdown: &Shutdown,
    ) -> Result<InitReport, StoreError> {
        if let Some(sig) = shutdown.signal() {
            return Err(lease::stopped_before_writing(BACKEND, prefix, lease::Halt::Signal(sig)));
        }
        progress.message("taking the sync lease");
        let taken_at = Instant::now();
        let held = lease::acquire(self, prefix).await?;
        let guard = Guard::new(shutdown, held, taken_at);
        let tally = Tally::default();
        let outcome =
            lease::while_renewing(self, prefix, &guard, self.init_writes(prefix, data, progress, &guard, &tally)).await;
        let report = lease::conclude(self, prefix, &guard, &tally, "the batches in flight", outcome).await?;
        // The marker strictly last, only after every other write has succeeded, together with the
        // end of the lease.
        progress.message("writing the $inited marker");
        self.finish_init(prefix, &guard.held()).await?;
        Ok(report)
    }

    fn big_segments(&self) -> Option<&dyn super::big_segments::BigSegmentStore> {
        Some(self)
    }

    /// The items' conditional writes sent together, up to `in_flight` at a time, not one round trip
    /// after another: a relay's queued patches through a DynamoDB 20 ms away took 20 ms each
    /// (relay::patches_queued_behind_a_slow_dynamodb_are_written_concurrently). Not a
    /// `TransactWriteItems`: one stale item would cancel all of them.
    async fn upsert_many(&self, prefix: &str, kind: Kind, items: &[Item]) -> Result<Vec<Upserted>, StoreError> {
        super::upserts_in_flight(self, prefix, kind, items, self.in_flight).await
    }

    async fn upsert(&self, prefix: &str, kind: Kind, item: &Item) -> Result<Upserted, StoreError> {
        let ns = namespace(prefix, kind.namespace());
        if estimated_size(&ns, &item.key, item.version, &item.json) > ITEM_SIZE_LIMIT {
            return Err(StoreError::Command {
                store: BACKEND,
                during: "PutItem".into(),
                reason: too_large_message(&ns, &item.key),
            });
        }
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::item_map(&ns, item)))
            .condition_expression(
                "attribute_not_exists(#namespace) or attribute_not_exists(#key) or :version > #version",
            )
            .expression_attribute_names("#namespace", ATTR_NAMESPACE)
            .expression_attribute_names("#key", ATTR_KEY)
            .expression_attribute_names("#version", ATTR_VERSION)
            .expression_attribute_values(":version", AttributeValue::N(item.version.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Upserted::Applied),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                let stored_version = self.get_row(&ns, &item.key).await?.as_ref().and_then(row_version).unwrap_or(0);
                Ok(Upserted::Stale { stored_version })
            }
            Err(e) => Err(self.err(e, "PutItem")),
        }
    }
}

#[async_trait]
impl Admin for DynamoStore {
    fn address(&self) -> String {
        if self.location.starts_with("AWS region ") {
            format!("table \"{}\" in {}", self.table, self.location)
        } else {
            format!("table \"{}\" at {}", self.table, self.location)
        }
    }

    fn keys(&self, prefix: &str) -> Vec<KeyInfo> {
        vec![
            KeyInfo { role: "flags (namespace)".into(), key: namespace(prefix, "features") },
            KeyInfo { role: "segments (namespace)".into(), key: namespace(prefix, "segments") },
            KeyInfo { role: "initialized marker (namespace = key)".into(), key: namespace(prefix, "$inited") },
            KeyInfo {
                role: "Big Segments metadata (namespace = key)".into(),
                key: namespace(prefix, "big_segments_metadata"),
            },
            KeyInfo {
                role: "ldstore sync lease (namespace = key; only while a sync runs, or after one was interrupted)"
                    .into(),
                key: namespace(prefix, lease::NAME),
            },
        ]
    }

    fn item_size_limit(&self) -> Option<usize> {
        Some(ITEM_SIZE_LIMIT)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // A keys-only read of the marker needs only the permissions the SDKs need.
        self.get_row(&namespace("", "$inited"), "$inited").await.map(|_| ())
    }

    async fn list_prefixes(&self) -> Result<Vec<String>, StoreError> {
        let mut out = BTreeSet::new();
        let mut rows = self
            .client
            .scan()
            .table_name(&self.table)
            .projection_expression("#namespace")
            .expression_attribute_names("#namespace", ATTR_NAMESPACE)
            .select(Select::SpecificAttributes)
            .into_paginator()
            .items()
            .send();
        while let Some(row) = rows.next().await {
            let row = row.map_err(|e| self.err(e, "Scan"))?;
            if let Some(p) = row_string(&row, ATTR_NAMESPACE).and_then(|ns| prefix_of_namespace(&ns)) {
                out.insert(p);
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Rows of the prefix's namespaces (`<p>:…`, or those without `:` for no prefix) that are not
    /// LaunchDarkly data: anything but items, the marker, the Big Segments rows and ldstore's sync
    /// lease. One Scan.
    async fn unknown_keys(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        const KNOWN: [&str; 6] =
            ["features", "segments", "$inited", "big_segments_metadata", "big_segments_user", lease::NAME];
        let mut out = BTreeSet::new();
        let mut scan = self
            .client
            .scan()
            .table_name(&self.table)
            .consistent_read(true)
            .projection_expression("#namespace, #key")
            .expression_attribute_names("#namespace", ATTR_NAMESPACE)
            .expression_attribute_names("#key", ATTR_KEY);
        if !prefix.is_empty() {
            scan = scan
                .filter_expression("begins_with(#namespace, :p)")
                .expression_attribute_values(":p", AttributeValue::S(format!("{prefix}:")));
        }
        let mut rows = scan.into_paginator().items().send();
        while let Some(row) = rows.next().await {
            let row = row.map_err(|e| self.err(e, "Scan"))?;
            let ns = row_string(&row, ATTR_NAMESPACE).unwrap_or_default();
            let rest = if prefix.is_empty() {
                if ns.contains(':') {
                    continue;
                }
                ns.as_str()
            } else {
                ns.strip_prefix(prefix).and_then(|r| r.strip_prefix(':')).unwrap_or(&ns)
            };
            // A longer prefix's data (`<p>:sub:features`) belongs to that prefix.
            let nested = prefix_of_namespace(&ns).is_some_and(|other| other != prefix);
            if !KNOWN.contains(&rest) && !nested {
                out.insert(format!("{ns} / {}", row_string(&row, ATTR_KEY).unwrap_or_default()));
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Rows whose `version` attribute (what the SDKs' conditional writes compare) disagrees with the
    /// `version` inside the item's JSON, or is missing or not a number.
    async fn version_mismatches(&self, prefix: &str) -> Result<Vec<VersionMismatch>, StoreError> {
        let mut out = Vec::new();
        for kind in Kind::ALL {
            let ns = namespace(prefix, kind.namespace());
            self.query_namespace(&ns, false, &mut |row| {
                let Some(key) = row_string(&row, ATTR_KEY) else { return Ok(()) };
                let json = row_string(&row, ATTR_ITEM).unwrap_or_default();
                // Items whose JSON has no usable version are reported by the JSON checks instead.
                let Some(json_version) = crate::data::facts(kind, &key, &json).ok().and_then(|f| f.version) else {
                    return Ok(());
                };
                let attribute = match row.get(ATTR_VERSION) {
                    Some(AttributeValue::N(n)) if n.parse::<u64>().ok() == Some(json_version) => return Ok(()),
                    Some(AttributeValue::N(n)) => n.clone(),
                    Some(AttributeValue::S(s)) => format!("\"{s}\" (a string)"),
                    Some(other) => format!("{other:?}"),
                    None => "(missing)".to_string(),
                };
                out.push(VersionMismatch { kind, key, attribute, json_version });
                Ok(())
            })
            .await
            .map_err(into_store_error)?;
        }
        Ok(out)
    }

    async fn sync_lease(&self, prefix: &str) -> Result<Option<LeaseRecord>, StoreError> {
        Ok(self.read_lease(prefix).await?.map(|s| s.record))
    }
}

#[async_trait]
impl LeaseStore for DynamoStore {
    fn lease_backend(&self) -> &'static str {
        BACKEND
    }

    fn lease_key(&self, prefix: &str) -> String {
        format!("item {}", namespace(prefix, lease::NAME))
    }

    async fn read_lease(&self, prefix: &str) -> Result<Option<Stored>, StoreError> {
        let l = namespace(prefix, lease::NAME);
        Ok(self.get_row(&l, &l).await?.map(|row| {
            let raw = row_string(&row, ATTR_LEASE);
            Stored { record: LeaseRecord::parse(raw.as_deref().unwrap_or("")), raw, index: 0 }
        }))
    }

    async fn swap_lease(
        &self,
        prefix: &str,
        old: Option<&Stored>,
        new: &LeaseRecord,
    ) -> Result<Option<Stored>, StoreError> {
        let l = namespace(prefix, lease::NAME);
        let json = new.to_json();
        let mut item = Self::key_map(&l, &l);
        item.insert(ATTR_LEASE.to_string(), AttributeValue::S(json.clone()));
        let mut put = self.client.put_item().table_name(&self.table).set_item(Some(item));
        put = match old {
            None => put
                .condition_expression("attribute_not_exists(#namespace)")
                .expression_attribute_names("#namespace", ATTR_NAMESPACE),
            Some(Stored { raw: Some(raw), .. }) => put
                .condition_expression("#lease = :old")
                .expression_attribute_names("#lease", ATTR_LEASE)
                .expression_attribute_values(":old", AttributeValue::S(raw.clone())),
            Some(Stored { raw: None, .. }) => put
                .condition_expression("attribute_exists(#namespace) and attribute_not_exists(#lease)")
                .expression_attribute_names("#namespace", ATTR_NAMESPACE)
                .expression_attribute_names("#lease", ATTR_LEASE),
        };
        match put.send().await {
            Ok(_) => Ok(Some(Stored { record: new.clone(), raw: Some(json), index: 0 })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(None),
            Err(e) => Err(self.err(e, "PutItem (sync lease)")),
        }
    }

    async fn drop_lease(&self, prefix: &str, held: &Stored) -> Result<bool, StoreError> {
        let l = namespace(prefix, lease::NAME);
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key_map(&l, &l)))
            .condition_expression("#lease = :held")
            .expression_attribute_names("#lease", ATTR_LEASE)
            .expression_attribute_values(":held", AttributeValue::S(held.raw.clone().unwrap_or_default()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(self.err(e, "DeleteItem (sync lease)")),
        }
    }
}

pub async fn open(cfg: &DynamoDbConfig) -> Result<Box<dyn Admin>, StoreError> {
    Ok(Box::new(DynamoStore::connect(cfg).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_keys_dynamodb_cannot_hold() {
        assert_eq!(prefix_problem(""), None);
        assert_eq!(prefix_problem(&"p".repeat(1002)), None);
        assert!(prefix_problem(&"p".repeat(1003)).unwrap().starts_with("it has 1003 bytes, and at most 1002 fit"));
        assert!(prefix_problem(&"é".repeat(502)).is_some(), "bytes count, not characters");
        assert_eq!(key_problem("a"), None);
        assert_eq!(key_problem(&"k".repeat(1024)), None);
        assert!(key_problem("").unwrap().contains("cannot be empty strings"));
        assert!(key_problem(&"k".repeat(1025)).unwrap().contains("1025 bytes"));
        assert!(key_problem(&format!("{}a", "é".repeat(512))).is_some());
    }

    #[test]
    fn namespaces_and_prefixes() {
        assert_eq!(namespace("", "features"), "features");
        assert_eq!(namespace("p", "$inited"), "p:$inited");
        assert_eq!(prefix_of_namespace("features"), Some(String::new()));
        assert_eq!(prefix_of_namespace("prod:segments"), Some("prod".into()));
        assert_eq!(prefix_of_namespace("a:b:$inited"), Some("a:b".into()));
        assert_eq!(prefix_of_namespace("prod:big_segments_user"), None);
        assert_eq!(prefix_of_namespace("xfeatures"), None);
        assert_eq!(prefix_of_namespace(":features"), None);
        // The sync lease belongs to its prefix, and is never a prefix of its own.
        assert_eq!(prefix_of_namespace("prod:ldstore_sync"), Some("prod".into()));
        assert_eq!(prefix_of_namespace("ldstore_sync"), Some(String::new()));
    }

    #[test]
    fn size_estimate_matches_the_sdks() {
        // 100 + "namespace"+"p:features" + "key"+"k" + "version"+"12" + "item"+"{}"
        assert_eq!(estimated_size("p:features", "k", 12, "{}"), 100 + 9 + 10 + 3 + 1 + 7 + 2 + 4 + 2);
    }
}
