#!/usr/bin/env python3
"""Evaluate flags for contexts with the official Python server SDK (ldclient 9.x) in daemon mode
over a store prefix, with its Big Segments store configured on the same store, and print JSON:
[{"context": <ctx>, "flag": key, "value": ..., "variationIndex": N|null, "reason": {...}}, ...]

usage: eval_big_interop.py BACKEND TARGET PREFIX CONTEXTS_JSON_FILE FLAG...
BACKEND is redis (TARGET host:port) or dynamodb (TARGET a table; endpoint from LDSTORE_TEST_DYNAMODB).
"""
import json
import logging
import os
import sys

from eval_common import evaluate_and_print
from ldclient.config import BigSegmentsConfig, Config
from ldclient.integrations import DynamoDB, Redis

logging.getLogger("ldclient").setLevel(logging.ERROR)


def main():
    backend, target, prefix, contexts_file = sys.argv[1:5]
    flag_keys = sys.argv[5:]
    with open(contexts_file) as f:
        contexts = json.load(f)
    if backend == "redis":
        url = "redis://" + target
        store = Redis.new_feature_store(url=url, prefix=prefix)
        big = Redis.new_big_segment_store(url=url, prefix=prefix)
    else:
        opts = {
            "endpoint_url": os.environ["LDSTORE_TEST_DYNAMODB"],
            "region_name": os.environ.get("AWS_REGION") or "us-east-1",
            "aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID") or "test",
            "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or "test",
        }
        store = DynamoDB.new_feature_store(target, prefix=prefix, dynamodb_opts=opts)
        big = DynamoDB.new_big_segment_store(target, prefix, opts)
    config = Config(
        sdk_key="sdk-interop-test",
        use_ldd=True,
        feature_store=store,
        big_segments=BigSegmentsConfig(store=big),
        send_events=False,
        diagnostic_opt_out=True,
    )
    evaluate_and_print(config, contexts, flag_keys, "the store")


if __name__ == "__main__":
    main()
