"""Interop with the official LaunchDarkly Python SDK's Consul store (python-consul underneath).

  consul_interop.py evaluate HOST PORT PREFIX
      Daemon mode (use_ldd): evaluate the fixture's flags for a few contexts from what is in Consul
      under PREFIX; print {"initialized": bool, "results": {"flag/context": value}} as JSON.
  consul_interop.py write HOST PORT PREFIX
      Write a data set with the SDK store's own init(), then delete one flag (a tombstone upsert) and
      upsert a newer version of another; print the data written as JSON.
"""

import json
import sys

from ldclient import Context
from ldclient.client import LDClient
from ldclient.config import Config
from ldclient.integrations import Consul
from ldclient.versioned_data_kind import FEATURES, SEGMENTS

CONTEXTS = {
    "alice": Context.builder("alice").set("email", "alice@corp.test").build(),
    "bob": Context.builder("bob").set("email", "bob@example.com").build(),
}
FLAGS = ["bool-flag", "prereq-flag", "segment-flag", "rollout-flag", "off-flag", "missing-flag"]


def evaluate(host, port, prefix):
    store = Consul.new_feature_store(host=host, port=port, prefix=prefix, caching=_no_cache())
    client = LDClient(Config("sdk-interop-test", feature_store=store, use_ldd=True, send_events=False))
    try:
        results = {}
        for f in FLAGS:
            for name, ctx in CONTEXTS.items():
                d = client.variation_detail(f, ctx, "default")
                results[f"{f}/{name}"] = d.value
        print(json.dumps({"initialized": store.initialized, "results": results}, sort_keys=True))
    finally:
        client.close()


def _no_cache():
    from ldclient.feature_store import CacheConfig
    return CacheConfig.disabled()


def flag(key, version, variations, fallthrough=0):
    return {
        "key": key, "version": version, "on": True, "prerequisites": [], "targets": [],
        "contextTargets": [], "rules": [], "fallthrough": {"variation": fallthrough}, "offVariation": 0,
        "variations": variations, "salt": "py-" + key, "trackEvents": False,
        "trackEventsFallthrough": False, "debugEventsUntilDate": None, "clientSide": False,
        "deleted": False,
    }


def write(host, port, prefix):
    store = Consul.new_feature_store(host=host, port=port, prefix=prefix, caching=_no_cache())
    data = {
        FEATURES: {
            "py-a": flag("py-a", 1, [True, False]),
            "py-b": flag("py-b", 5, ["x", "y"], 1),
            "py-gone": flag("py-gone", 2, [1, 2]),
        },
        SEGMENTS: {
            "py-seg": {"key": "py-seg", "version": 3, "included": ["u"], "excluded": [], "includedContexts": [],
                       "excludedContexts": [], "rules": [], "salt": "x", "generation": None, "deleted": False},
        },
    }
    store.init(data)
    store.delete(FEATURES, "py-gone", 9)
    newer = flag("py-a", 4, [True, False], 1)
    store.upsert(FEATURES, newer)
    # What the store now holds, as the SDK itself reads it back.
    out = {
        "flags": _all(store, FEATURES),
        "segments": _all(store, SEGMENTS),
        "initialized": store.initialized,
    }
    print(json.dumps(out, sort_keys=True))


def _all(store, kind):
    # The wrapper filters deleted items; read the core to see tombstones too.
    core = store._core
    return core.get_all_internal(kind)


if __name__ == "__main__":
    mode, host, port, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    {"evaluate": evaluate, "write": write}[mode](host, port, prefix)
