//! Consul backend (see issue: Consul backend). Not implemented yet.

use super::{Store, StoreError};
use crate::config::ConsulConfig;

pub async fn open(_cfg: &ConsulConfig) -> Result<Box<dyn Store>, StoreError> {
    Err(StoreError::Other("the Consul backend is not implemented yet".into()))
}
