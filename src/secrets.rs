//! Secrets (SDK keys, passwords, tokens) are registered here when configuration is resolved, and
//! every line ldstore prints about errors or logs passes through [`mask`].

use std::sync::{Mutex, OnceLock};

fn registry() -> &'static Mutex<Vec<String>> {
    static R: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(Vec::new()))
}

/// Remember a secret so it is masked wherever it would be printed.
pub fn register(secret: &str) {
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

/// Replace every registered secret in `text` with its masked form.
pub fn mask(text: &str) -> String {
    let r = registry().lock().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for s in r.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), &masked(s));
        }
    }
    out
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
            u.to_string()
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
}
