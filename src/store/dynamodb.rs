//! DynamoDB backend (see issue: DynamoDB backend). Not implemented yet.

use super::{Store, StoreError};
use crate::config::DynamoDbConfig;

pub async fn open(_cfg: &DynamoDbConfig) -> Result<Box<dyn Store>, StoreError> {
    Err(StoreError::Other("the DynamoDB backend is not implemented yet".into()))
}
