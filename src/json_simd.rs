//! An array of plain strings checked 64 bytes at a time, and where a string's plain run ends found
//! 16 bytes at a time, for [`crate::json_scan`].
//!
//! Arrays of strings (targets' and clauses' `values`, segments' `included` and `excluded`) hold a
//! third of the benchmark's flag file and most of a file of long targeting lists, and the
//! byte-at-a-time scan reads them one short string at a time. Here a whole block's quotes, commas,
//! backslashes and control characters are found with AVX2 compares, and the array's shape
//! (`["…","…",…]`, nothing else between the strings) is checked with bit masks, so no string is
//! visited on its own. Hand-written because no crate offers this check; `std::arch` because the
//! portable loop the compiler makes of it measured six times slower than the AVX2 one (1.8 against
//! 12 GB/s to classify the bytes).
//!
//! Only the common case is answered: a minified array of strings without escapes, read whole. For
//! anything else (escapes, control characters, whitespace, other values, the text's end within 64
//! bytes, a processor without AVX2) the answer is `None` and the scan reads the array as before,
//! so this only has to be right about what it accepts.
//!
//! Every other string's plain run (up to its closing quote, a backslash or a control character) is
//! found 16 bytes at a time with SSE2, which every x86_64 processor has, and a member name's end
//! with one such compare when it is short: against the eight-byte loop before, 10k- and 100k-flag
//! syncs took 3% and 4% less processor time (60 and 10 alternating runs, 2026-12-05). Elsewhere the
//! scan keeps the eight-byte loop.

/// The end (the byte after `]`) of the array of plain strings whose first string's opening quote
/// is at `open`, if it is one (see the module's documentation), read in whole blocks of 64 bytes.
#[inline]
pub(crate) fn plain_string_array(b: &[u8], open: usize) -> Option<usize> {
    // Checked here, inlined into the scan, so an array of anything else (`[{`, `[]`, `[1`) costs
    // one comparison, not a call.
    if b.get(open) != Some(&b'"') {
        return None;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked just above).
        return unsafe { avx2::plain_string_array(b, open) };
    }
    let _ = (b, open);
    None
}

/// The closing quote of the string whose opening quote is at `open`, when it is among the 16
/// bytes after it and nothing before it is a `\\` or a control character (a member name, most
/// often); `None` otherwise, and the caller reads the string byte by byte.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn short_plain_string_end(b: &[u8], open: usize) -> Option<usize> {
    let bytes: &[u8; 16] = b.get(open + 1..open + 17)?.try_into().ok()?;
    let first = stops16(bytes).trailing_zeros() as usize;
    (first < 16 && bytes[first] == b'"').then_some(open + 1 + first)
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub(crate) fn short_plain_string_end(_: &[u8], _: usize) -> Option<usize> {
    None
}

/// A bit per byte of `bytes` that is `"`, `\\` or below 0x20: where a string's plain run stops.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn stops16(bytes: &[u8; 16]) -> u32 {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of x86_64; the load reads the 16 bytes of `bytes` (unaligned loads are
    // allowed).
    unsafe {
        let v = _mm_loadu_si128(bytes.as_ptr().cast());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // x < 0x20 exactly when min(x, 0x1f) == x (unsigned).
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
    }
}

/// The classes of 64 bytes, a bit per byte.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Classes {
    quote: u64,
    /// `\` or a byte below 0x20: a string holding one is left to the byte-at-a-time scan.
    special: u64,
    comma: u64,
    close_bracket: u64,
}

/// Each bit the parity of the bits up to and including it: set from an opening quote up to (not
/// including) its closing quote.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// What one block hands to the next.
#[derive(Default)]
struct Carry {
    /// All ones when the previous block ended inside a string.
    in_string: u64,
    /// 1 when the previous block's last byte was a closing quote.
    close: u64,
    /// 1 when it was a comma outside strings.
    comma: u64,
}

/// One block of the array (its classes): the bit of the array's `]`, if it ends in this block, or
/// `Err(())` when the block shows it is not an array of plain strings.
#[inline(always)]
fn block(c: Classes, carry: &mut Carry) -> Result<Option<u32>, ()> {
    let in_string = prefix_xor(c.quote) ^ carry.in_string;
    let opening = c.quote & in_string;
    let closing = c.quote & !in_string;
    // Bytes outside strings other than quotes.
    let outside = !in_string & !c.quote;
    let ends = c.close_bracket & outside;
    // The bytes that belong to the array: all, or up to and including its `]`.
    let (upto, end) = match ends {
        0 => (u64::MAX, 0),
        e => (u64::MAX >> (63 - e.trailing_zeros()), e & e.wrapping_neg()),
    };
    let comma = c.comma & outside;
    let after_closing = (closing << 1) | carry.close;
    let after_comma = (comma << 1) | carry.comma;
    // From the first opening quote on, these two rules leave only `"…"` then `,` or `]`, and after
    // `,` the next `"…"`: so between the strings there are only single commas (no other byte
    // outside a string follows a string or a comma, and nothing else starts a string).
    let bad =
        (c.special & in_string & upto) | (after_closing & upto & !(comma | end)) | (after_comma & upto & !opening);
    if bad != 0 {
        return Err(());
    }
    if end != 0 {
        return Ok(Some(end.trailing_zeros()));
    }
    carry.in_string = ((in_string as i64) >> 63) as u64;
    carry.close = closing >> 63;
    carry.comma = comma >> 63;
    Ok(None)
}

/// The array's end given a classifier of blocks (see [`plain_string_array`]); `open` is at a quote
/// (the rules of [`block`] hold from a first opening quote on).
#[inline(always)]
fn walk(b: &[u8], open: usize, classify: impl Fn(&[u8; 64]) -> Classes) -> Option<usize> {
    debug_assert_eq!(b.get(open), Some(&b'"'));
    let mut carry = Carry::default();
    let mut at = open;
    loop {
        let bytes: &[u8; 64] = b.get(at..at + 64)?.try_into().expect("64 bytes");
        if let Some(end) = block(classify(bytes), &mut carry).ok()? {
            return Some(at + end as usize + 1);
        }
        at += 64;
    }
}

/// A byte at a time: the reference the AVX2 classifier is tested against.
#[cfg(test)]
fn classify_portable(block: &[u8; 64]) -> Classes {
    let mut c = Classes::default();
    for (j, &x) in block.iter().enumerate() {
        let bit = 1u64 << j;
        let set = |mask: &mut u64, yes: bool| *mask |= if yes { bit } else { 0 };
        set(&mut c.quote, x == b'"');
        set(&mut c.special, x == b'\\' || x < 0x20);
        set(&mut c.comma, x == b',');
        set(&mut c.close_bracket, x == b']');
    }
    c
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::Classes;

    #[target_feature(enable = "avx2")]
    pub(super) fn plain_string_array(b: &[u8], open: usize) -> Option<usize> {
        super::walk(b, open, |block| classify(block))
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn classify(block: &[u8; 64]) -> Classes {
        // SAFETY: each load reads 32 of the block's 64 bytes (unaligned loads are allowed).
        let (low, high) =
            unsafe { (_mm256_loadu_si256(block.as_ptr().cast()), _mm256_loadu_si256(block.as_ptr().add(32).cast())) };
        let (a, b) = (half(low), half(high));
        Classes {
            quote: a.quote | b.quote << 32,
            special: a.special | b.special << 32,
            comma: a.comma | b.comma << 32,
            close_bracket: a.close_bracket | b.close_bracket << 32,
        }
    }

    #[target_feature(enable = "avx2")]
    fn half(v: __m256i) -> Classes {
        let is = |c: u8| _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c as i8));
        let bits = |m: __m256i| _mm256_movemask_epi8(m) as u32 as u64;
        // x < 0x20 exactly when min(x, 0x1f) == x (unsigned).
        let control = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v);
        Classes {
            quote: bits(is(b'"')),
            special: bits(_mm256_or_si256(is(b'\\'), control)),
            comma: bits(is(b',')),
            close_bracket: bits(is(b']')),
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    /// The same question answered by serde_json: `text[open - 1..]` starts with an array of
    /// strings written exactly as serde_json writes them (so without escapes or whitespace); where
    /// it ends.
    fn reference(text: &[u8], open: usize) -> Option<usize> {
        let mut de = serde_json::Deserializer::from_slice(&text[open - 1..]).into_iter::<Vec<String>>();
        let strings = de.next()?.ok()?;
        let end = open - 1 + de.byte_offset();
        let canonical = serde_json::to_vec(&strings).ok()? == text[open - 1..end];
        (canonical && !text[open..end].contains(&b'\\')).then_some(end)
    }

    /// Whether this processor takes the AVX2 path (elsewhere every answer is `None`).
    fn avx2() -> bool {
        #[cfg(target_arch = "x86_64")]
        return std::arch::is_x86_feature_detected!("avx2");
        #[cfg(not(target_arch = "x86_64"))]
        return false;
    }

    /// Where a string's plain run stops, and a short name's end, as a byte-at-a-time loop finds
    /// them, for random bytes rich in quotes, backslashes and control characters.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn a_strings_plain_run_stops_where_the_byte_loop_stops() {
        let mut r = StdRng::seed_from_u64(7);
        let alphabet = [b'"', b'\\', b'a', b'z', b' ', 0x1f, 0x20, 0x00, 0x7f, 0x80, 0xc3, 0xff, b'{'];
        for _ in 0..20_000 {
            let len = r.random_range(0..40);
            let text: Vec<u8> = (0..len)
                .map(|_| if r.random_bool(0.9) { b'x' } else { alphabet[r.random_range(0..alphabet.len())] })
                .collect();
            let stop = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
            if let Some(chunk) = text.get(..16) {
                let bits = stops16(chunk.try_into().expect("16 bytes"));
                let want = (0..16).filter(|&i| stop(text[i])).fold(0u32, |m, i| m | 1 << i);
                assert_eq!(bits, want, "{text:?}");
            }
            for open in 0..text.len() {
                let first = text[open + 1..].iter().position(|&b| stop(b)).map(|i| open + 1 + i);
                let want = first.filter(|&q| text[q] == b'"' && q < open + 17 && open + 17 <= text.len());
                assert_eq!(short_plain_string_end(&text, open), want, "{text:?} at {open}");
            }
        }
    }

    /// The answer for the array at `open` of `text`: the same as serde's when it has one, and one
    /// whenever serde has one that ends 64 bytes or more before the text does (with AVX2).
    fn check(text: &[u8], open: usize) -> Option<usize> {
        let fast = plain_string_array(text, open);
        let slow = reference(text, open);
        if fast.is_some() || (avx2() && slow.is_some_and(|end| end + 64 <= text.len())) {
            assert_eq!(fast, slow, "{:?}", String::from_utf8_lossy(text));
        } else if !avx2() {
            assert_eq!(fast, None, "no answer without AVX2");
        }
        fast
    }

    #[test]
    fn arrays_of_plain_strings_are_read_whole_and_nothing_else_is_taken_for_one() {
        let pad = " ".repeat(200);
        for (case, plain) in [
            (r#"["a"]"#, true),
            (r#"["a","bc",""]"#, true),
            (r#"["","",""]"#, true),
            (r#"["a","b]","c,d"]"#, true),
            (r#"["é","ü"]"#, true),
            (r#"["a""b"]"#, false),
            (r#"["a",,"b"]"#, false),
            (r#"["a","b",]"#, false),
            (r#"["a",1]"#, false),
            (r#"["a", "b"]"#, false),
            (r#"["a\"b"]"#, false),
            (r#"["a\\"]"#, false),
            (r#"["a	b"]"#, false),
            (r#"["a"}"#, false),
            (r#"["a",["b"]]"#, false),
        ] {
            let text = format!("{case}{pad}");
            assert_eq!(check(text.as_bytes(), 1).is_some(), plain && avx2(), "{case}");
        }
        // Long arrays crossing many blocks, with a string and a comma on every boundary.
        for shift in 0..70 {
            let items: Vec<String> = (0..40).map(|i| format!("{}{i}", "x".repeat((i * 7 + shift) % 23))).collect();
            let text = format!("{}{pad}", serde_json::to_string(&items).unwrap());
            assert_eq!(check(text.as_bytes(), 1).is_some(), avx2(), "{shift}: {text}");
        }
    }

    #[test]
    fn random_arrays_agree_with_serde() {
        let alphabet: &[&str] = &["\"", ",", "]", "a", "bc", "\\", "\\\"", " ", "\t", "[", "1", "é", "\u{1}"];
        let mut r = StdRng::seed_from_u64(5);
        let mut accepted = 0;
        for _ in 0..20000 {
            let mut text = String::from("[\"");
            // Mostly well-formed arrays, with a random piece here and there.
            for _ in 0..r.random_range(0..30) {
                if r.random_bool(0.05) {
                    text.push_str(alphabet[r.random_range(0..alphabet.len())]);
                } else {
                    text.push_str(["x", "yy", "\",\"", "zzzzzzzzz"][r.random_range(0..4)]);
                }
            }
            text.push_str(["\"]", "]", "\"", "\",\"a\"]"][r.random_range(0..4)]);
            text.push_str(&" ".repeat(r.random_range(0..100)));
            accepted += usize::from(check(text.as_bytes(), 1).is_some());
        }
        // A fair share of them are plain arrays, taken whole (about a quarter).
        assert!(accepted > 3000 || !avx2(), "{accepted} of 20000 taken whole");
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_classifier_agrees_with_the_portable_one() {
        if !avx2() {
            assert_eq!(plain_string_array(br#"["a"]"#.repeat(30).as_slice(), 1), None);
            return;
        }
        let mut r = StdRng::seed_from_u64(11);
        for _ in 0..20000 {
            let mut block = [0u8; 64];
            for b in block.iter_mut() {
                *b = if r.random_bool(0.5) {
                    b"\"\\,] \n\x00\x1f\x20\x7f\x80\xff"[r.random_range(0..12)]
                } else {
                    r.random()
                };
            }
            // SAFETY: the processor has AVX2 (checked above).
            let fast = unsafe { avx2::classify(&block) };
            assert_eq!(fast, classify_portable(&block), "{block:?}");
        }
    }
}
