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
        Err(_) => mask(raw),
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
    }
}
