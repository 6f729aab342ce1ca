#!/usr/bin/env python3
"""Deterministic realistic flag data for benchmarks: N flags of roughly 1-3 KB each with targets,
rules, rollouts and prerequisites, plus N/20 segments. Optional: a few 300 KB items.

  gen-flags.py N OUT.json [--big K]
"""
import json
import random
import sys


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    big = int(sys.argv[sys.argv.index("--big") + 1]) if "--big" in sys.argv else 0
    rnd = random.Random(42)
    nseg = max(1, n // 20)
    segments = {}
    for i in range(nseg):
        key = f"segment-{i:06d}"
        segments[key] = {
            "key": key, "version": rnd.randint(1, 50),
            "included": [f"user-{rnd.randint(0, 10**6)}" for _ in range(rnd.randint(0, 20))],
            "excluded": [], "includedContexts": [], "excludedContexts": [], "salt": f"salt-{key}",
            "rules": [{"id": f"r-{key}", "clauses": [{"attribute": "email", "op": "endsWith",
                                                     "values": ["@example.com"], "negate": False}]}],
            "generation": None, "deleted": False,
        }
    flags = {}
    for i in range(n):
        key = f"flag-{i:06d}"
        nvar = rnd.choice([2, 2, 3, 4])
        rules = []
        for r in range(rnd.randint(1, 5)):
            clauses = [{"attribute": rnd.choice(["country", "plan", "email", "appVersion"]),
                        "op": rnd.choice(["in", "startsWith", "endsWith", "contains"]),
                        "values": [f"value-{rnd.randint(0, 9999)}" for _ in range(rnd.randint(1, 12))],
                        "negate": rnd.random() < 0.1}]
            if rnd.random() < 0.3:
                clauses.append({"attribute": "", "op": "segmentMatch",
                                "values": [f"segment-{rnd.randrange(nseg):06d}"], "negate": False})
            rule = {"id": f"rule-{i}-{r}", "clauses": clauses, "trackEvents": False}
            if rnd.random() < 0.3:
                w = rnd.randint(0, 100000)
                rule["rollout"] = {"variations": [{"variation": 0, "weight": w}, {"variation": 1, "weight": 100000 - w}]}
            else:
                rule["variation"] = rnd.randrange(nvar)
            rules.append(rule)
        prereqs = []
        if i > 10 and rnd.random() < 0.2:
            prereqs.append({"key": f"flag-{rnd.randrange(i):06d}", "variation": 0})
        flags[key] = {
            "key": key, "version": rnd.randint(1, 500), "on": rnd.random() < 0.8,
            "prerequisites": prereqs,
            "targets": [{"variation": 0, "values": [f"user-{rnd.randint(0, 10**6)}" for _ in range(rnd.randint(0, 15))]}],
            "contextTargets": [], "rules": rules,
            "fallthrough": {"rollout": {"variations": [{"variation": 0, "weight": 50000}, {"variation": 1, "weight": 50000}]}}
            if rnd.random() < 0.5 else {"variation": 0},
            "offVariation": 1, "variations": [f"variation-{v}" for v in range(nvar)],
            "salt": f"salt-{key}", "trackEvents": False, "trackEventsFallthrough": False,
            "debugEventsUntilDate": None, "clientSide": False, "deleted": False,
        }
    for b in range(big):
        key = f"big-flag-{b}"
        flags[key] = {"key": key, "version": 1, "on": True, "prerequisites": [], "targets": [
            {"variation": 0, "values": [f"user-{j:08d}" for j in range(23000)]}], "contextTargets": [], "rules": [],
            "fallthrough": {"variation": 1}, "offVariation": 1, "variations": [True, False], "salt": "s",
            "trackEvents": False, "trackEventsFallthrough": False, "debugEventsUntilDate": None,
            "clientSide": False, "deleted": False}
    with open(out, "w") as f:
        json.dump({"flags": flags, "segments": segments}, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
