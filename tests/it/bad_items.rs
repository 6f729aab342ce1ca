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
