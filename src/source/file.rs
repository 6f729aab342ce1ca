//! Flag files: the SDK file-data-source format (JSON or YAML with `flags`, `segments`,
//! `flagValues`), which is also the shape of `/sdk/latest-all` and of `ldstore dump`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{Fetched, Source, SourceError};
use crate::data::{DataSet, Item, Json, Kind, minify_json};
use crate::exit::UsageError;
use crate::json_scan::ItemText;
use crate::store::{FedCounts, Feed};

pub struct FileSource {
    pub path: PathBuf,
}

#[async_trait]
impl Source for FileSource {
    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }

    async fn fetch(&self) -> anyhow::Result<DataSet> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || load_in_pieces(&path)).await?
    }

    async fn fetch_feedable(&self) -> anyhow::Result<Fetched> {
        if !is_json_file(&self.path) {
            return Ok(Fetched::Data(self.fetch().await?));
        }
        let file = std::fs::File::open(&self.path).map_err(|e| cannot_read(&self.path, e))?;
        let regular = file.metadata().map_err(|e| cannot_read(&self.path, e))?.is_file();
        if !regular {
            // A FIFO, a device, /dev/stdin: it can be read only once, so it is read whole now
            // (the streamed path may have to fall back to reading it again).
            let path = self.path.clone();
            let data = tokio::task::spawn_blocking(move || read_from(&path, file)).await??;
            return Ok(Fetched::Data(data));
        }
        Ok(Fetched::File(JsonFile { path: self.path.clone(), file }))
    }
}

/// A JSON flag file (see [`is_json_file`]), open but not yet read: to feed to a store while it is
/// read (see [`feed`]), or to [`load`].
pub struct JsonFile {
    path: PathBuf,
    file: std::fs::File,
}

impl JsonFile {
    /// A feed of the file's items (see [`feed`]).
    pub fn feed(&self) -> anyhow::Result<Feed> {
        Ok(feed(self.file.try_clone().map_err(|e| cannot_read(&self.path, e))?))
    }

    /// Read and parse it whole, from the file already open (never opened a second time).
    pub fn load(&self) -> anyhow::Result<DataSet> {
        use std::io::Seek;
        let mut file = self.file.try_clone().map_err(|e| cannot_read(&self.path, e))?;
        file.rewind().map_err(|e| cannot_read(&self.path, e))?;
        read_from(&self.path, file)
    }
}

/// Whether a flag file is a regular file (a pipe or a device can be read only once, so it is read
/// whole) that [`parse_file`] reads as JSON: named `.json`, or named anything but `.yaml`/`.yml`
/// with `{` as its first character other than whitespace. Such a file can be read a piece at a
/// time (see [`feed`]) and read again (the Big Segments restore, a feed that gives up). A pipe is
/// never opened here (opening one waits for its writer, and reading it would use it up).
pub fn is_json_file(path: &Path) -> bool {
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("json") => return true,
        Some("yaml" | "yml") => return false,
        _ => {}
    }
    use std::io::Read;
    let Ok(file) = std::fs::File::open(path) else { return false };
    for byte in std::io::BufReader::with_capacity(256, file).bytes() {
        match byte {
            Ok(b) if b.is_ascii_whitespace() => continue,
            Ok(b) => return b == b'{',
            Err(_) => return false,
        }
    }
    false
}

fn cannot_read(path: &Path, e: std::io::Error) -> anyhow::Error {
    UsageError::new(format!("cannot read flag file {}: {e}", path.display())).into()
}

/// Read a flag file into a data set. A regular JSON file is read a piece at a time by the feed
/// (see [`feed`]) into items, so its text is never held whole: a dump's Big Segments part, which
/// may hold millions of memberships, is stepped over without being kept (`sync --from-file` restores
/// it by reading the file again, a membership at a time). A file the feed leaves to the ordinary
/// path (YAML, `flagValues`, duplicate keys, bad data: see [`feed`]) is read whole, which also
/// reports what is wrong with it.
fn load_in_pieces(path: &Path) -> anyhow::Result<DataSet> {
    /// Items collected from a feed.
    #[derive(Default)]
    struct Collect(DataSet);
    impl crate::store::ItemSink for Collect {
        fn push(&mut self, kind: Kind, key: &str, json: &str) -> bool {
            match Item::parse(kind, key, json.to_string()) {
                Ok(item) => self.0.items_mut(kind).insert(key.to_string(), item).is_none(),
                Err(_) => false,
            }
        }
    }
    // Checked without opening it: a FIFO must be opened (and read) once only.
    if is_json_file(path)
        && std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
        && let Ok(file) = std::fs::File::open(path)
    {
        let mut sink = Collect::default();
        if feed(file)(&mut sink).is_some() {
            return Ok(sink.0);
        }
    }
    load(path)
}

/// Read and parse a flag file.
pub fn load(path: &Path) -> anyhow::Result<DataSet> {
    let bytes = std::fs::read(path).map_err(|e| cannot_read(path, e))?;
    parse_file(path, decode(path, bytes)?)
}

/// A flag file's bytes as text: bytes that are not UTF-8 are bad data (exit 4, naming the offset);
/// a UTF-8 byte order mark at the start is skipped, with a warning.
fn decode(path: &Path, mut bytes: Vec<u8>) -> anyhow::Result<String> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        tracing::warn!("flag file {} starts with a UTF-8 byte order mark: skipped", path.display());
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| {
        SourceError::Malformed {
            source_name: path.display().to_string(),
            reason: format!("not UTF-8 (invalid byte at offset {})", e.utf8_error().valid_up_to()),
        }
        .into()
    })
}

/// Read a flag file from a handle already open on it, and parse it.
fn read_from(path: &Path, mut file: std::fs::File) -> anyhow::Result<DataSet> {
    use std::io::Read;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|e| cannot_read(path, e))?;
    parse_file(path, decode(path, bytes)?)
}

/// Parse a flag file's text (`path` names it and, by its extension, says JSON or YAML).
fn parse_file(path: &Path, text: String) -> anyhow::Result<DataSet> {
    let name = path.display().to_string();
    // Nothing at all (a 0-byte file, /dev/null, a pipe from a command that printed nothing) is
    // an empty data set whatever the name, said out loud: the sync then refuses to let it
    // replace a prefix that holds items (see `source::refuse_to_empty`).
    if text.trim().is_empty() {
        let what = if text.is_empty() { "" } else { " (only whitespace)" };
        tracing::warn!("flag file {name} is empty{what}: read as no flags and no segments");
        return Ok(DataSet::default());
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let yaml = match ext.as_str() {
        "yaml" | "yml" => true,
        "json" => false,
        _ => !text.trim_start().starts_with('{'),
    };
    let parsed = if yaml { parse_yaml(&text) } else { parse_json_owned(text) };
    parsed.map_err(|reason| SourceError::Malformed { source_name: name, reason }.into())
}

/// Parse YAML: duplicate keys are detected by the YAML parser, then the document goes through the
/// same path as JSON.
pub fn parse_yaml(text: &str) -> Result<DataSet, String> {
    let doc: serde_norway::Value = serde_norway::from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
    // JSON has no infinities or NaN (serde_json would turn them into null without a word).
    if let Some(at) = non_finite(&doc, &mut Vec::new()) {
        return Err(format!("YAML that cannot be JSON: number out of range (.inf or .nan) at {at}"));
    }
    // A tag of its own (`!weird 2`) means something to whoever wrote it that JSON cannot say;
    // YAML's own tags (`!!str 12`) were applied by the parser already.
    if let Some((tag, at)) = custom_tag(&doc, &mut Vec::new()) {
        return Err(format!("YAML tag {tag} (at {at}) has no JSON meaning; remove it"));
    }
    let json: serde_json::Value = serde_json::to_value(&doc).map_err(|e| format!("YAML that cannot be JSON: {e}"))?;
    parse_json(&json.to_string())
}

/// The first tag of the document's own (not YAML's `!!…`) and where it is.
fn custom_tag(v: &serde_norway::Value, path: &mut Vec<String>) -> Option<(String, String)> {
    use serde_norway::Value;
    let within = |path: &mut Vec<String>, seg: String, v: &Value| {
        path.push(seg);
        let found = custom_tag(v, path);
        path.pop();
        found
    };
    match v {
        Value::Tagged(t) => Some((t.tag.to_string(), path_text(path))),
        Value::Sequence(items) => items.iter().enumerate().find_map(|(i, x)| within(path, format!("[{i}]"), x)),
        Value::Mapping(m) => m.iter().find_map(|(k, x)| within(path, key_text(k), x)),
        _ => None,
    }
}

fn key_text(k: &serde_norway::Value) -> String {
    match k {
        serde_norway::Value::String(s) => s.clone(),
        other => serde_norway::to_string(other).unwrap_or_default().trim().to_string(),
    }
}

/// `flags.a.variations[1]`
fn path_text(path: &[String]) -> String {
    path.iter().fold(String::new(), |p, s| if s.starts_with('[') || p.is_empty() { p + s } else { p + "." + s })
}

/// Where the first number that is not finite is in a YAML document (`flags.a.variations[1]`).
fn non_finite(v: &serde_norway::Value, path: &mut Vec<String>) -> Option<String> {
    use serde_norway::Value;
    let within = |path: &mut Vec<String>, seg: String, v: &Value| {
        path.push(seg);
        let found = non_finite(v, path);
        path.pop();
        found
    };
    match v {
        Value::Number(n) if n.as_f64().is_some_and(|f| !f.is_finite()) => Some(
            path.iter()
                .fold(String::new(), |p, s| if s.starts_with('[') || p.is_empty() { p + s } else { p + "." + s }),
        ),
        Value::Sequence(items) => items.iter().enumerate().find_map(|(i, x)| within(path, format!("[{i}]"), x)),
        Value::Mapping(m) => m.iter().find_map(|(k, x)| {
            let name = match k {
                Value::String(s) => s.clone(),
                other => serde_norway::to_string(other).unwrap_or_default().trim().to_string(),
            };
            within(path, name, x)
        }),
        Value::Tagged(t) => non_finite(&t.value, path),
        _ => None,
    }
}

/// A JSON object's members in order, raw, refusing duplicate names.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Members, E> {
                Ok(Members(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut out: Vec<(String, Box<RawValue>)> = Vec::new();
                let mut seen = std::collections::HashSet::new();
                while let Some(k) = map.next_key::<String>()? {
                    if !seen.insert(k.clone()) {
                        return Err(de::Error::custom(format!("duplicate key \"{k}\"")));
                    }
                    out.push((k, map.next_value()?));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_any(V)
    }
}

fn members(raw: &str, what: &str) -> Result<Vec<(String, Box<RawValue>)>, String> {
    serde_json::from_str::<Members>(raw).map(|m| m.0).map_err(|e| format!("{what}: {e}"))
}

/// Parse JSON flag-file text: an item without `version` gets version 1 (the SDK file rule).
pub fn parse_json(text: &str) -> Result<DataSet, String> {
    parse_items(text, false)
}

/// Parse a LaunchDarkly payload (`/sdk/latest-all`, a stream `put`): the same shape, but every
/// item must carry its `version` (LaunchDarkly always sends one; without it nothing can be ordered).
pub fn parse_payload(text: &str) -> Result<DataSet, String> {
    parse_json_fast(text, None, true).map_or_else(|| parse_json_serde(text, true), Ok)
}

/// [`parse_payload`] of a body the data set may keep: compact items stay in it rather than being
/// copied out one by one.
pub fn parse_payload_owned(text: String) -> Result<DataSet, String> {
    let buf = Arc::new(text);
    parse_json_fast(&buf, Some(&buf), true).map_or_else(|| parse_json_serde(&buf, true), Ok)
}

/// [`parse_json`] of text the data set may keep: compact items stay in it rather than being
/// copied out one by one.
pub fn parse_json_owned(text: String) -> Result<DataSet, String> {
    let buf = Arc::new(text);
    parse_json_fast(&buf, Some(&buf), false).map_or_else(|| parse_json_serde(&buf, false), Ok)
}

fn parse_items(text: &str, require_version: bool) -> Result<DataSet, String> {
    parse_json_fast(text, None, require_version).map_or_else(|| parse_json_serde(text, require_version), Ok)
}

/// One validating pass over an ordinary flag file (see [`crate::json_scan`]); `None` for anything
/// else (invalid JSON, duplicate keys, `flagValues`, an item without the version a LaunchDarkly
/// payload needs, ...), which [`parse_json_serde`] then parses or reports exactly as before. Items
/// point into `shared` (which holds `text`) when given.
pub(crate) fn parse_json_fast(text: &str, shared: Option<&Arc<String>>, require_version: bool) -> Option<DataSet> {
    let mut data = DataSet::default();
    let unknown = crate::json_scan::flag_file(text, &mut |it| {
        let facts = crate::data::Facts::from_raw(it.kind, it.facts);
        if require_version && facts.version.is_none() {
            return None;
        }
        let json = match (it.json, shared) {
            (ItemText::Span(start, end), Some(buf)) => Json::shared(buf, start, end),
            (ItemText::Span(start, end), None) => text[start..end].into(),
            (ItemText::Minified(m), _) => m.into(),
        };
        let item = Item::with_facts_defaulting_version(it.kind, &it.key, json, facts).ok()?;
        data.items_mut(it.kind).insert(it.key.into_owned(), item).is_none().then_some(())
    })?;
    warn_unknown(&unknown);
    Some(data)
}

fn warn_unknown(names: &[String]) {
    for name in names {
        tracing::warn!("ignoring unknown top-level property \"{name}\" in flag file");
    }
}

/// A [`Feed`] of a JSON flag file: its items in file order, each handed to the store as soon as it
/// has been read, with the file read a piece at a time (never held whole), exactly as
/// [`parse_json_owned`] would read them. It gives up (`None`) wherever that leaves the file to
/// serde (invalid JSON, duplicate keys, `flagValues`, ...) or the file cannot be read: the caller
/// then reads the file whole, which reads the unusual file or reports what is wrong with it.
pub fn feed(mut file: std::fs::File) -> Feed {
    Box::new(move |sink| {
        // Duplicate keys are found by hash once everything is read (nothing is committed before):
        // a collision of two different keys only sends the file the ordinary way.
        // One hash per item of each kind, so also the counts.
        let mut hashes: [Vec<u64>; 2] = Default::default();
        let scanned = crate::json_scan::flag_file_read(&mut file, &mut |text, it| {
            let json = it.json.in_text(text);
            let defaulted;
            let json = match (it.facts.version, it.facts.deleted) {
                (Some(_), _) => json,
                // A tombstone without a version is an error, which the whole-file path reports.
                (None, true) => return None,
                (None, false) => {
                    defaulted = crate::data::with_default_version(json);
                    defaulted.as_str()
                }
            };
            hashes[it.kind.index()].push(key_hash(&it.key));
            sink.push(it.kind, &it.key, json).then_some(())
        });
        let scan = scanned.ok()??;
        for seen in &mut hashes {
            seen.sort_unstable();
            if seen.windows(2).any(|w| w[0] == w[1]) {
                return None;
            }
        }
        warn_unknown(&scan.unknown);
        Some(FedCounts {
            flags: hashes[Kind::Flags.index()].len(),
            segments: hashes[Kind::Segments.index()].len(),
            big_segments: scan.big_segments,
        })
    })
}

fn key_hash(key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

pub(crate) fn parse_json_serde(text: &str, require_version: bool) -> Result<DataSet, String> {
    let top = members(text, "invalid JSON")?;
    let mut data = DataSet::default();
    for (name, value) in top {
        match name.as_str() {
            "flags" | "segments" => {
                let kind = if name == "flags" { Kind::Flags } else { Kind::Segments };
                for (key, raw) in members(value.get(), &format!("\"{name}\""))? {
                    let json = minify_json(raw.get());
                    let item = if require_version {
                        Item::parse(kind, &key, json)
                    } else {
                        Item::parse_defaulting_version(kind, &key, json)
                    }
                    .map_err(|e| e.to_string())?;
                    data.items_mut(kind).insert(key, item);
                }
            }
            "flagValues" => {
                for (key, raw) in members(value.get(), "\"flagValues\"")? {
                    if data.flags.contains_key(&key) {
                        return Err(format!("duplicate key \"{key}\" in \"flags\" and \"flagValues\""));
                    }
                    let json = flag_for_value(&key, &minify_json(raw.get()));
                    let item = Item::parse(Kind::Flags, &key, json).map_err(|e| e.to_string())?;
                    data.flags.insert(key, item);
                }
            }
            _ => {
                // Other top-level properties (e.g. metadata some exporters add) are ignored.
                tracing::warn!("ignoring unknown top-level property \"{name}\" in flag file");
            }
        }
    }
    Ok(data)
}

/// The flag a `flagValues` entry stands for: on, serving its one value to everyone.
fn flag_for_value(key: &str, value_json: &str) -> String {
    let key_json = serde_json::to_string(key).expect("string");
    format!(
        r#"{{"key":{key_json},"version":1,"on":true,"prerequisites":[],"targets":[],"contextTargets":[],"rules":[],"fallthrough":{{"variation":0}},"offVariation":0,"variations":[{value_json}],"salt":"","trackEvents":false,"trackEventsFallthrough":false,"clientSide":false,"deleted":false}}"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_items_are_kept_raw_and_minified() {
        let d = parse_json(
            r#"{"flags": {"a": {"key": "a", "version": 2, "zzz": [1.50, "x  y"], "on": true}}, "segments": {}}"#,
        )
        .unwrap();
        assert_eq!(d.flags["a"].json, r#"{"key":"a","version":2,"zzz":[1.50,"x  y"],"on":true}"#);
        assert_eq!(d.flags["a"].version, 2);
        // Items that stay in the file's buffer read the same as copied ones.
        let text = r#"{"flags":{"a":{"key":"a","version":2},"b":{ "key":"b" }},"segments":{"s":{"version":1}}}"#;
        assert_eq!(parse_json_owned(text.to_string()).unwrap(), parse_json(text).unwrap());
        assert_eq!(parse_json_owned(text.to_string()).unwrap().flags["b"].json, r#"{"version":1,"key":"b"}"#);
    }

    #[test]
    fn duplicates_and_bad_items_are_errors() {
        let e = parse_json(r#"{"flags":{"a":{"version":1},"a":{"version":2}}}"#).unwrap_err();
        assert!(e.contains("duplicate key \"a\""), "{e}");
        let e = parse_json(r#"{"flags":{"a":{"version":1}},"flagValues":{"a":true}}"#).unwrap_err();
        assert!(e.contains("duplicate key \"a\""), "{e}");
        let e = parse_json(r#"{"flags":{"a":[1]}}"#).unwrap_err();
        assert!(e.contains("not a JSON object"), "{e}");
        let e = parse_json(r#"{"flags":{"a":{"version":"x"}}}"#).unwrap_err();
        assert!(e.contains("invalid \"version\""), "{e}");
        // null is an invalid version, not a missing one (no `"version":1` added before it).
        for text in [r#"{"flags":{"a":{"key":"a","version":null}}}"#, "{\"segments\":{\"s\":{\"version\": null}}}"] {
            let e = parse_json(text).unwrap_err();
            assert!(e.contains("invalid \"version\" (null)"), "{e}");
            let e = parse_json_owned(text.to_string()).unwrap_err();
            assert!(e.contains("invalid \"version\" (null)"), "{e}");
        }
        let e = parse_yaml("flags:\n  a:\n    key: a\n    version: null\n").unwrap_err();
        assert!(e.contains("invalid \"version\" (null)"), "{e}");
        // Numbers JSON cannot hold are an error, not a null.
        for (yaml, at) in [
            ("flags:\n  a:\n    key: a\n    variations: [1, .inf]\n", "flags.a.variations[1]"),
            ("segments:\n  s:\n    key: s\n    x: {y: -.inf}\n", "segments.s.x.y"),
            ("flags:\n  b:\n    key: b\n    w: .nan\n", "flags.b.w"),
        ] {
            let e = parse_yaml(yaml).unwrap_err();
            assert_eq!(e, format!("YAML that cannot be JSON: number out of range (.inf or .nan) at {at}"));
        }
        assert!(parse_json(r#"{"flags":{"a":{"version":1}}"#).is_err());
        let e = parse_yaml("flags:\n  a:\n    version: 1\n  a:\n    version: 2\n").unwrap_err();
        assert!(e.contains("duplicate"), "{e}");
    }

    #[test]
    fn launchdarkly_payloads_need_versions() {
        let e = parse_payload(r#"{"flags":{"a":{"key":"a","on":true}},"segments":{}}"#).unwrap_err();
        assert!(e.contains("version"), "{e}");
        let e = parse_payload(r#"{"flags":{},"segments":{"s":{"key":"s"}}}"#).unwrap_err();
        assert!(e.contains("version"), "{e}");
        assert_eq!(parse_payload(r#"{"flags":{"a":{"key":"a","version":4}}}"#).unwrap().flags["a"].version, 4);
    }

    /// The one flag `a` a YAML flag file reads as, as stored (or the reading error).
    fn yaml_flag(body: &str) -> Result<String, String> {
        let text = format!("flags:\n  a:\n    key: a\n{body}");
        parse_yaml(&text).map(|d| d.flags["a"].json.to_string())
    }

    // The next tests pin how YAML flag files are read, exactly (the YAML 1.2 core schema as
    // serde_yaml 0.9 read it; serde_norway, its fork, passes them unchanged): a new YAML crate
    // must read them the same.

    #[test]
    fn yaml_reads_yaml_1_2_booleans() {
        // Only true/false (any case) are booleans; yes/no/on/off/y/n are strings; a bare `on` key
        // is the property "on".
        assert_eq!(
            yaml_flag("    on: yes\n    variations: [yes, no, on, off, y, n, Yes, OFF, True, FALSE, true, false]\n"),
            Ok(r#"{"version":1,"key":"a","on":"yes","variations":["yes","no","on","off","y","n","Yes","OFF",true,false,true,false]}"#.into())
        );
        assert_eq!(yaml_flag("    on: true\n"), Ok(r#"{"version":1,"key":"a","on":true}"#.into()));
    }

    #[test]
    fn yaml_rejects_duplicate_keys() {
        for (body, key) in [
            ("    version: 1\n    version: 2\n", "version"),
            ("    x: {b: 1, b: 2}\n", "b"),
            ("    on: true\n    \"on\": false\n", "on"),
        ] {
            let e = yaml_flag(body).unwrap_err();
            assert!(e.starts_with("invalid YAML: "), "{e}");
            assert!(e.contains(&format!("duplicate entry with key \"{key}\"")), "{e}");
        }
        let e = parse_yaml("flags:\n  a: {key: a}\n  a: {key: a}\n").unwrap_err();
        assert!(e.contains("duplicate entry with key \"a\""), "{e}");
    }

    #[test]
    fn yaml_non_finite_numbers_are_errors() {
        for body in ["    w: .inf\n", "    w: -.Inf\n", "    w: +.INF\n", "    w: .NaN\n", "    w: .NAN\n"] {
            assert_eq!(
                yaml_flag(body),
                Err("YAML that cannot be JSON: number out of range (.inf or .nan) at flags.a.w".into())
            );
        }
        // Quoted, or spelled another way, they are strings.
        assert_eq!(
            yaml_flag("    w: [\".inf\", inf, nan, Infinity]\n"),
            Ok(r#"{"version":1,"key":"a","w":[".inf","inf","nan","Infinity"]}"#.into())
        );
    }

    #[test]
    fn yaml_numbers_read_as_today() {
        assert_eq!(
            yaml_flag(
                "    n: [9223372036854775807, -9223372036854775808, 12345678901234567890, 18446744073709551615]\n"
            ),
            Ok(r#"{"version":1,"key":"a","n":[9223372036854775807,-9223372036854775808,12345678901234567890,18446744073709551615]}"#.into())
        );
        // Integers beyond 64 bits are an error (not a rounded float).
        for big in ["123456789012345678901234567890", "-9223372036854775809"] {
            let e = yaml_flag(&format!("    n: {big}\n")).unwrap_err();
            assert!(e.starts_with("invalid YAML: "), "{e}");
            assert!(e.contains(&format!("invalid type: integer `{big}`")), "{e}");
        }
        // YAML 1.2 core-schema forms; `017` and `1_000` are strings, a float too large for a
        // double is kept as the string it is written as.
        assert_eq!(
            yaml_flag("    n: [0o17, 017, 0x1F, 1_000, +12, -0, 1e3, 1.0, 0.1, 1.5e+3, 0.0, 1., 1e-400, 1.7976931348623157e309]\n"),
            Ok(r#"{"version":1,"key":"a","n":[15,"017",31,"1_000",12,0,1000.0,1.0,0.1,1500.0,0.0,1.0,0.0,"1.7976931348623157e309"]}"#.into())
        );
        assert_eq!(yaml_flag("    version: 0x10\n").map(|_| ()), Ok(()));
        assert_eq!(parse_yaml("flags:\n  a: {key: a, version: 0x10}\n").unwrap().flags["a"].version, 16);
    }

    #[test]
    fn yaml_anchors_aliases_tags_and_keys_read_as_today() {
        // Aliases are expanded; `<<` is an ordinary key (no merging); an unknown alias is an error.
        let d =
            parse_yaml("segments:\n  s: &base {key: s, version: 2, included: [u1]}\n  t:\n    <<: *base\n    key: t\n")
                .unwrap();
        assert_eq!(d.segments["s"].json, r#"{"key":"s","version":2,"included":["u1"]}"#);
        assert_eq!(d.segments["t"].json, r#"{"version":1,"<<":{"key":"s","version":2,"included":["u1"]},"key":"t"}"#);
        assert_eq!(
            yaml_flag("    v: &x [1, {y: 2}]\n    w: *x\n"),
            Ok(r#"{"version":1,"key":"a","v":[1,{"y":2}],"w":[1,{"y":2}]}"#.into())
        );
        let e = yaml_flag("    w: *nowhere\n").unwrap_err();
        assert!(e.starts_with("invalid YAML: unknown anchor"), "{e}");
        // Tags: core tags convert, !!binary stays text; a custom tag is refused naming where.
        assert_eq!(
            yaml_flag("    t: [!!str 12, !!int '3', !!binary aGVsbG8=]\n"),
            Ok(r#"{"version":1,"key":"a","t":["12",3,"aGVsbG8="]}"#.into())
        );
        assert_eq!(
            yaml_flag("    t: [1, {u: !custom v}]\n"),
            Err("YAML tag !custom (at flags.a.t[1].u) has no JSON meaning; remove it".into())
        );
        // Keys: scalars become strings; a collection or null key cannot be JSON.
        assert_eq!(
            yaml_flag("    m: {1: x, true: y}\n"),
            Ok(r#"{"version":1,"key":"a","m":{"1":"x","true":"y"}}"#.into())
        );
        for body in ["    m: {[1, 2]: x}\n", "    m: {~: x}\n"] {
            assert_eq!(yaml_flag(body), Err("YAML that cannot be JSON: key must be a string".into()));
        }
        // Nulls, dates (strings), strings with escapes and block scalars.
        assert_eq!(
            yaml_flag(
                "    z: [~, null, Null, NULL, 2001-12-14, \"\\x41\\t\\u00e9\", 'it''s']\n    s: |\n      l1\n      l2\n"
            )
            .unwrap(),
            r#"{"version":1,"key":"a","z":[null,null,null,null,"2001-12-14","A\té","it's"],"s":"l1\nl2\n"}"#
        );
        let e = yaml_flag("    s: \"\\ud800\"\n").unwrap_err();
        assert!(e.starts_with("invalid YAML: found invalid Unicode character escape code"), "{e}");
    }

    #[test]
    fn yaml_documents_read_as_today() {
        // One document, with or without `---` / `...` markers.
        for text in
            ["---\nflags:\n  a: {key: a}\n", "flags:\n  a: {key: a}\n...\n", "--- \nflags: {a: {key: a}}\n...\n"]
        {
            assert_eq!(parse_yaml(text).unwrap().flags["a"].json, r#"{"version":1,"key":"a"}"#, "{text:?}");
        }
        // More than one document is an error, even an empty second one.
        for text in ["flags:\n  a: {key: a}\n---\nsegments: {}\n", "---\n---\n", "flags: {}\n---\n"] {
            let e = parse_yaml(text).unwrap_err();
            assert_eq!(e, "invalid YAML: deserializing from YAML containing more than one document is not supported");
        }
        // Only comments, or `~`, is no data; a document that is not a mapping is an error.
        assert_eq!(parse_yaml("# nothing\n").unwrap(), DataSet::default());
        assert_eq!(parse_yaml("~\n").unwrap(), DataSet::default());
        for text in ["[1, 2]\n", "just text\n"] {
            let e = parse_yaml(text).unwrap_err();
            assert!(e.starts_with("invalid JSON: invalid type"), "{e}");
        }
    }

    #[test]
    fn yaml_and_flag_values() {
        let d = parse_yaml("flagValues:\n  my-flag: true\nsegments:\n  s:\n    key: s\n    included: [a]\n").unwrap();
        assert!(d.flags["my-flag"].json.contains(r#""variations":[true]"#));
        assert_eq!(d.segments["s"].json, r#"{"version":1,"key":"s","included":["a"]}"#);
    }
}
