#!/usr/bin/env python3
"""Low-level DynamoDB helper for ldstore's integration tests (boto3, DynamoDB Local).

  ddb_tool.py scan TABLE                 every item, typed ({"S": ..}/{"N": ..}), as a JSON list
  ddb_tool.py put TABLE ITEM_JSON        put one typed item (ITEM_JSON "-": read it from stdin)
  ddb_tool.py create-hash-only TABLE     a table with the classic mistake: hash key `key` only

The endpoint comes from LDSTORE_TEST_DYNAMODB.
"""
import json
import os
import sys

import boto3


def client():
    return boto3.client(
        "dynamodb",
        endpoint_url=os.environ["LDSTORE_TEST_DYNAMODB"],
        region_name=os.environ.get("AWS_REGION") or "us-east-1",
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or "test",
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or "test",
    )


def main():
    cmd, table = sys.argv[1], sys.argv[2]
    c = client()
    if cmd == "scan":
        items, start = [], None
        while True:
            kw = {"TableName": table, "ConsistentRead": True}
            if start:
                kw["ExclusiveStartKey"] = start
            page = c.scan(**kw)
            items.extend(page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        items.sort(key=lambda i: (i["namespace"]["S"], i["key"]["S"]))
        print(json.dumps(items))
    elif cmd == "put":
        c.put_item(TableName=table, Item=json.loads(sys.stdin.read() if sys.argv[3] == "-" else sys.argv[3]))
    elif cmd == "create-hash-only":
        c.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
