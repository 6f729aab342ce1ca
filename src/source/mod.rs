//! Data sources: where a full data set comes from (a file, a store, LaunchDarkly). One module per
//! source; one syntax (`--from`, and `diff`'s operands) parsed here.

pub mod big_segments;
pub mod file;
pub mod ld;
pub mod poll;
pub mod stream;

use async_trait::async_trait;

use crate::config::StoreConfig;
use crate::data::DataSet;
use crate::store;

/// Errors from data sources (exit code 4).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("LaunchDarkly rejected the SDK key ({status})")]
    Rejected { status: u16 },
    #[error("{source_name} returned HTTP {status}")]
    Http { source_name: String, status: u16 },
    #[error("cannot reach {source_name}: {reason}")]
    Unreachable { source_name: String, reason: String },
    #[error("gave up on {source_name} after {secs} s: {last_error}")]
    TimedOut { source_name: String, secs: u64, last_error: String },
    #[error("malformed data in {source_name}: {reason}")]
    Malformed { source_name: String, reason: String },
    /// A store prefix read as a source has neither its `$inited` marker nor flags: a typo, or data
    /// the reader may not see. `found`: the prefixes the store does list (None: listing failed).
    #[error("source {backend} prefix \"{prefix}\" {location} holds no LaunchDarkly data")]
    NoData { backend: &'static str, prefix: String, location: String, found: Option<Vec<String>> },
    /// A source with no items would replace a prefix that holds some (see [`refuse_to_empty`]).
    #[error(
        "the source ({source_name}) holds no flags or segments; refusing to empty {backend} prefix \"{prefix}\", which holds {holds}"
    )]
    Empty { source_name: String, backend: &'static str, prefix: String, holds: String },
    #[error("{source_name} holds {count} item{} the SDKs cannot parse (named above); nothing was written", if *.count == 1 { "" } else { "s" })]
    Unparseable { source_name: String, count: usize },
}

/// How many prefixes a "prefixes found there" hint names.
const PREFIXES_IN_HINT: usize = 20;

impl SourceError {
    pub fn hint(&self) -> Option<String> {
        match self {
            SourceError::Rejected { .. } => {
                Some("check the SDK key (--sdk-key or LD_SDK_KEY) and that it is a server-side key (sdk-…)".into())
            }
            SourceError::Malformed { .. } => Some("nothing was written; fix the data and run again".into()),
            SourceError::NoData { found: Some(found), prefix, .. } if found.contains(&format!("{{ld}}.{prefix}")) => {
                let tagged = format!("{{ld}}.{prefix}");
                crate::store::prefix_form_note(&tagged).map(|n| format!("prefix \"{tagged}\" holds data: {n}"))
            }
            SourceError::NoData { found: Some(found), .. } if !found.is_empty() => {
                let mut names = found.iter().take(PREFIXES_IN_HINT).cloned().collect::<Vec<_>>().join(", ");
                if found.len() > PREFIXES_IN_HINT {
                    names.push_str(&format!(" and {} more (ldstore inspect lists them all)", found.len() - PREFIXES_IN_HINT));
                }
                Some(format!("prefixes found there: {names}"))
            }
            SourceError::NoData { found: Some(_), backend: "Consul", .. } => Some(
                "no LaunchDarkly prefixes were found there; Consul lists nothing to an ACL token without read permission: give the source a token that may read the prefix (token= in its URL, CONSUL_TOKEN or CONSUL_HTTP_TOKEN)".into(),
            ),
            SourceError::NoData { found: Some(_), .. } => Some("no LaunchDarkly prefixes were found there".into()),
            SourceError::NoData { found: None, .. } => Some("check the prefix (?prefix=P in the source URL)".into()),
            SourceError::Empty { .. } => Some(ALLOW_EMPTY_HINT.into()),
            SourceError::Unparseable { .. } => {
                Some("fix them in the source, or write them as they are with --force".into())
            }
            _ => None,
        }
    }
}

/// Source errors exit 4.
impl crate::exit::Classified for SourceError {
    fn exit_code(&self) -> crate::exit::ExitCode {
        crate::exit::ExitCode::Source
    }
    fn hint(&self) -> Option<String> {
        SourceError::hint(self)
    }
}

/// "Give me the full data set".
#[async_trait]
pub trait Source: Send + Sync {
    /// A short description for messages (secrets masked).
    fn describe(&self) -> String;
    /// Fetch every flag and segment.
    async fn fetch(&self) -> anyhow::Result<DataSet>;
    /// Fetch for a sync that can write items while they are read: a JSON flag file, opened but not
    /// read (see [`file::feed`]), or else what [`Source::fetch`] gives.
    async fn fetch_feedable(&self) -> anyhow::Result<Fetched> {
        Ok(Fetched::Data(self.fetch().await?))
    }
}

/// What [`Source::fetch_feedable`] read.
pub enum Fetched {
    /// A JSON flag file, to feed or to load.
    File(file::JsonFile),
    Data(DataSet),
}

pub use crate::config::source_spec::{ResolvedSource, SourceSpec};

/// Build the source a resolved operand names.
pub fn open(spec: ResolvedSource) -> Box<dyn Source> {
    match spec {
        ResolvedSource::File(path) => Box::new(file::FileSource { path }),
        ResolvedSource::Store { store, prefix } => Box::new(StoreSource { store, prefix }),
        ResolvedSource::LaunchDarkly { cfg, stream: true } => Box::new(stream::StreamSource { cfg }),
        ResolvedSource::LaunchDarkly { cfg, stream: false } => Box::new(poll::PollSource::new(cfg)),
    }
}

/// A store read as a source.
pub struct StoreSource {
    pub store: StoreConfig,
    pub prefix: Option<String>,
}

#[async_trait]
impl Source for StoreSource {
    fn describe(&self) -> String {
        format!("{} prefix {}", self.store.backend(), self.prefix.as_deref().unwrap_or("(default)"))
    }

    async fn fetch(&self) -> anyhow::Result<DataSet> {
        let s = store::open(&self.store).await?;
        let prefix = s.effective_prefix(self.prefix.as_deref());
        // A prefix with no data is read as nothing at all: never take that for an empty data set.
        if !store::holds_ld_data(s.as_ref(), &prefix).await? {
            return Err(SourceError::NoData {
                backend: s.backend().as_str(),
                location: location(s.as_ref()),
                prefix,
                found: s.list_prefixes().await.ok(),
            }
            .into());
        }
        s.read_data_set(&prefix).await
    }
}

/// Where a store is, after its prefix in a message: `at redis://h:6379`, `in table "t" at …`.
fn location(s: &dyn store::Admin) -> String {
    let address = s.address();
    if address.starts_with("table ") { format!("in {address}") } else { format!("at {address}") }
}

/// The hint of a refusal to empty a prefix.
pub const ALLOW_EMPTY_HINT: &str = "pass --allow-empty to empty it on purpose";

/// The emptiness rule: a source with no flags and no segments (tombstones count as items) never
/// replaces a prefix that holds any item unless `allow_empty`. `Ok` when the write may go ahead;
/// else the refusal, with what the prefix holds. Costs one cheap existence check per kind when
/// the source is empty, nothing otherwise.
pub async fn refuse_to_empty(
    st: &dyn store::Store,
    prefix: &str,
    data: &DataSet,
    source_name: &str,
    allow_empty: bool,
) -> anyhow::Result<()> {
    if allow_empty || !data.is_empty() || !store::holds_items(st, prefix).await? {
        return Ok(());
    }
    let stats = store::item_stats(st, prefix).await?;
    Err(SourceError::Empty {
        source_name: source_name.to_string(),
        backend: st.backend().as_str(),
        prefix: prefix.to_string(),
        holds: holdings(&stats),
    }
    .into())
}

/// "37 flags and 6 segments", "1 tombstone", ...
fn holdings(s: &store::PrefixStats) -> String {
    let count = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = Vec::new();
    for (n, one, many) in [
        (s.flags, "flag", "flags"),
        (s.segments, "segment", "segments"),
        (s.tombstones, "tombstone", "tombstones"),
        (s.unreadable.len(), "unreadable item", "unreadable items"),
    ] {
        if n > 0 {
            parts.push(count(n, one, many));
        }
    }
    match parts.len() {
        0 => "items".into(),
        1 => parts.remove(0),
        n => format!("{} and {}", parts[..n - 1].join(", "), parts[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holdings_are_counted_in_words() {
        let stats =
            |flags, segments, tombstones| store::PrefixStats { flags, segments, tombstones, ..Default::default() };
        assert_eq!(holdings(&stats(37, 6, 0)), "37 flags and 6 segments");
        assert_eq!(holdings(&stats(1, 0, 0)), "1 flag");
        assert_eq!(holdings(&stats(0, 1, 3)), "1 segment and 3 tombstones");
        assert_eq!(holdings(&stats(2, 1, 1)), "2 flags, 1 segment and 1 tombstone");
        assert_eq!(holdings(&stats(0, 0, 0)), "items");
    }

    #[test]
    fn no_data_hints_name_the_prefixes_found() {
        let err = |backend, found: Option<Vec<&str>>| SourceError::NoData {
            backend,
            prefix: "typo".into(),
            location: "at x".into(),
            found: found.map(|f| f.into_iter().map(String::from).collect()),
        };
        assert_eq!(
            err("Redis", Some(vec!["ld:prod", "ld:staging"])).hint().unwrap(),
            "prefixes found there: ld:prod, ld:staging"
        );
        assert_eq!(err("Redis", Some(vec![])).hint().unwrap(), "no LaunchDarkly prefixes were found there");
        assert!(err("Consul", Some(vec![])).hint().unwrap().contains("without read permission"));
        let many: Vec<String> = (0..25).map(|i| format!("p{i}")).collect();
        let hint = err("Redis", Some(many.iter().map(String::as_str).collect())).hint().unwrap();
        assert!(hint.ends_with("p19 and 5 more (ldstore inspect lists them all)"), "{hint}");
        assert_eq!(
            err("Redis", Some(vec![])).to_string(),
            "source Redis prefix \"typo\" at x holds no LaunchDarkly data"
        );
    }
}
