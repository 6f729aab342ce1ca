//! The fuzz targets: one per parser of outside input. Each panics on a finding.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::Target;
use crate::config::vars::Env;
use crate::data::{Facts, Kind, facts_serde};
use crate::json_scan::oracle::sdk_parseable;
use crate::source::file::{parse_json_fast, parse_json_serde};

pub(super) const TARGETS: &[Target] = &[
    Target {
        name: "json_scan",
        about: "the one-pass JSON scanner against serde_json: items, flag files whole and read in pieces",
        run: json_scan,
        dictionary: JSON_TOKENS,
    },
    Target {
        name: "yaml_file",
        about: "YAML flag files (src/source/file.rs parse_yaml)",
        run: yaml_file,
        dictionary: &[
            "flags:",
            "segments:",
            "flagValues:",
            "\n  ",
            "\n- ",
            "key: ",
            "version: ",
            "&a ",
            "*a",
            "<<: ",
            "!!str ",
            "!tag ",
            ".inf",
            ".nan",
            "~",
            "---\n",
            "...\n",
            "{",
            "}",
            "[",
            "]",
            ": ",
            "? ",
            "|\n",
            ">\n",
            "\"",
            "'",
            "\t",
            "0x1F",
            "1e400",
            "-0",
            "true",
            "null",
            "deleted: true",
        ],
    },
    Target {
        name: "sse",
        about: "SSE framing (SseParser::with_limit(..).push) whole and in pieces, then each event parsed",
        run: sse,
        dictionary: &[
            "\n",
            "\r\n",
            "\r",
            "\n\n",
            "data: ",
            "data:",
            "event: put\n",
            "event: patch\n",
            "event: delete\n",
            "id: ",
            ": heartbeat\n",
            "event:",
            "{\"path\":\"/\",\"data\":{}}",
            "{\"path\":\"/flags/a\",\"data\":{\"key\":\"a\",\"version\":2}}",
            "{\"path\":\"/segments/s\",\"version\":3}",
        ],
    },
    Target {
        name: "ld_payload",
        about: "polling bodies and stream put/patch/delete data (parse_payload[_owned], parse_event)",
        run: ld_payload,
        dictionary: JSON_TOKENS,
    },
    Target {
        name: "relay_conf",
        about: "the Relay Proxy configuration file (relay_conf::parse, environments collected and validated)",
        run: relay_conf,
        dictionary: &[
            "[Main]\n",
            "[Redis]\n",
            "[DynamoDB]\n",
            "[Consul]\n",
            "[Events]\n",
            "[Environment \"a\"]\n",
            "[Environment \"",
            "\"]\n",
            "sdkKey = ",
            "prefix = ",
            "url = ",
            "host = ",
            "port = ",
            "enabled = true\n",
            "localTtl = ",
            "30s",
            "-1ms",
            "1h2m",
            "tls = ",
            "password = ",
            "tableName = ",
            "\n",
            " = ",
            ";",
            "#",
            "\\\n",
            "\"",
            "\\\"",
            "baseUri = ",
            "streamUri = ",
            "cluster = ",
            "sentinelMaster = ",
            "filterKey = ",
        ],
    },
    Target {
        name: "env_vars",
        about: "environment variables (NAME=VALUE lines) through store, LaunchDarkly, relay and sync settings",
        run: env_vars,
        dictionary: &[
            "\n",
            "=",
            "USE_REDIS=",
            "USE_DYNAMODB=",
            "USE_CONSUL=",
            "REDIS_URL=",
            "REDIS_HOST=",
            "REDIS_PORT=",
            "REDIS_TLS=",
            "REDIS_CLUSTER=",
            "REDIS_SENTINEL_MASTER=",
            "REDIS_PASSWORD=",
            "REDIS_USERNAME=",
            "DYNAMODB_TABLE=",
            "DYNAMODB_URL=",
            "CONSUL_HOST=",
            "CONSUL_HTTP_ADDR=",
            "CONSUL_TOKEN=",
            "LD_SDK_KEY=",
            "BASE_URI=",
            "STREAM_URI=",
            "LD_ENV_",
            "LD_PREFIX_",
            "LD_TTL_",
            "CACHE_TTL=",
            "true",
            "false",
            "T",
            "0",
            "redis://",
            "rediss://",
            "http://",
            "[::1]",
            ":6379",
            "@",
            "%",
            "sdk-",
        ],
    },
    Target {
        name: "source_spec",
        about: "source URLs and address forms (parse_spec, parse_redis_form, Consul and DynamoDB addresses)",
        run: source_spec,
        dictionary: &[
            "redis://",
            "rediss://",
            "redis+cluster://",
            "redis+sentinel://",
            "dynamodb://",
            "consul://",
            "file:",
            "ld",
            "?prefix=",
            "&endpoint=",
            "&region=",
            "&token=",
            "&",
            "=",
            "@",
            ":",
            "/",
            ",",
            "[",
            "]",
            "[::1]",
            "%",
            "%zz",
            "%40",
            "user:pass@",
            ":6379",
            ":99999",
            "localhost",
            "http://",
            "https://",
            "#",
            "?",
        ],
    },
    Target {
        name: "store_read",
        about: "store contents read back into items: Redis/Consul bytes, DynamoDB rows, leases, Big Segments metadata",
        run: store_read,
        dictionary: JSON_TOKENS,
    },
    Target {
        name: "big_segments_patch",
        about: "Big Segments patches from LaunchDarkly (parse_patches), their change order and their effect",
        run: big_segments_patch,
        dictionary: &[
            "[{\"environmentId\":\"e\",\"segmentId\":\"s.g1\",\"version\":\"2\",\"previousVersion\":\"1\",\"changes\":{}}]",
            "\"changes\":{\"included\":{\"add\":[\"h\"],\"remove\":[\"h\"]},\"excluded\":{\"add\":[],\"remove\":[\"h\"]}}",
            "\"segmentId\":",
            "\"version\":",
            "\"previousVersion\":",
            "\"included\":",
            "\"excluded\":",
            "\"add\":",
            "\"remove\":",
            "null",
            "\"\"",
            "[",
            "]",
            "{",
            "}",
            ",",
        ],
    },
    Target {
        name: "big_segments_part",
        about: "a dump's Big Segments part (sync --from-file's check): its contexts and metadata against serde_json",
        run: big_segments_part,
        dictionary: &[
            "{\"flags\":{},\"bigSegments\":{\"synchronizedOn\":\"1700000000000\",\"cursor\":\"3\",\"memberships\":{}}}",
            "\"h\":{\"included\":[\"s.g1\"],\"excluded\":[]}",
            "\"bigSegments\":",
            "\"memberships\":",
            "\"synchronizedOn\":",
            "\"cursor\":",
            "\"included\":",
            "\"excluded\":",
            "null",
            "1e400",
            "\"\"",
            "[",
            "]",
            "{",
            "}",
            ",",
        ],
    },
];

const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\",
    "\\u",
    "\\ud800",
    "\\udc00",
    "\"key\":",
    "\"version\":",
    "\"deleted\":",
    "\"prerequisites\":",
    "\"flags\":",
    "\"segments\":",
    "\"flagValues\":",
    "\"path\":",
    "\"data\":",
    "true",
    "false",
    "null",
    "0",
    "-0",
    "1e400",
    "1.5",
    "18446744073709551616",
    "\"a\"",
    " ",
    "\n",
    "\u{feff}",
    "\u{e9}",
    "{\"key\":\"a\",\"version\":1}",
    "\"/flags/a\"",
    "\"/segments/b\"",
    "\"unbounded\":true",
    "\"generation\":",
];

/// Bytes as text, or nothing to do (most parsers take `&str`; where the bytes arrive as bytes, the
/// target feeds them as bytes).
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A stable 64-bit hash of the input (choices that must not take bytes away from it).
fn hash(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf29ce484222325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3))
}

/// A reader giving out its bytes in pieces of 1..=max, sizes from `seed`.
struct Trickle<'a> {
    bytes: &'a [u8],
    seed: u64,
    max: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.seed = self.seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let n = (1 + (self.seed >> 33) as usize % self.max).min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

type Scanned = (Vec<(Kind, String, String, crate::json_scan::RawFacts)>, Vec<String>);

/// The one-pass scanner against serde_json: an item it reads has the facts serde_json finds and
/// is one the SDKs can parse; a flag file it reads is the data set serde_json reads; read in
/// pieces cut anywhere, it reads what it reads whole.
fn json_scan(data: &[u8]) {
    let pieces = |max: usize| -> Option<Scanned> {
        let mut items = Vec::new();
        let mut reader = Trickle { bytes: data, seed: hash(data), max };
        let unknown = crate::json_scan::flag_file_read(&mut reader, &mut |text, it| {
            items.push((it.kind, it.key.into_owned(), it.json.in_text(text).to_string(), it.facts));
            Some(())
        })
        .expect("reads from memory do not fail")?
        .unknown;
        Some((items, unknown))
    };
    let Some(text) = text(data) else {
        // Not UTF-8: left to serde (which refuses it), wherever the bad byte is.
        assert_eq!(pieces(7), None, "flag_file_read of bytes that are not UTF-8");
        return;
    };
    for kind in Kind::ALL {
        let slow = facts_serde(kind, "k", text);
        if let Some(raw) = crate::json_scan::item_facts(text) {
            assert_eq!(Ok(Facts::from_raw(kind, raw)), slow, "item_facts and serde_json disagree on {text:?}");
            assert!(sdk_parseable(text), "item_facts accepted an item the SDKs cannot parse: {text:?}");
        }
        if let Ok(f) = &slow
            && f.version.is_some()
        {
            let found = crate::defects::text_defects(text, f.deleted);
            assert_eq!(
                found.is_empty(),
                sdk_parseable(text),
                "text_defects disagrees with serde on {text:?}: {found:?}"
            );
        }
    }
    for require_version in [false, true] {
        if let Some(fast) = parse_json_fast(text, None, require_version) {
            for item in fast.flags.values().chain(fast.segments.values()) {
                assert!(sdk_parseable(&item.json), "the scanner kept an item the SDKs cannot parse: {item:?}");
            }
            assert_eq!(Ok(fast), parse_json_serde(text, require_version), "scanner and serde disagree on {text:?}");
        }
    }
    let whole = {
        let mut items = Vec::new();
        crate::json_scan::flag_file(text, &mut |it| {
            items.push((it.kind, it.key.into_owned(), it.json.in_text(text).to_string(), it.facts));
            Some(())
        })
        .map(|unknown| (items, unknown))
    };
    for max in [1, 3, 64] {
        assert_eq!(pieces(max), whole, "read in pieces of at most {max}, {text:?} scans otherwise than whole");
    }
}

/// Every item of a data set is one the store can hold: an object whose facts are its own.
fn check_data_set(data: &crate::data::DataSet, what: &str) {
    for kind in Kind::ALL {
        for (key, item) in data.items(kind) {
            assert_eq!(key, &item.key, "{what}: an item under another key");
            let facts = facts_serde(kind, key, &item.json)
                .unwrap_or_else(|e| panic!("{what}: a kept item is not usable: {e} ({:?})", item.json.as_str()));
            assert_eq!(facts.version, Some(item.version), "{what}: version of {:?}", item.json.as_str());
            assert_eq!(facts.deleted, item.deleted, "{what}: deleted of {:?}", item.json.as_str());
        }
    }
}

/// YAML flag files: an answer for every text, and a data set of usable items when it is one.
fn yaml_file(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Ok(ds) = crate::source::file::parse_yaml(text) {
        check_data_set(&ds, "parse_yaml");
    }
}

/// SSE framing: whole or in pieces cut anywhere, the same events (or the same error: a line that
/// is not UTF-8 stops a stream); every event then parses to an answer. A small limit bounds what
/// one event holds.
fn sse(data: &[u8]) {
    use crate::source::stream::{SseParser, parse_event};
    let h = hash(data);
    let whole = SseParser::with_limit(1 << 20).push(data);
    if let Err(e) = &whole {
        // A fuzz input is far below 1 MiB: only a line that is not UTF-8 may stop it.
        assert!(e.contains("not UTF-8"), "{e}");
    }
    let mut cut = SseParser::with_limit(1 << 20);
    let (mut pieces, mut cut_error) = (Vec::new(), None);
    let mut rest = data;
    let mut seed = h;
    while !rest.is_empty() {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let n = (1 + (seed >> 33) as usize % 17).min(rest.len());
        match cut.push(&rest[..n]) {
            Ok(events) => pieces.extend(events),
            Err(e) => {
                cut_error = Some(e);
                break;
            }
        }
        rest = &rest[n..];
    }
    match &whole {
        Ok(all) => {
            assert_eq!(cut_error, None, "in pieces an error the whole text does not give");
            assert_eq!(&pieces, all, "the same bytes in pieces framed otherwise");
            for ev in all {
                let _ = parse_event(ev);
            }
        }
        Err(e) => assert_eq!(cut_error.as_ref(), Some(e), "in pieces another outcome than the whole text"),
    }
    // A small limit: events of at most the limit get through, framing then stops with an error.
    let limit = 1 + (h % 64) as usize;
    let mut small = SseParser::with_limit(limit);
    match small.push(data) {
        Ok(events) => {
            for ev in &events {
                assert!(ev.data.len() <= limit, "an event of {} bytes through a limit of {limit}", ev.data.len());
            }
        }
        Err(e) => assert!(e.contains("larger than") || e.contains("not UTF-8"), "{e}"),
    }
}

/// LaunchDarkly payloads: a polling body (borrowed and owned parses agree, items usable), and the
/// data of a stream `put`, `patch` or `delete`.
fn ld_payload(data: &[u8]) {
    use crate::source::stream::{LdEvent, SseEvent, parse_event};
    let Some(text) = text(data) else { return };
    let borrowed = crate::source::file::parse_payload(text);
    let owned = crate::source::file::parse_payload_owned(text.to_string());
    assert_eq!(borrowed, owned, "parse_payload and parse_payload_owned disagree on {text:?}");
    if let Ok(ds) = &borrowed {
        check_data_set(ds, "parse_payload");
    }
    for name in ["put", "patch", "delete"] {
        let ev = SseEvent { event: name.into(), data: text.to_string(), id: None };
        match parse_event(&ev) {
            Ok(LdEvent::Put(ds)) => check_data_set(&ds, "put"),
            Ok(LdEvent::Patch { kind, item }) => {
                let f = facts_serde(kind, &item.key, &item.json).expect("a patch item is usable");
                assert_eq!(f.version, Some(item.version));
            }
            _ => {}
        }
    }
}

/// The Relay configuration file: an answer for every text; environments collected from a good one
/// validate to an answer.
fn relay_conf(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Ok(cfg) = crate::config::relay_conf::parse(text) {
        let envs = crate::config::envs::collect(Some(&cfg), &[]);
        let _ = crate::config::envs::validate(
            &envs,
            cfg.dynamodb.table_name.as_deref(),
            cfg.dynamodb.enabled.unwrap_or(false),
        );
    }
    for line in text.lines().take(8) {
        let _ = crate::config::relay_conf::parse_duration(line);
    }
}

/// An environment given as `NAME=VALUE` lines.
struct LinesEnv(Vec<(String, String)>);

impl Env for LinesEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone()).filter(|v| !v.is_empty())
    }
    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        self.0.iter().filter(|(k, _)| k.starts_with(prefix)).cloned().collect()
    }
}

/// Environment variables: every command's settings resolve to an answer (a usage error or a
/// configuration), whatever the variables hold.
fn env_vars(data: &[u8]) {
    use clap::Parser;

    use crate::cli::{Cli, Command};
    let Some(text) = text(data) else { return };
    let vars: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        // A variable naming a file would read whatever file the input names.
        .filter(|(k, _)| !k.contains("FILE"))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let env = LinesEnv(vars);
    for (name, value) in &env.0 {
        let _ = crate::config::vars::parse_bool(name, value);
    }
    let _ = crate::config::store::resolve_store(&crate::cli::StoreArgs::default(), &env);
    let _ = crate::source::ld::LdConfig::resolve(&crate::cli::LdArgs::default(), &env, None);
    for args in [&["ldstore", "relay"][..], &["ldstore", "sync"], &["ldstore", "inspect"], &["ldstore", "dump"]] {
        let cli = Cli::try_parse_from(args).expect("the command line parses");
        let _ = match cli.command {
            Command::Relay(a) => crate::config::envs::relay_settings(&a, &env).map(drop),
            Command::Sync(a) => crate::config::commands::sync(a, &env).map(drop),
            Command::Inspect(a) => crate::config::commands::inspect(a, &env).map(drop),
            Command::Dump(a) => crate::config::commands::dump(a, &env).map(drop),
            _ => Ok(()),
        };
    }
}

/// Source URLs and store address forms: an answer for every text, and the password of a URL with
/// credentials never shown whole in its redacted form or (masked, as every error is printed) in the
/// error about it.
fn source_spec(data: &[u8]) {
    use crate::config::store::{RedisShape, parse_consul_addr, parse_redis_addr, parse_redis_form};
    let Some(text) = text(data) else { return };
    let env = |_: &str| None::<String>;
    let mut errors = Vec::new();
    errors.extend(crate::config::source_spec::parse_spec(text, &crate::cli::StoreArgs::default(), &env).err());
    let shapes = [
        RedisShape::default(),
        RedisShape { cluster: true, ..Default::default() },
        RedisShape {
            sentinel_master: Some("m".into()),
            sentinel_password: Some("sentinel-pw".into()),
            ..Default::default()
        },
    ];
    for (i, shape) in shapes.iter().enumerate() {
        errors.extend(parse_redis_form(text, i == 1, shape).err());
    }
    errors.extend(parse_redis_addr(text, false).err());
    errors.extend(parse_consul_addr(text).err());
    errors.extend(crate::config::store::check_dynamodb_endpoint(text).err());
    let _ = crate::source::stream::kind_and_key(text);
    // The password of the text read as one URL (`scheme://user:password@host…`).
    let Some(password) = url::Url::parse(text).ok().and_then(|u| u.password().map(str::to_string)) else { return };
    let decoded = percent_encoding::percent_decode_str(&password).decode_utf8_lossy().into_owned();
    for p in [password, decoded] {
        // Only a password long enough to be masked, and nowhere else in the text, can be told apart.
        if p.len() < 8 || text.matches(p.as_str()).count() != 1 {
            continue;
        }
        let redacted = crate::secrets::redact_url(text);
        assert!(!redacted.contains(p.as_str()), "redact_url({text:?}) = {redacted:?} shows the password {p:?}");
        for e in &errors {
            let shown = crate::secrets::mask(&crate::exit::chain_text(e));
            assert!(!shown.contains(p.as_str()), "the error about {text:?} shows its password {p:?}: {shown}");
        }
    }
}

/// Big Segments patches: an answer for every text; for a parsed patch, its changes grouped per set
/// are exactly its changes, and applying it to memberships in memory ends each (context, set)
/// with the ref present iff that set's last change added it (Relay's order: adds, then removes),
/// and applying it twice changes nothing more.
fn big_segments_patch(data: &[u8]) {
    use crate::store::big_segments_patch::{Set, parse_patches};
    let Some(text) = text(data) else { return };
    let Ok(patches) = parse_patches(text) else { return };
    let mut memberships = std::collections::BTreeMap::new();
    for p in &patches {
        assert!(!p.segment_id.is_empty() && !p.version.is_empty());
        let per_set = p.per_set();
        assert_eq!(per_set.values().map(Vec::len).sum::<usize>(), p.changes().count());
        p.apply_to(&mut memberships);
        for ((hash, set), ops) in &per_set {
            let present = memberships.get(*hash).is_some_and(|m: &crate::store::big_segments::Membership| match set {
                Set::Included => m.included.contains(&p.segment_id),
                Set::Excluded => m.excluded.contains(&p.segment_id),
            });
            assert_eq!(present, *ops.last().unwrap(), "{hash} {set:?} after {ops:?}");
        }
        let once = memberships.clone();
        p.apply_to(&mut memberships);
        assert_eq!(once, memberships, "applying a patch twice changed more");
    }
}

/// A dump's Big Segments part: an answer for every input; when the part is accepted and the whole
/// text is JSON, it holds exactly the memberships serde_json sees (a context given twice is
/// refused, so none is counted twice or lost), and the metadata serde_json reads there.
fn big_segments_part(data: &[u8]) {
    use crate::commands::big_segments_file::check_bytes;
    let Ok(Some((found, metadata))) = check_bytes(data) else { return };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let part = &v["bigSegments"];
    let memberships = part.get("memberships").and_then(|m| m.as_object()).map_or(0, |m| m.len());
    assert_eq!(found.contexts, memberships as u64, "contexts of {part}");
    let text = |name: &str| match &part[name] {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    assert_eq!((metadata.synchronized_on, metadata.cursor), (text("synchronizedOn"), text("cursor")), "{part}");
}

/// Store contents read back: whatever bytes or attributes a store holds become an item or a named
/// unusable one (never a panic), and an item's facts are its JSON's.
fn store_read(data: &[u8]) {
    use crate::store::{BadItem, Entry, entry_bytes};
    let Some((&which, rest)) = data.split_first() else { return };
    let kind = if which & 1 == 0 { Kind::Flags } else { Kind::Segments };
    // Key and value: split at the first 0xfe (a byte UTF-8 never has), else the value alone.
    let (key, value) = match rest.iter().position(|&b| b == 0xfe) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&b"k"[..], rest),
    };
    let check = |e: &Entry, value: &[u8]| match e {
        Ok(item) => {
            assert_eq!(item.json.as_bytes(), value, "an item's JSON is the stored value, unchanged");
            let f = facts_serde(kind, &item.key, &item.json).expect("an item read back is usable");
            assert_eq!(f.version, Some(item.version));
        }
        Err(BadItem { error, .. }) => assert!(!error.to_string().is_empty()),
    };
    match (which >> 1) % 5 {
        // Redis (HGETALL field and value bytes), and Consul (a base64 value from the KV listing).
        0 => check(&entry_bytes(kind, key, value.to_vec()), value),
        1 => {
            let Some(listed) = text(value) else { return };
            if let Ok(bytes) = crate::store::consul::decode_value(Some(listed.to_string())) {
                let e = entry_bytes(kind, key, bytes.clone());
                check(&e, &bytes);
            }
        }
        // DynamoDB rows: attributes missing or of any type.
        2 => {
            let row = dynamodb_row(value);
            if let Some(e) = crate::store::dynamodb::row_entry(kind, &row) {
                let json = match row.get("item") {
                    Some(AttributeValue::S(s)) => s.as_bytes().to_vec(),
                    _ => Vec::new(),
                };
                check(&e, &json);
            }
            let _ = crate::store::dynamodb::row_version(&row);
            let _ = crate::store::dynamodb::big_segments::membership_of(&row);
            let meta = crate::store::dynamodb::big_segments::metadata_of(&row);
            let _ = meta.synchronized_on_ms();
        }
        // A sync lease record (any store keeps it as JSON text).
        3 => {
            let Some(t) = text(value) else { return };
            let lease = crate::store::lease::LeaseRecord::parse(t);
            let _ = lease.describe();
            let _ = lease.status(crate::store::lease::now_ms());
            let _ = lease.expired(i64::MAX);
        }
        // Big Segments: a segment's JSON, the metadata's synchronizedOn text.
        _ => {
            let Some(t) = text(value) else { return };
            let _ = crate::store::big_segments::BigSegment::from_json("s", t).map(|b| b.segment_ref());
            let meta = crate::store::big_segments::Metadata { synchronized_on: Some(t.into()), cursor: None };
            if let Ok(Some(ms)) = meta.synchronized_on_ms() {
                // As `inspect` shows it.
                let _ = crate::store::lease::utc_seconds(ms);
            }
            if let Ok(ms) = meta.synchronized_on_ms() {
                let _ =
                    crate::store::big_segments::is_stale(ms, crate::store::lease::now_ms(), std::time::Duration::ZERO);
                let _ = crate::store::big_segments::Status::of(&meta, i64::MAX, std::time::Duration::from_secs(1));
            }
        }
    }
}

/// A DynamoDB row from bytes: `name\x01T value` attributes separated by `\x00` (T: the type).
fn dynamodb_row(value: &[u8]) -> HashMap<String, AttributeValue> {
    const NAMES: [&str; 9] =
        ["namespace", "key", "item", "version", "included", "excluded", "synchronizedOn", "lastVersion", "x"];
    let mut row = HashMap::new();
    for (i, part) in value.split(|&b| b == 0).enumerate() {
        let Some((&t, v)) = part.split_first() else { continue };
        let name = NAMES[(i + usize::from(t >> 4)) % NAMES.len()].to_string();
        let s = String::from_utf8_lossy(v).into_owned();
        let a = match t % 8 {
            0 | 1 => AttributeValue::S(s),
            2 => AttributeValue::N(s),
            3 => AttributeValue::Bool(v.is_empty()),
            4 => AttributeValue::Null(true),
            5 => AttributeValue::Ss(s.split(',').map(String::from).collect()),
            6 => AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(v.to_vec())),
            _ => AttributeValue::L(vec![AttributeValue::S(s)]),
        };
        row.insert(name, a);
    }
    row
}
