//! The settings layer: everything resolved before a command runs. Command-line flags (`cli`), the
//! Relay Proxy's environment variables (read only through [`vars`]) and its configuration file
//! ([`relay_conf`]) become plain values the commands, sources and stores consume.
//!
//! - [`store`]: which store and prefix (`--redis`/`USE_REDIS`/`[Redis]` …);
//! - [`vars`]: the process environment, and the one boolean parser for switches;
//! - [`relay_conf`]: the Relay Proxy configuration file reader.

pub mod relay_conf;
pub mod store;
pub mod vars;

pub use store::*;
pub use vars::{Env, ProcessEnv};
