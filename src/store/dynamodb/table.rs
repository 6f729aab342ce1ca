//! DynamoDB table administration for `ldstore dynamodb create-table` and `check-table`: creating
//! a table with the key schema LaunchDarkly needs, describing it, and checking its key schema. The
//! SDKs never create the table; nothing else in the store layer needs these.

use aws_sdk_dynamodb::types::TableDescription;

use super::{ATTR_KEY, ATTR_NAMESPACE, DynamoStore};
use crate::store::StoreError;

/// What `create-table` asks for besides the key schema.
#[derive(Debug, Clone, Default)]
pub struct NewTable {
    /// Provisioned (read, write) capacity; `None` = on-demand.
    pub provisioned: Option<(i64, i64)>,
    pub tags: Vec<(String, String)>,
}

/// The facts `check-table` shows about a table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableFacts {
    pub table: String,
    pub schema_ok: bool,
    /// What is wrong with the key schema, when it is wrong.
    pub schema_problem: Option<String>,
    pub status: String,
    pub billing_mode: String,
    pub read_capacity: Option<i64>,
    pub write_capacity: Option<i64>,
    /// DynamoDB's item count and size (refreshed by AWS about every six hours).
    pub item_count: Option<i64>,
    pub size_bytes: Option<i64>,
}

impl TableFacts {
    pub fn of(t: &TableDescription) -> TableFacts {
        let problem = schema_problem(t);
        let pt = t.provisioned_throughput();
        let billing = t
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str().to_string())
            // A table created without a billing mode is provisioned.
            .unwrap_or_else(|| "PROVISIONED".into());
        let provisioned = billing == "PROVISIONED";
        TableFacts {
            table: t.table_name().unwrap_or("").to_string(),
            schema_ok: problem.is_none(),
            schema_problem: problem,
            status: t.table_status().map(|s| s.as_str().to_string()).unwrap_or_else(|| "UNKNOWN".into()),
            billing_mode: billing,
            read_capacity: pt.and_then(|p| p.read_capacity_units()).filter(|_| provisioned),
            write_capacity: pt.and_then(|p| p.write_capacity_units()).filter(|_| provisioned),
            item_count: t.item_count(),
            size_bytes: t.table_size_bytes(),
        }
    }
}

impl DynamoStore {
    /// `DescribeTable` (for the table commands).
    pub async fn describe(&self) -> Result<TableDescription, StoreError> {
        let out = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| self.err(e, "DescribeTable"))?;
        out.table
            .ok_or_else(|| StoreError::Other(format!("DynamoDB returned no description of table \"{}\"", self.table)))
    }

    /// `DescribeTable`, with `None` when the table does not exist.
    pub async fn describe_if_exists(&self) -> Result<Option<TableDescription>, StoreError> {
        match self.client.describe_table().table_name(&self.table).send().await {
            Ok(out) => Ok(out.table),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => Ok(None),
            Err(e) => Err(self.err(e, "DescribeTable")),
        }
    }

    /// `CreateTable` with the LaunchDarkly key schema. Returns false when the table already exists
    /// (created meanwhile by someone else).
    pub async fn create_table(&self, spec: &NewTable) -> Result<bool, StoreError> {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ProvisionedThroughput, ScalarAttributeType,
            Tag,
        };
        let built = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Other(e.to_string());
        let mut req = self
            .client
            .create_table()
            .table_name(&self.table)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(ATTR_NAMESPACE)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(built)?,
            )
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(ATTR_KEY)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(built)?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(ATTR_NAMESPACE)
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(built)?,
            )
            .key_schema(
                KeySchemaElement::builder().attribute_name(ATTR_KEY).key_type(KeyType::Range).build().map_err(built)?,
            );
        req = match spec.provisioned {
            None => req.billing_mode(BillingMode::PayPerRequest),
            Some((r, w)) => req.billing_mode(BillingMode::Provisioned).provisioned_throughput(
                ProvisionedThroughput::builder()
                    .read_capacity_units(r)
                    .write_capacity_units(w)
                    .build()
                    .map_err(built)?,
            ),
        };
        for (k, v) in &spec.tags {
            req = req.tags(Tag::builder().key(k).value(v).build().map_err(built)?);
        }
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => Ok(false),
            Err(e) => Err(self.err(e, "CreateTable")),
        }
    }
}

/// The key schema every LaunchDarkly table must have.
pub const REQUIRED_SCHEMA: &str = "partition key \"namespace\" (S, HASH) and sort key \"key\" (S, RANGE)";

/// What is wrong with a table's key schema, or `None` when it is right.
pub fn schema_problem(t: &TableDescription) -> Option<String> {
    use aws_sdk_dynamodb::types::KeyType;
    let attr_type = |name: &str| {
        t.attribute_definitions()
            .iter()
            .find(|a| a.attribute_name() == name)
            .map(|a| a.attribute_type().as_str().to_string())
            .unwrap_or_else(|| "?".into())
    };
    let hash = t.key_schema().iter().find(|k| *k.key_type() == KeyType::Hash);
    let range = t.key_schema().iter().find(|k| *k.key_type() == KeyType::Range);
    let actual = {
        let h = hash.map_or("no partition key".to_string(), |k| {
            format!("partition key \"{}\" ({})", k.attribute_name(), attr_type(k.attribute_name()))
        });
        let r = range.map_or("no sort key".to_string(), |k| {
            format!("sort key \"{}\" ({})", k.attribute_name(), attr_type(k.attribute_name()))
        });
        format!("{h} and {r}")
    };
    let ok = hash.is_some_and(|k| k.attribute_name() == ATTR_NAMESPACE)
        && range.is_some_and(|k| k.attribute_name() == ATTR_KEY)
        && attr_type(ATTR_NAMESPACE) == "S"
        && attr_type(ATTR_KEY) == "S";
    if ok {
        None
    } else {
        let name = t.table_name().unwrap_or("?");
        Some(format!("table \"{name}\" has {actual}; it must have {REQUIRED_SCHEMA}"))
    }
}
