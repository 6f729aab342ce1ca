//! The one place ldstore reads the process environment. Everything else gets what it needs from
//! here, resolved (the settings in `config`), or through the injectable [`Env`] (tests pass a
//! closure).

use crate::exit::UsageError;

/// Reads environment variables; injectable for tests.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;

    /// Every variable whose name starts with `prefix` (`LD_ENV_<name>` …), empty values included.
    /// Only the process environment lists its variables; an injected one has none.
    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        let _ = prefix;
        Vec::new()
    }

    /// A switch such as `USE_REDIS` or `REDIS_TLS`: unset or empty is `false` (the Relay Proxy's
    /// rule: an empty variable is not set); otherwise [`parse_bool`] decides.
    fn switch(&self, name: &str) -> Result<bool, UsageError> {
        match self.var(name).filter(|v| !v.is_empty()) {
            Some(v) => parse_bool(name, &v),
            None => Ok(false),
        }
    }
}

/// The one boolean parser for switches: exactly what the Relay Proxy accepts (Go's
/// `strconv.ParseBool`): `1 t T TRUE true True` and `0 f F FALSE false False`. Anything else is a
/// usage error (exit 2) naming the variable and the value.
pub fn parse_bool(name: &str, value: &str) -> Result<bool, UsageError> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(UsageError::new(format!("invalid boolean {name}={value}"))
            .hint("use true or false (also accepted: 1, t, T, TRUE, True, 0, f, F, FALSE, False)")),
    }
}

/// The process environment (empty values count as unset).
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        std::env::vars().filter(|(k, _)| k.starts_with(prefix)).collect()
    }
}

impl<F: Fn(&str) -> Option<String>> Env for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// A process variable as it is, an empty value included (ldstore's own knobs: `LDSTORE_LOG`,
/// `LDSTORE_TEST_LEASE_MS`, `HOSTNAME`).
pub fn process_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The DynamoDB write requests a store keeps in flight: the measured default
/// ([`crate::store::dynamodb::BATCHES_IN_FLIGHT`]), or `LDSTORE_BENCH_DYNAMODB_IN_FLIGHT`
/// (undocumented, for the benchmarks only); anything but a whole number from 1 to 1,024 is ignored.
pub fn dynamodb_in_flight(env: &dyn Env) -> usize {
    env.var("LDSTORE_BENCH_DYNAMODB_IN_FLIGHT")
        .and_then(|v| v.parse().ok())
        .filter(|n| (1..=1024).contains(n))
        .unwrap_or(crate::store::dynamodb::BATCHES_IN_FLIGHT)
}

/// `LDSTORE_DEBUG_PANIC` is set (to anything): the test hook for the crash path.
pub fn debug_panic() -> bool {
    std::env::var_os("LDSTORE_DEBUG_PANIC").is_some()
}

/// `RUST_BACKTRACE` is set and not `0`: a panic prints its backtrace.
pub fn backtrace_wanted() -> bool {
    std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0")
}
