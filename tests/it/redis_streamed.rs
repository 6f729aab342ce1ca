//! `sync` of a `.json` flag file into Redis writes items while the file is read (into staging
//! hashes moved into place by one short MULTI/EXEC, or, where the Redis user may not rename, one
//! MULTI/EXEC around everything; either committed only once all of the file has been read and
//! checked), against the real redis-server started by scripts/test. A file with any other name is
//! read whole first, the way every other source is: the ways must write the same bytes, and a
//! file that goes wrong late must leave the store as it was, with no staging hash behind.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use crate::support::*;

/// `sync` with debug logs, which say whether the items were written while the file was read.
fn sync_logged(path: &Path, prefix: &str) -> Output {
    run(ldstore().args(["-vv", "sync", "--from-file"]).arg(path).args(["--redis", &redis_addr(), "--prefix", prefix]))
}

const STREAMED: &str = "read; committing";

/// Staging hashes left under `prefix` (a finished or abandoned sync leaves none).
fn staging_left(prefix: &str) -> String {
    redis_cli(&["--scan", "--pattern", &format!("{prefix}:$ldstore_staging:*")])
}

/// Every field of a prefix's two hashes, byte for byte, and whether its marker exists.
fn contents(prefix: &str) -> (BTreeMap<String, String>, BTreeMap<String, String>, bool) {
    let mut c = redis::Client::open(format!("redis://{}", redis_addr())).unwrap().get_connection().unwrap();
    let flags: BTreeMap<String, String> =
        redis::cmd("HGETALL").arg(format!("{prefix}:features")).query(&mut c).unwrap();
    let segments: BTreeMap<String, String> =
        redis::cmd("HGETALL").arg(format!("{prefix}:segments")).query(&mut c).unwrap();
    let inited: bool = redis::cmd("EXISTS").arg(format!("{prefix}:$inited")).query(&mut c).unwrap();
    (flags, segments, inited)
}

/// One flag of about 1.5 KB (with non-ASCII text), as compact JSON.
fn flag(key: &str, version: u32) -> String {
    let values: Vec<String> = (0..60).map(|i| format!("\"user-{i:05}-é😀\"")).collect();
    format!(
        r#"{{"key":"{key}","version":{version},"on":true,"prerequisites":[],"targets":[{{"variation":0,"values":[{}]}}],"rules":[],"fallthrough":{{"variation":0}},"offVariation":1,"variations":[true,false],"salt":"s","deleted":false}}"#,
        values.join(",")
    )
}

/// A flag file of `n` ordinary flags (about 1.5 KB each) and a few segments, followed by `last`
/// (more members of `flags`, written as given) and the rest of the file.
fn big_file(n: usize, last: &str) -> String {
    let mut text =
        String::from("{\"segments\":{\"s1\":{\"key\":\"s1\",\"version\":3,\"included\":[\"a\"]}},\"flags\":{");
    for i in 0..n {
        if i > 0 {
            text.push(',');
        }
        let key = format!("flag-{i:05}");
        text.push_str(&format!("\"{key}\":{}", flag(&key, 1 + (i % 7) as u32)));
    }
    text.push_str(last);
    text.push_str("}}\n");
    text
}

#[test]
fn streamed_and_whole_file_syncs_write_the_same_bytes() {
    // Many times the 256 KiB read buffer and the pipelined pieces; with pretty-printed items,
    // escaped and non-ASCII keys, items without a version, segments first, and an unknown
    // top-level property, which is ignored with a warning.
    let mut text = String::from(
        "{\n  \"meta\": {\"exported\": \"now\"},\n  \"segments\": {\n    \"s\\u0031\": {\"key\": \"s1\", \"version\": 2},\n    \"s2\": {\"key\": \"s2\"}\n  },\n  \"flags\": {\n",
    );
    for i in 0..4_500 {
        let key = match i % 500 {
            0 => format!("fl\\u0061g-{i}"),
            1 => format!("flag-é-{i}"),
            _ => format!("flag-{i:05}"),
        };
        let item = match i % 300 {
            7 => "{ \"key\" : \"pretty\" ,\n      \"version\" : 4,\n      \"on\" : true }".to_string(),
            8 => r#"{"key":"no-version","on":false}"#.to_string(),
            _ => flag(&key, 2),
        };
        text.push_str(&format!("    \"{key}\": {item}{}\n", if i < 4_499 { "," } else { "" }));
    }
    text.push_str("  }\n}\n");
    assert!(text.len() > 6 << 20, "{}", text.len());
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("flags.json");
    std::fs::write(&json, &text).unwrap();
    // Also a pipe, read whole first.
    let other = fifo_in(dir.path(), "flags", &text);

    let (a, b) = (unique_prefix("streamed"), unique_prefix("whole"));
    let o = sync_logged(&json, &a);
    assert_code(&o, 0);
    assert!(stderr(&o).contains(STREAMED), "{}", stderr(&o));
    assert!(stderr(&o).contains("(staged)"), "{}", stderr(&o));
    assert_eq!(staging_left(&a), "");
    // Moved into place without the staging hashes' expiry.
    for key in ["features", "segments"] {
        assert_eq!(redis_cli(&["ttl", &format!("{a}:{key}")]).trim(), "-1", "{key}");
    }
    assert!(stderr(&o).contains("ignoring unknown top-level property \"meta\""), "{}", stderr(&o));
    assert!(stderr(&o).contains("synced 4500 flags and 2 segments"), "{}", stderr(&o));
    let o = sync_logged(&other, &b);
    assert_code(&o, 0);
    assert!(!stderr(&o).contains(STREAMED), "{}", stderr(&o));

    // A regular JSON file by another name (its first character other than whitespace is `{`, as
    // the full parser decides) is written while read too; the same text named .yaml is not.
    let (backup, yaml) = (dir.path().join("backup-2026-12-05"), dir.path().join("flags.yaml"));
    std::fs::write(&backup, format!("\n {text}")).unwrap();
    std::fs::write(&yaml, &text).unwrap();
    let (c, d) = (unique_prefix("streamed-by-content"), unique_prefix("yaml"));
    let o = sync_logged(&backup, &c);
    assert_code(&o, 0);
    assert!(stderr(&o).contains(STREAMED), "{}", stderr(&o));
    let o = sync_logged(&yaml, &d);
    assert_code(&o, 0);
    assert!(!stderr(&o).contains(STREAMED), "{}", stderr(&o));

    let (flags, segments, inited) = contents(&a);
    assert!(inited);
    assert_eq!(flags.len(), 4_500);
    assert_eq!((flags.clone(), segments.clone(), inited), contents(&b));
    assert_eq!(contents(&c), contents(&b));
    assert_eq!(contents(&d).0.len(), 4_500);
    assert_eq!(flags["flag-00007"], r#"{"key":"pretty","version":4,"on":true}"#);
    assert_eq!(flags["flag-00008"], r#"{"version":1,"key":"no-version","on":false}"#);
    assert_eq!(flags["flag-00002"], flag("flag-00002", 2));
    assert_eq!(flags["flag-é-1"], flag("flag-é-1", 2));
    assert!(flags.contains_key("flag-0") && flags.contains_key("flag-4000"), "escaped keys are stored unescaped");
    assert_eq!(segments["s1"], r#"{"key":"s1","version":2}"#);
    assert_eq!(segments["s2"], r#"{"version":1,"key":"s2"}"#);
}

#[test]
fn a_file_that_goes_wrong_at_the_end_leaves_the_store_unchanged() {
    let p = unique_prefix("late-error");
    assert_code(&sync_logged(&repo_path("examples/flags.json"), &p), 0);
    let before = contents(&p);
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, String, i32, &str)> = vec![
        ("invalid.json", big_file(4_000, r#","z":{"key":"z","version":1,"x":[1,]}"#), 4, "invalid JSON"),
        ("duplicate.json", big_file(4_000, &format!(",\"flag-00000\":{}", flag("flag-00000", 9))), 4, "duplicate key"),
        ("tombstone.json", big_file(4_000, r#","gone":{"key":"gone","deleted":true}"#), 4, "has no \"version\""),
        ("truncated.json", big_file(4_000, "").trim_end().trim_end_matches('}').to_string(), 4, "invalid JSON"),
    ];
    for (name, text, code, expected) in &cases {
        let f = dir.path().join(name);
        std::fs::write(&f, text).unwrap();
        let o = sync_logged(&f, &p);
        assert_code(&o, *code);
        let err = stderr(&o);
        assert!(err.contains(expected), "{name}: expected {expected:?} in {err}");
        // Thousands of items had been sent inside the transaction before the problem was found.
        let abandoned = err.lines().find(|l| l.contains("abandoned after")).unwrap_or_else(|| panic!("{name}: {err}"));
        let queued: usize =
            abandoned.split("abandoned after ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        assert!(queued >= 3_000, "{name}: {abandoned}");
        assert!(abandoned.contains("its staging hashes removed"), "{name}: {abandoned}");
        assert_eq!(contents(&p), before, "{name} changed the store");
        assert_eq!(staging_left(&p), "", "{name}");
    }
    // Bytes that are not UTF-8 near the end of the file.
    let mut bytes = big_file(4_000, r#","z":{"key":"z","version":1,"x":"?"}"#).into_bytes();
    let at = bytes.len() - 8;
    bytes[at] = 0xff;
    let f = dir.path().join("latin1.json");
    std::fs::write(&f, bytes).unwrap();
    let o = sync_logged(&f, &p);
    // Bad data like any other bad content (issue #21): exit 4, naming the offset.
    assert_code(&o, 4);
    assert!(stderr(&o).contains("not UTF-8 (invalid byte at offset"), "{}", stderr(&o));
    assert_eq!(contents(&p), before);
}

#[test]
fn unusual_files_are_written_after_reading_them_whole() {
    // What the one-pass reader leaves to the full parser (an escaped member name, `flagValues`)
    // only shows at the end: the transaction is dropped and the file synced the ordinary way.
    // (A version written as 3.0 is refused: see bad_items.rs.)
    let dir = tempfile::tempdir().unwrap();
    for (name, last) in [
        ("escaped-name.json", r#","z":{"key":"z","version":3,"\u006fn":true}"#.to_string()),
        ("flag-values.json", String::new()),
    ] {
        let mut text = big_file(3_000, &last);
        if name == "flag-values.json" {
            text = format!("{},\"flagValues\":{{\"simple\":true}}}}\n", text.trim_end().strip_suffix('}').unwrap());
        }
        let json = dir.path().join(name);
        std::fs::write(&json, &text).unwrap();
        let other = fifo_in(dir.path(), &format!("{name}.pipe"), &text);
        let (a, b) = (unique_prefix("unusual"), unique_prefix("unusual-whole"));
        let o = sync_logged(&json, &a);
        assert_code(&o, 0);
        assert!(stderr(&o).contains("abandoned after"), "{name}: {}", stderr(&o));
        assert_code(&sync_logged(&other, &b), 0);
        let (flags, _, inited) = contents(&a);
        assert!(inited);
        assert_eq!(flags.len(), 3_001, "{name}");
        assert_eq!(contents(&a), contents(&b), "{name}");
    }
}

#[test]
fn a_prefix_longer_than_the_room_kept_before_each_piece_writes_the_same_bytes() {
    // Each piece is written with the commands before its HSET in 512 bytes kept in front of it; a
    // longer hash name needs a write of its own first. Staged and in one transaction (a user that
    // may not RENAME), several pieces of each.
    let user = format!("norenamelong{}", std::process::id());
    redis_cli(&["ACL", "SETUSER", &user, "on", ">secret-pw", "~*", "&*", "+@all", "-rename"]);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("flags.json");
    std::fs::write(&f, big_file(1_200, "")).unwrap();
    let short = unique_prefix("short");
    assert_code(&sync_logged(&f, &short), 0);
    let expected = contents(&short);
    assert_eq!(expected.0.len(), 1_200);
    let as_user = format!("redis://{user}:secret-pw@{}", redis_addr());
    for (addr, how) in [(redis_addr(), "(staged)"), (as_user, "(one transaction)")] {
        let long = format!("{}-{}", unique_prefix("long"), "p".repeat(600));
        let o = run(ldstore().args(["-vv", "sync", "--from-file"]).arg(&f).args(["--redis", &addr, "--prefix", &long]));
        assert_code(&o, 0);
        assert!(stderr(&o).contains(how) && stderr(&o).contains(STREAMED), "{}", stderr(&o));
        assert_eq!(contents(&long), expected, "{how}");
        assert_eq!(staging_left(&long), "");
    }
    redis_cli(&["ACL", "DELUSER", &user]);
}

#[test]
fn a_redis_user_that_may_not_rename_gets_one_transaction_with_the_same_bytes() {
    // (also: a file read whole is staged too when the user may)
    a_redis_user_that_may_not_rename_gets_one_transaction()
}

fn a_redis_user_that_may_not_rename_gets_one_transaction() {
    // An ACL user with every command but RENAME: the staged write is not possible, and the sync
    // says so in its debug log and writes one MULTI/EXEC instead.
    let user = format!("norename{}", std::process::id());
    redis_cli(&["ACL", "SETUSER", &user, "on", ">secret-pw", "~*", "&*", "+@all", "-rename"]);
    // The same for a file read whole first (a pipe), staged or not.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("flags.json");
    let text = big_file(2_500, "");
    std::fs::write(&f, &text).unwrap();
    let whole = dir.path().join("flags");
    let staged = unique_prefix("staged");
    let o = sync_logged(&f, &staged);
    assert_code(&o, 0);
    assert!(stderr(&o).contains("(staged)"), "{}", stderr(&o));
    let expected = contents(&staged);
    assert_eq!(expected.0.len(), 2_500);
    let as_user = format!("redis://{user}:secret-pw@{}", redis_addr());
    for (file, addr, staged) in [(&f, &as_user, false), (&whole, &as_user, false), (&whole, &redis_addr(), true)] {
        let p = unique_prefix("no-rename");
        if file == &whole {
            fifo_in(dir.path(), "flags", &text);
        }
        let o = run(ldstore().args(["-vv", "sync", "--from-file"]).arg(file).args(["--redis", addr, "--prefix", &p]));
        assert_code(&o, 0);
        let err = stderr(&o);
        assert_eq!(err.contains("Redis refuses what a staged init needs (RENAME: NOPERM"), !staged, "{err}");
        if file == &f {
            assert!(err.contains("(one transaction)") && err.contains(STREAMED), "{err}");
        }
        assert!(!err.contains("secret-pw"), "{err}");
        assert_eq!(contents(&p), expected, "{file:?} staged: {staged}");
        assert_eq!(staging_left(&p), "");
        for key in ["features", "segments"] {
            assert_eq!(redis_cli(&["ttl", &format!("{p}:{key}")]).trim(), "-1", "{key}");
        }
    }
    redis_cli(&["ACL", "DELUSER", &user]);
}
