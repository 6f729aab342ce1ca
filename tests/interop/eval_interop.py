#!/usr/bin/env python3
"""Evaluate every flag of a flag file for each context with the official Python server SDK
(ldclient 9.x, file data source) and print JSON:
[{"context": <ctx>, "flag": key, "value": ..., "variationIndex": N|null, "reason": {...}}, ...]

usage: eval_interop.py FLAG_FILE CONTEXTS_JSON_FILE
"""
import json
import logging
import sys

from eval_common import evaluate_and_print
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
    evaluate_and_print(config, contexts, flag_keys, flag_file)


if __name__ == "__main__":
    main()
