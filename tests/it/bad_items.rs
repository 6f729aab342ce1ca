//! Items stored wrong (issue 17, items 4-6), end to end against the real redis-server and the
//! in-process Consul server: a `"version": null`, items the SDKs cannot parse (refused by `sync`
//! unless `--force`), and stored bytes that are not UTF-8 (never altered or lost silently).

use std::path::Path;
use std::process::Output;

use crate::consul::Target;
use crate::support::*;

fn redis_sync(file: &Path, prefix: &str, extra: &[&str]) -> Output {
    run(ldstore()
        .args(["sync", "--from-file"])
        .arg(file)
        .args(["--redis", &redis_addr(), "--prefix", prefix])
        .args(extra))
}

fn redis_dump(prefix: &str) -> Output {
    run(ldstore().args(["dump", "--include-deleted", "--redis", &redis_addr(), "--prefix", prefix]))
}

fn consul_sync(t: &Target, file: &Path, prefix: &str, extra: &[&str]) -> Output {
    run(t.cmd(&["sync", "--from-file", file.to_str().unwrap(), "--prefix", prefix]).args(extra))
}

fn consul_dump(t: &Target, prefix: &str) -> Output {
    run(&mut t.cmd(&["dump", "--include-deleted", "--prefix", prefix]))
}

/// `diff` of a file against a store source; its exit code.
fn diff_code(file: &Path, source: &str) -> Output {
    run(ldstore().args(["diff"]).arg(file).arg(source))
}

fn redis_source(prefix: &str) -> String {
    format!("redis://{}?prefix={prefix}", redis_addr())
}

fn consul_source(t: &Target, prefix: &str) -> String {
    let hostport = t.url.trim_start_matches("http://");
    match &t.token {
        Some(tok) => format!("consul://{hostport}?prefix={prefix}&token={tok}"),
        None => format!("consul://{hostport}?prefix={prefix}"),
    }
}

const GOOD: &str = r#"{"flags":{"a":{"key":"a","version":2,"on":true}},"segments":{"s":{"key":"s","version":1}}}"#;

/// Files with an item whose `"version"` is null, in every form the file reader takes: a `.json`
/// file (streamed into Redis), YAML, and a file read whole by content.
fn null_version_files() -> Vec<(tempfile::TempDir, std::path::PathBuf)> {
    vec![
        temp_file("null.json", r#"{"flags":{"a":{"key":"a","version":3},"b":{"key":"b","version":null,"on":true}}}"#),
        temp_file("null.yaml", "flags:\n  b:\n    key: b\n    version: null\n"),
        temp_file("null.txt", r#"{"segments":{"b":{"version" : null}}}"#),
    ]
}

#[test]
fn null_version_is_refused_and_the_redis_prefix_stays_readable() {
    let p = unique_prefix("null-version");
    let (_d, good) = temp_file("good.json", GOOD);
    assert_code(&redis_sync(&good, &p, &[]), 0);
    let before = redis_dump(&p);
    assert_code(&before, 0);
    for (_d, bad) in null_version_files() {
        let o = redis_sync(&bad, &p, &[]);
        assert_code(&o, 4);
        let err = stderr(&o);
        assert!(err.contains(r#"item "b" has an invalid "version" (null)"#), "{bad:?}: {err}");
        // Nothing was written: the prefix dumps and diffs as before.
        assert_eq!(stdout(&redis_dump(&p)), stdout(&before), "{bad:?}");
        assert_code(&diff_code(&good, &redis_source(&p)), 0);
    }
    // A null version stored by another writer is an unusable item, named (not "no version").
    redis_cli(&["HSET", &format!("{p}:features"), "n", r#"{"key":"n","version":null}"#]);
    let o = redis_dump(&p);
    assert_code(&o, 3);
    assert!(stderr(&o).contains(r#"flags item "n" has an invalid "version" (null)"#), "{}", stderr(&o));
}

#[test]
fn null_version_is_refused_and_the_consul_prefix_stays_readable() {
    for t in crate::consul::targets() {
        let p = unique_prefix("null-version");
        let (_d, good) = temp_file("good.json", GOOD);
        assert_code(&consul_sync(&t, &good, &p, &[]), 0);
        let before = consul_dump(&t, &p);
        assert_code(&before, 0);
        for (_d, bad) in null_version_files() {
            let o = consul_sync(&t, &bad, &p, &[]);
            assert_code(&o, 4);
            assert!(stderr(&o).contains(r#"item "b" has an invalid "version" (null)"#), "{}", stderr(&o));
            assert_eq!(stdout(&consul_dump(&t, &p)), stdout(&before), "{}", t.name());
            assert_code(&diff_code(&good, &consul_source(&t, &p)), 0);
        }
        t.put(&format!("{p}/segments/n"), r#"{"key":"n","version":null}"#);
        let o = consul_dump(&t, &p);
        assert_code(&o, 3);
        assert!(stderr(&o).contains(r#"segments item "n" has an invalid "version" (null)"#), "{}", stderr(&o));
    }
}

fn fixture() -> std::path::PathBuf {
    repo_path("tests/fixtures/sdk-unparseable.json")
}

/// The line `sync` prints for each item of the fixture the SDKs cannot parse (flags first, in key
/// order).
const REFUSED: [&str; 10] = [
    r#"flags "dup-member": duplicate member "on""#,
    r#"flags "dup-nested": duplicate member "values" (in rules[0].clauses[0])"#,
    r#"flags "key-number": "key" is not a string"#,
    r#"flags "lone-high": lone surrogate \ud800 in a string (at salt)"#,
    r#"flags "no-key": no "key" (a live item needs one)"#,
    r#"flags "out-of-range": number 1e400 is out of range (at variations[1])"#,
    r#"flags "version-exp": "version" is written 1e2, not as an integer"#,
    r#"flags "version-float": "version" is written 3.0, not as an integer"#,
    r#"flags "version-neg-zero": "version" is written -0, not as an integer"#,
    r#"segments "seg-lone-low": lone surrogate \udc00 in a string (at included[0])"#,
];

/// A refused sync: exit 4, each item named on its own line, one error line with a hint.
#[track_caller]
fn assert_refused(o: &Output, source: &str) {
    assert_code(o, 4);
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().collect();
    let want: Vec<String> = REFUSED.iter().map(|l| format!("ldstore: {l}")).collect();
    assert_eq!(lines[..REFUSED.len()], want[..], "{err}");
    assert!(
        lines[REFUSED.len()].starts_with(&format!("ldstore: error: {source}"))
            && lines[REFUSED.len()]
                .ends_with("holds 10 items the SDKs cannot parse (named above); nothing was written"),
        "{err}"
    );
    assert_eq!(lines[REFUSED.len() + 1], "hint: fix them in the source, or write them as they are with --force");
    assert_eq!(lines.len(), REFUSED.len() + 2, "{err}");
}

/// `--force`: written, one warning per item.
#[track_caller]
fn assert_forced(o: &Output) {
    assert_code(o, 0);
    let err = stderr(o);
    for l in REFUSED {
        assert!(err.contains(&format!("ldstore: warning: writing anyway (--force): {l}\n")), "{l}: {err}");
    }
}

#[test]
fn sync_refuses_what_the_sdks_cannot_parse_into_redis() {
    let p = unique_prefix("refused");
    let (_d, good) = temp_file("good.json", GOOD);
    assert_code(&redis_sync(&good, &p, &[]), 0);
    let before = stdout(&redis_dump(&p));
    // A .json file is streamed into Redis; the same text read whole (from a pipe) is checked too,
    // and so is a dry run.
    let text = std::fs::read_to_string(fixture()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("unparseable");
    for (file, extra) in [(fixture(), &[][..]), (pipe.clone(), &[][..]), (fixture(), &["--dry-run"][..])] {
        if file == pipe {
            fifo_in(dir.path(), "unparseable", &text);
        }
        let o = redis_sync(&file, &p, extra);
        assert_refused(&o, &format!("file {}", file.display()));
        assert_eq!(stdout(&redis_dump(&p)), before, "nothing was written");
    }
    // With --force they are written exactly as in the file (minified), and ldstore reads them back.
    assert_forced(&redis_sync(&fixture(), &p, &["--force"]));
    let stored = redis_cli(&["HGET", &format!("{p}:features"), "dup-member"]);
    assert_eq!(
        stored.trim_end(),
        r#"{"key":"dup-member","version":1,"on":false,"variations":[true,false],"offVariation":1,"fallthrough":{"variation":0},"salt":"s","on":true}"#
    );
    assert_code(&redis_dump(&p), 0);
    assert_code(&diff_code(&fixture(), &redis_source(&p)), 0);
    // ... and validate says what the SDKs make of them.
    let o = run(ldstore().args(["validate", "--redis", &redis_addr(), "--prefix", &p, "--output", "json"]));
    assert_code(&o, 1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let unparseable: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "unparseable")
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        unparseable,
        [
            "dup-member",
            "dup-nested",
            "key-number",
            "lone-high",
            "no-key",
            "out-of-range",
            "version-exp",
            "version-float",
            "version-neg-zero",
            "seg-lone-low"
        ]
    );
    // A store holding them is a source like any other: refused unless --force.
    let q = unique_prefix("refused-copy");
    let o = run(ldstore().args(["sync", "--from", &redis_source(&p), "--redis", &redis_addr(), "--prefix", &q]));
    assert_refused(&o, "Redis prefix");
    assert_eq!(redis_cli(&["EXISTS", &format!("{q}:$inited")]).trim(), "0");
    let o =
        run(ldstore().args(["sync", "--from", &redis_source(&p), "--redis", &redis_addr(), "--prefix", &q, "--force"]));
    assert_forced(&o);
    assert_eq!(stdout(&redis_dump(&q)), stdout(&redis_dump(&p)));
}

#[test]
fn sync_refuses_what_the_sdks_cannot_parse_into_consul() {
    for t in crate::consul::targets() {
        let p = unique_prefix("refused");
        let (_d, good) = temp_file("good.json", GOOD);
        assert_code(&consul_sync(&t, &good, &p, &[]), 0);
        let before = stdout(&consul_dump(&t, &p));
        assert_refused(&consul_sync(&t, &fixture(), &p, &[]), "file");
        assert_eq!(stdout(&consul_dump(&t, &p)), before, "{}: nothing was written", t.name());
        assert_forced(&consul_sync(&t, &fixture(), &p, &["--force"]));
        assert_code(&consul_dump(&t, &p), 0);
        assert_code(&diff_code(&fixture(), &consul_source(&t, &p)), 0);
        let q = unique_prefix("refused-copy");
        let o = run(&mut t.cmd(&["sync", "--from", &consul_source(&t, &p), "--prefix", &q]));
        assert_refused(&o, "Consul prefix");
        assert!(t.keys(&format!("{q}/")).is_empty(), "{}", t.name());
    }
}

#[test]
fn sync_from_launchdarkly_refuses_them_too() {
    use crate::support::ld_server::LdServer;
    const KEY: &str = "sdk-11111111-2222-3333-4444-555555550017";
    let server = LdServer::start();
    server.env(KEY, &std::fs::read_to_string(fixture()).unwrap());
    let p = unique_prefix("refused-ld");
    let sync = |extra: &[&str]| {
        run(ldstore()
            .args(["sync", "--sdk-key", KEY, "--base-uri", &server.uri, "--redis", &redis_addr(), "--prefix", &p])
            .args(extra))
    };
    assert_refused(&sync(&[]), "LaunchDarkly");
    assert_eq!(redis_cli(&["EXISTS", &format!("{p}:$inited")]).trim(), "0");
    assert_forced(&sync(&["--force"]));

    // Many environments from a Relay config: the one with such items fails (exit 4, its items
    // named after its name), the others are synced.
    const GOOD_KEY: &str = "sdk-11111111-2222-3333-4444-555555550018";
    server.env(GOOD_KEY, GOOD);
    let (bad, good) = (unique_prefix("env-refused"), unique_prefix("env-good"));
    let (host, port) = redis_addr().rsplit_once(':').map(|(h, p)| (h.to_string(), p.to_string())).unwrap();
    let conf = format!(
        "[Main]\nbaseUri = {uri}\n[Redis]\nhost = {host}\nport = {port}\n\
         [Environment \"Bad\"]\nsdkKey = {KEY}\nprefix = {bad}\n\
         [Environment \"Good\"]\nsdkKey = {GOOD_KEY}\nprefix = {good}\n",
        uri = server.uri
    );
    let (_dir, path) = temp_file("relay.conf", &conf);
    let o = run(ldstore().args(["sync", "--config"]).arg(&path));
    assert_code(&o, 4);
    let err = stderr(&o);
    for l in REFUSED {
        assert!(err.contains(&format!("ldstore: environment \"Bad\": {l}\n")), "{l}: {err}");
    }
    assert!(err.contains("holds 10 items the SDKs cannot parse"), "{err}");
    assert_eq!(redis_cli(&["EXISTS", &format!("{bad}:$inited")]).trim(), "0");
    assert_eq!(redis_cli(&["EXISTS", &format!("{good}:$inited")]).trim(), "1");
    let o = run(ldstore().args(["sync", "--force", "--config"]).arg(&path));
    assert_code(&o, 0);
    assert!(stderr(&o).contains(r#"ldstore: warning: environment "Bad": writing anyway (--force): flags "no-key""#));
    assert_eq!(redis_cli(&["EXISTS", &format!("{bad}:$inited")]).trim(), "1");
}

/// Past ten items, the first ten are named and the rest counted; a tombstone needs no key.
#[test]
fn many_refused_items_are_counted() {
    let flags: Vec<String> =
        (0..13).map(|i| format!(r#""f{i:02}":{{"key":"f{i:02}","version":1,"on":1,"on":2}}"#)).collect();
    let (_d, f) = temp_file(
        "many.json",
        &format!(r#"{{"flags":{{{},"gone":{{"version":3,"deleted":true}}}}}}"#, flags.join(",")),
    );
    let p = unique_prefix("many-refused");
    let o = redis_sync(&f, &p, &[]);
    assert_code(&o, 4);
    let err = stderr(&o);
    let named = err.lines().filter(|l| l.ends_with(r#": duplicate member "on""#)).count();
    assert_eq!(named, 10, "{err}");
    assert!(err.contains("ldstore: … and 3 more\n"), "{err}");
    assert!(err.contains("holds 13 items the SDKs cannot parse"), "{err}");
    assert!(!err.contains("gone"), "{err}");
    let (_d, f) =
        temp_file("tomb.json", r#"{"flags":{"gone":{"version":3,"deleted":true},"a":{"key":"a","version":1}}}"#);
    assert_code(&redis_sync(&f, &p, &[]), 0);
}

/// Write a hash field of any bytes, as another tool could.
fn redis_hset_bytes(hash: &str, field: &[u8], value: &[u8]) {
    let mut c = redis::Client::open(format!("redis://{}", redis_addr())).unwrap().get_connection().unwrap();
    redis::cmd("HSET").arg(hash).arg(field).arg(value).exec(&mut c).unwrap();
}

/// `inspect --output json` of a prefix: its stats.
fn inspect_stats(cmd: &mut std::process::Command) -> serde_json::Value {
    let o = run(cmd.args(["--output", "json"]));
    assert_code(&o, 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["stats"].clone()
}

/// The `bad-item` findings of `validate --output json` (which exits 1): (key, reason), sorted.
fn bad_item_findings(cmd: &mut std::process::Command) -> Vec<(String, String)> {
    let o = run(cmd.args(["--output", "json"]));
    assert_code(&o, 1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut out: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "bad-item")
        .map(|f| (f["key"].as_str().unwrap().to_string(), f["reason"].as_str().unwrap().to_string()))
        .collect();
    out.sort();
    out
}

/// Hash fields `k\xff` and `k\xfe` were read as one `k\u{fffd}`: a flag disappeared from a backup
/// with exit 0. Each is now an unusable item named with its bytes, on the HGETALL path and on the
/// HSCAN path of large hashes alike.
#[test]
fn redis_fields_and_values_that_are_not_utf8_are_named_never_altered_or_lost() {
    for fields in [150, 5_100] {
        let p = unique_prefix("non-utf8");
        let flags: Vec<String> = (0..fields).map(|i| format!(r#""f{i}":{{"key":"f{i}","version":1}}"#)).collect();
        let (_d, file) = temp_file("f.json", &format!(r#"{{"flags":{{{}}}}}"#, flags.join(",")));
        assert_code(&redis_sync(&file, &p, &[]), 0);
        let hash = format!("{p}:features");
        redis_hset_bytes(&hash, b"k\xff", br#"{"key":"k","version":1}"#);
        redis_hset_bytes(&hash, b"k\xfe", br#"{"key":"k","version":2}"#);
        let named = |err: &str| {
            [r"\xff", r"\xfe"].iter().any(|b| {
                err.contains(&format!(
                    r#"Redis holds an unreadable item: flags item "k{b}": its key is not valid UTF-8 (invalid byte at offset 1)"#
                ))
            })
        };
        let o = redis_dump(&p);
        assert_code(&o, 3);
        assert!(named(&stderr(&o)), "{fields}: {}", stderr(&o));
        let o = diff_code(&file, &redis_source(&p));
        assert_code(&o, 3);
        assert!(named(&stderr(&o)), "{}", stderr(&o));
        let q = unique_prefix("non-utf8-copy");
        let o = run(ldstore().args(["sync", "--from", &redis_source(&p), "--redis", &redis_addr(), "--prefix", &q]));
        assert_code(&o, 3);
        assert!(named(&stderr(&o)), "{}", stderr(&o));
        assert_eq!(redis_cli(&["EXISTS", &format!("{q}:$inited")]).trim(), "0");
        let stats = inspect_stats(ldstore().args(["inspect", "--redis", &redis_addr(), "--prefix", &p]));
        assert_eq!(stats["flags"], fields, "{stats}");
        let mut unreadable: Vec<String> =
            stats["unreadable"].as_array().unwrap().iter().map(|u| u.as_str().unwrap().to_string()).collect();
        unreadable.sort();
        assert_eq!(unreadable, [r"flags/k\xfe", r"flags/k\xff"], "{fields}");
        let found = bad_item_findings(ldstore().args(["validate", "--redis", &redis_addr(), "--prefix", &p]));
        let want: Vec<(String, String)> = ["fe", "ff"]
            .iter()
            .map(|b| {
                let key = format!(r"k\x{b}");
                let reason = format!(r#"flags item "{key}": its key is not valid UTF-8 (invalid byte at offset 1)"#);
                (key, reason)
            })
            .collect();
        assert_eq!(found, want, "{fields}");
    }
    // A value that is not UTF-8, under a valid key; a key with a backslash is shown as it is.
    let p = unique_prefix("non-utf8-value");
    let (_d, good) = temp_file("good.json", GOOD);
    assert_code(&redis_sync(&good, &p, &[]), 0);
    redis_hset_bytes(&format!("{p}:segments"), br"s\2", b"{\"key\":\"s2\",\"version\":1,\"salt\":\"\xe9\"}");
    let o = redis_dump(&p);
    assert_code(&o, 3);
    assert!(
        stderr(&o).contains(r#"segments item "s\2": its JSON is not valid UTF-8 (invalid byte at offset 32)"#),
        "{}",
        stderr(&o)
    );
}

/// The same for Consul: a value that is not UTF-8 is named; keys that are not UTF-8, which Consul
/// lists with U+FFFD for each invalid byte (two of them alike), are named, while a key that really
/// holds U+FFFD is read as usual.
#[test]
fn consul_keys_and_values_that_are_not_utf8_are_named_never_altered_or_lost() {
    let t = Target::local();
    let server = t.server.as_ref().unwrap();
    let p = unique_prefix("non-utf8");
    let (_d, good) = temp_file("good.json", GOOD);
    assert_code(&consul_sync(&t, &good, &p, &[]), 0);
    let fffd = format!("{p}/features/g\u{fffd}");
    server.put(&fffd, br#"{"key":"g\ufffd","version":1}"#);
    let o = consul_dump(&t, &p);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("\"g\u{fffd}\":{\"key\""), "{}", stdout(&o));
    // A value that is not UTF-8.
    server.put(&format!("{p}/segments/s2"), b"{\"key\":\"s2\",\"version\":1,\"salt\":\"\xe9\"}");
    let o = consul_dump(&t, &p);
    assert_code(&o, 3);
    let want = r#"Consul holds an unreadable item: segments item "s2": its JSON is not valid UTF-8 (invalid byte at offset 32)"#;
    assert!(stderr(&o).contains(want), "{}", stderr(&o));
    let found = bad_item_findings(&mut t.cmd(&["validate", "--prefix", &p]));
    assert_eq!(found.len(), 1, "{found:?}");
    // Keys that are not UTF-8: one alone, and two listed alike.
    let q = unique_prefix("non-utf8-keys");
    assert_code(&consul_sync(&t, &good, &q, &[]), 0);
    let key = |name: &[u8]| [format!("{q}/features/").as_bytes(), name].concat();
    server.put_bytes(&key(b"one\xff"), br#"{"key":"one","version":1}"#);
    server.put_bytes(&key(b"k\xff"), br#"{"key":"k","version":1}"#);
    server.put_bytes(&key(b"k\xfe"), br#"{"key":"k","version":2}"#);
    let one = r#"flags item "one\u{fffd}": its key is not valid UTF-8 (Consul lists each invalid byte as U+FFFD, shown here as \u{fffd})"#;
    let two = r#"flags item "k\u{fffd}": Consul lists 2 keys as this one: keys that are not valid UTF-8 (each invalid byte listed as U+FFFD, shown here as \u{fffd})"#;
    let o = consul_dump(&t, &q);
    assert_code(&o, 3);
    assert!([one, two].iter().any(|m| stderr(&o).contains(m)), "{}", stderr(&o));
    assert_code(&diff_code(&good, &consul_source(&t, &q)), 3);
    let r = unique_prefix("non-utf8-copy");
    let o = run(&mut t.cmd(&["sync", "--from", &consul_source(&t, &q), "--prefix", &r]));
    assert_code(&o, 3);
    assert!([one, two].iter().any(|m| stderr(&o).contains(m)), "{}", stderr(&o));
    assert!(t.keys(&format!("{r}/")).is_empty());
    let stats = inspect_stats(&mut t.cmd(&["inspect", "--prefix", &q]));
    assert_eq!(stats["flags"], 1, "{stats}");
    let mut unreadable: Vec<String> =
        stats["unreadable"].as_array().unwrap().iter().map(|u| u.as_str().unwrap().to_string()).collect();
    unreadable.sort();
    assert_eq!(unreadable, [r"flags/k\u{fffd}", r"flags/k\u{fffd}", r"flags/one\u{fffd}"]);
    let found = bad_item_findings(&mut t.cmd(&["validate", "--prefix", &q]));
    let found: Vec<(&str, &str)> = found.iter().map(|(k, r)| (k.as_str(), r.as_str())).collect();
    assert_eq!(found, [(r"k\u{fffd}", two), (r"k\u{fffd}", two), (r"one\u{fffd}", one)]);
}
