//! Silent wipes (issue 17, items 1 and 2): a source with no flags and no segments never replaces a
//! prefix that holds items unless `--allow-empty` is given, and a store prefix read as a source
//! must hold LaunchDarkly data (its `$inited` marker, or flags written by an SDK that writes no
//! marker). Against the real redis-server and DynamoDB Local started by scripts/test, the
//! in-process Consul and LaunchDarkly test servers.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::support::consul_server::{self, ConsulServer};
use crate::support::ddb::{self, ld_table, new_table};
use crate::support::ld_server::LdServer;
use crate::support::*;

const REFUSAL: &str = "holds no flags or segments; refusing to empty";
const ALLOW_HINT: &str = "hint: pass --allow-empty to empty it on purpose";
/// examples/flags.json holds 37 flags and 6 segments.
const EXAMPLES_HOLD: &str = "which holds 37 flags and 6 segments";

fn examples() -> PathBuf {
    repo_path("examples/flags.json")
}

fn sync_redis(from_file: &Path, prefix: &str, extra: &[&str]) -> Output {
    run(ldstore()
        .args(["sync", "--from-file"])
        .arg(from_file)
        .args(["--redis", &redis_addr(), "--prefix", prefix])
        .args(extra))
}

/// A Redis prefix of its own holding examples/flags.json.
fn full_redis_prefix(name: &str) -> String {
    let p = unique_prefix(name);
    assert_code(&sync_redis(&examples(), &p, &[]), 0);
    assert_eq!(hlen(&p, "features"), 37);
    p
}

fn hlen(prefix: &str, ns: &str) -> usize {
    redis_cli(&["HLEN", &format!("{prefix}:{ns}")]).trim().parse().unwrap()
}

fn exists(key: &str) -> bool {
    redis_cli(&["EXISTS", key]).trim() == "1"
}

/// The prefix still holds every example item.
#[track_caller]
fn assert_untouched(prefix: &str) {
    assert_eq!((hlen(prefix, "features"), hlen(prefix, "segments")), (37, 6), "prefix {prefix} was changed");
    assert!(exists(&format!("{prefix}:$inited")));
}

/// Exit 4 with the one-line refusal and the --allow-empty hint.
#[track_caller]
fn assert_refused(o: &Output, source: &str, backend: &str, prefix: &str, holds: &str) {
    assert_code(o, 4);
    let err = stderr(o);
    let want = format!(
        "ldstore: error: the source ({source}) holds no flags or segments; refusing to empty {backend} prefix \"{prefix}\", {holds}\n"
    );
    assert!(err.contains(&want), "want {want:?} in:\n{err}");
    assert!(err.contains(ALLOW_HINT), "{err}");
}

#[test]
fn every_empty_file_form_is_refused_over_a_full_redis_prefix() {
    let p = full_redis_prefix("empty-forms");
    let dir = tempfile::tempdir().unwrap();
    // (file name, content, whether the file is empty or only whitespace)
    let forms: &[(&str, &str, bool)] = &[
        ("zero-bytes", "", true),
        ("empty.yaml", "", true),
        ("comment.yaml", "# nothing here yet\n", false),
        ("comment-only", "# exported by a script that failed\n", false),
        ("blank.txt", " \n\t\n  \n", true),
        ("blank.json", "\n \n", true),
        ("null.txt", "null\n", false),
        ("null.yaml", "~\n", false),
        ("flags-null.yaml", "flags: null\n", false),
        ("flags-null.txt", "{\"flags\":null}", false),
        ("flags-null.json", "{\"flags\":null}", false),
        ("null.json", "null", false),
    ];
    for (name, content, blank) in forms {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let o = sync_redis(&path, &p, &[]);
        assert_refused(&o, &format!("file {}", path.display()), "Redis", &p, EXAMPLES_HOLD);
        let empty_warning = format!("flag file {} is empty", path.display());
        assert_eq!(stderr(&o).contains(&empty_warning), *blank, "{name}: {}", stderr(&o));
        assert_untouched(&p);
    }
    // A device that reads as nothing, and a pipe from a command that printed nothing.
    let o = sync_redis(Path::new("/dev/null"), &p, &[]);
    assert_refused(&o, "file /dev/null", "Redis", &p, EXAMPLES_HOLD);
    assert!(stderr(&o).contains("flag file /dev/null is empty"), "{}", stderr(&o));
    let o = run(Command::new("bash")
        .args(["-c", r#""$0" sync --from-file <(true) --redis "$1" --prefix "$2""#])
        .arg(bin())
        .args([&redis_addr(), &p])
        .env("NO_COLOR", "1"));
    assert_code(&o, 4);
    assert!(stderr(&o).contains(REFUSAL) && stderr(&o).contains(ALLOW_HINT), "{}", stderr(&o));
    assert_untouched(&p);
    // --output json reports the same error on stderr (nothing on stdout).
    let o = run(ldstore().args([
        "--output",
        "json",
        "sync",
        "--from-file",
        "/dev/null",
        "--redis",
        &redis_addr(),
        "--prefix",
        &p,
    ]));
    assert_code(&o, 4);
    assert_eq!(stdout(&o), "");
    assert_untouched(&p);
}

#[test]
fn empty_json_files_on_the_streamed_redis_path_are_refused() {
    let p = full_redis_prefix("empty-streamed");
    for (i, content) in
        ["{}", "{\"flags\":{}}", "{\"flags\":{},\"segments\":{}}", "{\"segments\":{},\"meta\":{\"n\":0}}"]
            .iter()
            .enumerate()
    {
        let (_d, f) = temp_file(&format!("empty-{i}.json"), content);
        let o = run(ldstore().args(["-vv", "sync", "--from-file"]).arg(&f).args([
            "--redis",
            &redis_addr(),
            "--prefix",
            &p,
        ]));
        assert_refused(&o, &format!("file {}", f.display()), "Redis", &p, EXAMPLES_HOLD);
        assert!(!stderr(&o).contains("EXEC of prefix"), "nothing may be committed:\n{}", stderr(&o));
        assert_untouched(&p);
    }
    // A non-empty .json file still goes the streamed way.
    let (_d, f) = temp_file("one.json", r#"{"flags":{"only":{"key":"only","version":2}}}"#);
    let o =
        run(ldstore().args(["-vv", "sync", "--from-file"]).arg(&f).args(["--redis", &redis_addr(), "--prefix", &p]));
    assert_code(&o, 0);
    assert!(stderr(&o).contains("read; committing"), "{}", stderr(&o));
    assert_eq!((hlen(&p, "features"), hlen(&p, "segments")), (1, 0));
    // With --allow-empty, `{}` empties it on purpose (through the same path).
    let (_d, f) = temp_file("empty.json", "{}");
    let o = sync_redis(&f, &p, &["--allow-empty"]);
    assert_code(&o, 0);
    assert!(stderr(&o).contains("synced 0 flags and 0 segments"), "{}", stderr(&o));
    assert!(!exists(&format!("{p}:features")) && exists(&format!("{p}:$inited")));
}

#[test]
fn allow_empty_wipes_on_purpose_and_an_empty_prefix_takes_an_empty_source() {
    let p = full_redis_prefix("allow-empty");
    let o = sync_redis(Path::new("/dev/null"), &p, &["--allow-empty"]);
    assert_code(&o, 0);
    assert!(!exists(&format!("{p}:features")) && !exists(&format!("{p}:segments")));
    assert!(exists(&format!("{p}:$inited")), "an empty init still writes the marker");
    // Now it holds nothing: an empty source replaces nothing and needs no flag.
    assert_code(&sync_redis(Path::new("/dev/null"), &p, &[]), 0);
    // An absent prefix takes an empty source too, and is marked initialized.
    let fresh = unique_prefix("fresh-empty");
    let (_d, f) = temp_file("empty.json", "{}");
    assert_code(&sync_redis(&f, &fresh, &[]), 0);
    assert!(exists(&format!("{fresh}:$inited")));
    // A prefix holding only a tombstone holds an item: refused.
    let tomb = unique_prefix("only-tombstone");
    redis_cli(&["HSET", &format!("{tomb}:features"), "gone", r#"{"key":"gone","version":4,"deleted":true}"#]);
    let o = sync_redis(Path::new("/dev/null"), &tomb, &[]);
    assert_refused(&o, "file /dev/null", "Redis", &tomb, "which holds 1 tombstone");
    assert_eq!(hlen(&tomb, "features"), 1);
}

#[test]
fn dry_run_of_an_empty_source_lists_what_would_go_and_says_it_would_be_refused() {
    let p = full_redis_prefix("empty-dry");
    let o = sync_redis(Path::new("/dev/null"), &p, &["--dry-run"]);
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(
        out.contains(&format!("dry run: Redis prefix \"{p}\": 0 added, 0 updated, 43 removed, 0 unchanged")),
        "{out}"
    );
    assert!(out.contains("  removed  flags/") && out.contains("  removed  segments/"), "{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("  removed  ")).count(), 43, "{out}");
    let refusal = format!(
        "the real run would be refused: the source (file /dev/null) holds no flags or segments; refusing to empty Redis prefix \"{p}\", {EXAMPLES_HOLD} (pass --allow-empty to empty it on purpose)"
    );
    assert!(out.contains(&refusal), "{out}");
    assert_untouched(&p);
    // JSON: the same plan, and the refusal as a string.
    let o = sync_redis(Path::new("/dev/null"), &p, &["--dry-run", "--output", "json"]);
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["removed"].as_array().unwrap().len(), 43);
    assert!(v["refused"].as_str().unwrap().contains(REFUSAL), "{v}");
    // With --allow-empty the dry run shows the same removals and no refusal.
    let o = sync_redis(Path::new("/dev/null"), &p, &["--dry-run", "--allow-empty", "--output", "json"]);
    assert_code(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!((v["removed"].as_array().unwrap().len(), v["refused"].clone()), (43, Value::Null));
    let o = sync_redis(Path::new("/dev/null"), &p, &["--dry-run", "--allow-empty"]);
    assert!(!stdout(&o).contains("would be refused"), "{}", stdout(&o));
    assert_untouched(&p);
    // A store source that holds no LaunchDarkly data fails the dry run as it fails the real run.
    let from = format!("redis://{}?prefix={}", redis_addr(), unique_prefix("dry-typo"));
    let o = run(ldstore().args(["sync", "--dry-run", "--from", &from, "--redis", &redis_addr(), "--prefix", &p]));
    assert_code(&o, 4);
    assert!(stderr(&o).contains("holds no LaunchDarkly data"), "{}", stderr(&o));
}

/// A Redis database of the shared server that only this test uses, emptied.
fn own_db(db: &str) -> String {
    redis_cli(&["-n", db, "FLUSHDB"]);
    format!("redis://{}/{db}", redis_addr())
}

#[test]
fn typo_in_a_redis_source_prefix_is_refused_with_the_prefixes_that_exist() {
    let url = own_db("9");
    for p in ["ld:prod", "ld:staging"] {
        let o = run(ldstore().args(["sync", "--from-file"]).arg(examples()).args(["--redis", &url, "--prefix", p]));
        assert_code(&o, 0);
    }
    let o = run(ldstore().args([
        "sync",
        "--from",
        &format!("{url}?prefix=ld:prdo"),
        "--redis",
        &url,
        "--prefix",
        "ld:prod",
    ]));
    assert_code(&o, 4);
    let err = stderr(&o);
    assert!(
        err.contains(&format!("ldstore: error: source Redis prefix \"ld:prdo\" at {url} holds no LaunchDarkly data\n")),
        "{err}"
    );
    assert!(err.contains("hint: prefixes found there: ld:prod, ld:staging\n"), "{err}");
    assert_eq!(redis_cli(&["-n", "9", "HLEN", "ld:prod:features"]).trim(), "37");
    // The same rule for every command that reads a store as a source.
    let (_d, f) = temp_file("flags.json", r#"{"flags":{}}"#);
    let o = run(ldstore().args(["diff", &format!("{url}?prefix=ld:prdo"), f.to_str().unwrap()]));
    assert_code(&o, 4);
    assert!(stderr(&o).contains("source Redis prefix \"ld:prdo\""), "{}", stderr(&o));
    let o = run(ldstore().args([
        "eval",
        "--all",
        "--context",
        r#"{"kind":"user","key":"u"}"#,
        "--from",
        &format!("{url}?prefix=ld:prdo"),
    ]));
    assert_code(&o, 4);
    assert!(stderr(&o).contains("holds no LaunchDarkly data"), "{}", stderr(&o));
    // The right prefix copies (and a diff of it against itself is clean).
    let o = run(ldstore().args([
        "sync",
        "--from",
        &format!("{url}?prefix=ld:prod"),
        "--redis",
        &url,
        "--prefix",
        "ld:copy",
    ]));
    assert_code(&o, 0);
    let o = run(ldstore().args(["diff", &format!("{url}?prefix=ld:prod"), &format!("{url}?prefix=ld:copy")]));
    assert_code(&o, 0);

    // A store with no LaunchDarkly data at all says so.
    let empty = own_db("10");
    let o = run(ldstore().args([
        "sync",
        "--from",
        &format!("{empty}?prefix=prod"),
        "--redis",
        &url,
        "--prefix",
        "ld:prod",
    ]));
    assert_code(&o, 4);
    assert!(stderr(&o).contains("hint: no LaunchDarkly prefixes were found there\n"), "{}", stderr(&o));
    assert_eq!(redis_cli(&["-n", "9", "HLEN", "ld:prod:features"]).trim(), "37");
}

#[test]
fn a_redis_prefix_written_by_an_sdk_without_a_marker_is_a_valid_source() {
    // Python SDKs before 9.15 wrote the hashes but no `$inited` marker.
    let legacy = unique_prefix("legacy-py");
    let flag = r#"{"key":"py-flag","version":3,"on":true,"variations":[true,false],"fallthrough":{"variation":0},"offVariation":1}"#;
    redis_cli(&["HSET", &format!("{legacy}:features"), "py-flag", flag]);
    let dest = full_redis_prefix("legacy-dest");
    let from = format!("redis://{}?prefix={legacy}", redis_addr());
    let o = run(ldstore().args(["sync", "--from", &from, "--redis", &redis_addr(), "--prefix", &dest]));
    assert_code(&o, 0);
    assert_eq!(redis_cli(&["HGET", &format!("{dest}:features"), "py-flag"]).trim_end(), flag);
    assert_eq!((hlen(&dest, "features"), hlen(&dest, "segments")), (1, 0));
}

#[test]
fn typo_in_a_dynamodb_source_prefix_is_refused() {
    let t = new_table("typo-src");
    let e = ddb::endpoint();
    let o = run(&mut ld_table(&t, &["sync", "--from-file", examples().to_str().unwrap(), "--prefix", "prod"]));
    assert_code(&o, 0);
    let count = |prefix: &str| -> usize {
        let o = run(&mut ld_table(&t, &["dump", "--prefix", prefix]));
        assert_code(&o, 0);
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        v["flags"].as_object().unwrap().len() + v["segments"].as_object().unwrap().len()
    };
    let o = run(&mut ld_table(
        &t,
        &["sync", "--from", &format!("dynamodb://{t}?prefix=prdo&endpoint={e}"), "--prefix", "prod"],
    ));
    assert_code(&o, 4);
    let err = stderr(&o);
    let want = format!("ldstore: error: source DynamoDB prefix \"prdo\" in table \"{t}\" at {e}");
    assert!(err.contains(&want) && err.contains("holds no LaunchDarkly data\n"), "{err}");
    assert!(err.contains("hint: prefixes found there: prod\n"), "{err}");
    assert_eq!(count("prod"), 43);
    // An empty file into the full prefix (DynamoDB reads every source whole).
    let o = run(&mut ld_table(&t, &["sync", "--from-file", "/dev/null", "--prefix", "prod"]));
    assert_refused(&o, "file /dev/null", "DynamoDB", "prod", EXAMPLES_HOLD);
    assert_eq!(count("prod"), 43);
    // Flags written without a marker are data; a table with nothing in it says so.
    let flag =
        r#"{"key":"f","version":1,"on":false,"variations":[true],"offVariation":0,"fallthrough":{"variation":0}}"#;
    ddb::put(&t, &ddb::row("legacy:features", "f", 1, flag));
    let o = run(&mut ld_table(
        &t,
        &["sync", "--from", &format!("dynamodb://{t}?prefix=legacy&endpoint={e}"), "--prefix", "copy"],
    ));
    assert_code(&o, 0);
    assert_eq!(count("copy"), 1);
    let empty = new_table("typo-src-empty");
    let o = run(&mut ld_table(
        &t,
        &["sync", "--from", &format!("dynamodb://{empty}?prefix=prod&endpoint={e}"), "--prefix", "prod"],
    ));
    assert_code(&o, 4);
    assert!(stderr(&o).contains("hint: no LaunchDarkly prefixes were found there\n"), "{}", stderr(&o));
    assert_eq!(count("prod"), 43);
}

#[test]
fn typo_in_a_consul_source_prefix_and_a_consul_source_without_a_token_are_refused() {
    let token = "c0ffee00-1111-2222-3333-444455556666";
    let server = ConsulServer::start_with_token(token);
    let host = server.url().trim_start_matches("http://").to_string();
    let consul = |args: &[&str]| {
        let mut c = ldstore();
        c.args(args).args(["--consul", &server.url(), "--consul-token", token]);
        run(&mut c)
    };
    assert_code(&consul(&["sync", "--from-file", examples().to_str().unwrap(), "--prefix", "prod"]), 0);
    let held = || consul_server::keys_under(&server.url(), "prod/", Some(token)).len();
    assert_eq!(held(), 44);
    // A typo: exit 4 with the prefixes that exist.
    let o = consul(&["sync", "--from", &format!("consul://{host}?prefix=prdo&token={token}"), "--prefix", "prod"]);
    assert_code(&o, 4);
    let err = stderr(&o);
    let want = format!("ldstore: error: source Consul prefix \"prdo\" at http://{host}");
    assert!(err.contains(&want) && err.contains("holds no LaunchDarkly data\n"), "{err}");
    assert!(err.contains("hint: prefixes found there: prod\n"), "{err}");
    assert!(!err.contains(token), "{err}");
    assert_eq!(held(), 44);
    // The right prefix read without a token: Consul lists nothing to an anonymous reader (which
    // used to read as an empty data set), and refuses it the marker. Exit 3 naming the missing
    // token; nothing written.
    let o = consul(&["sync", "--from", &format!("consul://{host}?prefix=prod"), "--prefix", "prod"]);
    assert_code(&o, 3);
    let err = stderr(&o);
    assert!(err.contains(&format!("Consul at http://{host}")) && err.contains("no ACL token was given"), "{err}");
    assert_eq!(held(), 44);
    // Flags written without a marker are data.
    let flag =
        r#"{"key":"f","version":1,"on":false,"variations":[true],"offVariation":0,"fallthrough":{"variation":0}}"#;
    consul_server::put_value(&server.url(), "legacy/features/f", flag.as_bytes(), Some(token));
    let o = consul(&["sync", "--from", &format!("consul://{host}?prefix=legacy&token={token}"), "--prefix", "copy"]);
    assert_code(&o, 0);
    assert!(consul_server::raw_value(&server.url(), "copy/features/f", Some(token)).is_some());
    // An empty file into the full prefix.
    let o = consul(&["sync", "--from-file", "/dev/null", "--prefix", "prod"]);
    assert_refused(&o, "file /dev/null", "Consul", "prod", EXAMPLES_HOLD);
    assert_eq!(held(), 44);
    // A Consul that lists no prefix at all: said so, with what an ACL token without read
    // permission does.
    let bare = ConsulServer::start_with_token(token);
    let bare_host = bare.url().trim_start_matches("http://").to_string();
    let o = consul(&["sync", "--from", &format!("consul://{bare_host}?prefix=prod&token={token}"), "--prefix", "prod"]);
    assert_code(&o, 4);
    let err = stderr(&o);
    assert!(err.contains("hint: no LaunchDarkly prefixes were found there"), "{err}");
    assert!(err.contains("without read permission") && err.contains("token="), "{err}");
    assert_eq!(held(), 44);
}

const KEY: &str = "sdk-11111111-2222-3333-4444-5555555e0001";
const EMPTY_KEY: &str = "sdk-11111111-2222-3333-4444-5555555e0002";
const EMPTY_ENV: &str = r#"{"flags":{},"segments":{}}"#;

#[test]
fn launchdarkly_environment_with_nothing_in_it_never_empties_a_prefix() {
    let server = LdServer::start();
    server.env(KEY, &std::fs::read_to_string(examples()).unwrap());
    server.env(EMPTY_KEY, EMPTY_ENV);
    // One environment.
    let p = full_redis_prefix("ld-empty");
    let o = run(ldstore().args([
        "sync",
        "--sdk-key",
        EMPTY_KEY,
        "--base-uri",
        &server.uri,
        "--redis",
        &redis_addr(),
        "--prefix",
        &p,
    ]));
    assert_code(&o, 4);
    assert!(stderr(&o).contains(REFUSAL) && stderr(&o).contains(EXAMPLES_HOLD), "{}", stderr(&o));
    assert!(!stderr(&o).contains(EMPTY_KEY), "{}", stderr(&o));
    assert_untouched(&p);

    // Several: the empty one fails with exit 4, the other is synced.
    let (good, empty) = (unique_prefix("ld-env-good"), full_redis_prefix("ld-env-empty"));
    let (host, port) = redis_addr().rsplit_once(':').map(|(h, p)| (h.to_string(), p.to_string())).unwrap();
    let conf = format!(
        "[Main]\nbaseUri = {uri}\n[Redis]\nhost = {host}\nport = {port}\n\
         [Environment \"Prod\"]\nsdkKey = {KEY}\nprefix = {good}\n\
         [Environment \"Empty\"]\nsdkKey = {EMPTY_KEY}\nprefix = {empty}\n",
        uri = server.uri
    );
    let (_dir, path) = temp_file("relay.conf", &conf);
    let o = run(ldstore().args(["sync", "--output", "json", "--config"]).arg(&path));
    assert_code(&o, 4);
    let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let by_name = |n: &str| rows.as_array().unwrap().iter().find(|r| r["environment"] == n).expect(n).clone();
    assert_eq!(by_name("Prod")["status"], "ok");
    assert_eq!(by_name("Empty")["status"], "error");
    assert_eq!(by_name("Empty")["exit_code"], 4);
    assert!(by_name("Empty")["error"].as_str().unwrap().contains(REFUSAL), "{rows}");
    assert!(stderr(&o).contains("environment \"Empty\": the source (LaunchDarkly"), "{}", stderr(&o));
    assert_eq!(hlen(&good, "features"), 37);
    assert_untouched(&empty);
    // The dry run says which one would be refused.
    let o = run(ldstore().args(["sync", "--dry-run", "--output", "json", "--config"]).arg(&path));
    assert_code(&o, 0);
    let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let empty_row = rows.as_array().unwrap().iter().find(|r| r["environment"] == "Empty").unwrap().clone();
    assert_eq!(empty_row["dry_run"]["removed"].as_array().map(Vec::len), Some(43), "{rows}");
    assert!(empty_row["refused"].as_str().unwrap().contains(REFUSAL), "{rows}");
    // --allow-empty empties it on purpose.
    let o = run(ldstore().args(["sync", "--allow-empty", "--config"]).arg(&path));
    assert_code(&o, 0);
    assert!(!exists(&format!("{empty}:features")) && exists(&format!("{empty}:$inited")));
    assert_eq!(json!(hlen(&good, "features")), json!(37));
}
