"""Interop with the official LaunchDarkly Python SDK's Redis integration (daemon mode).

  sdk_redis.py evaluate <redis-url> <prefix> <flag-file>
      Evaluates every flag of <flag-file> for a set of contexts twice: from Redis in daemon mode
      (what ldstore wrote) and from the same file through the SDK's own file data source, and
      fails (exit 1) on any difference. Prints the number of comparisons.

  sdk_redis.py write <redis-url> <prefix> <flag-file>
      Writes <flag-file> into Redis with the SDK's own feature store init(), so ldstore can read
      back what the SDK wrote.
"""

import json
import sys

import ldclient
import yaml
from ldclient.config import Config
from ldclient.context import Context
from ldclient.integrations import Files, Redis
from ldclient.versioned_data_kind import FEATURES, SEGMENTS

CONTEXTS = [
    {"kind": "user", "key": "user-1", "email": "a@example.com", "country": "US", "plan": "pro", "age": 30},
    {"kind": "user", "key": "user-13", "email": "b@other.org", "country": "DE", "platform": "ios", "age": 17},
    {"kind": "user", "key": "user-42", "country": "GB", "tier": "gold", "appVersion": "2.4.1", "sessions": 150},
    {"kind": "user", "key": "qa+1@example.com", "email": "qa+1@example.com", "name": "test user", "platform": "android"},
    {"kind": "organization", "key": "org-acme", "plan": "enterprise"},
    {"kind": "multi", "user": {"key": "user-3", "country": "FR"}, "organization": {"key": "org-globex"}},
    {"kind": "device", "key": "dev-1", "os": "linux"},
]


def detail_json(d):
    return {"value": d.value, "variationIndex": d.variation_index, "reason": d.reason}


def evaluate(client, flag_keys):
    out = {}
    for ctx_dict in CONTEXTS:
        ctx = Context.from_dict(ctx_dict)
        assert ctx.valid, ctx.error
        for key in flag_keys:
            out[f"{ctx_dict.get('key', ctx_dict['kind'])}/{key}"] = detail_json(client.variation_detail(key, ctx, None))
    return out


def main():
    mode, url, prefix, path = sys.argv[1:5]
    with open(path) as f:
        data = yaml.safe_load(f) if path.endswith((".yaml", ".yml")) else json.load(f)
    flag_keys = sorted(data.get("flags", {}).keys()) + sorted(data.get("flagValues", {}).keys())
    if mode == "write":
        store = Redis.new_feature_store(url=url, prefix=prefix)
        store.init({FEATURES: data.get("flags", {}), SEGMENTS: data.get("segments", {})})
        print(f"wrote {len(data.get('flags', {}))} flags")
        return 0
    if mode != "evaluate":
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2

    store = Redis.new_feature_store(url=url, prefix=prefix)
    daemon = ldclient.client.LDClient(Config("sdk-interop-test", feature_store=store, use_ldd=True, send_events=False))
    if not daemon.is_initialized():
        print("daemon-mode client is not initialized (no $inited marker?)", file=sys.stderr)
        return 1
    from_store = evaluate(daemon, flag_keys)
    daemon.close()

    files = ldclient.client.LDClient(
        Config("sdk-interop-test", update_processor_class=Files.new_data_source(paths=[path]), send_events=False)
    )
    from_file = evaluate(files, flag_keys)
    files.close()

    diffs = [k for k in from_file if from_file[k] != from_store.get(k)]
    for k in diffs[:20]:
        print(f"MISMATCH {k}: file={from_file[k]} store={from_store.get(k)}", file=sys.stderr)
    # Guard against a vacuous pass: the store must actually have served flag values.
    served = sum(1 for v in from_store.values() if v["reason"].get("errorKind") != "FLAG_NOT_FOUND")
    print(json.dumps({"comparisons": len(from_file), "mismatches": len(diffs), "served": served}))
    return 1 if diffs or served != len(from_file) else 0


if __name__ == "__main__":
    sys.exit(main())
