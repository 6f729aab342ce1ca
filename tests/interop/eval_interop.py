#!/usr/bin/env python3
"""Evaluate every flag of a flag file for each context with the official Python server SDK
(ldclient 9.x, file data source) and print JSON:
[{"context": <ctx>, "flag": key, "value": ..., "variationIndex": N|null, "reason": {...}}, ...]

usage: eval_interop.py FLAG_FILE CONTEXTS_JSON_FILE
"""
import json
import logging
import sys

import ldclient
from ldclient import Context
from ldclient.config import Config
from ldclient.integrations import Files

logging.getLogger("ldclient").setLevel(logging.ERROR)


def main():
    flag_file, contexts_file = sys.argv[1], sys.argv[2]
    with open(flag_file) as f:
        flag_keys = sorted(k for k, v in json.load(f).get("flags", {}).items() if not v.get("deleted"))
    with open(contexts_file) as f:
        contexts = json.load(f)
    config = Config(
        sdk_key="sdk-interop-test",
        update_processor_class=Files.new_data_source(paths=[flag_file]),
        send_events=False,
        diagnostic_opt_out=True,
    )
    client = ldclient.LDClient(config=config, start_wait=5)
    if not client.is_initialized():
        sys.exit("the Python SDK did not initialize from " + flag_file)
    out = []
    for raw in contexts:
        ctx = Context.from_dict(raw)
        if not ctx.valid:
            sys.exit("invalid context: %s" % ctx.error)
        for key in flag_keys:
            d = client.variation_detail(key, ctx, None)
            out.append({"context": raw, "flag": key, "value": d.value,
                        "variationIndex": d.variation_index, "reason": d.reason})
    client.close()
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
