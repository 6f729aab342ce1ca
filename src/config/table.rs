//! The `dynamodb` command's table settings.

use anyhow::Result;

use super::DynamoDbConfig;
use super::vars::Env;
use crate::cli::TableArgs;
use crate::exit::UsageError;

/// The table `dynamodb create-table`/`check-table` work on, and how to reach DynamoDB
/// (`--dynamodb-endpoint`, else `DYNAMODB_URL`).
pub fn table_config(t: &TableArgs, env: &dyn Env) -> Result<DynamoDbConfig> {
    if t.table.trim().is_empty() {
        return Err(UsageError::new("--table must not be empty").into());
    }
    let endpoint = t.dynamodb_endpoint.clone().or_else(|| env.var("DYNAMODB_URL"));
    if let Some(e) = &endpoint {
        crate::secrets::register_url(e);
        super::store::check_dynamodb_endpoint(e)?;
    }
    Ok(DynamoDbConfig {
        table: t.table.clone(),
        endpoint,
        region: t.region.clone(),
        timeout: t.store_timeout,
        in_flight: super::vars::dynamodb_in_flight(env),
    })
}
