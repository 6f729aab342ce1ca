"""What eval_interop.py and eval_big_interop.py share: start the official Python SDK client with a
config, evaluate every flag for every context, and print the details as JSON."""
import json
import sys

import ldclient
from ldclient import Context


def evaluate_and_print(config, contexts, flag_keys, what):
    """Print [{"context", "flag", "value", "variationIndex", "reason"}, ...] for each context and
    flag; exit naming `what` when the SDK cannot initialize from it."""
    client = ldclient.LDClient(config=config, start_wait=5)
    if not client.is_initialized():
        sys.exit("the Python SDK did not initialize from " + what)
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
