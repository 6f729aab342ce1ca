//! Secrets (SDK keys, passwords, tokens) are registered here when configuration is resolved, and
//! every line ldstore prints about errors or logs passes through [`mask`].

use std::sync::{Mutex, OnceLock};

fn registry() -> &'static Mutex<Vec<String>> {
    static R: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(Vec::new()))
}

/// Remember a secret so it is masked wherever it would be printed.
pub fn register(secret: &str) {
    #[cfg(any(test, feature = "fuzz"))]
    if NOT_REGISTERED.with(|n| n.get()) {
        return;
    }
    if secret.len() < 4 {
        // Too short to mask usefully without mangling ordinary text; never printed by us anyway.
        return;
    }
    let mut r = registry().lock().unwrap_or_else(|e| e.into_inner());
    if !r.iter().any(|s| s == secret) {
        r.push(secret.to_string());
        r.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

#[cfg(any(test, feature = "fuzz"))]
thread_local! {
    static NOT_REGISTERED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// While set, secrets met on this thread are not registered: the fuzz smoke test runs inside the
/// unit tests, which share the registry (a password a fuzz input registers would mask other tests'
/// text).
#[cfg(any(test, feature = "fuzz"))]
pub(crate) fn skip_registration_on_this_thread(skip: bool) {
    NOT_REGISTERED.with(|n| n.set(skip));
}

/// Forget every registered secret once there are very many: the fuzz driver registers a password
/// per input it tries, which would otherwise grow without bound (and slow [`mask`] down).
#[cfg(any(test, feature = "fuzz"))]
pub(crate) fn forget_if_many() {
    let mut r = registry().lock().unwrap_or_else(|e| e.into_inner());
    if r.len() > 4096 {
        r.clear();
    }
}

/// The display form of a secret: for SDK keys `sdk-…ab12`, otherwise `…ab12` (or `****` if short).
pub fn masked(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() <= 8 {
        return "****".to_string();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    for p in ["sdk-", "mob-"] {
        if secret.starts_with(p) {
            return format!("{p}…{tail}");
        }
    }
    format!("…{tail}")
}

/// Remember the password of a URL with userinfo (`scheme://user:password@host`), as written and
/// percent-decoded, so it is masked wherever it would be printed. Anything else is left alone.
pub fn register_url(raw: &str) {
    for password in userinfo_passwords(raw) {
        let password = &raw[password];
        register(password);
        let decoded = percent_decode(password);
        if decoded != password {
            register(&decoded);
        }
    }
}

/// Replace every registered secret in `text` with its masked form, and the password of every
/// `scheme://user:password@` in it with `****` (registered or not: short passwords, URLs never
/// seen while configuration was resolved).
pub fn mask(text: &str) -> String {
    let r = registry().lock().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for s in r.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), &masked(s));
        }
    }
    drop(r);
    redact_userinfo_in_text(&out)
}

/// The byte range of the password of every
/// `scheme://user:password@host` in `text`. The authority ends where a URL's does (`/`, `?`, `#`,
/// `\`) or at whitespace, a quote or an angle bracket; its last `@` ends the userinfo, whose first
/// `:` ends the user name.
fn userinfo_passwords(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("://").map(|i| i + from) {
        from = i + 3;
        // A scheme: a letter, then letters, digits, `+`, `-`, `.` (RFC 3986).
        let scheme_start = bytes[..i]
            .iter()
            .rposition(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
            .map_or(0, |p| p + 1);
        if scheme_start == i || !bytes[scheme_start].is_ascii_alphabetic() {
            continue;
        }
        let start = i + 3;
        let end = bytes[start..]
            .iter()
            .position(|b| {
                b.is_ascii_whitespace() || matches!(b, b'/' | b'?' | b'#' | b'\\' | b'"' | b'\'' | b'<' | b'>' | b'`')
            })
            .map_or(bytes.len(), |p| start + p);
        let Some(at) = text[start..end].rfind('@').map(|p| start + p) else { continue };
        let Some(colon) = text[start..at].find(':').map(|p| start + p) else { continue };
        found.push(colon + 1..at);
        from = end;
    }
    found
}

/// `text` with the password of every `scheme://user:password@` replaced by `****`.
fn redact_userinfo_in_text(text: &str) -> String {
    let found = userinfo_passwords(text);
    if found.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for password in found {
        out.push_str(&text[last..password.start]);
        out.push_str("****");
        last = password.end;
    }
    out.push_str(&text[last..]);
    out
}

/// `%xx` escapes decoded (an invalid escape is kept as written; bytes that are not UTF-8 become
/// U+FFFD).
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// A URL with its password (and token-like query values) replaced by a mask.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        // `user:pass@host` without a scheme parses as scheme `user`: treat it as unparsed.
        Ok(u) if u.cannot_be_a_base() => mask(&redact_userinfo(raw)),
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("****"));
            }
            let pairs: Vec<(String, String)> = u
                .query_pairs()
                .map(|(k, v)| {
                    let secret = matches!(k.as_ref(), "token" | "password" | "sdkKey" | "sdk_key");
                    (k.into_owned(), if secret { "****".into() } else { v.into_owned() })
                })
                .collect();
            if !pairs.is_empty() {
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            let mut out = u.to_string();
            // The URL form adds `/` to `http://host:1`: show the address as it was written.
            if out.ends_with('/') && !raw.ends_with('/') && u.path() == "/" && u.query().is_none() {
                out.pop();
            }
            out
        }
        Err(_) => mask(&redact_userinfo(raw)),
    }
}

/// For text that does not parse as a URL: mask the password in a `user:password@` part, found
/// by hand (everything between the first `:` after the scheme and the last `@`).
fn redact_userinfo(raw: &str) -> String {
    let start = raw.find("://").map_or(0, |i| i + 3);
    let Some(at) = raw.rfind('@').filter(|&at| at >= start) else {
        return raw.to_string();
    };
    match raw[start..at].find(':') {
        Some(colon) => format!("{}:****{}", &raw[..start + colon], &raw[at..]),
        None => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_sdk_keys_and_registered_secrets() {
        assert_eq!(masked("sdk-12345678-aaaa-bbbb-cccc-1234567890ab"), "sdk-…90ab");
        assert_eq!(masked("hunter2"), "****");
        register("s3cr3t-password-value");
        assert_eq!(mask("auth failed for s3cr3t-password-value!"), "auth failed for …alue!");
        assert_eq!(redact_url("redis://u:pw@h:1/0"), "redis://u:****@h:1/0");
        // Addresses that do not parse still lose their password.
        assert_eq!(redact_url("redis://u:p@ss:w/rd@[bad:1"), "redis://u:****@[bad:1");
        assert_eq!(redact_url("u:hunter22@host:x"), "u:****@host:x");
        assert_eq!(redact_url("host:6379"), "host:6379");
    }

    #[test]
    fn mask_redacts_every_url_password_in_any_text() {
        // Short passwords and URLs never registered are covered too.
        assert_eq!(
            mask("gave up on LaunchDarkly polling http://user:S3@host:1 after 2 s (https://a:b@c/x?y#z)"),
            "gave up on LaunchDarkly polling http://user:****@host:1 after 2 s (https://a:****@c/x?y#z)"
        );
        assert_eq!(mask("\"dbServer\": \"http://u:p%40ss@h:8500\""), "\"dbServer\": \"http://u:****@h:8500\"");
        // The last `@` of the authority ends the userinfo (as the url crate reads it).
        assert_eq!(mask("at http://u:p@ss@h:1/x"), "at http://u:****@h:1/x");
        assert_eq!(
            mask("redis://:pw@h:6379 and consul+https://u:@h"),
            "redis://:****@h:6379 and consul+https://u:****@h"
        );
        // A user name alone, a path with `@`, an e-mail address and plain text are left alone.
        for text in [
            "http://token@host:1",
            "http://host/a:b@c",
            "write to ops@example.com: now",
            "no URL here: a:b@c",
            "://x:y@z",
            "http://",
        ] {
            assert_eq!(mask(text), text);
        }
    }

    #[test]
    fn url_passwords_are_registered_as_written_and_decoded() {
        register_url("http://user:Registered%2FPass@host:8500");
        assert_eq!(mask("password Registered/Pass"), "password …Pass");
        assert_eq!(mask("password Registered%2FPass"), "password …Pass");
        register_url("host:8500");
        register_url("http://only-user@host");
    }
}
