#!/usr/bin/env python3
"""Interop between ldstore and the official LaunchDarkly Python SDK's DynamoDB store.

  dynamodb_interop.py evaluate TABLE PREFIX
      The SDK in daemon mode (use_ldd) reads what ldstore wrote under PREFIX and evaluates the
      fixture's flags for a few contexts; exits 1 on any mismatch.
  dynamodb_interop.py write TABLE PREFIX FIXTURE
      The SDK's own store init() writes FIXTURE's flags and segments under PREFIX, then deletes the
      extra flag "sdk-deleted" at version 3 (a tombstone written by the SDK's upsert).

The endpoint comes from LDSTORE_TEST_DYNAMODB.
"""
import json
import os
import sys

from ldclient import Context
from ldclient.client import LDClient
from ldclient.config import Config
from ldclient.feature_store import CacheConfig
from ldclient.integrations import DynamoDB
from ldclient.versioned_data_kind import FEATURES, SEGMENTS


def store(table, prefix):
    opts = {
        "endpoint_url": os.environ["LDSTORE_TEST_DYNAMODB"],
        "region_name": os.environ.get("AWS_REGION") or "us-east-1",
        "aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID") or "test",
        "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or "test",
    }
    return DynamoDB.new_feature_store(table, prefix=prefix or None, dynamodb_opts=opts, caching=CacheConfig.disabled())


# (flag, context, expected value) for the fixture tests/fixtures/dynamodb-interop.json.
CASES = [
    ("bool-on", Context.create("anyone"), True),
    ("off-flag", Context.create("anyone"), "off-value"),
    ("targeted", Context.create("alice"), "blue"),
    ("targeted", Context.create("carol"), "red"),
    ("rule-email", Context.builder("dan").set("email", "dan@example.com").build(), 20),
    ("rule-email", Context.builder("eve").set("email", "eve@other.org").build(), 10),
    ("segment-rule", Context.create("bob"), "beta"),
    ("segment-rule", Context.builder("kim").set("country", "NZ").build(), "beta"),
    ("segment-rule", Context.create("zed"), "general"),
    ("with-prereq", Context.create("anyone"), "passed"),
]


def evaluate(table, prefix):
    client = LDClient(Config("sdk-interop-key", feature_store=store(table, prefix), use_ldd=True,
                             send_events=False, diagnostic_opt_out=True))
    try:
        failures = []
        results = []
        for flag, ctx, want in CASES:
            detail = client.variation_detail(flag, ctx, "DEFAULT")
            results.append({"flag": flag, "context": ctx.key, "value": detail.value, "reason": detail.reason})
            if detail.value != want:
                failures.append(f"{flag} for {ctx.key}: got {detail.value!r} ({detail.reason}), want {want!r}")
        print(json.dumps({"initialized": client.is_initialized(), "results": results}))
        if failures:
            sys.exit("evaluation mismatches:\n" + "\n".join(failures))
    finally:
        client.close()


def write(table, prefix, fixture):
    with open(fixture) as f:
        data = json.load(f)
    s = store(table, prefix)
    s.init({FEATURES: data.get("flags", {}), SEGMENTS: data.get("segments", {})})
    s.delete(FEATURES, "sdk-deleted", 3)
    print(json.dumps({"initialized": s.initialized}))


def main():
    cmd = sys.argv[1]
    if cmd == "evaluate":
        evaluate(sys.argv[2], sys.argv[3])
    elif cmd == "write":
        write(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
