"""Official SDK interop: the Python server-side SDK in daemon mode (reading the Redis prefix
ldstore synced) must evaluate every flag exactly as the same SDK does from the flag file.

usage: redis_ld_interop.py REDIS_URL PREFIX FLAG_FILE
Prints one JSON line per comparison; exits 1 on any difference, 2 on setup problems.
"""

import json
import sys

try:
    import ldclient
    from ldclient.client import LDClient
    from ldclient.config import Config
    from ldclient.context import Context
    from ldclient.integrations import Files, Redis
except ImportError as e:  # pragma: no cover
    print(f"the LaunchDarkly Python SDK is not installed: {e}", file=sys.stderr)
    sys.exit(2)

SDK_KEY = "sdk-00000000-0000-4000-8000-000000000000"


def contexts():
    return [
        Context.create("anonymous-ish"),
        Context.create("target-user"),
        Context.builder("employee").set("email", "someone@example.com").build(),
        Context.create("alice"),
        Context.builder("bob").set("plan", "beta").build(),
        Context.builder("carol").set("plan", "beta").build(),
        Context.builder("dave").set("country", "fr").build(),
        Context.create("big-org", "org"),
        Context.create_multi(Context.create("erin"), Context.create("big-org", "org")),
    ]


def evaluate(client, flag_keys):
    out = {}
    for key in flag_keys:
        for ctx in contexts():
            d = client.variation_detail(key, ctx, "DEFAULT")
            out[f"{key} / {ctx.fully_qualified_key}"] = {
                "value": d.value,
                "variation": d.variation_index,
                "reason": d.reason,
            }
    return out


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    redis_url, prefix, flag_file = sys.argv[1:]
    with open(flag_file) as f:
        flag_keys = sorted(json.load(f).get("flags", {}).keys())

    file_client = LDClient(
        Config(SDK_KEY, update_processor_class=Files.new_data_source(paths=[flag_file]), send_events=False),
        start_wait=10,
    )
    store = Redis.new_feature_store(url=redis_url, prefix=prefix, caching=ldclient.feature_store.CacheConfig.disabled())
    daemon_client = LDClient(Config(SDK_KEY, feature_store=store, use_ldd=True, send_events=False), start_wait=10)
    try:
        if not file_client.is_initialized():
            print("the file data source did not initialize", file=sys.stderr)
            sys.exit(2)
        if not daemon_client.is_initialized():
            print(f"the Redis prefix {prefix!r} is not initialized for the SDK", file=sys.stderr)
            sys.exit(1)
        expected = evaluate(file_client, flag_keys)
        actual = evaluate(daemon_client, flag_keys)
    finally:
        file_client.close()
        daemon_client.close()

    bad = 0
    for k in sorted(expected):
        same = expected[k] == actual.get(k)
        if not same:
            bad += 1
        print(json.dumps({"case": k, "same": same, "file": expected[k], "redis": actual.get(k)}))
    errors = [k for k, v in expected.items() if v["reason"].get("kind") == "ERROR"]
    print(json.dumps({"compared": len(expected), "different": bad, "errors_in_file_eval": errors}))
    if errors:
        print(f"the file evaluation itself failed for {errors}", file=sys.stderr)
        sys.exit(2)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
