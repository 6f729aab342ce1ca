//! One pass over JSON text that validates it as strictly as serde_json does, finds the routing
//! facts at the top level of an item (`version`, `deleted`, prerequisite keys) and, for flag
//! files, where the insignificant whitespace is, so items can be copied out minified.
//!
//! Every function answers `None` when the text is invalid or merely unusual (escaped property
//! names, a non-integer version, duplicate routing properties, ...): the caller then takes the
//! serde path, which gives the same result or the same error as before. So this module only has
//! to be right about what it accepts.

use crate::data::Kind;

/// Facts at an item's top level, before the kind rules (tombstones and segments have no
/// prerequisites) are applied.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct RawFacts {
    pub version: Option<u64>,
    pub deleted: bool,
    pub prerequisites: Vec<String>,
}

/// Bytes that end the fast run through a string: `"`, `\` and control characters.
static STRING_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

struct Scanner<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    /// Open arrays and objects of [`Scanner::value`].
    stack: Vec<u8>,
    /// Whitespace runs `(start, end)` skipped while `recording`.
    gaps: Vec<(usize, usize)>,
    recording: bool,
}

impl<'a> Scanner<'a> {
    fn new(s: &'a str) -> Scanner<'a> {
        Scanner { s, b: s.as_bytes(), i: 0, stack: Vec::new(), gaps: Vec::new(), recording: false }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn ws(&mut self) {
        let start = self.i;
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
        if self.recording && self.i > start {
            self.gaps.push((start, self.i));
        }
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    fn literal(&mut self, lit: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + lit.len()) == Some(lit) {
            self.i += lit.len();
            Some(())
        } else {
            None
        }
    }

    /// Skip string bytes up to the next `"`, `\\` or control character, eight bytes at a time.
    #[inline]
    fn skip_plain(&mut self) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        while let Some(chunk) = self.b.get(self.i..self.i + 8) {
            let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            let quote = w ^ (ONES * b'"' as u64);
            let backslash = w ^ (ONES * b'\\' as u64);
            // The lowest flagged byte is exact: a zero byte (or one below 0x20) sets its high bit.
            let hit = ((quote.wrapping_sub(ONES) & !quote)
                | (backslash.wrapping_sub(ONES) & !backslash)
                | (w.wrapping_sub(ONES * 0x20) & !w))
                & HIGH;
            if hit != 0 {
                self.i += (hit.trailing_zeros() / 8) as usize;
                return;
            }
            self.i += 8;
        }
        while let Some(&c) = self.b.get(self.i) {
            if STRING_STOP[c as usize] {
                break;
            }
            self.i += 1;
        }
    }

    /// At an opening quote: skip the string; whether it holds escapes.
    #[inline]
    fn string(&mut self) -> Option<bool> {
        self.i += 1;
        let mut escaped = false;
        loop {
            self.skip_plain();
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(escaped);
                }
                b'\\' => {
                    escaped = true;
                    self.i += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
                        b'u' => {
                            let hex = self.b.get(self.i + 1..self.i + 5)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.i += 5;
                        }
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
    }

    /// At an opening quote: the string's content when it has no escapes.
    #[inline]
    /// An object member's name and the `:` after it (with the whitespace around it).
    fn member_name(&mut self) -> Option<&'a str> {
        if self.peek()? != b'"' {
            return None;
        }
        let name = self.plain_string()?;
        self.ws();
        self.eat(b':')?;
        self.ws();
        Some(name)
    }

    fn plain_string(&mut self) -> Option<&'a str> {
        let start = self.i + 1;
        if self.string()? {
            return None;
        }
        Some(&self.s[start..self.i - 1])
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.b.get(self.i) {
            self.i += 1;
        }
        self.i - start
    }

    /// The number grammar serde_json accepts.
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => {
                self.i += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return None;
                }
            }
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(())
    }

    /// `"name"` then `:` (whitespace skipped after), at an opening quote or failing.
    #[inline]
    fn skip_key(&mut self) -> Option<()> {
        if self.peek()? != b'"' {
            return None;
        }
        self.string()?;
        self.ws();
        self.eat(b':')?;
        self.ws();
        Some(())
    }

    /// Skip one value of any type (iteratively: no depth limit, as serde's skipping).
    fn value(&mut self) -> Option<()> {
        let base = self.stack.len();
        loop {
            match self.peek()? {
                b'{' => {
                    self.i += 1;
                    self.ws();
                    if self.peek()? == b'}' {
                        self.i += 1;
                    } else {
                        self.stack.push(b'{');
                        self.skip_key()?;
                        continue;
                    }
                }
                b'[' => {
                    self.i += 1;
                    self.ws();
                    if self.peek()? == b']' {
                        self.i += 1;
                    } else {
                        self.stack.push(b'[');
                        continue;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return None,
            }
            // A value ended: close what it ended, up to the next value.
            loop {
                if self.stack.len() == base {
                    return Some(());
                }
                let open = self.stack[self.stack.len() - 1];
                self.ws();
                match (self.peek()?, open) {
                    (b',', _) => {
                        self.i += 1;
                        self.ws();
                        if open == b'{' {
                            self.skip_key()?;
                        }
                        break;
                    }
                    (b'}', b'{') | (b']', b'[') => {
                        self.i += 1;
                        self.stack.pop();
                    }
                    _ => return None,
                }
            }
        }
    }

    /// After a member of an object: `,` (true) or `}` (false).
    #[inline]
    fn next_member(&mut self, close: u8) -> Option<bool> {
        self.ws();
        match self.peek()? {
            b',' => {
                self.i += 1;
                self.ws();
                Some(true)
            }
            c if c == close => {
                self.i += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// An item object, at its `{`.
    fn item(&mut self) -> Option<RawFacts> {
        if self.peek()? != b'{' {
            return None;
        }
        self.i += 1;
        self.ws();
        let mut f = RawFacts::default();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(f);
        }
        let (mut version, mut deleted, mut prerequisites) = (false, false, false);
        loop {
            let name = self.member_name()?;
            match name {
                "version" => {
                    if std::mem::replace(&mut version, true) {
                        return None;
                    }
                    let start = self.i;
                    self.number()?;
                    let token = &self.s[start..self.i];
                    if !token.bytes().all(|c| c.is_ascii_digit()) {
                        return None;
                    }
                    f.version = Some(token.parse().ok()?);
                }
                "deleted" => {
                    if std::mem::replace(&mut deleted, true) {
                        return None;
                    }
                    match self.peek()? {
                        b't' => {
                            self.literal(b"true")?;
                            f.deleted = true;
                        }
                        b'f' => self.literal(b"false")?,
                        _ => return None,
                    }
                }
                "prerequisites" => {
                    if std::mem::replace(&mut prerequisites, true) {
                        return None;
                    }
                    self.prerequisites(&mut f.prerequisites)?;
                }
                _ => self.value()?,
            }
            if !self.next_member(b'}')? {
                return Some(f);
            }
        }
    }

    fn prerequisites(&mut self, out: &mut Vec<String>) -> Option<()> {
        match self.peek()? {
            b'n' => return self.literal(b"null"),
            b'[' => self.i += 1,
            _ => return None,
        }
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            self.eat(b'{')?;
            self.ws();
            if self.peek()? == b'}' {
                self.i += 1;
            } else {
                let mut key = false;
                loop {
                    let name = self.member_name()?;
                    if name == "key" {
                        if std::mem::replace(&mut key, true) || self.peek()? != b'"' {
                            return None;
                        }
                        out.push(self.plain_string()?.to_string());
                    } else {
                        self.value()?;
                    }
                    if !self.next_member(b'}')? {
                        break;
                    }
                }
            }
            if !self.next_member(b']')? {
                return Some(());
            }
        }
    }

    /// Only whitespace left.
    fn at_end(&mut self) -> bool {
        self.ws();
        self.i == self.b.len()
    }
}

/// The routing facts of an item's whole JSON text, if it is a valid, ordinary item object.
pub(crate) fn item_facts(json: &str) -> Option<RawFacts> {
    let mut s = Scanner::new(json);
    s.ws();
    let f = s.item()?;
    s.at_end().then_some(f)
}

/// One item of a flag file: its key (unescaped), its JSON, its facts.
pub(crate) struct FileItem {
    pub kind: Kind,
    pub key: String,
    pub json: ItemText,
    pub facts: RawFacts,
}

/// Where an item's minified JSON is.
pub(crate) enum ItemText {
    /// `text[start..end]`: the item had no insignificant whitespace.
    Span(usize, usize),
    /// A minified copy.
    Minified(String),
}

/// A flag file's `flags` and `segments`, in file order, plus the names of other top-level
/// properties (ignored with a warning by the caller). `None` for anything but a valid JSON object
/// whose `flags`/`segments` are objects of item objects (and without `flagValues`).
pub(crate) fn flag_file(text: &str) -> Option<(Vec<FileItem>, Vec<String>)> {
    let mut s = Scanner::new(text);
    let mut items = Vec::new();
    let mut unknown = Vec::new();
    let (mut flags, mut segments) = (false, false);
    s.ws();
    s.eat(b'{')?;
    s.ws();
    if s.peek()? == b'}' {
        s.i += 1;
        return s.at_end().then_some((items, unknown));
    }
    loop {
        if s.peek()? != b'"' {
            return None;
        }
        let name = s.plain_string()?;
        s.ws();
        s.eat(b':')?;
        s.ws();
        let kind = match name {
            "flags" if !std::mem::replace(&mut flags, true) => Kind::Flags,
            "segments" if !std::mem::replace(&mut segments, true) => Kind::Segments,
            "flags" | "segments" | "flagValues" => return None,
            _ => {
                if unknown.iter().any(|u| u == name) {
                    return None;
                }
                unknown.push(name.to_string());
                s.value()?;
                if !s.next_member(b'}')? {
                    break;
                }
                continue;
            }
        };
        s.eat(b'{')?;
        s.ws();
        if s.peek()? == b'}' {
            s.i += 1;
        } else {
            loop {
                if s.peek()? != b'"' {
                    return None;
                }
                let start = s.i;
                let key = if s.string()? {
                    serde_json::from_str::<String>(&text[start..s.i]).ok()?
                } else {
                    text[start + 1..s.i - 1].to_string()
                };
                s.ws();
                s.eat(b':')?;
                s.ws();
                let (from, gaps) = (s.i, s.gaps.len());
                s.recording = true;
                let facts = s.item();
                s.recording = false;
                let facts = facts?;
                let json = if s.gaps.len() == gaps {
                    ItemText::Span(from, s.i)
                } else {
                    ItemText::Minified(minified(text, from, s.i, &s.gaps[gaps..]))
                };
                s.gaps.truncate(gaps);
                items.push(FileItem { kind, key, json, facts });
                if !s.next_member(b'}')? {
                    break;
                }
            }
        }
        if !s.next_member(b'}')? {
            break;
        }
    }
    s.at_end().then_some((items, unknown))
}

/// `text[from..to]` without the whitespace runs `gaps` (sorted, inside the range).
fn minified(text: &str, from: usize, to: usize, gaps: &[(usize, usize)]) -> String {
    let removed: usize = gaps.iter().map(|(a, b)| b - a).sum();
    let mut out = String::with_capacity(to - from - removed);
    let mut pos = from;
    for &(a, b) in gaps {
        out.push_str(&text[pos..a]);
        pos = b;
    }
    out.push_str(&text[pos..to]);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::data::{Facts, facts_serde};
    use crate::source::file::{parse_json_fast, parse_json_serde};

    /// Whatever the scanner accepts, serde accepts with the same facts; what serde rejects, the
    /// scanner leaves to serde.
    fn check_item(json: &str) {
        for kind in Kind::ALL {
            let slow = facts_serde(kind, "k", json);
            if let Some(raw) = item_facts(json) {
                assert_eq!(Ok(Facts::from_raw(kind, raw)), slow, "{json:?}");
            }
        }
    }

    fn check_file(text: &str) {
        for require_version in [false, true] {
            if let Some(fast) = parse_json_fast(text, None, require_version) {
                assert_eq!(Ok(fast), parse_json_serde(text, require_version), "{text:?}");
            }
        }
    }

    #[test]
    fn ordinary_items_are_scanned() {
        let f = item_facts(r#" {"key":"a","version":7,"deleted":false,"prerequisites":[{"key":"b","variation":0},{}],"x":[1.5e-3,{"y":null}]} "#).unwrap();
        assert_eq!(f, RawFacts { version: Some(7), deleted: false, prerequisites: vec!["b".into()] });
        assert!(item_facts(r#"{"version":3,"deleted":true}"#).unwrap().deleted);
        assert_eq!(item_facts("{}").unwrap(), RawFacts::default());
    }

    #[test]
    fn unusual_or_invalid_items_are_left_to_serde() {
        for json in [
            "",
            "[1]",
            "{",
            "{}x",
            r#"{"version":1,"version":2}"#,
            r#"{"vers\u0069on":1}"#,
            r#"{"version":1.0}"#,
            r#"{"version":-1}"#,
            r#"{"version":"1"}"#,
            r#"{"version":18446744073709551616}"#,
            r#"{"version":01}"#,
            r#"{"version":1,"deleted":"yes"}"#,
            r#"{"version":1,"prerequisites":{}}"#,
            r#"{"version":1,"prerequisites":[["a"]]}"#,
            r#"{"version":1,"prerequisites":[{"key":null}]}"#,
            r#"{"version":1,"prerequisites":[{"key":"a","key":"b"}]}"#,
            r#"{"version":1,"prerequisites":[{"key":"\u0061"}]}"#,
            r#"{"version":1,"x":[1,]}"#,
            r#"{"version":1,"x":{"a":1,}}"#,
            r#"{"version":1,"x":"\q"}"#,
            r#"{"version":1,"x":"\u12"}"#,
            "{\"version\":1,\"x\":\"a\tb\"}",
            "{\"version\":1,\"x\":1.}",
            "{\"version\":1,\"x\":-}",
            "{\"version\":1,\"x\":1e+}",
            "{\"version\":1,\"x\":tru}",
            "{\"version\":1\u{c}}",
        ] {
            assert_eq!(item_facts(json), None, "{json:?}");
            check_item(json);
        }
    }

    #[test]
    fn flag_files_minify_like_serde_path() {
        let text = "{ \"flags\" : { \"a\\u00e9\" : { \"key\" : \"a b\" ,\n \"version\" : 2 , \"v\" : [ 1.50 , \"x  y\" ] } },\r\n\t\"segments\": {}, \"meta\": {\"n\": 1} }\n";
        let d = parse_json_fast(text, None, false).unwrap();
        assert_eq!(d.flags["a\u{e9}"].json, r#"{"key":"a b","version":2,"v":[1.50,"x  y"]}"#);
        check_file(text);
        for text in [r#"{"flags":{"a":{"version":1},"a":{"version":2}}}"#, r#"{"flagValues":{"a":true}}"#, "null"] {
            assert!(parse_json_fast(text, None, false).is_none(), "{text}");
        }
    }

    /// A random JSON-like text: mostly valid, with the properties the scanner looks at, odd numbers,
    /// strings, whitespace, and (in `mutate`) random damage.
    pub(crate) fn value(r: &mut StdRng, depth: u32, out: &mut String) {
        const KEYS: [&str; 12] = [
            "version",
            "deleted",
            "prerequisites",
            "key",
            "variation",
            "flags",
            "segments",
            "flagValues",
            "a",
            "",
            "vers\\u0069on",
            "\\u0061",
        ];
        const ATOMS: [&str; 24] = [
            "0",
            "1",
            "42",
            "-1",
            "-0",
            "1.0",
            "3.0",
            "1e2",
            "1E-2",
            "01",
            "1.",
            "18446744073709551615",
            "18446744073709551616",
            "true",
            "false",
            "null",
            "\"x\"",
            "\"a b\"",
            "\"\\u00e9\"",
            "\"\\ud800\"",
            "\"\\q\"",
            "\"t\tb\"",
            "\"\\\"\"",
            "\"\\\\\"",
        ];
        let ws = |r: &mut StdRng, out: &mut String| {
            if r.random_bool(0.3) {
                out.push_str([" ", "\n", "\t", "\r", "  ", "\u{c}"][r.random_range(0..6)]);
            }
        };
        // Punctuation, now and then doubled, dropped, swapped for another, or with a comma next to
        // it (leading and trailing commas).
        let punct = |r: &mut StdRng, out: &mut String, c: char| match r.random_range(0..100) {
            0 => {}
            1 => out.extend([c, c]),
            2 => out.push([',', ':', ']', '}', '[', '{'][r.random_range(0..6)]),
            3 => out.extend([',', c]),
            4 => out.extend([c, ',']),
            _ => out.push(c),
        };
        ws(r, out);
        match if depth > 3 { 0 } else { r.random_range(0..4) } {
            0 => out.push_str(ATOMS[r.random_range(0..ATOMS.len())]),
            1 => {
                punct(r, out, '[');
                for i in 0..r.random_range(0..4) {
                    if i > 0 {
                        punct(r, out, ',');
                    }
                    value(r, depth + 1, out);
                }
                ws(r, out);
                punct(r, out, ']');
            }
            _ => {
                punct(r, out, '{');
                for i in 0..r.random_range(0..5) {
                    if i > 0 {
                        punct(r, out, ',');
                    }
                    ws(r, out);
                    let key = KEYS[r.random_range(0..KEYS.len())];
                    punct(r, out, '"');
                    out.push_str(key);
                    punct(r, out, '"');
                    ws(r, out);
                    punct(r, out, ':');
                    // Mostly the shape the scanner looks for, under the names it looks at.
                    match (key, r.random_bool(0.7)) {
                        ("version", true) => out.push_str(["1", "7", "0"][r.random_range(0..3)]),
                        ("deleted", true) => out.push_str(["true", "false"][r.random_range(0..2)]),
                        ("key", true) => out.push_str(["\"a\"", "\"b\""][r.random_range(0..2)]),
                        ("prerequisites", true) => {
                            punct(r, out, '[');
                            for j in 0..r.random_range(0..3) {
                                if j > 0 {
                                    punct(r, out, ',');
                                }
                                let mut p = String::new();
                                value(r, 3, &mut p);
                                out.push_str(if p.starts_with('{') { &p } else { r#"{"key":"p","key":"q"}"# });
                            }
                            punct(r, out, ']');
                        }
                        _ => value(r, depth + 1, out),
                    }
                }
                ws(r, out);
                punct(r, out, '}');
            }
        }
        ws(r, out);
    }

    pub(crate) fn mutate(r: &mut StdRng, text: &str) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        for _ in 0..r.random_range(0..3) {
            let at = r.random_range(0..=chars.len());
            match r.random_range(0..3) {
                0 if at < chars.len() => {
                    chars.remove(at);
                }
                _ => chars.insert(at, "{}[],:\"\\ 0e.-tnu"[..].chars().nth(r.random_range(0..16)).unwrap()),
            }
        }
        chars.into_iter().collect()
    }

    #[test]
    fn random_items_agree_with_serde() {
        let mut r = StdRng::seed_from_u64(8);
        let mut scanned = 0;
        for i in 0..30_000 {
            let mut text = String::new();
            value(&mut r, 0, &mut text);
            if i % 2 == 1 {
                text = mutate(&mut r, &text);
            }
            scanned += usize::from(item_facts(&text).is_some());
            check_item(&text);
        }
        assert!(scanned > 1_000, "{scanned}");
    }

    #[test]
    fn random_flag_files_agree_with_serde() {
        let mut r = StdRng::seed_from_u64(9);
        let mut scanned = 0;
        for i in 0..20_000 {
            let mut text = String::from("{");
            for (n, section) in ["flags", "segments", "other"].iter().enumerate() {
                if r.random_bool(0.2) {
                    continue;
                }
                if n > 0 && text.len() > 1 {
                    text.push(',');
                }
                text.push_str(&format!("\"{section}\":{{"));
                for j in 0..r.random_range(0..4) {
                    if j > 0 {
                        text.push(',');
                    }
                    text.push_str(["\"a\":", "\"b\" : ", "\"\\u0061\":", "\"c\":"][r.random_range(0..4)]);
                    value(&mut r, 1, &mut text);
                }
                text.push('}');
            }
            text.push('}');
            if i % 2 == 1 {
                text = mutate(&mut r, &text);
            }
            scanned += usize::from(parse_json_fast(&text, None, false).is_some());
            check_file(&text);
        }
        assert!(scanned > 500, "{scanned}");
    }
}
