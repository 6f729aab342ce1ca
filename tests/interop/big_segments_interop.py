#!/usr/bin/env python3
"""Big Segments through the official Python server SDK's big-segment stores (ldclient 9.x):

  big_segments_interop.py read  BACKEND TARGET PREFIX HASH...
      what the SDK's store reads: {"synchronizedOn": N|null,
      "memberships": {hash: {ref: true|false} | null}}  (true: included; include beats exclude)
  big_segments_interop.py write BACKEND TARGET PREFIX
      write the JSON on stdin, {"synchronizedOn": N, "memberships": {hash: {"included": [..],
      "excluded": [..]}}}, the way the SDK's own big-segment tests store their fixtures (plain SET
      and SADD in Redis; one item per context with SS attributes in DynamoDB)

BACKEND is redis (TARGET host:port) or dynamodb (TARGET a table; the endpoint comes from
LDSTORE_TEST_DYNAMODB).
"""
import json
import os
import sys

from ldclient.integrations import DynamoDB, Redis


def dynamodb_opts():
    return {
        "endpoint_url": os.environ["LDSTORE_TEST_DYNAMODB"],
        "region_name": os.environ.get("AWS_REGION") or "us-east-1",
        "aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID") or "test",
        "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or "test",
    }


def read(backend, target, prefix, hashes):
    if backend == "redis":
        store = Redis.new_big_segment_store(url="redis://" + target, prefix=prefix)
    else:
        store = DynamoDB.new_big_segment_store(target, prefix, dynamodb_opts())
    out = {
        "synchronizedOn": store.get_metadata().last_up_to_date,
        "memberships": {h: store.get_membership(h) for h in hashes},
    }
    store.stop()
    return out


def write(backend, target, prefix, data):
    if backend == "redis":
        import redis

        host, port = target.rsplit(":", 1)
        r = redis.Redis(host=host, port=int(port))
        p = prefix or "launchdarkly"
        r.set(p + ":big_segments_synchronized_on", data["synchronizedOn"])
        for h, m in data["memberships"].items():
            for ref in m.get("included", []):
                r.sadd(p + ":big_segment_include:" + h, ref)
            for ref in m.get("excluded", []):
                r.sadd(p + ":big_segment_exclude:" + h, ref)
    else:
        import boto3

        c = boto3.client("dynamodb", **dynamodb_opts())
        p = (prefix + ":") if prefix else ""
        meta = p + "big_segments_metadata"
        c.put_item(TableName=target, Item={"namespace": {"S": meta}, "key": {"S": meta},
                                           "synchronizedOn": {"N": str(data["synchronizedOn"])}})
        for h, m in data["memberships"].items():
            item = {"namespace": {"S": p + "big_segments_user"}, "key": {"S": h}}
            if m.get("included"):
                item["included"] = {"SS": m["included"]}
            if m.get("excluded"):
                item["excluded"] = {"SS": m["excluded"]}
            c.put_item(TableName=target, Item=item)


def main():
    mode, backend, target, prefix = sys.argv[1:5]
    if mode == "read":
        json.dump(read(backend, target, prefix, sys.argv[5:]), sys.stdout, sort_keys=True)
    else:
        write(backend, target, prefix, json.load(sys.stdin))


if __name__ == "__main__":
    main()
