//! LaunchDarkly streaming: `GET {stream}/all` (Server-Sent Events).
//!
//! A small SSE parser over reqwest's byte stream rather than `eventsource-client`: one-shot use
//! needs the first `put` only, with our own headers, retry policy, status classification and time
//! bound, and the same parser and typed events serve a long-running consumer (`ldstore relay`),
//! which drives [`EventReader`] and its own reconnect loop.

use anyhow::Result;
use async_trait::async_trait;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::ld::{self, Failure, LdConfig};
use super::{Source, SourceError, file};
use crate::data::{DataSet, Item, Kind, minify_json};
use crate::secrets;

/// One Server-Sent Event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The event name (`message` when none was given).
    pub event: String,
    pub data: String,
    pub id: Option<String>,
}

/// Incremental SSE parser: feed it bytes as they arrive, get complete events back. Comment lines
/// (`:` heartbeats) are ignored. Each byte is looked at once (a long line arriving in many pieces
/// is not scanned again with each piece), and one event (its unfinished line included) may hold
/// at most [`ld::MAX_PAYLOAD_BYTES`].
#[derive(Debug)]
pub struct SseParser {
    /// The unfinished line (no newline in it).
    buf: Vec<u8>,
    event: String,
    data: String,
    has_data: bool,
    id: Option<String>,
    limit: usize,
}

impl Default for SseParser {
    fn default() -> Self {
        SseParser::with_limit(ld::MAX_PAYLOAD_BYTES)
    }
}

impl SseParser {
    pub fn new() -> SseParser {
        SseParser::default()
    }

    /// A parser whose events may hold at most `limit` bytes.
    pub fn with_limit(limit: usize) -> SseParser {
        SseParser { buf: Vec::new(), event: String::new(), data: String::new(), has_data: false, id: None, limit }
    }

    /// Feed a chunk; returns the events it completed, or why the stream cannot go on (an event
    /// larger than the limit).
    pub fn push(&mut self, chunk: &[u8]) -> std::result::Result<Vec<SseEvent>, String> {
        let mut out = Vec::new();
        let mut rest = chunk;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            self.buf.extend_from_slice(&rest[..pos]);
            rest = &rest[pos + 1..];
            let mut line = std::mem::take(&mut self.buf);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            self.check_size(0)?;
            if line.first() == Some(&b':') {
                continue; // a comment (heartbeat): whatever its bytes, it carries nothing
            }
            // SSE itself would decode with replacement characters; for flag data that would
            // silently change keys and values, so a line that is not UTF-8 stops the stream
            // (malformed: a one-shot sync fails with exit 4, relay reconnects for a fresh put).
            let line = String::from_utf8(line).map_err(|e| {
                format!(
                    "a stream line that is not UTF-8 (invalid byte at offset {} of the line)",
                    e.utf8_error().valid_up_to()
                )
            })?;
            if let Some(ev) = self.line(&line) {
                out.push(ev);
            }
        }
        self.check_size(rest.len())?;
        self.buf.extend_from_slice(rest);
        Ok(out)
    }

    fn check_size(&self, more: usize) -> std::result::Result<(), String> {
        if self.buf.len() + more + self.data.len() > self.limit {
            return Err(format!("an event larger than {} (the limit for one event)", ld::human_limit(self.limit)));
        }
        Ok(())
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            if !self.has_data {
                self.event.clear();
                return None;
            }
            let event = if self.event.is_empty() { "message".to_string() } else { std::mem::take(&mut self.event) };
            let ev = SseEvent { event, data: std::mem::take(&mut self.data), id: self.id.clone() };
            self.has_data = false;
            return Some(ev);
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" => self.id = Some(value.to_string()),
            _ => {}
        }
        None
    }
}

/// A LaunchDarkly stream event, typed.
#[derive(Debug, Clone, PartialEq)]
pub enum LdEvent {
    /// Replace the whole data set.
    Put(DataSet),
    /// Upsert one item (apply only if its version is newer).
    Patch { kind: Kind, item: Item },
    /// Write a tombstone (apply only if the version is newer).
    Delete { kind: Kind, key: String, version: u64 },
    /// An event name or path ldstore does not handle (ignored, logged).
    Unknown { event: String, path: Option<String> },
}

/// `/flags/<key>` or `/segments/<key>`.
pub fn kind_and_key(path: &str) -> Option<(Kind, String)> {
    for kind in Kind::ALL {
        let pre = format!("/{}/", kind.payload_name());
        if let Some(key) = path.strip_prefix(&pre)
            && !key.is_empty()
        {
            return Some((kind, key.to_string()));
        }
    }
    None
}

#[derive(Deserialize)]
struct PutBody {
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    data: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
struct PatchBody {
    path: String,
    data: Box<RawValue>,
}

#[derive(Deserialize)]
struct DeleteBody {
    path: String,
    version: u64,
}

/// Interpret one SSE event. `Err` means malformed JSON (the stream should be treated as broken).
pub fn parse_event(ev: &SseEvent) -> std::result::Result<LdEvent, String> {
    match ev.event.as_str() {
        "put" => {
            let b: PutBody = serde_json::from_str(&ev.data).map_err(|e| format!("invalid put event: {e}"))?;
            let path = b.path.unwrap_or_default();
            if !(path.is_empty() || path == "/") {
                return Ok(LdEvent::Unknown { event: "put".into(), path: Some(path) });
            }
            let data = match &b.data {
                Some(raw) => file::parse_payload(raw.get()).map_err(|e| format!("invalid put event: {e}"))?,
                None => return Err("invalid put event: no \"data\"".into()),
            };
            Ok(LdEvent::Put(data))
        }
        "patch" => {
            let b: PatchBody = serde_json::from_str(&ev.data).map_err(|e| format!("invalid patch event: {e}"))?;
            let Some((kind, key)) = kind_and_key(&b.path) else {
                return Ok(LdEvent::Unknown { event: "patch".into(), path: Some(b.path) });
            };
            let item =
                Item::parse(kind, &key, minify_json(b.data.get())).map_err(|e| format!("invalid patch event: {e}"))?;
            Ok(LdEvent::Patch { kind, item })
        }
        "delete" => {
            let b: DeleteBody = serde_json::from_str(&ev.data).map_err(|e| format!("invalid delete event: {e}"))?;
            let Some((kind, key)) = kind_and_key(&b.path) else {
                return Ok(LdEvent::Unknown { event: "delete".into(), path: Some(b.path) });
            };
            Ok(LdEvent::Delete { kind, key, version: b.version })
        }
        other => Ok(LdEvent::Unknown { event: other.to_string(), path: None }),
    }
}

/// Why reading a stream stopped.
#[derive(Debug)]
pub enum StreamEnd {
    /// The connection closed or failed (reconnect).
    Broken(String),
    /// An event was not valid JSON (reconnect and expect a fresh `put`).
    Malformed(String),
}

/// Reads typed events from an open stream response.
pub struct EventReader {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    parser: SseParser,
    pending: std::collections::VecDeque<SseEvent>,
    read_timeout: Option<std::time::Duration>,
}

impl EventReader {
    pub fn new(resp: reqwest::Response) -> EventReader {
        EventReader {
            body: resp.bytes_stream().boxed(),
            parser: SseParser::new(),
            pending: Default::default(),
            read_timeout: None,
        }
    }

    /// End the stream as broken when no bytes at all (not even a heartbeat) arrive for `d`.
    pub fn with_read_timeout(mut self, d: std::time::Duration) -> EventReader {
        self.read_timeout = Some(d);
        self
    }

    /// The next event; heartbeats are consumed silently but count as data for the read timeout.
    pub async fn next(&mut self) -> std::result::Result<LdEvent, StreamEnd> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return parse_event(&ev).map_err(StreamEnd::Malformed);
            }
            let chunk = match self.read_timeout {
                Some(d) => match tokio::time::timeout(d, self.body.next()).await {
                    Ok(c) => c,
                    Err(_) => {
                        return Err(StreamEnd::Broken(format!("no data for {}", humantime::format_duration(d))));
                    }
                },
                None => self.body.next().await,
            };
            match chunk {
                Some(Ok(chunk)) => {
                    self.pending.extend(self.parser.push(&chunk).map_err(StreamEnd::Malformed)?);
                    // Data that keeps arriving must not keep a caller's timeout from firing.
                    tokio::task::consume_budget().await;
                }
                Some(Err(e)) => {
                    let Failure::Retry(why) = ld::network_failure(&e) else { unreachable!() };
                    return Err(StreamEnd::Broken(why));
                }
                None => return Err(StreamEnd::Broken("the stream closed".into())),
            }
        }
    }
}

/// The streaming endpoint as a one-shot source: the first `put`.
pub struct StreamSource {
    pub cfg: LdConfig,
}

impl StreamSource {
    fn name(&self) -> String {
        format!("LaunchDarkly streaming {}", secrets::redact_url(&self.cfg.stream_uri))
    }

    /// Open `{stream}/all` once (no retries): the response, or how it failed.
    pub async fn connect(&self) -> std::result::Result<reqwest::Response, Failure> {
        let url = self.cfg.url(&self.cfg.stream_uri, "/all").map_err(Failure::Fatal)?;
        ld::open_event_stream(&self.cfg, url, &self.name()).await
    }

    /// Connect (retrying) and read until the first `put`.
    pub async fn first_put(&self) -> Result<DataSet> {
        let name = self.name();
        ld::with_retries(self.cfg.timeout, &name, || async {
            let mut reader = EventReader::new(self.connect().await?);
            loop {
                match reader.next().await {
                    Ok(LdEvent::Put(d)) => return Ok(d),
                    Ok(other) => tracing::debug!("{name}: ignoring {other:?} before the first put"),
                    Err(StreamEnd::Broken(why)) => return Err(Failure::Retry(why)),
                    Err(StreamEnd::Malformed(reason)) => {
                        return Err(Failure::Fatal(
                            SourceError::Malformed { source_name: name.clone(), reason }.into(),
                        ));
                    }
                }
            }
        })
        .await
    }
}

#[async_trait]
impl Source for StreamSource {
    fn describe(&self) -> String {
        let filter = self.cfg.filter.as_deref().map(|f| format!(" filter {f}")).unwrap_or_default();
        format!(
            "LaunchDarkly ({} via stream {}{filter})",
            self.cfg.masked_key(),
            secrets::redact_url(&self.cfg.stream_uri)
        )
    }

    async fn fetch(&self) -> Result<DataSet> {
        self.first_put().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events_across_chunks_and_ignores_heartbeats() {
        let mut p = SseParser::new();
        let mut evs = p.push(b":heartbeat\n\nevent: put\ndata: {\"path\":\"/\",").unwrap();
        assert!(evs.is_empty());
        evs.extend(p.push(b"\"data\":{\"flags\":{}}}\r\n\r\n: hb\n\nevent:patch\ndata:{\"path\":\"/flags/a\",\"data\":{\"key\":\"a\",\"version\":2, \"x\" : 1}}\n\n").unwrap());
        evs.extend(
            p.push(b"event: delete\ndata: {\"path\":\"/segments/s\",\"version\":7}\n\nevent: weird\ndata: 1\n\n")
                .unwrap(),
        );
        let typed: Vec<LdEvent> = evs.iter().map(|e| parse_event(e).unwrap()).collect();
        assert_eq!(typed.len(), 4);
        assert_eq!(typed[0], LdEvent::Put(DataSet::default()));
        match &typed[1] {
            LdEvent::Patch { kind: Kind::Flags, item } => {
                assert_eq!(item.json, r#"{"key":"a","version":2,"x":1}"#);
                assert_eq!(item.version, 2);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(typed[2], LdEvent::Delete { kind: Kind::Segments, key: "s".into(), version: 7 });
        assert!(matches!(typed[3], LdEvent::Unknown { .. }));
    }

    #[test]
    fn events_are_bounded_in_size_across_lines_and_pieces() {
        let mut p = SseParser::with_limit(16);
        assert_eq!(p.push(b"data: 0123456789\n\n").unwrap().len(), 1, "an event within the limit");
        // One line in many pieces, never finished.
        let mut p = SseParser::with_limit(16);
        assert!(p.push(b"data: 0123").is_ok());
        let e = p.push(b"4567890123456789").unwrap_err();
        assert_eq!(e, "an event larger than 16 bytes (the limit for one event)");
        // Many lines of one event.
        let mut p = SseParser::with_limit(16);
        assert!(p.push(b"data: 01234567\n").is_ok());
        assert!(p.push(b"data: 01234567\n").is_err());
        // Split at every byte: the same events.
        let text = b"event: put\r\ndata: {\"a\":1}\r\n\r\n:hb\n\nevent: x\ndata: 2\ndata: 3\n\n";
        let mut p = SseParser::new();
        let evs: Vec<SseEvent> = text.iter().flat_map(|b| p.push(&[*b]).unwrap()).collect();
        assert_eq!(evs, SseParser::new().push(text).unwrap());
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[1].data, "2\n3");
    }

    #[test]
    fn a_line_that_is_not_utf8_stops_the_stream_but_a_comment_never_does() {
        let mut p = SseParser::new();
        assert!(p.push(b":\xff heartbeat\n\n").unwrap().is_empty());
        let e = p.push(b"event: put\ndata: {\"k\xff\":1}\n\n").unwrap_err();
        assert!(e.contains("not UTF-8") && e.contains("offset 9"), "{e}");
    }

    #[test]
    fn tolerant_put_and_bad_events() {
        let ev = |event: &str, data: &str| SseEvent { event: event.into(), data: data.into(), id: None };
        // Missing path and missing segments.
        match parse_event(&ev("put", r#"{"data":{"flags":{"f":{"key":"f","version":1}}}}"#)).unwrap() {
            LdEvent::Put(d) => assert_eq!((d.flags.len(), d.segments.len()), (1, 0)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse_event(&ev("put", r#"{"path":"","data":{}}"#)).unwrap(), LdEvent::Put(_)));
        assert!(parse_event(&ev("put", "{not json")).is_err());
        assert!(matches!(
            parse_event(&ev("patch", r#"{"path":"/other/x","data":{}}"#)).unwrap(),
            LdEvent::Unknown { .. }
        ));
        assert_eq!(kind_and_key("/segments/a/b"), Some((Kind::Segments, "a/b".into())));
        assert_eq!(kind_and_key("/flags/"), None);
    }
}
