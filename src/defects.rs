//! Items the SDKs cannot parse although ldstore can carry them: duplicate members in an object
//! (at any depth), a `version` written as `3.0`, `1e2` or `-0`, a number too large for a double
//! (`1e400`), a lone UTF-16 surrogate escape (`\ud800`) in a string, a live item without a string
//! `key`. `sync` refuses a source holding any (exit 4, each named) unless `--force`.
//!
//! Two levels: the one-pass scanner ([`crate::json_scan`]) vouches for ordinary items at no extra
//! cost; what it leaves (rare) goes through [`text_defects`], which walks the text precisely and
//! says what is wrong and where. The official evaluator's model parse is never run here (too slow
//! for every item of a sync).

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;

use crate::data::{DataSet, Item, Kind};
use crate::secrets;
use crate::source::SourceError;

/// At most this many defects are named per item.
const MAX_PER_ITEM: usize = 3;
/// At most this many items are named when a source is refused.
pub const MAX_NAMED: usize = 10;

/// An item the SDKs cannot parse, and why (one phrase per defect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defective {
    pub kind: Kind,
    pub key: String,
    pub defects: Vec<String>,
}

impl std::fmt::Display for Defective {
    /// `flags "a": duplicate member "on"; …`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}: {}", self.kind, self.key, self.defects.join("; "))
    }
}

/// Why the SDKs cannot parse `item` (empty when they can, as far as its text goes).
pub fn item_defects(item: &Item) -> Vec<String> {
    if crate::json_scan::item_facts(&item.json).is_some() {
        return Vec::new();
    }
    text_defects(&item.json, item.deleted)
}

/// Every item of `data` the SDKs cannot parse, flags first, each kind in key order.
pub fn data_set_defects(data: &DataSet) -> Vec<Defective> {
    let mut out = Vec::new();
    for kind in Kind::ALL {
        for item in data.items(kind).values() {
            let defects = item_defects(item);
            if !defects.is_empty() {
                out.push(Defective { kind, key: item.key.clone(), defects });
            }
        }
    }
    out
}

/// `sync`'s rule for a data set it is about to write: when it holds items the SDKs cannot parse,
/// name them on stderr (the first [`MAX_NAMED`], then how many more) and refuse it, unless `force`,
/// which lets them be written with a warning for each (not shown when `quiet`). `context` starts
/// each line (an environment's name, or nothing).
pub fn refuse_unparseable(
    data: &DataSet,
    force: bool,
    quiet: bool,
    source_name: &str,
    context: &str,
) -> Result<(), SourceError> {
    let found = data_set_defects(data);
    if found.is_empty() {
        return Ok(());
    }
    if force {
        if !quiet {
            for d in &found {
                crate::stderr_line!(
                    "{}",
                    secrets::mask(&format!("ldstore: warning: {context}writing anyway (--force): {d}"))
                );
            }
        }
        return Ok(());
    }
    for d in found.iter().take(MAX_NAMED) {
        crate::stderr_line!("{}", secrets::mask(&format!("ldstore: {context}{d}")));
    }
    if found.len() > MAX_NAMED {
        crate::stderr_line!("ldstore: {context}… and {} more", found.len() - MAX_NAMED);
    }
    Err(SourceError::Unparseable { source_name: source_name.to_string(), count: found.len() })
}

/// One segment of the path to a value.
enum Segment<'a> {
    Member(Cow<'a, str>),
    Index(usize),
}

/// An open object (the names of its members so far) or array (how many elements so far).
enum Open<'a> {
    Object(HashSet<Cow<'a, str>>),
    Array(usize),
}

/// The precise check of an item's JSON text (valid JSON, as the item parse already found): each
/// defect with where it is. `deleted`: the item is a tombstone (which needs no `key`).
pub fn text_defects(json: &str, deleted: bool) -> Vec<String> {
    let mut w = Walk { s: json, b: json.as_bytes(), i: 0, path: Vec::new(), open: Vec::new(), found: Vec::new() };
    let top = w.run();
    let mut found = w.found;
    match top {
        None => found.push("not valid JSON".into()),
        Some(top) => {
            if let Some(v) = top.version.filter(|v| !v.bytes().all(|c| c.is_ascii_digit())) {
                found.push(format!("\"version\" is written {v}, not as an integer"));
            }
            if !deleted {
                match top.key {
                    None => found.push("no \"key\" (a live item needs one)".into()),
                    Some(false) => found.push("\"key\" is not a string".into()),
                    Some(true) => {}
                }
            }
        }
    }
    let mut seen = HashSet::new();
    found.retain(|d| seen.insert(d.clone()));
    found.truncate(MAX_PER_ITEM);
    found
}

/// What the walk found among the top-level members.
#[derive(Default)]
struct Top<'a> {
    /// The text of `version` when it is a number.
    version: Option<&'a str>,
    /// Whether `key` is a string, when present.
    key: Option<bool>,
}

/// `rules[0].clauses[1]`.
fn path_text(path: &[Segment]) -> String {
    let mut p = String::new();
    for seg in path {
        match seg {
            Segment::Member(name) => {
                if !p.is_empty() {
                    p.push('.');
                }
                p.push_str(name);
            }
            Segment::Index(n) => {
                let _ = write!(p, "[{n}]");
            }
        }
    }
    p
}

struct Walk<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    path: Vec<Segment<'a>>,
    open: Vec<Open<'a>>,
    found: Vec<String>,
}

impl<'a> Walk<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// Where the value being read is, for messages: ` (at rules[0].clauses[1])`, or nothing at the
    /// item's top level.
    fn at(&self) -> String {
        let p = path_text(&self.path);
        if p.is_empty() { p } else { format!(" (at {p})") }
    }

    /// Where the object whose member name is being read is: ` (in rules[0])`, or nothing.
    fn in_object(&self) -> String {
        let p = path_text(&self.path);
        if p.is_empty() { p } else { format!(" (in {p})") }
    }

    /// At an opening quote: the string, unescaped when it has escapes (as written when one of them
    /// is a lone surrogate, which is reported as found `in_what`).
    fn string(&mut self, in_what: &dyn Fn(&Walk) -> String) -> Option<Cow<'a, str>> {
        let start = self.i;
        self.i += 1;
        let mut escaped = false;
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    break;
                }
                b'\\' => {
                    escaped = true;
                    self.i += 1;
                    if self.peek()? == b'u' {
                        let unit = |w: &Walk, from: usize| -> Option<u16> {
                            let hex = w.s.get(from..from + 4)?;
                            u16::from_str_radix(hex, 16).ok()
                        };
                        let u = unit(self, self.i + 1)?;
                        let mut end = self.i + 5;
                        let lone = match u {
                            0xD800..=0xDBFF => {
                                let low = self.b.get(end..end + 2) == Some(b"\\u")
                                    && unit(self, end + 2).is_some_and(|l| (0xDC00..=0xDFFF).contains(&l));
                                if low {
                                    end += 6;
                                }
                                !low
                            }
                            0xDC00..=0xDFFF => true,
                            _ => false,
                        };
                        if lone {
                            let text = &self.s[self.i - 1..self.i + 5];
                            let msg = format!("lone surrogate {text}{}", in_what(self));
                            self.found.push(msg);
                        }
                        self.i = end;
                    } else {
                        self.i += 1;
                    }
                }
                c if c < 0x20 => return None,
                _ => self.i += 1,
            }
        }
        let raw = &self.s[start..self.i];
        Some(if !escaped {
            Cow::Borrowed(&raw[1..raw.len() - 1])
        } else {
            serde_json::from_str::<String>(raw).map_or(Cow::Borrowed(raw), Cow::Owned)
        })
    }

    /// A number (its text).
    fn number(&mut self) -> Option<&'a str> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let digits = |w: &mut Walk| {
            let from = w.i;
            while let Some(b'0'..=b'9') = w.peek() {
                w.i += 1;
            }
            w.i - from
        };
        if digits(self) == 0 {
            return None;
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            digits(self);
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            digits(self);
        }
        let text = &self.s[start..self.i];
        // serde_json (and so the Rust evaluator) refuses a number that overflows a double.
        if serde_json::from_str::<f64>(text).is_err() {
            let msg = format!("number {text} is out of range{}", self.at());
            self.found.push(msg);
        }
        Some(text)
    }

    /// A member name (recorded in the innermost object, a duplicate reported), then the `:`.
    fn name(&mut self) -> Option<()> {
        if self.peek()? != b'"' {
            return None;
        }
        let name = self.string(&|w| format!(" in a member name{}", w.in_object()))?;
        let Some(Open::Object(names)) = self.open.last_mut() else { return None };
        if !names.insert(name.clone()) {
            let msg = format!("duplicate member {:?}{}", name.as_ref(), self.in_object());
            self.found.push(msg);
        }
        self.path.push(Segment::Member(name));
        self.ws();
        self.eat(b':')?;
        self.ws();
        Some(())
    }

    fn run(&mut self) -> Option<Top<'a>> {
        let mut top = Top::default();
        self.ws();
        if self.peek()? != b'{' {
            return None;
        }
        loop {
            // A value starts here.
            self.ws();
            let depth = self.open.len();
            let member = match self.path.last() {
                Some(Segment::Member(n)) if depth == 1 => Some(n.clone()),
                _ => None,
            };
            if member.as_deref() == Some("key") {
                top.key = Some(self.peek()? == b'"');
            }
            match self.peek()? {
                b'{' => {
                    self.i += 1;
                    self.ws();
                    if self.peek()? == b'}' {
                        self.i += 1;
                    } else {
                        self.open.push(Open::Object(HashSet::new()));
                        self.name()?;
                        continue;
                    }
                }
                b'[' => {
                    self.i += 1;
                    self.ws();
                    if self.peek()? == b']' {
                        self.i += 1;
                    } else {
                        self.open.push(Open::Array(0));
                        self.path.push(Segment::Index(0));
                        continue;
                    }
                }
                b'"' => {
                    self.string(&|w| format!(" in a string{}", w.at()))?;
                }
                b't' | b'f' | b'n' => {
                    let lit: &[u8] = match self.peek()? {
                        b't' => b"true",
                        b'f' => b"false",
                        _ => b"null",
                    };
                    if self.b.get(self.i..self.i + lit.len()) != Some(lit) {
                        return None;
                    }
                    self.i += lit.len();
                }
                _ => {
                    let text = self.number()?;
                    if member.as_deref() == Some("version") {
                        top.version = Some(text);
                    }
                }
            }
            // The value ended: close what it ended, up to the next value.
            loop {
                self.ws();
                let c = self.peek();
                let Some(open) = self.open.last_mut() else {
                    return (c.is_none()).then_some(top);
                };
                match (c?, open) {
                    (b',', Open::Object(_)) => {
                        self.i += 1;
                        self.ws();
                        self.path.pop();
                        self.name()?;
                        break;
                    }
                    (b',', Open::Array(n)) => {
                        self.i += 1;
                        *n += 1;
                        let n = *n;
                        self.path.pop();
                        self.path.push(Segment::Index(n));
                        break;
                    }
                    (b'}', Open::Object(_)) | (b']', Open::Array(_)) => {
                        self.i += 1;
                        self.open.pop();
                        self.path.pop();
                    }
                    _ => return None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defects(json: &str) -> Vec<String> {
        text_defects(json, false)
    }

    #[test]
    fn each_defect_is_named_with_where_it_is() {
        let cases: &[(&str, &[&str])] = &[
            (r#"{"key":"a","version":1,"on":false,"on":true}"#, &[r#"duplicate member "on""#]),
            (
                r#"{"key":"a","version":1,"rules":[{"id":"r"},{"id":"r","clauses":[{"op":"in","op":"in"}]}]}"#,
                &[r#"duplicate member "op" (in rules[1].clauses[0])"#],
            ),
            (r#"{"key":"a","version":1,"x":{"\u0061":1,"a":2}}"#, &[r#"duplicate member "a" (in x)"#]),
            (r#"{"key":"a","version":3.0}"#, &[r#""version" is written 3.0, not as an integer"#]),
            (r#"{"key":"a","version":1e2}"#, &[r#""version" is written 1e2, not as an integer"#]),
            (r#"{"key":"a","version":-0}"#, &[r#""version" is written -0, not as an integer"#]),
            (r#"{"key":"a","version":1,"variations":[1,1e400]}"#, &["number 1e400 is out of range (at variations[1])"]),
            (r#"{"key":"a","version":1,"x":-1E+400}"#, &["number -1E+400 is out of range (at x)"]),
            (r#"{"key":"a","version":1,"salt":"x\ud800y"}"#, &[r#"lone surrogate \ud800 in a string (at salt)"#]),
            (r#"{"key":"a","version":1,"v":["\uDC00"]}"#, &[r#"lone surrogate \uDC00 in a string (at v[0])"#]),
            (r#"{"key":"a","version":1,"v":"\ud800\u0041"}"#, &[r#"lone surrogate \ud800 in a string (at v)"#]),
            (r#"{"version":1}"#, &[r#"no "key" (a live item needs one)"#]),
            (r#"{"version":1,"key":5}"#, &[r#""key" is not a string"#]),
            (r#"{"version":1,"key":null}"#, &[r#""key" is not a string"#]),
            (r#"{"version":1,"key":{"a":1}}"#, &[r#""key" is not a string"#]),
            (r#"{"version":1,"key":[]}"#, &[r#""key" is not a string"#]),
            (
                r#"{"version":2.0,"on":1,"on":2}"#,
                &[
                    r#"duplicate member "on""#,
                    r#""version" is written 2.0, not as an integer"#,
                    r#"no "key" (a live item needs one)"#,
                ],
            ),
        ];
        for (json, want) in cases {
            assert_eq!(defects(json), *want, "{json}");
        }
        // A lone surrogate in a member name.
        let d = defects(r#"{"key":"a","version":1,"x":{"\udfff":1}}"#);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d, [r#"lone surrogate \udfff in a member name (in x)"#]);
    }

    #[test]
    fn sound_items_have_none() {
        for json in [
            r#"{"key":"a","version":7,"x":{"on":1},"y":{"on":2},"z":[{"a":1},{"a":1}]}"#,
            r#"{"key":"a","version":1,"s":"\ud83d\ude00 \u00e9","n":[1e308,-1.7e308,1e-400,0e999,12345678901234567890123]}"#,
            r#" { "key" : "\u0061" , "version" : 0 } "#,
        ] {
            assert_eq!(defects(json), Vec::<String>::new(), "{json}");
        }
        // Tombstones need no key.
        assert!(text_defects(r#"{"version":3,"deleted":true}"#, true).is_empty());
        assert_eq!(text_defects(r#"{"version":3,"deleted":true,"a":1,"a":1}"#, true), [r#"duplicate member "a""#]);
    }
}
