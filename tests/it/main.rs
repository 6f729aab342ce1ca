//! Integration tests: the built `ldstore` binary run the way a user runs it, against real servers
//! started by `scripts/test` (their addresses arrive in LDSTORE_TEST_* environment variables) and
//! in-process test servers. A test that needs a service FAILS when the service is missing.

mod support;

mod bad_items;
mod big_segments;
mod big_segments_sync;
mod cli;
mod conformance;
mod consul;
mod defects;
mod diff_validate;
mod docs;
mod dynamodb;
mod empty_source;
mod faults_ld;
mod faults_store;
mod hygiene;
mod key_rules;
mod ld_sync;
mod output_files;
mod redis_cluster;
mod redis_failover;
mod redis_nodelay;
mod redis_store;
mod redis_streamed;
mod redis_tls_upsert;
mod relay;
mod secret_urls;
mod sync_lease;
