//! LaunchDarkly polling: `GET {base}/sdk/latest-all` (optionally `?filter=`), with ETag support.

use std::sync::Mutex;

use anyhow::Result;
use async_trait::async_trait;

use super::ld::{self, Failure, LdConfig};
use super::{Source, SourceError, file};
use crate::data::DataSet;
use crate::secrets;

/// The polling endpoint as a source. Keeps the last ETag (and the data it named) so repeated
/// polls send `If-None-Match` and a `304` means "unchanged".
pub struct PollSource {
    pub cfg: LdConfig,
    last: Mutex<Option<(String, DataSet)>>,
}

/// What one poll found.
#[derive(Debug, Clone, PartialEq)]
pub enum Polled {
    /// New data (and its ETag, if the server sent one).
    Data(DataSet),
    /// `304 Not Modified`: the data set of the previous poll still holds.
    Unchanged,
}

impl PollSource {
    pub fn new(cfg: LdConfig) -> PollSource {
        PollSource { cfg, last: Mutex::new(None) }
    }

    fn name(&self) -> String {
        format!("LaunchDarkly polling {}", secrets::redact_url(&self.cfg.base_uri))
    }

    /// The ETag of the last successful poll.
    pub fn etag(&self) -> Option<String> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|(e, _)| e.clone())
    }

    /// Poll once (with retries for recoverable failures, bounded by the timeout).
    pub async fn poll(&self) -> Result<Polled> {
        let name = self.name();
        let url = self.cfg.url(&self.cfg.base_uri, "/sdk/latest-all")?;
        let etag = self.etag();
        ld::with_retries(self.cfg.timeout, &name, || {
            let url = url.clone();
            let etag = etag.clone();
            let name = name.clone();
            async move {
                let mut req = ld::request(&self.cfg, url).map_err(Failure::Fatal)?;
                if let Some(e) = &etag {
                    req = req.header(reqwest::header::IF_NONE_MATCH, e);
                }
                let resp = req.send().await.map_err(|e| ld::network_failure(&e))?;
                let status = resp.status().as_u16();
                if status == 304 && etag.is_some() {
                    return Ok(Polled::Unchanged);
                }
                if !resp.status().is_success() {
                    return Err(ld::classify_response(&resp, &name));
                }
                if let Some(env_id) = resp.headers().get("X-LD-EnvID").and_then(|v| v.to_str().ok()) {
                    tracing::debug!("{name}: environment {env_id}");
                }
                let new_etag =
                    resp.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(String::from);
                let body = ld::read_body(resp, &name).await?;
                let data = file::parse_payload_owned(body).map_err(|reason| {
                    Failure::Fatal(SourceError::Malformed { source_name: name.clone(), reason }.into())
                })?;
                let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
                *last = new_etag.map(|e| (e, data.clone()));
                Ok(Polled::Data(data))
            }
        })
        .await
    }
}

#[async_trait]
impl Source for PollSource {
    fn describe(&self) -> String {
        let filter = self.cfg.filter.as_deref().map(|f| format!(" filter {f}")).unwrap_or_default();
        format!("LaunchDarkly ({} via {}{filter})", self.cfg.masked_key(), secrets::redact_url(&self.cfg.base_uri))
    }

    async fn fetch(&self) -> Result<DataSet> {
        match self.poll().await? {
            Polled::Data(d) => Ok(d),
            Polled::Unchanged => {
                let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
                Ok(last.as_ref().map(|(_, d)| d.clone()).unwrap_or_default())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_never_hold_a_uri_password() {
        let cfg = LdConfig {
            sdk_key: String::new(),
            base_uri: "http://user:pw@relay:8030".into(),
            stream_uri: "http://user:pw@relay:8030".into(),
            filter: None,
            timeout: std::time::Duration::from_secs(30),
        };
        let poll = PollSource::new(cfg.clone().with_key("sdk-0000-1111".into()));
        assert_eq!(poll.name(), "LaunchDarkly polling http://user:****@relay:8030");
        assert!(poll.describe().contains("via http://user:****@relay:8030"), "{}", poll.describe());
        let stream = super::super::stream::StreamSource { cfg };
        assert!(stream.describe().contains("via stream http://user:****@relay:8030"), "{}", stream.describe());
    }
}
