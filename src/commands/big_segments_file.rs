//! The Big Segments part of a dump file, written by `ldstore dump` and restored by
//! `ldstore sync --from-file`: one more top-level member of the flag file, after `flags` and
//! `segments`:
//!
//! ```text
//! "bigSegments": {
//!   "synchronizedOn": "1700000000123",        (Unix ms as stored, text; null: never synchronized)
//!   "cursor": "42",                           (the Relay Proxy's cursor; null: none)
//!   "memberships": {
//!     "<context hash>": {"included": ["<segmentKey>.g<generation>", …], "excluded": [ … ]},
//!     …
//!   }
//! }
//! ```
//!
//! Both directions are streamed: `dump` writes each membership as the store's pages are read, and
//! `sync --from-file` reads the file one membership at a time, writing 1,000 contexts per batch.
//! A file without `bigSegments` (the older format, or a prefix without Big Segments data) leaves
//! the destination's Big Segments as they are.

use std::io::{BufReader, Write};
use std::path::Path;

use anyhow::Result;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::exit::UsageError;
use crate::source::SourceError;
use crate::store::big_segments::{self, BigSegmentStore, CopyReport, Membership, Metadata, Plan, Replace};
use crate::store::{Progress, Store};

/// The top-level member name.
pub const MEMBER: &str = "bigSegments";

/// The bytes of memberships handed to the output at a time by [`write_member`].
const PIECE: usize = 1 << 16;

/// Whether a prefix has Big Segments data to dump (metadata or at least one membership).
pub async fn has_data(b: &dyn BigSegmentStore, prefix: &str) -> Result<bool> {
    Ok(!b.metadata(prefix).await?.is_empty() || big_segments::has_memberships(b, prefix).await?)
}

/// Write `,"bigSegments":{…}` (the member and the comma before it; the caller closes the top-level
/// object). The memberships are read from the store a page at a time and written as they come.
/// `pretty`: one line per field and per membership, indented as `serde_json`'s pretty printer does.
pub fn write_member(out: &mut dyn Write, b: &dyn BigSegmentStore, prefix: &str, pretty: bool) -> Result<()> {
    let metadata = big_segments::wait(b.metadata(prefix))?;
    let (nl, i1, i2, i3, colon) = if pretty { ("\n", "  ", "    ", "      ", ": ") } else { ("", "", "", "", ":") };
    write!(out, ",{nl}{i1}\"{MEMBER}\"{colon}{{{nl}")?;
    for (name, value) in [("synchronizedOn", &metadata.synchronized_on), ("cursor", &metadata.cursor)] {
        write!(out, "{i2}\"{name}\"{colon}")?;
        serde_json::to_writer(&mut *out, value)?;
        write!(out, ",{nl}")?;
    }
    write!(out, "{i2}\"memberships\"{colon}{{")?;
    // The store is read on a thread of its own (a membership visitor must be `Send`, the output
    // need not be), handing over 64 KiB pieces through a channel of a few: memory stays bounded, and
    // a reader that stops (a write error) stops the read.
    let handle = tokio::runtime::Handle::current();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
    let first = std::thread::scope(|scope| -> Result<bool> {
        let reader = scope.spawn(move || -> Result<bool> {
            let mut buf: Vec<u8> = Vec::with_capacity(PIECE + 512);
            let mut first = true;
            handle.block_on(b.read_memberships(prefix, &mut |hash, m| {
                if m.is_empty() {
                    return Ok(());
                }
                if !first {
                    buf.push(b',');
                }
                first = false;
                write!(buf, "{nl}{i3}")?;
                serde_json::to_writer(&mut buf, &hash)?;
                buf.extend_from_slice(colon.as_bytes());
                serde_json::to_writer(&mut buf, &m)?;
                if buf.len() >= PIECE {
                    tx.send(std::mem::replace(&mut buf, Vec::with_capacity(PIECE + 512)))
                        .map_err(|_| anyhow::anyhow!("the output was closed"))?;
                }
                Ok(())
            }))?;
            if !buf.is_empty() {
                tx.send(buf).map_err(|_| anyhow::anyhow!("the output was closed"))?;
            }
            Ok(first)
        });
        let written = tokio::task::block_in_place(|| -> std::io::Result<()> {
            for piece in &rx {
                out.write_all(&piece)?;
            }
            Ok(())
        });
        drop(rx);
        let read = reader.join().map_err(|_| anyhow::anyhow!("reading the Big Segments memberships failed"))?;
        written?;
        read
    })?;
    if !first {
        write!(out, "{nl}{i2}")?;
    }
    write!(out, "}}{nl}{i1}}}")?;
    Ok(())
}

/// What a check of a file's Big Segments part found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub contexts: u64,
}

/// Where the memberships read go: nowhere (a check), or a destination being replaced.
struct Reader<'a, 'r> {
    replace: Option<&'r mut Replace<'a>>,
    metadata: Metadata,
    found: Option<Found>,
    /// The store's error that stopped the read (the parser's error then only says "stopped").
    failed: Option<anyhow::Error>,
    /// Inside the `bigSegments` member (so an error there is the Big Segments part's).
    inside: bool,
    /// The context hashes read, when checking (16 bytes each, [`big_segments::short_key`]): a
    /// hash given twice is refused, as a flag key given twice is; a restore is always checked
    /// first, so it keeps none.
    seen: Option<std::collections::HashSet<u128>>,
    /// Of those, the ones whose membership is empty (a restore writes nothing for them).
    empty: Vec<u128>,
}

impl<'a, 'r> Reader<'a, 'r> {
    fn new(replace: Option<&'r mut Replace<'a>>) -> Reader<'a, 'r> {
        let seen = replace.is_none().then(std::collections::HashSet::new);
        Reader {
            replace,
            metadata: Metadata::default(),
            found: None,
            failed: None,
            inside: false,
            seen,
            empty: Vec::new(),
        }
    }
}

/// Read the file's `bigSegments` member (streamed), giving each membership to `reader`.
fn read(path: &Path, reader: &mut Reader<'_, '_>) -> Result<()> {
    // Only a regular file read as JSON may hold one (a pipe or device can be read only once, by
    // the flag file reader).
    if !crate::source::file::is_json_file(path) {
        return Ok(());
    }
    use std::io::Seek;
    let cannot_read = |e: std::io::Error| UsageError::new(format!("cannot read flag file {}: {e}", path.display()));
    let mut file = std::fs::File::open(path).map_err(cannot_read)?;
    if !may_hold_part(&mut file).map_err(cannot_read)? {
        return Ok(());
    }
    file.rewind().map_err(cannot_read)?;
    read_from(BufReader::with_capacity(1 << 16, file), &path.display().to_string(), reader)
}

/// Whether JSON text may have a member named `bigSegments` anywhere: only if it holds that name
/// written plainly (`"bigSegments"`), or a `\u` escape somewhere, the only way to escape one of
/// its letters. Searched a piece at a time (memchr's `memmem`) before the exact read, which goes
/// through serde_json a byte at a time: measured on a 10k-flag file (13 MB) without the part,
/// read whole (`sync` from a `.txt` name), that read was about 60 ms of a 160 ms sync.
fn may_hold_part(mut input: impl std::io::Read) -> std::io::Result<bool> {
    let name = format!("\"{MEMBER}\"");
    let needles = [memchr::memmem::Finder::new(name.as_bytes()), memchr::memmem::Finder::new(b"\\u")];
    let overlap = name.len() - 1;
    let mut buf = vec![0u8; 1 << 20];
    let mut kept = 0;
    loop {
        let n = match input.read(&mut buf[kept..]) {
            Ok(0) => return Ok(false),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let end = kept + n;
        if needles.iter().any(|f| f.find(&buf[..end]).is_some()) {
            return Ok(true);
        }
        // A name cut by the end of this piece is found whole in the next.
        kept = overlap.min(end);
        buf.copy_within(end - kept..end, 0);
    }
}

/// [`read`] of a reader (`name`: the file, for messages).
fn read_from(input: impl std::io::Read, name: &str, reader: &mut Reader<'_, '_>) -> Result<()> {
    let mut de = serde_json::Deserializer::from_reader(input);
    let parsed = Top(reader).deserialize(&mut de).and_then(|()| de.end());
    if let Some(e) = reader.failed.take() {
        return Err(e);
    }
    match parsed {
        Ok(()) => Ok(()),
        // What is wrong elsewhere in the file is the flag file reader's to report.
        Err(_) if !reader.inside => Ok(()),
        Err(e) => {
            Err(SourceError::Malformed { source_name: name.to_string(), reason: format!("\"{MEMBER}\": {e}") }.into())
        }
    }
}

/// A check of the Big Segments part of JSON text (the fuzz target's entry): what [`check`] gives
/// for a file holding it, with the metadata read.
#[cfg(any(test, feature = "fuzz"))]
pub(crate) fn check_bytes(text: &[u8]) -> Result<Option<(Found, Metadata)>> {
    let mut r = Reader::new(None);
    read_from(text, "input", &mut r)?;
    Ok(r.found.map(|f| (f, r.metadata)))
}

struct Top<'x, 'a, 'r>(&'x mut Reader<'a, 'r>);

impl<'de> DeserializeSeed<'de> for Top<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(name) = map.next_key::<String>()? {
            if name == MEMBER {
                self.0.inside = true;
                if self.0.found.is_some() {
                    return Err(de::Error::custom("given twice"));
                }
                self.0.found = Some(Found { contexts: 0 });
                map.next_value_seed(Part(&mut *self.0))?;
                self.0.inside = false;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct Part<'x, 'a, 'r>(&'x mut Reader<'a, 'r>);

impl<'de> DeserializeSeed<'de> for Part<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

/// `synchronizedOn` / `cursor`: text (a number is taken as its decimal text), or null.
fn text_or_null<E: de::Error>(name: &str, v: serde_json::Value) -> Result<Option<String>, E> {
    match v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) => Ok(Some(s)),
        serde_json::Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(E::custom(format!("\"{name}\" must be a string or null, not {other}"))),
    }
}

impl<'de> Visitor<'de> for Part<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object with synchronizedOn, cursor and memberships")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen: Vec<String> = Vec::new();
        while let Some(name) = map.next_key::<String>()? {
            // A field given twice would mean two answers (two lists of memberships both restored,
            // where a JSON reader keeps the last): refused, as the part given twice is.
            if seen.contains(&name) {
                return Err(de::Error::custom(format!("\"{name}\" given twice")));
            }
            seen.push(name.clone());
            match name.as_str() {
                "synchronizedOn" => {
                    self.0.metadata.synchronized_on = text_or_null(&name, map.next_value()?)?;
                    if let Err(why) = self.0.metadata.synchronized_on_ms() {
                        return Err(de::Error::custom(why));
                    }
                }
                "cursor" => self.0.metadata.cursor = text_or_null(&name, map.next_value()?)?,
                "memberships" => map.next_value_seed(Memberships(&mut *self.0))?,
                other => return Err(de::Error::custom(format!("unknown field \"{other}\""))),
            }
        }
        Ok(())
    }
}

struct Memberships<'x, 'a, 'r>(&'x mut Reader<'a, 'r>);

impl<'de> DeserializeSeed<'de> for Memberships<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

/// One membership as the file holds it: both lists of refs (either may be left out).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMembership {
    #[serde(default)]
    included: Vec<String>,
    #[serde(default)]
    excluded: Vec<String>,
}

impl<'de> Visitor<'de> for Memberships<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object of context hash -> {included, excluded}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(hash) = map.next_key::<String>()? {
            let m: FileMembership =
                map.next_value().map_err(|e| de::Error::custom(format!("memberships \"{hash}\": {e}")))?;
            if hash.is_empty() {
                return Err(de::Error::custom("memberships: an empty context hash"));
            }
            if let Some(seen) = &mut self.0.seen {
                let key = big_segments::short_key(&hash);
                if !seen.insert(key) {
                    return Err(de::Error::custom(format!("memberships: the context hash \"{hash}\" is given twice")));
                }
                if m.included.is_empty() && m.excluded.is_empty() {
                    self.0.empty.push(key);
                }
            }
            if let Some(f) = &mut self.0.found {
                f.contexts += 1;
            }
            if let Some(replace) = self.0.replace.as_deref_mut()
                && let Err(e) = replace.push(hash, Membership::new(m.included, m.excluded))
            {
                self.0.failed = Some(e.into());
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// Read a flag file's Big Segments part without writing anything: what is wrong with it, or how
/// many memberships it holds (`None`: no such part). Streamed.
pub async fn check(path: &Path) -> Result<Option<Found>> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || check_blocking(&path)).await?
}

/// [`check`] on the calling thread.
pub fn check_blocking(path: &Path) -> Result<Option<Found>> {
    let mut r = Reader::new(None);
    read(path, &mut r)?;
    Ok(r.found)
}

/// What [`restore`] would do, read without writing (a dry run): the file's part checked (the same
/// errors), then the destination's context keys read. `None`: the file has no Big Segments part.
/// Keeps 16 bytes per context of the file.
pub async fn plan(path: &Path, store: &dyn Store, prefix: &str) -> Result<Option<Plan>> {
    let owned = path.to_path_buf();
    let read = tokio::task::spawn_blocking(move || -> Result<_> {
        let mut r = Reader::new(None);
        read(&owned, &mut r)?;
        Ok((r.found, r.metadata, r.seen.unwrap_or_default(), r.empty))
    });
    let (found, metadata, mut written, empty) = read.await??;
    refuse_unholdable(store, path, found)?;
    let Some(dst) = store.big_segments() else { return Ok(None) };
    if found.is_none() {
        return Ok(None);
    }
    for key in &empty {
        written.remove(key);
    }
    let removed = big_segments::removed_by(dst, prefix, &written).await?;
    Ok(Some(Plan { contexts: written.len() as u64, removed, metadata }))
}

/// The refusal for a file with Big Segments data and a store that holds none (Consul), before
/// anything is written.
pub fn refuse_unholdable(store: &dyn Store, path: &Path, found: Option<Found>) -> Result<()> {
    if found.is_some() && store.big_segments().is_none() {
        return Err(UsageError::new(format!(
            "{} holds no Big Segments, and {} has Big Segments data (\"{MEMBER}\"): nothing was written",
            store.backend(),
            path.display()
        ))
        .hint(format!("remove the \"{MEMBER}\" member to sync the flag data alone"))
        .into());
    }
    Ok(())
}

/// Make the prefix's Big Segments equal the file's (memberships replaced, contexts the file does
/// not hold removed, then the metadata): `None` when the file has no Big Segments part (nothing is
/// touched). Streamed: a few batches in memory plus 16 bytes per context (see [`Replace`]).
pub async fn restore(
    path: &Path,
    store: &dyn Store,
    prefix: &str,
    progress: &dyn Progress,
    shutdown: &crate::shutdown::Shutdown,
) -> Result<Option<CopyReport>> {
    let Some(dst) = store.big_segments() else { return Ok(None) };
    let mut replace = Replace::start(dst, prefix, progress, shutdown).await?;
    let mut r = Reader::new(Some(&mut replace));
    progress.message("restoring Big Segments");
    tokio::task::block_in_place(|| read(path, &mut r))?;
    let (found, metadata) = (r.found, r.metadata);
    if found.is_none() {
        return Ok(None);
    }
    let (contexts, removed) = replace.finish(&metadata).await?;
    Ok(Some(CopyReport { contexts, removed, metadata }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_text_that_may_name_the_part_is_read_exactly() {
        let may = |t: &[u8]| may_hold_part(t).unwrap();
        assert!(may(br#"{"flags":{},"bigSegments":{}}"#));
        // Escaping any letter of the name takes a \u escape: any \u sends the text to the exact read.
        assert!(may(br#"{"flags":{},"\u0062igSegments":{}}"#));
        assert!(may(br#"{"flags":{"a":{"key":"a","description":"caf\u00e9"}}}"#));
        assert!(!may(br#"{"flags":{"a":{"key":"big-segments","x":"\n\t\"\/"}},"segments":{}}"#));
        // The name anywhere (here a key) is enough to read exactly.
        assert!(may(br#"{"flags":{"a":{"key":"bigSegments"}}}"#));
        assert!(!may(b""));
        // The name cut by the end of a 1 MiB piece.
        for cut in [1, 6, 12] {
            let mut text = vec![b' '; (1 << 20) - cut];
            text.extend_from_slice(br#""bigSegments":{}"#);
            assert!(may(&text), "{cut}");
        }
        // Read a few bytes at a time.
        struct Trickle<'a>(&'a [u8]);
        impl std::io::Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(3);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        assert!(may_hold_part(Trickle(br#"{"flags":{},"bigSegments":{}}"#)).unwrap());
        assert!(!may_hold_part(Trickle(br#"{"flags":{},"big_segments":{}}"#)).unwrap());
    }

    async fn check_text(name: &str, text: &str) -> Result<Option<Found>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        check(&path).await
    }

    /// The Big Segments part is read and checked on its own: what is wrong in it is named (exit 4),
    /// what is wrong elsewhere is left to the flag file reader, a file without it has none.
    #[tokio::test]
    async fn the_big_segments_part_is_checked() {
        let ok = r#"{"flags":{},"bigSegments":{"synchronizedOn":17,"cursor":null,"memberships":{"h1":{"included":["a.g1"]},"h2":{"excluded":[]}}},"segments":{}}"#;
        assert_eq!(check_text("d.json", ok).await.unwrap(), Some(Found { contexts: 2 }));
        assert_eq!(check_text("d", ok).await.unwrap(), Some(Found { contexts: 2 }), "JSON by its first character");
        assert_eq!(check_text("d.yaml", ok).await.unwrap(), None, "YAML holds none");
        assert_eq!(check_text("d.json", r#"{"flags":{}}"#).await.unwrap(), None);
        assert_eq!(check_text("d.json", r#"{"flags":{"#).await.unwrap(), None, "the flag reader's to report");
        for (text, want) in [
            (r#"{"bigSegments":{"synchronizedOn":"soon"}}"#, "is not a Unix time in milliseconds"),
            (r#"{"bigSegments":{"cursor":[1]}}"#, "\"cursor\" must be a string or null"),
            (r#"{"bigSegments":{"memberships":{"h":{"included":"a.g1"}}}}"#, "memberships \"h\""),
            (r#"{"bigSegments":{"memberships":{"h":{"other":[]}}}}"#, "unknown field"),
            (r#"{"bigSegments":{"extra":1}}"#, "unknown field \"extra\""),
            (r#"{"bigSegments":{},"bigSegments":{}}"#, "given twice"),
            (r#"{"bigSegments":{"memberships":{"a":{}},"memberships":{"b":{}}}}"#, "\"memberships\" given twice"),
            (r#"{"bigSegments":{"cursor":"1","cursor":"2"}}"#, "\"cursor\" given twice"),
            (
                r#"{"bigSegments":{"memberships":{"h":{"included":["a.g1"]},"h2":{},"h":{"excluded":["a.g1"]}}}}"#,
                "memberships: the context hash \"h\" is given twice",
            ),
            (r#"{"bigSegments":{"memberships":{"h":{"included":[]}"#, "EOF"),
        ] {
            let e = check_text("d.json", text).await.unwrap_err();
            let line = crate::exit::chain_text(&e);
            assert!(line.contains("\"bigSegments\"") && line.contains(want), "{text}: {line}");
            assert_eq!(crate::exit::code_for(&e, crate::CLASSIFIED), crate::exit::SOURCE, "{line}");
        }
    }
}
