#!/usr/bin/env python3
"""Side-by-side benchmarks for ldstore (run through scripts/bench, which starts the servers).

Each comparison runs its two sides alternately in one invocation so machine noise cancels out,
and reports medians and the ratio. Results go to stdout as a table and to bench-results.json.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "ldstore")
REDIS = os.environ["LDSTORE_TEST_REDIS"]
HOST, PORT = REDIS.rsplit(":", 1)
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "10000,100000").split(",")]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw)


def timed(cmd, stdin=None):
    """Wall time and peak RSS (KiB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as inp:
        subprocess.run(cmd, check=True, stdin=inp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    return dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss or before


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def raw_pipe_file(data, prefix, path):
    """The same bytes ldstore writes, as one MULTI/EXEC of pipelined HSETs (1,000 fields each)."""
    with open(path, "wb") as f:
        f.write(resp("MULTI"))
        for kind, name in (("segments", "segments"), ("flags", "features")):
            key = f"{prefix}:{name}"
            f.write(resp("DEL", key))
            items = list(data.get(kind, {}).items())
            for i in range(0, len(items), 1000):
                args = ["HSET", key]
                for k, v in items[i:i + 1000]:
                    args += [k, json.dumps(v, separators=(",", ":"))]
                f.write(resp(*args))
        f.write(resp("SET", f"{prefix}:$inited", ""))
        f.write(resp("EXEC"))


def alternate(label, a_name, a_cmd, b_name, b_cmd, results, a_stdin=None, b_stdin=None):
    a_times, b_times = [], []
    for _ in range(RUNS):
        a_times.append(timed(a_cmd, a_stdin)[0])
        b_times.append(timed(b_cmd, b_stdin)[0])
    a, b = statistics.median(a_times), statistics.median(b_times)
    results.append({"comparison": label, "a": a_name, "a_median_s": round(a, 4), "b": b_name,
                    "b_median_s": round(b, 4), "ratio_a_over_b": round(a / b, 3), "runs": RUNS})
    print(f"{label:<44} {a_name:<22} {a:8.3f}s  {b_name:<26} {b:8.3f}s  ratio {a / b:6.2f}", flush=True)


def main():
    results = []
    tmp = tempfile.mkdtemp(prefix="ldstore-bench-")
    print(f"machine: {os.cpu_count()} cores; runs per side: {RUNS}")
    for n in SIZES:
        path = os.path.join(tmp, f"flags-{n}.json")
        sh([sys.executable, os.path.join(ROOT, "scripts", "gen-flags.py"), str(n), path])
        data = json.load(open(path))
        mb = os.path.getsize(path) / 1e6
        print(f"\n{n} flags + {len(data['segments'])} segments, {mb:.1f} MB")
        pipe = os.path.join(tmp, f"raw-{n}.resp")
        raw_pipe_file(data, "bench:raw", pipe)
        alternate(f"sync {n} flags into Redis vs raw limit",
                  "ldstore sync", [BIN, "-q", "sync", "--from-file", path, "--redis", REDIS, "--prefix", "bench:ld"],
                  "redis-cli --pipe (same bytes)", ["redis-cli", "-h", HOST, "-p", PORT, "--pipe"],
                  results, b_stdin=pipe)
        if n <= 10000 and os.environ.get("BENCH_SKIP_SDK") != "1":
            sdk = os.path.join(tmp, "sdk_init.py")
            with open(sdk, "w") as f:
                f.write(
                    "import json,sys\n"
                    "from ldclient.integrations import Redis\n"
                    "from ldclient.versioned_data_kind import FEATURES, SEGMENTS\n"
                    "d=json.load(open(sys.argv[1]))\n"
                    f"s=Redis.new_feature_store(url='redis://{REDIS}/0', prefix='bench:py')\n"
                    "s.init({FEATURES: d['flags'], SEGMENTS: d['segments']})\n")
            alternate(f"sync {n} flags into Redis vs Python SDK",
                      "ldstore sync", [BIN, "-q", "sync", "--from-file", path, "--redis", REDIS, "--prefix", "bench:ld"],
                      "Python SDK store init()", [sys.executable, sdk, path], results)
        # Reads: dump vs redis-cli HGETALL of the same hash to a file.
        out = os.path.join(tmp, "out.json")
        alternate(f"dump {n} flags vs redis-cli HGETALL",
                  "ldstore dump", [BIN, "dump", "--redis", REDIS, "--prefix", "bench:ld", "-o", out],
                  "redis-cli --raw HGETALL", ["sh", "-c", f"redis-cli -h {HOST} -p {PORT} --raw HGETALL bench:ld:features > {out}"],
                  results)
        for cmd_name, cmd in (("dump", [BIN, "dump", "--redis", REDIS, "--prefix", "bench:ld", "-o", out]),
                              ("inspect", [BIN, "inspect", "--redis", REDIS, "--prefix", "bench:ld"])):
            rss = sh(["/usr/bin/time", "-f", "%M", *cmd]).stderr.decode().strip().splitlines()[-1]
            results.append({"measure": f"{cmd_name} {n} flags peak RSS", "kib": int(rss), "data_mb": round(mb, 1)})
            print(f"{cmd_name} {n} flags: peak RSS {int(rss) / 1024:.0f} MiB (data {mb:.0f} MB)")
    with open(os.path.join(ROOT, "bench-results.json"), "w") as f:
        json.dump(results, f, indent=2)
    print("\nwrote bench-results.json")


if __name__ == "__main__":
    main()
