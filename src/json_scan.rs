//! One pass over JSON text that validates it as strictly as serde_json does, finds the routing
//! facts at the top level of an item (`version`, `deleted`, prerequisite keys) and, for flag
//! files, where the insignificant whitespace is, so items can be copied out minified.
//!
//! Every function answers `None` when the text is invalid or merely unusual (escaped property
//! names, a non-integer version, duplicate routing properties, ...): the caller then takes the
//! serde path, which gives the same result or the same error as before. So this module only has
//! to be right about what it accepts.
//!
//! What it accepts is also an item the SDKs can parse, as far as the text goes (see
//! [`crate::defects`]): no object anywhere with two members of one name, no string with a lone
//! UTF-16 surrogate escape, no number too large for a double, a `version` written as an integer,
//! and a string `key` unless the item is a tombstone. These defects are rare, so they are only
//! detected cheaply here (each member name hashed and checked against a bit per name of its object,
//! its earlier names searched only when that bit is already set; `\u` escapes looked at only where
//! they occur; an exponent parsed only where there is one) and left, with anything merely
//! suspicious (two names with one hash, a number that might be out of range), to the precise check.

use std::borrow::Cow;

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

/// The member names of the open objects, innermost last, as hashes of their texts: two equal
/// hashes in one object are taken for a duplicate (the precise check then says whether they are),
/// which for different names happens about once in four billion pairs.
#[derive(Debug, Default)]
struct Names {
    hashes: Vec<u32>,
    /// The innermost open object: where its names start in `hashes`, and one bit per name (chosen
    /// by its hash), so a name whose bit is not set yet is known to be new without a search.
    from: usize,
    bits: u64,
    /// The same for the objects it is in.
    outer: Vec<(usize, u64)>,
}

impl Names {
    fn clear(&mut self) {
        self.hashes.clear();
        self.outer.clear();
        (self.from, self.bits) = (0, 0);
    }
}

/// The largest decimal exponent of a finite double is 308: a number whose integer digits plus
/// exponent stay at or below it cannot be out of range.
const MAX_MAGNITUDE: i64 = 308;

struct Scanner<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    /// Open arrays and objects of [`Scanner::value`].
    stack: Vec<u8>,
    /// Whitespace runs `(start, end)` skipped while `recording`.
    gaps: Vec<(usize, usize)>,
    recording: bool,
    names: Names,
}

impl<'a> Scanner<'a> {
    fn new(s: &'a str) -> Scanner<'a> {
        Scanner {
            s,
            b: s.as_bytes(),
            i: 0,
            stack: Vec::new(),
            gaps: Vec::new(),
            recording: false,
            names: Names::default(),
        }
    }

    /// An object opens: its member names are collected until [`Scanner::close_object`].
    #[inline]
    fn open_object(&mut self) {
        let n = &mut self.names;
        n.outer.push((n.from, n.bits));
        (n.from, n.bits) = (n.hashes.len(), 0);
    }

    /// A member name (text without escapes, `start..end`) of the innermost open object: `None`
    /// when the object already has a member of that name (or of a name with the same hash).
    #[inline(always)]
    fn record_name(&mut self, start: usize, end: usize) -> Option<()> {
        let h = name_hash(self.b, start, end);
        let n = &mut self.names;
        let bit = 1u64 << (h & 63);
        if n.bits & bit != 0 && n.hashes[n.from..].contains(&h) {
            return None;
        }
        n.bits |= bit;
        n.hashes.push(h);
        Some(())
    }

    /// The innermost open object closes.
    #[inline]
    fn close_object(&mut self) {
        let n = &mut self.names;
        n.hashes.truncate(n.from);
        (n.from, n.bits) = n.outer.pop().expect("an open object");
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline(always)]
    fn ws(&mut self) {
        // Every JSON whitespace byte is at most b' ': anything above it (or the end) is no run.
        if self.b.get(self.i).is_none_or(|&c| c > b' ') {
            return;
        }
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

    /// Skip string bytes up to the next `"`, `\\` or control character, sixteen bytes at a time
    /// (eight where SSE2 is not at hand).
    #[inline(always)]
    fn skip_plain(&mut self) {
        #[cfg(target_arch = "x86_64")]
        while let Some(chunk) = self.b.get(self.i..self.i + 16) {
            let stops = crate::json_simd::stops16(chunk.try_into().expect("16 bytes"));
            if stops != 0 {
                self.i += stops.trailing_zeros() as usize;
                return;
            }
            self.i += 16;
        }
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

    /// At an opening quote: skip the string; whether it holds escapes. Most strings (member names,
    /// short values) end within 16 bytes with nothing to stop at before their closing quote: one
    /// 16-byte compare finds it.
    #[inline(always)]
    fn string(&mut self) -> Option<bool> {
        if let Some(close) = crate::json_simd::short_plain_string_end(self.b, self.i) {
            self.i = close + 1;
            return Some(false);
        }
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
                            match surrogate(hex) {
                                None => {}
                                // A high surrogate must be followed at once by an escaped low one.
                                Some(true) => {
                                    let next = self.b.get(self.i..self.i + 6)?;
                                    if next[0] != b'\\'
                                        || next[1] != b'u'
                                        || !next[2..].iter().all(u8::is_ascii_hexdigit)
                                        || surrogate(&next[2..]) != Some(false)
                                    {
                                        return None;
                                    }
                                    self.i += 6;
                                }
                                Some(false) => return None,
                            }
                        }
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
    }

    /// An object member's name and the `:` after it (with the whitespace around it).
    #[inline]
    fn member_name(&mut self) -> Option<&'a str> {
        if self.peek()? != b'"' {
            return None;
        }
        let name = self.plain_string()?;
        self.colon()?;
        Some(name)
    }

    /// The `:` after a member name, with the whitespace around it.
    #[inline(always)]
    fn colon(&mut self) -> Option<()> {
        self.ws();
        self.eat(b':')?;
        self.ws();
        Some(())
    }

    /// An item's (or a prerequisite's) member name and the `:` after it, recorded as a member of
    /// the innermost open object.
    #[inline(always)]
    fn member(&mut self) -> Option<&'a str> {
        let (start, end) = self.recorded_name()?;
        Some(&self.s[start..end])
    }

    /// `"name"` then `:` (whitespace skipped after), at an opening quote or failing; the name is
    /// recorded (see [`Scanner::skip_name`]). Where the name's text is.
    #[inline(always)]
    fn recorded_name(&mut self) -> Option<(usize, usize)> {
        let name = self.skip_name()?;
        self.colon()?;
        Some(name)
    }

    /// [`Scanner::recorded_name`] without whitespace around the `:`.
    #[inline(always)]
    fn tight_name(&mut self) -> Option<()> {
        self.skip_name()?;
        self.eat(b':')
    }

    /// A member name, at its opening quote or failing: skipped, and (without escapes: names with
    /// escapes are left to serde) recorded as a member of the innermost open object. Where its
    /// text is.
    #[inline(always)]
    fn skip_name(&mut self) -> Option<(usize, usize)> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.i + 1;
        if self.string()? {
            return None;
        }
        let end = self.i - 1;
        self.record_name(start, end)?;
        Some((start, end))
    }

    /// At an opening quote: the string's content when it has no escapes.
    fn plain_string(&mut self) -> Option<&'a str> {
        let start = self.i + 1;
        if self.string()? {
            return None;
        }
        Some(&self.s[start..self.i - 1])
    }

    /// Skip a run of ASCII digits; how many. Eight bytes at a time where the text has them: numbers
    /// in flags are short and of every length, and a loop ending at a byte that is not a digit
    /// kept mispredicting its exit.
    #[inline(always)]
    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(chunk) = self.b.get(self.i..self.i + 8) {
            // A byte is a digit when, less b'0', it is at most 9: then neither it nor it plus 6 has
            // a high nibble. A carry out of a byte that is not a digit only reaches bytes after it.
            let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes")) ^ 0x3030_3030_3030_3030;
            let other = (x | x.wrapping_add(0x0606_0606_0606_0606)) & 0xf0f0_f0f0_f0f0_f0f0;
            if other != 0 {
                self.i += (other.trailing_zeros() / 8) as usize;
                return self.i - start;
            }
            self.i += 8;
        }
        while let Some(b'0'..=b'9') = self.b.get(self.i) {
            self.i += 1;
        }
        self.i - start
    }

    /// The number grammar serde_json accepts, for a number that cannot be out of range for a
    /// double (one that might be is left to the precise check).
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let integer_digits = match self.peek()? {
            b'0' => {
                self.i += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return None;
                }
                1
            }
            b'1'..=b'9' => self.digits(),
            _ => return None,
        };
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        let mut magnitude = integer_digits as i64;
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            let negative = match self.peek() {
                Some(b'+') => {
                    self.i += 1;
                    false
                }
                Some(b'-') => {
                    self.i += 1;
                    true
                }
                _ => false,
            };
            let start = self.i;
            if self.digits() == 0 {
                return None;
            }
            let exponent = self.b[start..self.i]
                .iter()
                .fold(0i64, |e, d| e.saturating_mul(10).saturating_add(i64::from(d - b'0')));
            magnitude = if negative { magnitude.saturating_sub(exponent) } else { magnitude.saturating_add(exponent) };
        }
        (magnitude <= MAX_MAGNITUDE).then_some(())
    }

    /// A member name inside a value being skipped (see [`Scanner::recorded_name`]).
    #[inline]
    fn skip_key(&mut self) -> Option<()> {
        self.recorded_name().map(|_| ())
    }

    /// Skip one value of any type (iteratively: no depth limit, as serde's skipping).
    fn value(&mut self) -> Option<()> {
        if matches!(self.peek(), Some(b'{' | b'[')) && self.minified_value() {
            return Some(());
        }
        self.any_value()
    }

    /// [`Scanner::value`] a token at a time, whitespace and all.
    #[inline(always)]
    fn any_value(&mut self) -> Option<()> {
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
                        self.open_object();
                        self.skip_key()?;
                        continue;
                    }
                }
                b'[' => {
                    // A minified array of plain strings is checked whole (see `json_simd`).
                    if let Some(end) = crate::json_simd::plain_string_array(self.b, self.i + 1) {
                        self.i = end;
                    } else {
                        self.i += 1;
                        self.ws();
                        if self.peek()? == b']' {
                            self.i += 1;
                        } else {
                            self.stack.push(b'[');
                            continue;
                        }
                    }
                }
                b'"' => {
                    self.string()?;
                    // The rest of an array of strings written without whitespace, without going
                    // round the general loop for each (what the loop would do, step for step).
                    if self.stack.last() == Some(&b'[') {
                        while self.b.get(self.i) == Some(&b',') && self.b.get(self.i + 1) == Some(&b'"') {
                            self.i += 1;
                            self.string()?;
                        }
                    }
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
                    (b'}', b'{') => {
                        self.i += 1;
                        self.stack.pop();
                        self.close_object();
                    }
                    (b']', b'[') => {
                        self.i += 1;
                        self.stack.pop();
                    }
                    _ => return None,
                }
            }
        }
    }

    /// Skip an object or array written without whitespace, as [`Scanner::value`] skips it (the
    /// same end, the same checks), with less work per token: no whitespace to look for, and the
    /// open objects and arrays kept as bits. Flag files, LaunchDarkly's payloads and dumps are
    /// written so. `false`, with the scanner as it was, for anything else (whitespace, invalid or
    /// unusual text, nesting deeper than 64, the text's end): `value` reads it then.
    fn minified_value(&mut self) -> bool {
        let n = &self.names;
        let (start, hashes, outer, from, bits) = (self.i, n.hashes.len(), n.outer.len(), n.from, n.bits);
        if self.walk_minified().is_some() {
            return true;
        }
        self.i = start;
        let n = &mut self.names;
        n.hashes.truncate(hashes);
        n.outer.truncate(outer);
        (n.from, n.bits) = (from, bits);
        false
    }

    #[inline(always)]
    fn walk_minified(&mut self) -> Option<()> {
        // The open objects and arrays, the innermost in the lowest bit (set for an object).
        let (mut open, mut depth) = (0u64, 0u32);
        loop {
            match *self.b.get(self.i)? {
                b'"' => {
                    self.string()?;
                }
                b'{' => {
                    if *self.b.get(self.i + 1)? == b'}' {
                        self.i += 2;
                    } else {
                        if depth == 64 {
                            return None;
                        }
                        (open, depth) = (open << 1 | 1, depth + 1);
                        self.i += 1;
                        self.open_object();
                        self.tight_name()?;
                        continue;
                    }
                }
                b'[' => {
                    if let Some(end) = crate::json_simd::plain_string_array(self.b, self.i + 1) {
                        self.i = end;
                    } else if *self.b.get(self.i + 1)? == b']' {
                        self.i += 2;
                    } else {
                        if depth == 64 {
                            return None;
                        }
                        (open, depth) = (open << 1, depth + 1);
                        self.i += 1;
                        continue;
                    }
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => self.number()?,
            }
            // A value ended: close what it ended, up to the next value.
            loop {
                if depth == 0 {
                    return Some(());
                }
                let object = open & 1 == 1;
                match *self.b.get(self.i)? {
                    b',' => {
                        self.i += 1;
                        if object {
                            self.tight_name()?;
                        }
                        break;
                    }
                    b'}' if object => self.close_object(),
                    b']' if !object => {}
                    _ => return None,
                }
                self.i += 1;
                (open, depth) = (open >> 1, depth - 1);
            }
        }
    }

    /// After a member of an object: `,` (true) or `}` (false).
    #[inline(always)]
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
            // No key: the SDKs cannot parse it as a live item.
            return None;
        }
        self.open_object();
        let (mut version, mut deleted, mut prerequisites, mut key) = (false, false, false, false);
        loop {
            let name = self.member()?;
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
                "key" => {
                    // A string; a tombstone may have none, a live item must (see below).
                    if self.peek()? != b'"' {
                        return None;
                    }
                    self.string()?;
                    key = true;
                }
                _ => self.value()?,
            }
            if !self.next_member(b'}')? {
                if !key && !f.deleted {
                    return None;
                }
                self.close_object();
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
                self.open_object();
                let mut key = false;
                loop {
                    let name = self.member()?;
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
                self.close_object();
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

/// Whether a `\uXXXX` escape's four hex digits are a UTF-16 surrogate: `Some(true)` for a high
/// (leading) one, `Some(false)` for a low (trailing) one.
#[inline]
fn surrogate(hex: &[u8]) -> Option<bool> {
    if hex[0] | 0x20 != b'd' {
        return None;
    }
    let second = if hex[1] <= b'9' { hex[1] - b'0' } else { (hex[1] | 0x20) - b'a' + 10 };
    (second >= 8).then_some(second < 12)
}

/// A hash of a member name's text `b[start..end]`, from words of eight bytes that together cover
/// it (loaded past its end, then masked, where the text allows). A name of up to 16 bytes (most
/// are) is two masked words, whatever its length: one branch fewer per name than a split at eight
/// bytes, which names on either side of it ("values", "variation") kept mispredicting.
#[inline(always)]
fn name_hash(b: &[u8], start: usize, end: usize) -> u32 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let len = end - start;
    let word = |w: &[u8]| u64::from_le_bytes(w.try_into().expect("8 bytes"));
    let mut h = (len as u64).wrapping_mul(K);
    if len <= 16 {
        let (low, high) = match b.get(start..start + 16) {
            Some(w) => (word(&w[..8]), word(&w[8..])),
            None => {
                let mut w = [0; 16];
                w[..len].copy_from_slice(&b[start..end]);
                (word(&w[..8]), word(&w[8..]))
            }
        };
        h ^= low & low_bytes(len.min(8));
        h = h.wrapping_mul(K).rotate_left(31) ^ (high & low_bytes(len.saturating_sub(8)));
    } else {
        let mut at = start;
        while at + 8 < end {
            h = (h ^ word(&b[at..at + 8])).wrapping_mul(K).rotate_left(31);
            at += 8;
        }
        // The last eight bytes (overlapping the word before when the length is not a multiple).
        h ^= word(&b[end - 8..end]).rotate_left(17);
    }
    (h.wrapping_mul(K) >> 32) as u32
}

/// A mask of the low `n` bytes of a word (`n` at most 8), without a branch: a load (the shift of a
/// `u128` it replaces took seven instructions).
#[inline(always)]
fn low_bytes(n: usize) -> u64 {
    const MASKS: [u64; 9] = {
        let mut m = [0; 9];
        let mut n = 1;
        while n < 9 {
            m[n] = u64::MAX >> (64 - 8 * n);
            n += 1;
        }
        m
    };
    MASKS[n]
}

/// The routing facts of an item's whole JSON text, if it is a valid, ordinary item object.
pub(crate) fn item_facts(json: &str) -> Option<RawFacts> {
    let mut s = Scanner::new(json);
    s.ws();
    let f = s.item()?;
    s.at_end().then_some(f)
}

/// One item of a flag file: its key (unescaped), its JSON, its facts.
pub(crate) struct FileItem<'t> {
    pub kind: Kind,
    pub key: Cow<'t, str>,
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

impl ItemText {
    /// The JSON, given the text the item was read from.
    pub fn in_text<'a>(&'a self, text: &'a str) -> &'a str {
        match self {
            ItemText::Span(start, end) => &text[*start..*end],
            ItemText::Minified(m) => m,
        }
    }
}

/// A flag file's `flags` and `segments`, each item passed to `visit` in file order as soon as it has
/// been read (so a caller can act on it while the rest is still being read; `None` from `visit`
/// stops the scan), and at the end the names of other top-level properties (ignored with a warning
/// by the caller). `None` for anything but a valid JSON object whose `flags`/`segments` are objects
/// of item objects (and without `flagValues`): items already passed say nothing about the rest.
pub(crate) fn flag_file(text: &str, visit: &mut dyn FnMut(FileItem) -> Option<()>) -> Option<Vec<String>> {
    let mut file = FlagFile::default();
    let mut pos = 0;
    while file.state != Top::End {
        let step = file.step(&text[pos..]).ok()?;
        let (consumed, item) = file.take(step);
        if let Some(mut item) = item {
            if let ItemText::Span(start, end) = item.json {
                item.json = ItemText::Span(pos + start, pos + end);
            }
            visit(item)?;
        }
        pos += consumed;
    }
    text[pos..].bytes().all(is_ws).then_some(file.unknown)
}

/// The bytes of a reader read by [`flag_file_read`] at a time (the buffer grows when one item, or
/// an ignored top-level property, is larger). Small enough to stay in a core's cache beside what
/// is encoded from it: 1 MiB measured 0.8 ms (3%) more processor time for a 10k-flag sync into
/// Redis, most of it the kernel copying the file into the buffer; 128 KiB gained nothing more.
const READ_BUFFER: usize = 256 << 10;

/// What [`flag_file_read`] found besides the items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileScan {
    /// Top-level properties that are neither `flags` nor `segments` nor `bigSegments`.
    pub unknown: Vec<String>,
    /// The file has a `bigSegments` member (a dump's Big Segments part, stepped over). Exact: a
    /// top-level name written with escapes is not scanned at all (the answer is then `None`).
    pub big_segments: bool,
}

/// [`flag_file`] of a reader, read a piece at a time into one reused buffer, so a file of any
/// size is scanned without being held in memory whole. Each item is passed with the text its span
/// is in (valid until `visit` returns). The same answers as `flag_file` of the whole text (also
/// `Ok(None)` for text that is not UTF-8); an error only for a failed read.
pub(crate) fn flag_file_read(
    reader: &mut dyn std::io::Read,
    visit: &mut dyn FnMut(&str, FileItem) -> Option<()>,
) -> std::io::Result<Option<FileScan>> {
    let mut input = Window { buf: vec![0; READ_BUFFER], start: 0, filled: 0, eof: false };
    let mut file = FlagFile::default();
    loop {
        input.refill(reader)?;
        let Some(text) = input.text() else { return Ok(None) };
        let mut pos = 0;
        // Steps while the text holds them whole; then more text.
        loop {
            let rest = &text[pos..];
            if file.state == Top::End {
                if !rest.bytes().all(is_ws) {
                    return Ok(None);
                }
                if input.eof {
                    return Ok(Some(FileScan { unknown: file.unknown, big_segments: file.big }));
                }
                pos = text.len();
                break;
            }
            match file.step(rest) {
                Ok(step) => {
                    let (consumed, item) = file.take(step);
                    if let Some(item) = item
                        && visit(rest, item).is_none()
                    {
                        return Ok(None);
                    }
                    pos += consumed;
                }
                // A step that fails where more text could change it (the scanner looks at most a few
                // bytes ahead) is tried again with more; anywhere else it fails for good.
                Err(at) if !input.eof && at + LOOKAHEAD >= rest.len() => break,
                Err(_) => return Ok(None),
            }
        }
        input.start += pos;
    }
}

/// Bytes past a failure that the scanner may have needed: it looks at most 8 bytes ahead.
const LOOKAHEAD: usize = 16;

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\t' | b'\r')
}

/// Unread text of a reader, in a buffer reused as it is read.
struct Window {
    buf: Vec<u8>,
    start: usize,
    filled: usize,
    eof: bool,
}

impl Window {
    /// Keep the unread text, moved to the front, and read more after it (into a larger buffer when
    /// the unread text fills it).
    fn refill(&mut self, reader: &mut dyn std::io::Read) -> std::io::Result<()> {
        if self.eof {
            return Ok(());
        }
        self.buf.copy_within(self.start..self.filled, 0);
        self.filled -= self.start;
        self.start = 0;
        if self.filled == self.buf.len() {
            self.buf.resize(2 * self.buf.len(), 0);
        }
        #[cfg(test)]
        tests::LARGEST_WINDOW.with(|w| w.set(w.get().max(self.buf.len())));
        loop {
            match reader.read(&mut self.buf[self.filled..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            return Ok(());
        }
    }

    /// The unread text up to its last whole character; `None` when it is not UTF-8.
    fn text(&self) -> Option<&str> {
        let bytes = &self.buf[self.start..self.filled];
        match std::str::from_utf8(bytes) {
            Ok(text) => Some(text),
            // A character cut by the end of what has been read so far.
            Err(e) if e.error_len().is_none() && !self.eof => std::str::from_utf8(&bytes[..e.valid_up_to()]).ok(),
            Err(_) => None,
        }
    }
}

/// Where the scan of a flag file's top level is, between steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Top {
    /// Before the opening `{`.
    Start,
    /// After the opening `{` (a `}` may follow) or after a `,` (a member must).
    Member { first: bool },
    /// After the `{` of `flags` or `segments` (a `}` may follow) or after a `,` (an item must).
    Item { kind: Kind, first: bool },
    /// In the `bigSegments` object of a dump (after its `{` or a `,`): its fields are skipped a
    /// step at a time, so a reader never holds the memberships whole.
    Big { first: bool },
    /// In `bigSegments.memberships` (after its `{` or a `,`): one membership per step, skipped.
    BigEntry { first: bool },
    /// After the closing `}`: only whitespace may follow.
    End,
}

/// The scan of a flag file's top level, one step at a time: a step reads up to and including the
/// punctuation that ends it, so a step read whole means the same whatever follows, and a step
/// that ran out of text can be read again from its start with more.
struct FlagFile {
    state: Top,
    flags: bool,
    segments: bool,
    /// The `bigSegments` member (a dump's Big Segments data, read by `sync` on its own) was opened.
    big: bool,
    unknown: Vec<String>,
    /// Scratch space of the scanner, kept between steps.
    stack: Vec<u8>,
    gaps: Vec<(usize, usize)>,
    names: Names,
}

impl Default for FlagFile {
    fn default() -> FlagFile {
        FlagFile {
            state: Top::Start,
            flags: false,
            segments: false,
            big: false,
            unknown: Vec::new(),
            stack: Vec::new(),
            gaps: Vec::new(),
            names: Names::default(),
        }
    }
}

/// What one step read (at the start of its text) and where it leaves the scan; nothing of it is
/// applied before [`FlagFile::take`].
struct Step<'t> {
    consumed: usize,
    next: Top,
    item: Option<FileItem<'t>>,
    /// A section whose `{` was read.
    section: Option<Kind>,
    /// A top-level property that is neither `flags` nor `segments`.
    unknown: Option<&'t str>,
    /// The `{` of `bigSegments` was read.
    big: bool,
}

impl FlagFile {
    /// Read one step at the start of `text`; where it failed, if it did.
    fn step<'t>(&mut self, text: &'t str) -> Result<Step<'t>, usize> {
        let mut s = Scanner::new(text);
        s.stack = std::mem::take(&mut self.stack);
        s.gaps = std::mem::take(&mut self.gaps);
        s.names = std::mem::take(&mut self.names);
        let step = self.read_step(&mut s);
        let at = s.i;
        self.stack = std::mem::take(&mut s.stack);
        self.stack.clear();
        self.gaps = std::mem::take(&mut s.gaps);
        self.gaps.clear();
        self.names = std::mem::take(&mut s.names);
        self.names.clear();
        step.ok_or(at)
    }

    /// Apply a step read whole: the new state; the bytes it read and the item among them, if any.
    fn take<'t>(&mut self, step: Step<'t>) -> (usize, Option<FileItem<'t>>) {
        self.state = step.next;
        match step.section {
            Some(Kind::Flags) => self.flags = true,
            Some(Kind::Segments) => self.segments = true,
            None => {}
        }
        if let Some(name) = step.unknown {
            self.unknown.push(name.to_string());
        }
        self.big |= step.big;
        (step.consumed, step.item)
    }

    fn read_step<'t>(&self, s: &mut Scanner<'t>) -> Option<Step<'t>> {
        let mut step = Step { consumed: 0, next: self.state, item: None, section: None, unknown: None, big: false };
        // Whitespace the step before could not see yet (a no-op on text read whole).
        s.ws();
        match self.state {
            Top::Start => {
                s.eat(b'{')?;
                s.ws();
                step.next = Top::Member { first: true };
            }
            Top::Member { first } => {
                if first && s.peek()? == b'}' {
                    s.i += 1;
                    step.next = Top::End;
                } else {
                    let name = s.member_name()?;
                    let kind = match name {
                        "flags" if !self.flags => Kind::Flags,
                        "segments" if !self.segments => Kind::Segments,
                        "flags" | "segments" | "flagValues" => return None,
                        "bigSegments" if !self.big => {
                            s.eat(b'{')?;
                            s.ws();
                            step.big = true;
                            step.next = Top::Big { first: true };
                            step.consumed = s.i;
                            return Some(step);
                        }
                        "bigSegments" => return None,
                        _ => {
                            if self.unknown.iter().any(|u| u == name) {
                                return None;
                            }
                            s.value()?;
                            step.unknown = Some(name);
                            step.next = after_member(s)?;
                            step.consumed = s.i;
                            return Some(step);
                        }
                    };
                    s.eat(b'{')?;
                    s.ws();
                    step.section = Some(kind);
                    step.next = Top::Item { kind, first: true };
                }
            }
            Top::Item { kind, first } => {
                if first && s.peek()? == b'}' {
                    s.i += 1;
                    step.next = after_member(s)?;
                } else {
                    if s.peek()? != b'"' {
                        return None;
                    }
                    let start = s.i;
                    let key = if s.string()? {
                        Cow::Owned(serde_json::from_str::<String>(&s.s[start..s.i]).ok()?)
                    } else {
                        Cow::Borrowed(&s.s[start + 1..s.i - 1])
                    };
                    s.colon()?;
                    let from = s.i;
                    s.recording = true;
                    let facts = s.item();
                    s.recording = false;
                    let facts = facts?;
                    let json = if s.gaps.is_empty() {
                        ItemText::Span(from, s.i)
                    } else {
                        ItemText::Minified(minified(s.s, from, s.i, &s.gaps))
                    };
                    step.item = Some(FileItem { kind, key, json, facts });
                    step.next = if s.next_member(b'}')? { Top::Item { kind, first: false } } else { after_member(s)? };
                }
            }
            Top::Big { first } => {
                if first && s.peek()? == b'}' {
                    s.i += 1;
                    step.next = after_member(s)?;
                } else {
                    let name = s.member_name()?;
                    if name == "memberships" && s.peek()? == b'{' {
                        s.i += 1;
                        s.ws();
                        step.next = Top::BigEntry { first: true };
                    } else {
                        s.value()?;
                        step.next = if s.next_member(b'}')? { Top::Big { first: false } } else { after_member(s)? };
                    }
                }
            }
            Top::BigEntry { first } => {
                if !(first && s.peek()? == b'}') {
                    if s.peek()? != b'"' {
                        return None;
                    }
                    s.string()?;
                    s.colon()?;
                    s.value()?;
                    if s.next_member(b'}')? {
                        step.next = Top::BigEntry { first: false };
                        step.consumed = s.i;
                        return Some(step);
                    }
                } else {
                    s.i += 1;
                }
                // `memberships` closed: then the rest of `bigSegments`.
                step.next = if s.next_member(b'}')? { Top::Big { first: false } } else { after_member(s)? };
            }
            Top::End => return None,
        }
        step.consumed = s.i;
        Some(step)
    }
}

/// After a top-level member: `,` (another member) or the closing `}`.
fn after_member(s: &mut Scanner) -> Option<Top> {
    Some(if s.next_member(b'}')? { Top::Member { first: false } } else { Top::End })
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

/// The serde_json oracles the scanner is checked against (by the tests and the fuzz targets).
#[cfg(any(test, feature = "fuzz"))]
pub(crate) mod oracle {
    /// What serde_json (the SDKs' parser in the Rust evaluator, into typed structs) makes of a
    /// text as far as the defects go: `Ok` for one JSON value with no two members of one name in
    /// any object, no lone surrogate escape in any string, no number out of range for a double.
    pub(crate) fn strict(json: &str) -> Result<(), String> {
        use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};
        struct Strict;
        impl<'de> Deserialize<'de> for Strict {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Strict, D::Error> {
                d.deserialize_any(StrictVisitor)
            }
        }
        struct StrictVisitor;
        impl<'de> Visitor<'de> for StrictVisitor {
            type Value = Strict;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Strict, E> {
                Ok(Strict)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Strict, E> {
                Ok(Strict)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Strict, E> {
                Ok(Strict)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Strict, E> {
                Ok(Strict)
            }
            fn visit_str<E>(self, _: &str) -> Result<Strict, E> {
                Ok(Strict)
            }
            fn visit_unit<E>(self) -> Result<Strict, E> {
                Ok(Strict)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
                while seq.next_element::<Strict>()?.is_some() {}
                Ok(Strict)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
                let mut seen = std::collections::HashSet::new();
                while let Some(name) = map.next_key::<String>()? {
                    if !seen.insert(name.clone()) {
                        return Err(A::Error::custom(format!("duplicate member {name:?}")));
                    }
                    map.next_value::<Strict>()?;
                }
                Ok(Strict)
            }
        }
        let mut d = serde_json::Deserializer::from_str(json);
        Strict::deserialize(&mut d).and_then(|_| d.end()).map_err(|e| e.to_string())
    }

    /// Whether the SDKs can parse an item's text, as far as the defects go: [`strict`], an object,
    /// a `version` (if any) that is not a number written otherwise than as an integer, a string
    /// `key` unless it is a tombstone.
    pub(crate) fn sdk_parseable(json: &str) -> bool {
        use std::collections::BTreeMap;
        if strict(json).is_err() {
            return false;
        }
        let Ok(top) = serde_json::from_str::<BTreeMap<String, Box<serde_json::value::RawValue>>>(json) else {
            return false;
        };
        let deleted = top.get("deleted").is_some_and(|d| d.get() == "true");
        let version_ok = top.get("version").is_none_or(|v| {
            let t = v.get();
            !t.starts_with(|c: char| c == '-' || c.is_ascii_digit()) || t.bytes().all(|c| c.is_ascii_digit())
        });
        let key_ok = deleted || top.get("key").is_some_and(|k| k.get().starts_with('"'));
        version_ok && key_ok
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::oracle::sdk_parseable;
    use super::*;
    use crate::data::{Facts, facts_serde};
    use crate::source::file::{parse_json_fast, parse_json_serde};

    /// Whatever the scanner accepts, serde accepts with the same facts, and the SDKs can parse;
    /// what serde rejects, the scanner leaves to serde. The precise check finds a defect in an item
    /// exactly when the SDKs cannot parse it.
    /// Whether the precise check found defects in an item that parses.
    fn check_item(json: &str) -> bool {
        let mut defective = false;
        for kind in Kind::ALL {
            let slow = facts_serde(kind, "k", json);
            if let Some(raw) = item_facts(json) {
                assert_eq!(Ok(Facts::from_raw(kind, raw)), slow, "{json:?}");
                assert!(sdk_parseable(json), "{json:?}");
            }
            if let Ok(f) = &slow
                && f.version.is_some()
            {
                let found = crate::defects::text_defects(json, f.deleted);
                assert_eq!(found.is_empty(), sdk_parseable(json), "{json:?}: {found:?}");
                defective |= !found.is_empty();
            }
        }
        defective
    }

    fn check_file(text: &str) {
        for require_version in [false, true] {
            if let Some(fast) = parse_json_fast(text, None, require_version) {
                for item in fast.flags.values().chain(fast.segments.values()) {
                    assert!(sdk_parseable(&item.json), "{text:?}: {item:?}");
                }
                assert_eq!(Ok(fast), parse_json_serde(text, require_version), "{text:?}");
            }
        }
    }

    #[test]
    fn ordinary_items_are_scanned() {
        let f = item_facts(r#" {"key":"a","version":7,"deleted":false,"prerequisites":[{"key":"b","variation":0},{}],"x":[1.5e-3,{"y":null}]} "#).unwrap();
        assert_eq!(f, RawFacts { version: Some(7), deleted: false, prerequisites: vec!["b".into()] });
        assert!(item_facts(r#"{"version":3,"deleted":true}"#).unwrap().deleted);
        let f = item_facts(r#"{"key":"\u0061","s":"\ud83d\ude00\uDBFF\uDFFF","n":[-9.9E+307,1e-999,123e305,0.5]}"#);
        assert_eq!(f.unwrap(), RawFacts::default());
        // Member names compared object by object, however many.
        let many: Vec<String> = (0..100).map(|i| format!("\"m{i}\":{{\"m{i}\":{i}}}")).collect();
        assert!(item_facts(&format!("{{\"key\":\"a\",{}}}", many.join(","))).is_some());
    }

    /// Arrays of strings long enough to be checked 64 bytes at a time (see `json_simd`): the same
    /// answers as serde for plain ones and for every way one can differ from plain, in items and in
    /// flag files, whole and read in pieces.
    #[test]
    fn long_arrays_of_strings_are_scanned_like_serde_reads_them() {
        let plain: Vec<String> = (0..60).map(|i| format!("user-{}", "7".repeat(i % 17))).collect();
        let plain = serde_json::to_string(&plain).unwrap();
        let mut r = StdRng::seed_from_u64(3);
        for (i, odd) in ["", "\\\"", "\\n", "\t", " ", "\",\"", "\"]", "\",1,\"", "\",,\"", "\"\"", "\",[\"", "é"]
            .iter()
            .enumerate()
        {
            for _ in 0..40 {
                // The odd piece somewhere in the array's text, or nowhere.
                let at = if odd.is_empty() { 0 } else { 1 + r.random_range(0..plain.len() - 1) };
                let list = format!("{}{odd}{}", &plain[..at], &plain[at..]);
                let item = format!(
                    r#"{{"key":"a","version":{i},"targets":[{{"values":{list},"variation":0}}],"included":{list}}}"#
                );
                check_item(&item);
                let file = format!(
                    r#"{{"flags":{{"a":{item}}},"segments":{{"s":{{"key":"s","version":1,"included":{list},"excluded":[]}}}}}}"#
                );
                check_file(&file);
                assert_eq!(scan_read(file.as_bytes(), i as u64, 97), scan_whole(&file), "{file}");
                if odd.is_empty() {
                    assert!(item_facts(&item).is_some(), "{item}");
                    assert!(item_facts(&item.replace("user-7", "usé-7")).is_some(), "{item}");
                }
            }
        }
    }

    /// A name's hash is the same wherever its text is (also where no whole word follows it), and
    /// names that differ anywhere get different hashes (for these, at least).
    #[test]
    fn name_hashes_depend_on_the_whole_name_only() {
        let mut seen = std::collections::HashMap::new();
        for len in 0..40 {
            for change in 0..=len {
                let mut name: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                if change < len {
                    name[change] = b'_';
                }
                let mut text = b"{\"".to_vec();
                text.extend_from_slice(&name);
                let h = name_hash(&text, 2, text.len());
                text.extend_from_slice(b"\":1}       ");
                assert_eq!(name_hash(&text, 2, 2 + len), h, "{name:?}");
                assert_eq!(seen.insert(h, name.clone()), None, "{name:?}");
            }
        }
    }

    /// What the SDKs cannot parse is never vouched for by the scanner: the precise check says why.
    #[test]
    fn items_the_sdks_cannot_parse_are_left_to_the_precise_check() {
        let many: Vec<String> = (0..100).map(|i| format!("\"m{}\":{i}", i % 99)).collect();
        let many = format!("{{\"key\":\"a\",{}}}", many.join(","));
        let long = format!("{{\"key\":\"a\",\"version\":1,\"x\":2{}}}", "0".repeat(308));
        for json in [
            "{}",
            r#"{"version":1}"#,
            r#"{"version":1,"key":5}"#,
            r#"{"version":1,"key":null}"#,
            r#"{"version":1,"deleted":false}"#,
            r#"{"key":"a","version":1,"on":false,"on":true}"#,
            r#"{"key":"a","key":"a","version":1}"#,
            r#"{"key":"a","version":1,"rules":[{"id":"x","clauses":[],"id":"y"}]}"#,
            r#"{"key":"a","version":1,"prerequisites":[{"key":"b","variation":0,"variation":1}]}"#,
            r#"{"key":"a","version":1,"v":{"a":{"b":1},"a":2}}"#,
            r#"{"key":"a","version":1,"v":{"\u0061":1,"a":2}}"#,
            &many,
            r#"{"key":"a","version":3.0}"#,
            r#"{"key":"a","version":1e2}"#,
            r#"{"key":"a","version":-0}"#,
            r#"{"key":"a","version":1,"x":1e400}"#,
            r#"{"key":"a","version":1,"x":[-1E+309]}"#,
            r#"{"key":"a","version":1,"x":0.1e310}"#,
            &long,
            r#"{"key":"a","version":1,"s":"\ud800"}"#,
            r#"{"key":"a","version":1,"s":"x\uDBFFy"}"#,
            r#"{"key":"a","version":1,"s":"\udc00"}"#,
            r#"{"key":"a","version":1,"s":"\ud800\u0041"}"#,
            r#"{"key":"a","version":1,"s":"\ud800\ud800"}"#,
            r#"{"key":"\ud800","version":1}"#,
            r#"{"key":"a","version":1,"x":{"\udfff":1}}"#,
        ] {
            assert_eq!(item_facts(json), None, "{json:?}");
            check_item(json);
            assert!(!sdk_parseable(json), "{json:?}");
        }
        // Tombstones need no key (the Node SDK writes `{"version":N,"deleted":true}`).
        assert!(item_facts(r#"{"deleted":true,"version":4}"#).is_some());
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

    /// The start of a random flag file: `{` and the sections `flags`, `segments` and `other` (each
    /// now and then left out, separated by one of `separators`) of random values under member names
    /// from `names` (each with its colon); the closing `}` is the caller's.
    fn random_sections(r: &mut StdRng, names: &[&str], separators: &[&str]) -> String {
        let mut text = String::from("{");
        for (n, section) in ["flags", "segments", "other"].iter().enumerate() {
            if r.random_bool(0.2) {
                continue;
            }
            if n > 0 && text.len() > 1 {
                text.push_str(separators[r.random_range(0..separators.len())]);
            }
            text.push_str(&format!("\"{section}\":{{"));
            for j in 0..r.random_range(0..4) {
                if j > 0 {
                    text.push(',');
                }
                text.push_str(names[r.random_range(0..names.len())]);
                value(r, 1, &mut text);
            }
            text.push('}');
        }
        text
    }

    thread_local! {
        /// The largest buffer [`flag_file_read`] used on this thread.
        pub(super) static LARGEST_WINDOW: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    /// A dump's `bigSegments` member (read by `sync` on its own) is neither an unknown property nor
    /// held whole: the reader steps over it one membership at a time, in a buffer that does not grow
    /// with it, and finds the same items as the scan of the whole text.
    #[test]
    fn big_segments_member_is_stepped_over() {
        let mut text = String::from(
            r#"{"flags":{"f":{"key":"f","version":1}},"bigSegments":{"synchronizedOn":"17","cursor":null,"memberships":{"#,
        );
        for i in 0..60_000 {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&format!(r#""h{i:040}=": {{"included":["beta.g1","x.g2"],"excluded":[]}}"#));
        }
        text.push_str(r#"},"later":1},"segments":{"s":{"key":"s","version":2}}}"#);
        assert!(text.len() > 3 * READ_BUFFER);
        let whole = scan_whole(&text).expect("scans");
        assert_eq!(whole.1, Vec::<String>::new(), "bigSegments is not an unknown property");
        assert_eq!(whole.0.iter().map(|i| i.1.as_str()).collect::<Vec<_>>(), ["f", "s"]);
        LARGEST_WINDOW.with(|w| w.set(0));
        assert_eq!(scan_read(text.as_bytes(), 7, 1 << 16), Some(whole));
        assert_eq!(LARGEST_WINDOW.with(|w| w.get()), READ_BUFFER, "the buffer never grew");
        // Empty parts, and a second bigSegments (an unusual file: left to the ordinary parser).
        let empty = r#"{"bigSegments":{},"flags":{},"bigSegments2":{"memberships":{}}}"#;
        assert_eq!(scan_whole(empty).unwrap().1, ["bigSegments2"]);
        assert!(scan_whole(r#"{"bigSegments":{"memberships":{}},"flags":{}}"#).is_some());
        assert!(scan_whole(r#"{"bigSegments":{"memberships":{}},"bigSegments":{}}"#).is_none());
        assert!(scan_whole(r#"{"bigSegments":{"memberships":{"a":1,}}}"#).is_none());
    }

    /// A reader giving out its text a few bytes at a time (sizes from `r`), to cut it anywhere.
    struct Trickle<'a> {
        text: &'a [u8],
        r: StdRng,
        max: usize,
    }

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.r.random_range(1..=self.max).min(buf.len()).min(self.text.len());
            buf[..n].copy_from_slice(&self.text[..n]);
            self.text = &self.text[n..];
            Ok(n)
        }
    }

    /// What the scan of the whole text finds: the items (kind, key, JSON) and the unknown names.
    type Scanned = (Vec<(Kind, String, String, RawFacts)>, Vec<String>);

    fn scan_whole(text: &str) -> Option<Scanned> {
        let mut items = Vec::new();
        let unknown = flag_file(text, &mut |it| {
            items.push((it.kind, it.key.into_owned(), it.json.in_text(text).to_string(), it.facts));
            Some(())
        })?;
        Some((items, unknown))
    }

    fn scan_read(bytes: &[u8], seed: u64, max: usize) -> Option<Scanned> {
        let mut items = Vec::new();
        let mut reader = Trickle { text: bytes, r: StdRng::seed_from_u64(seed), max };
        let unknown = flag_file_read(&mut reader, &mut |text, it| {
            items.push((it.kind, it.key.into_owned(), it.json.in_text(text).to_string(), it.facts));
            Some(())
        })
        .expect("reads from memory do not fail")?
        .unknown;
        Some((items, unknown))
    }

    /// Read a piece at a time, cut anywhere (inside strings, numbers, escapes and multi-byte
    /// characters), a flag file scans exactly as it does whole.
    #[test]
    fn reading_in_pieces_scans_like_the_whole_text() {
        let mut r = StdRng::seed_from_u64(10);
        let mut scanned = 0;
        for i in 0..5_000 {
            let mut text = random_sections(
                &mut r,
                &["\"a\":", "\"b\" : ", "\"\\u0061\":", "\"\u{e9}\u{1f600}\":"],
                &[",", " ,\n"],
            );
            text.push_str(["}", "} \n", "}", "}x", ""][r.random_range(0..5)]);
            if i % 4 == 3 {
                text = mutate(&mut r, &text);
            }
            let whole = scan_whole(&text);
            scanned += usize::from(whole.is_some());
            for (seed, max) in [(i, 1), (i + 1, 3), (i + 2, 40)] {
                assert_eq!(scan_read(text.as_bytes(), seed, max), whole, "{text:?} in pieces of at most {max}");
            }
        }
        assert!(scanned > 150, "{scanned}");
        // Text that is not UTF-8 is left to serde, wherever the bad byte is.
        let text = r#"{"flags":{"a":{"version":1,"key":"a","x":"é"}}}"#.as_bytes();
        assert!(scan_read(text, 1, 2).is_some());
        for cut in [text.len() - 9, text.len() - 8] {
            let mut bad = text.to_vec();
            bad[cut] = 0xff;
            assert_eq!(scan_read(&bad, 1, 2), None);
            assert_eq!(scan_read(&bad, 1, 1000), None);
        }
        // Items larger than the buffer grow it.
        let big = format!(r#"{{"flags":{{"a":{{"key":"a","x":"{}"}}}}}}"#, "y".repeat(READ_BUFFER + 10));
        assert_eq!(scan_read(big.as_bytes(), 1, 1 << 20), scan_whole(&big));
        assert!(scan_whole(&big).is_some());
    }

    /// Where the walk through minified text takes a value, the general loop takes it too and ends
    /// at the same byte; where it does not, it leaves the scanner as it was.
    #[test]
    fn the_minified_walk_agrees_with_the_general_loop() {
        let mut r = StdRng::seed_from_u64(13);
        let mut walked = 0;
        for i in 0..30_000 {
            let mut text = String::new();
            value(&mut r, 0, &mut text);
            if i % 2 == 0 {
                text.retain(|c| !matches!(c, ' ' | '\n' | '\t' | '\r' | '\u{c}'));
            }
            if i % 3 == 0 {
                text = mutate(&mut r, &text);
            }
            text.push_str(&",".repeat(r.random_range(0..80)));
            let mut fast = Scanner::new(&text);
            if !matches!(fast.peek(), Some(b'{' | b'[')) || !fast.minified_value() {
                assert_eq!((fast.i, fast.names.hashes.len(), fast.names.outer.len()), (0, 0, 0), "{text:?}");
                continue;
            }
            walked += 1;
            let mut general = Scanner::new(&text);
            assert_eq!(general.any_value(), Some(()), "{text:?}");
            assert_eq!(general.i, fast.i, "{text:?}");
            assert_eq!(general.names.hashes, fast.names.hashes, "{text:?}");
            assert_eq!(general.names.outer, fast.names.outer, "{text:?}");
        }
        assert!(walked > 3000, "{walked} walked");
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
        const ATOMS: [&str; 35] = [
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
            "\"\\udc00\"",
            "\"\\ud83d\\ude00\"",
            "\"\\ud800\\u0041\"",
            "\"\\uD800\\uDC00\"",
            "1e400",
            "-1E+400",
            "1e308",
            "1.8e308",
            "0e999",
            "1e-400",
            "99999999999999999999e288",
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
        match if depth > 3 { 0 } else { r.random_range(0..5) } {
            0 => out.push_str(ATOMS[r.random_range(0..ATOMS.len())]),
            // An array of strings, as targeting lists are written: mostly plain and minified (checked
            // 64 bytes at a time, see `json_simd`), long enough to cross blocks, now and then odd.
            4 => {
                punct(r, out, '[');
                for i in 0..r.random_range(0..16) {
                    if i > 0 {
                        punct(r, out, ',');
                    }
                    if r.random_bool(0.9) {
                        out.push('"');
                        let len = r.random_range(0..40);
                        out.extend("user-1,]é".chars().cycle().take(len));
                        out.push('"');
                    } else {
                        out.push_str(ATOMS[r.random_range(0..ATOMS.len())]);
                    }
                }
                punct(r, out, ']');
            }
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
                // Items (at the top, or in a flag file's sections) mostly have a key.
                let keyed = depth <= 1 && r.random_bool(0.6);
                if keyed {
                    out.push_str("\"key\":\"k\"");
                }
                for i in 0..r.random_range(0..5) {
                    if i > 0 || keyed {
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
        let (mut scanned, mut defective) = (0, 0);
        for i in 0..30_000 {
            let mut text = String::new();
            value(&mut r, 0, &mut text);
            if i % 2 == 1 {
                text = mutate(&mut r, &text);
            }
            scanned += usize::from(item_facts(&text).is_some());
            defective += usize::from(check_item(&text));
        }
        assert!(scanned > 1_000, "{scanned}");
        assert!(defective > 50, "{defective}");
    }

    /// Random items with every defect now and then (and never one, about as often): the scanner
    /// only vouches for items the SDKs can parse, and the precise check finds a defect exactly in
    /// the others.
    #[test]
    fn random_defective_items_are_found() {
        let mut r = StdRng::seed_from_u64(12);
        let (mut scanned, mut defective) = (0, 0);
        for _ in 0..20_000 {
            let mut text = String::from("{");
            let mut members: Vec<String> = Vec::new();
            match r.random_range(0..10) {
                0 => {}
                1 => members.push("\"key\":5".into()),
                2 => members.push("\"key\":null".into()),
                _ => members.push("\"key\":\"k\"".into()),
            }
            let version = ["1", "7", "0", "3.0", "1e2", "-0", "12"][r.random_range(0..7)];
            members.push(format!("\"version\":{version}"));
            if r.random_bool(0.2) {
                members.push("\"deleted\":true".into());
            }
            for _ in 0..r.random_range(0..4) {
                let name = ["on", "salt", "rules", "variations", "x"][r.random_range(0..5)];
                let mut v = String::new();
                value(&mut r, 2, &mut v);
                members.push(format!("\"{name}\":{v}"));
            }
            // Shuffled (the order of members does not matter to the SDKs).
            for i in (1..members.len()).rev() {
                members.swap(i, r.random_range(0..=i));
            }
            text.push_str(&members.join(","));
            text.push('}');
            scanned += usize::from(item_facts(&text).is_some());
            defective += usize::from(check_item(&text));
        }
        assert!(scanned > 2_000 && defective > 2_000, "{scanned} {defective}");
    }

    #[test]
    fn random_flag_files_agree_with_serde() {
        let mut r = StdRng::seed_from_u64(9);
        let mut scanned = 0;
        for i in 0..20_000 {
            let mut text = random_sections(&mut r, &["\"a\":", "\"b\" : ", "\"\\u0061\":", "\"c\":"], &[","]);
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
