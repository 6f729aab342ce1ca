//! Redis backend tests (against the real redis-server started by scripts/test).
