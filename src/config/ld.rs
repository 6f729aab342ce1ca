//! LaunchDarkly settings: SDK key, endpoints, payload filter and timeout, from flags, the
//! environment (`LD_SDK_KEY`, `BASE_URI`, `STREAM_URI`) and a Relay config's `[Main]`.

use std::time::Duration;

use anyhow::Result;

use super::relay_conf::RelayConfig;
use super::vars::Env;
use crate::cli::LdArgs;
use crate::exit::UsageError;
use crate::secrets;

pub const DEFAULT_BASE_URI: &str = "https://sdk.launchdarkly.com";
pub const DEFAULT_STREAM_URI: &str = "https://stream.launchdarkly.com";

/// Everything needed to talk to LaunchDarkly (or a Relay Proxy / test server) for one environment.
#[derive(Debug, Clone, PartialEq)]
pub struct LdConfig {
    pub sdk_key: String,
    pub base_uri: String,
    pub stream_uri: String,
    pub filter: Option<String>,
    /// How long to keep retrying recoverable failures.
    pub timeout: Duration,
}

impl LdConfig {
    /// This configuration with an SDK key (registered as a secret).
    pub fn with_key(mut self, sdk_key: String) -> LdConfig {
        secrets::register(&sdk_key);
        self.sdk_key = sdk_key;
        self
    }

    /// `{base}{path}` plus `?filter=` when a payload filter is set.
    pub fn url(&self, base: &str, path: &str) -> Result<url::Url> {
        let mut u = url::Url::parse(&format!("{base}{path}"))
            .map_err(|e| UsageError::new(format!("invalid LaunchDarkly URI \"{}\": {e}", secrets::redact_url(base))))?;
        if let Some(f) = &self.filter {
            u.query_pairs_mut().append_pair("filter", f);
        }
        Ok(u)
    }

    /// The key as it may be shown: `sdk-…ab12`.
    pub fn masked_key(&self) -> String {
        secrets::masked(&self.sdk_key)
    }
}

impl LdConfig {
    /// Resolve endpoints (flag > env `BASE_URI`/`STREAM_URI` > Relay `[Main]` > LaunchDarkly's)
    /// and the SDK key (`--sdk-key` > `LD_SDK_KEY`). The key is registered as a secret.
    pub fn resolve(ld: &LdArgs, env: &dyn Env, relay: Option<&RelayConfig>) -> Result<LdConfig> {
        let sdk_key = ld.sdk_key.clone().or_else(|| env.var("LD_SDK_KEY")).ok_or_else(|| {
            UsageError::new("no SDK key given for LaunchDarkly").hint("use --sdk-key sdk-… or set LD_SDK_KEY")
        })?;
        Ok(Self::endpoints(ld, env, relay).with_key(sdk_key))
    }

    /// Endpoints, filter and timeout without a key (for many environments, each with its own).
    pub fn endpoints(ld: &LdArgs, env: &dyn Env, relay: Option<&RelayConfig>) -> LdConfig {
        let base_uri = ld
            .base_uri
            .clone()
            .or_else(|| env.var("BASE_URI"))
            .or_else(|| relay.and_then(|r| r.base_uri.clone()))
            .unwrap_or_else(|| DEFAULT_BASE_URI.into());
        let stream_uri = ld
            .stream_uri
            .clone()
            .or_else(|| env.var("STREAM_URI"))
            .or_else(|| relay.and_then(|r| r.stream_uri.clone()))
            .unwrap_or_else(|| DEFAULT_STREAM_URI.into());
        // A password in either URI (`http://user:password@relay`) is never printed.
        secrets::register_url(&base_uri);
        secrets::register_url(&stream_uri);
        LdConfig {
            sdk_key: String::new(),
            base_uri: base_uri.trim_end_matches('/').to_string(),
            stream_uri: stream_uri.trim_end_matches('/').to_string(),
            filter: ld.filter.clone().filter(|f| !f.is_empty()),
            timeout: ld.timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_resolve_in_order() {
        let ld = LdArgs { timeout: Duration::from_secs(30), filter: Some("mobile".into()), ..Default::default() };
        let relay = RelayConfig { base_uri: Some("http://relay:8030/".into()), ..Default::default() };
        let env = |k: &str| (k == "STREAM_URI").then(|| "http://env-stream".to_string());
        let c = LdConfig::endpoints(&ld, &env, Some(&relay));
        assert_eq!(c.base_uri, "http://relay:8030");
        assert_eq!(c.stream_uri, "http://env-stream");
        assert_eq!(
            c.url(&c.base_uri, "/sdk/latest-all").unwrap().as_str(),
            "http://relay:8030/sdk/latest-all?filter=mobile"
        );
        let none = |_: &str| None;
        let c = LdConfig::endpoints(&LdArgs::default(), &none, None);
        assert_eq!((c.base_uri.as_str(), c.stream_uri.as_str()), (DEFAULT_BASE_URI, DEFAULT_STREAM_URI));
        assert!(LdConfig::resolve(&LdArgs::default(), &none, None).is_err());
    }
}
