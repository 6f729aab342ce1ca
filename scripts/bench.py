#!/usr/bin/env python3
"""Side-by-side benchmarks for ldstore (run through scripts/bench, which builds release and starts
redis-server and DynamoDB Local).

Each comparison runs its two sides alternately in one invocation so machine noise cancels out,
and reports medians and the ratio. Results go to stdout as a table and to bench-results.json.

Env: BENCH_RUNS (default 5; comparisons of sides under ~0.4 s run more, up to 30), BENCH_SIZES (default 10000,100000), BENCH_SKIP_SDK=1 (no Python SDK
comparisons), BENCH_ONLY=redis,redis-tx,big,sdk,reads,diff,dynamodb,consul,relay,relay-sustained,stall,cold,bigseg,
scan,dynamodb-latency,bigseg-dynamodb,stall-cluster,cpu (default: all; redis-tx: with redis, the comparisons against one
MULTI/EXEC; cpu: where target 1's time goes, CPU time per process on each side, with redis-tx also in one transaction). BENCH_UNRELATED (default 1000000): the unrelated keys of
the scan case. BENCH_RELAY_RATE / BENCH_RELAY_SECS / BENCH_RELAY_DELAY_MS / BENCH_RELAY_RUNS (default 500,
60, 5, 1): the sustained relay load (relay-sustained).
BENCH_BIGSEG (default 1000000): the memberships of the Big Segments case (bigseg); BENCH_BIGSEG_DYNAMODB
(default 100000) those of bigseg-dynamodb. dynamodb-latency: see scripts/bench-dynamodb (BENCH_LATENCY_MS,
BENCH_LATENCY_RUNS, BENCH_DYNAMODB_IN_FLIGHT).
"""
import base64
import gc
import hashlib
import json
import os
import re
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
# The raw side of target 1: redis-cli sending a file of commands as they are.
RAW_PIPE = ["redis-cli", "-h", HOST, "-p", PORT, "--pipe"]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "10000,100000").split(",")]
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
SKIP_SDK = os.environ.get("BENCH_SKIP_SDK") == "1"
# Untimed rounds of both sides before each side-by-side comparison (see `alternate`).
WARMUP_ROUNDS = 2
RESULTS = []


def want(part):
    return not ONLY or part in ONLY


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw)


def timed(cmd, stdin=None, ok=(0,)):
    """Wall time (s) and peak RSS (KiB) of one child process. RSS comes from /usr/bin/time: a child
    forked straight from this Python process would inherit its high-water mark in ru_maxrss."""
    rss_file = tempfile.NamedTemporaryFile(delete=False)
    rss_file.close()
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as inp:
        # No collection of this process's garbage inside a timed run: with a 100k-flag data set
        # loaded, one full collection takes 0.7 s here.
        gc.disable()
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-q", "-f", "%M", "-o", rss_file.name, *cmd], stdin=inp,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        dt = time.perf_counter() - t0
        gc.enable()
    rss = int(open(rss_file.name).read().split()[-1] or 0)
    os.unlink(rss_file.name)
    if p.returncode not in ok:
        sys.exit(f"benchmark command failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr.decode(errors='replace')}")
    return dt, rss


def row(label, a_name, a, b_name, b, extra=None):
    r = {"comparison": label, "a": a_name, "a_median_s": round(a, 4), "b": b_name, "b_median_s": round(b, 4),
         "ratio_a_over_b": round(a / b, 3), "runs": RUNS}
    r.update(extra or {})
    runs = r["runs"]
    RESULTS.append(r)
    print(f"{label:<46} {a_name:<16} {a:8.3f}s  {b_name:<28} {b:8.3f}s  ratio {a / b:6.2f}  ({runs} runs)", flush=True)


def alternate(label, a_name, a_cmd, b_name, b_cmd, a_stdin=None, b_stdin=None, a_ok=(0,), data_mb=None, runs=None,
              before=None):
    """Both sides alternately, BENCH_RUNS times (`runs` when given); sides that take well under a
    second get more runs (up to about 2 s of each, at most 30 runs): one scheduling hiccup moves a
    40 ms median a lot. `before`: called (not timed) before each run of either side.

    Two rounds of both sides go first, untimed (their times are printed, not counted): a fresh
    prefix is written by the first and replaced by the second, which is when Redis grows its memory
    to what every later run reuses. On this VM the first touch of memory the guest has given back to
    the host (free page reporting) costs about 25 times an ordinary page clear: in a system-wide
    profile, the third sync of 100k flags into a fresh redis-server took 0.6 s instead of 0.2 s, 0.37 s
    of it redis-server in clear_page, whichever side's run it was."""
    def run_a():
        if before:
            before()
        return timed(a_cmd, a_stdin, a_ok)

    def run_b():
        if before:
            before()
        return timed(b_cmd, b_stdin)[0]

    warm = []
    for _ in range(WARMUP_ROUNDS):
        warm += [run_a()[0], run_b()]
    a_t, b_t, a_rss = [], [], []
    while True:
        t, rss = run_a()
        a_t.append(t)
        a_rss.append(rss)
        b_t.append(run_b())
        wanted = runs or max(RUNS, min(30, int(2.0 / max(statistics.median(a_t), statistics.median(b_t)))))
        if len(a_t) >= wanted:
            break
    # Each run's ratio (a over the b run next to it): its spread shows how noisy the machine was.
    ratios = sorted(a / b for a, b in zip(a_t, b_t))
    extra = {"a_peak_rss_kib": max(a_rss), "runs": len(a_t), "warmup_s": [round(t, 4) for t in warm],
             "a_min_s": round(min(a_t), 4), "a_max_s": round(max(a_t), 4),
             "b_min_s": round(min(b_t), 4), "b_max_s": round(max(b_t), 4),
             "run_ratio_min": round(ratios[0], 3), "run_ratio_median": round(statistics.median(ratios), 3),
             "run_ratio_max": round(ratios[-1], 3), "a_max_over_min": round(max(a_t) / min(a_t), 3),
             "b_max_over_min": round(max(b_t) / min(b_t), 3)}
    if data_mb:
        extra["data_mb"] = round(data_mb, 1)
        extra["a_rss_over_data"] = round(max(a_rss) / 1024 / data_mb, 2)
    row(label, a_name, statistics.median(a_t), b_name, statistics.median(b_t), extra)
    print(f"{'':<46} {a_name} min {min(a_t):.3f}s max {max(a_t):.3f}s; {b_name} min {min(b_t):.3f}s "
          f"max {max(b_t):.3f}s; per-run ratio min {ratios[0]:.2f} median {statistics.median(ratios):.2f} "
          f"max {ratios[-1]:.2f}; {a_name} max/min {max(a_t) / min(a_t):.2f} ({b_name}'s own "
          f"{max(b_t) / min(b_t):.2f}); warm-up (untimed, "
          f"{a_name} and {b_name} in turn) {' '.join(f'{t:.3f}s' for t in warm)}", flush=True)
    if data_mb:
        print(f"{'':<46} peak RSS {max(a_rss) / 1024:.0f} MiB = {extra['a_rss_over_data']}x the data ({data_mb:.0f} MB)")


def single(label, cmd, ok=(0,), data_mb=None):
    ts, rss = [], []
    for _ in range(RUNS):
        t, r = timed(cmd, ok=ok)
        ts.append(t)
        rss.append(r)
    m = statistics.median(ts)
    r = {"measure": label, "median_s": round(m, 4), "peak_rss_kib": max(rss), "runs": RUNS}
    line = f"{label:<46} {m:8.3f}s  peak RSS {max(rss) / 1024:.0f} MiB"
    if data_mb:
        r["data_mb"] = round(data_mb, 1)
        r["rss_over_data"] = round(max(rss) / 1024 / data_mb, 2)
        line += f" = {r['rss_over_data']}x the data"
    RESULTS.append(r)
    print(line, flush=True)


def bulk(b):
    return b"$%d\r\n%s\r\n" % (len(b), b)


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(bulk(a if isinstance(a, bytes) else str(a).encode()))
    return b"".join(out)


def streamed_pieces(items):
    """Items grouped the way ldstore's streamed write groups them (src/store/redis/streamed.rs):
    at most 1,000 fields per HSET, and a new HSET once the encoded fields reach 256 KiB, counting
    the 512 bytes kept in front of them."""
    group, size = [], 512
    for k, v in items:
        v = json.dumps(v, separators=(",", ":"))
        group.append((k, v))
        size += len(bulk(k.encode())) + len(bulk(v.encode()))
        if len(group) >= 1000 or size >= 256 * 1024:
            yield group
            group, size = [], 512
    if group:
        yield group


def raw_staged_file(data, prefix, path):
    """The same commands ldstore's staged sync of a .json file sends: HSETs into staging hashes,
    cut as ldstore cuts them, each followed by its PEXPIRE, WATCH and HLEN of them, then one
    MULTI/EXEC that moves them into place."""
    stage = {name: f"{prefix}:$ldstore_staging:{name}:bench" for name in ("features", "segments")}
    with open(path, "wb") as f:
        f.write(resp("DEL", stage["features"], stage["segments"]))
        for kind, name in (("segments", "segments"), ("flags", "features")):
            for group in streamed_pieces(data.get(kind, {}).items()):
                args = ["HSET", stage[name]]
                for k, v in group:
                    args += [k, v]
                f.write(resp(*args))
                f.write(resp("PEXPIRE", stage[name], 3600000))
        f.write(resp("WATCH", stage["features"], stage["segments"]))
        f.write(resp("HLEN", stage["features"]))
        f.write(resp("HLEN", stage["segments"]))
        f.write(resp("MULTI"))
        for name in ("segments", "features"):
            f.write(resp("UNLINK", f"{prefix}:{name}"))
            f.write(resp("RENAME", stage[name], f"{prefix}:{name}"))
            f.write(resp("PERSIST", f"{prefix}:{name}"))
        f.write(resp("SET", f"{prefix}:$inited", ""))
        f.write(resp("EXEC"))


def raw_pipe_file(data, prefix, path, end="EXEC"):
    """What the SDKs (and ldstore, for a Redis user that may not RENAME) write: one MULTI/EXEC of
    pipelined HSETs (1,000 fields each). With end="DISCARD", Redis queues the same commands and
    drops them: what its queueing costs."""
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
        f.write(resp(end))


def gen(tmp, n, big=0):
    path = os.path.join(tmp, f"flags-{n}-{big}.json")
    # The generator is deterministic: a part after the first reuses the file (100k flags take
    # seconds to generate).
    if not os.path.exists(path):
        args = [sys.executable, os.path.join(ROOT, "scripts", "gen-flags.py"), str(n), path]
        if big:
            args += ["--big", str(big)]
        sh(args)
    return path, json.load(open(path)), os.path.getsize(path) / 1e6


def sync_cmd(path, prefix, url=None):
    return [BIN, "-q", "sync", "--from-file", path, "--redis", url or REDIS, "--prefix", prefix]


def redis_sync_vs_raw(tmp, n, big=0):
    path, data, mb = gen(tmp, n, big)
    what = f"{n} flags" + (f" + {big} x 300 KB" if big else "")
    print(f"\n{what} + {len(data['segments'])} segments, {mb:.1f} MB")
    pipe = os.path.join(tmp, f"raw-{n}-{big}.resp")
    raw_pipe_file(data, "bench:raw", pipe)
    staged = os.path.join(tmp, f"raw-staged-{n}-{big}.resp")
    raw_staged_file(data, "bench:raw", staged)
    alternate(f"1. sync {what} into Redis vs raw limit", "ldstore sync", sync_cmd(path, "bench:ld"),
              "redis-cli --pipe (same bytes)", RAW_PIPE, b_stdin=staged)
    if want("redis-tx"):
        # Before the staged write: one transaction, on both sides (ldstore through a user that may
        # not RENAME, which makes it write one MULTI/EXEC).
        alternate(f"1. the same, vs one MULTI/EXEC", "ldstore sync", sync_cmd(path, "bench:ld"),
                  "redis-cli --pipe (MULTI/EXEC)", RAW_PIPE, b_stdin=pipe)
        tx_cmd = sync_cmd(path, "bench:ld", one_transaction_url())
        alternate(f"1. one-transaction sync vs MULTI/EXEC bytes", "ldstore (1 tx)", tx_cmd,
                  "redis-cli --pipe (MULTI/EXEC)", RAW_PIPE, b_stdin=pipe)
    return path, data, mb


def redis_cpu():
    """redis-server's CPU time so far (s): the whole process, and its main thread."""
    info = sh(["redis-cli", "-h", HOST, "-p", PORT, "INFO", "cpu"]).stdout.decode()
    v = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    whole = float(v["used_cpu_user"]) + float(v["used_cpu_sys"])
    return whole, float(v["used_cpu_user_main_thread"]) + float(v["used_cpu_sys_main_thread"])


def cpu_accounting(tmp, n):
    """Where target 1's time goes: each side's wall time, the client's CPU time (from the kernel's
    accounting of reaped children) and redis-server's (INFO cpu before and after, read 50 ms after
    the run so that what Redis frees in the background after EXEC is counted with it). Alternating,
    medians; not a ratio target (the sleep between runs changes the cadence of row 1).
    Also the client's involuntary context switches per run, in its fastest and slowest quarter of
    runs: a client preempted at each piece it sends shares a core with Redis (the two then take
    turns on one core while the other idles), which is what some of target 1's slow runs are
    on this machine (see the README's "fifth session").
    With redis-tx also wanted, the same for the one-transaction path (ldstore through a user that
    may not RENAME, and redis-cli with the MULTI/EXEC bytes), and redis-cli with the same commands
    ended by DISCARD instead of EXEC: Redis's CPU for queueing them, which in one transaction
    shares the machine with ldstore's reading of the file (see the README's "ninth session")."""
    path, data, mb = gen(tmp, n)
    staged = os.path.join(tmp, f"raw-staged-{n}-0.resp")
    raw_staged_file(data, "bench:raw", staged)
    sides = {"ldstore sync": (sync_cmd(path, "bench:ld"), None), "redis-cli --pipe": (RAW_PIPE, staged)}
    if want("redis-tx"):
        pipe, discard = (os.path.join(tmp, f"raw-{n}-{end}.resp") for end in ("EXEC", "DISCARD"))
        raw_pipe_file(data, "bench:raw", pipe)
        raw_pipe_file(data, "bench:raw", discard, end="DISCARD")
        tx_cmd = sync_cmd(path, "bench:ld", one_transaction_url())
        sides.update({"ldstore (1 tx)": (tx_cmd, None), "redis-cli (MULTI/EXEC)": (RAW_PIPE, pipe),
                      "redis-cli (DISCARD)": (RAW_PIPE, discard)})
    got = {name: [] for name in sides}
    runs = RUNS * 2 if n <= 10000 else RUNS
    for i in range(runs):
        for name in (list(sides) if i % 2 == 0 else list(sides)[::-1]):
            cmd, stdin = sides[name]
            r0, c0 = redis_cpu(), resource.getrusage(resource.RUSAGE_CHILDREN)
            with open(stdin or os.devnull, "rb") as inp:
                t0 = time.perf_counter()
                subprocess.run(cmd, stdin=inp, stdout=subprocess.DEVNULL, check=True)
                wall = time.perf_counter() - t0
            c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            time.sleep(0.05)
            r1 = redis_cpu()
            client = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
            got[name].append((wall, client, c1.ru_utime - c0.ru_utime, r1[0] - r0[0], r1[1] - r0[1],
                              c1.ru_nivcsw - c0.ru_nivcsw))
    for name, v in got.items():
        wall, client, user, redis_all, redis_main = (statistics.median(x[j] for x in v) * 1000 for j in range(5))
        by_wall, quarter = sorted(v), max(1, len(v) // 4)
        fast_sw, slow_sw = (statistics.median(x[5] for x in part) for part in (by_wall[:quarter], by_wall[-quarter:]))
        RESULTS.append({"measure": f"cpu: {n} flags, {name}", "wall_ms": round(wall, 1), "client_cpu_ms":
                        round(client, 1), "client_user_ms": round(user, 1), "redis_cpu_ms": round(redis_all, 1),
                        "redis_main_thread_ms": round(redis_main, 1), "client_preempted_fastest_quarter": fast_sw,
                        "client_preempted_slowest_quarter": slow_sw, "runs": runs})
        print(f"cpu: {n} flags, {name:<22} wall {wall:6.1f} ms  client CPU {client:6.1f} ms (user {user:.1f})  "
              f"redis-server CPU {redis_all:6.1f} ms (main thread {redis_main:.1f})  ({runs} runs, medians); "
              f"client preempted {fast_sw:g} times per run in its fastest quarter of runs, {slow_sw:g} in its "
              f"slowest", flush=True)


def one_transaction_url():
    """The bench Redis as a user that may not RENAME (created here), to which ldstore writes a full
    sync as one MULTI/EXEC instead of staging it."""
    sh(["redis-cli", "-h", HOST, "-p", PORT, "ACL", "SETUSER", "bench-norename", "on", ">bench", "~*", "&*",
        "+@all", "-rename"])
    return f"redis://bench-norename:bench@{REDIS}"


def worst_waits(path, url, host, port, prefix):
    """Per run, the worst wait (ms) of another client's HGETs of `prefix`'s flags on host:port (a
    daemon-mode SDK reading meanwhile) while ldstore syncs `path` into `url`."""
    import socket
    import threading
    worst = []
    for _ in range(max(5, RUNS)):
        stop, waits = threading.Event(), []

        def probe():
            s = socket.create_connection((host, int(port)))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            req = resp("HGET", f"{prefix}:features", "flag-000007")
            while not stop.is_set():
                t = time.perf_counter()
                s.sendall(req)
                buf = b""
                while buf.count(b"\r\n") < (1 if buf.startswith(b"$-1") else 2):
                    buf += s.recv(65536)
                waits.append(time.perf_counter() - t)
                time.sleep(0.0005)
            s.close()

        th = threading.Thread(target=probe)
        th.start()
        time.sleep(0.05)
        sh([BIN, "-q", "sync", "--from-file", path, "--redis", url, "--prefix", prefix])
        time.sleep(0.05)
        stop.set()
        th.join()
        worst.append(max(waits) * 1000)
    return sorted(worst)


def stall_row(measure, worst):
    r = {"measure": measure, "worst_ms_min": round(worst[0], 2), "worst_ms_median": round(statistics.median(worst), 2),
         "worst_ms_max": round(worst[-1], 2), "runs": len(worst)}
    RESULTS.append(r)
    print(f"{measure:<72} worst wait per run: min {worst[0]:.1f} ms, median {statistics.median(worst):.1f} ms, "
          f"max {worst[-1]:.1f} ms ({len(worst)} runs)", flush=True)


def stall(tmp):
    """How long another client's HGET waits at worst while a sync writes: staged, and in one
    transaction (a user that may not RENAME)."""
    for n in SIZES:
        path, _, _ = gen(tmp, n)
        for how, url in (("staged", REDIS), ("one transaction", one_transaction_url())):
            stall_row(f"stall: worst HGET wait during a sync of {n} flags ({how})",
                      worst_waits(path, url, HOST, PORT, "bench:stall"))


def stall_cluster(tmp):
    """The same on a Redis Cluster (LDSTORE_TEST_REDIS_CLUSTER, started by scripts/bench), under a
    hash-tagged and a plain prefix, read from the master of the flags' slot: staged, and unstaged
    (a user that may not RENAME: one MULTI/EXEC, or one per hash under the plain prefix)."""
    nodes = os.environ["LDSTORE_TEST_REDIS_CLUSTER"].split(",")
    first_host, first_port = nodes[0].rsplit(":", 1)
    cli = ["redis-cli", "-h", first_host, "-p", first_port]
    for node in nodes:
        h, p = node.rsplit(":", 1)
        sh(["redis-cli", "-h", h, "-p", p, "ACL", "SETUSER", "bench-norename", "on", ">bench", "~*", "&*", "+@all",
            "-rename"])
    for n in SIZES:
        path, _, _ = gen(tmp, n)
        for prefix in ("{bench-stall}", "bench-stall"):
            slot = int(sh([*cli, "CLUSTER", "KEYSLOT", f"{prefix}:features"]).stdout)
            master = None
            for line in sh([*cli, "CLUSTER", "NODES"]).stdout.decode().splitlines():
                f = line.split()
                if "master" in f[2] and any(int(r.split("-")[0]) <= slot <= int(r.split("-")[-1])
                                            for r in f[8:] if not r.startswith("[")):
                    master = f[1].split("@")[0]
            host, port = master.rsplit(":", 1)
            shape = "hash-tagged" if prefix.startswith("{") else "plain"
            for how, auth in (("staged", ""), ("unstaged", "bench-norename:bench@")):
                url = f"redis+cluster://{auth}{','.join(nodes)}"
                stall_row(f"stall: cluster, {shape} prefix, {n} flags ({how})",
                          worst_waits(path, url, host, port, prefix))


def redis_vs_sdk(path):
    sdk = os.path.join(os.path.dirname(path), "sdk_init.py")
    with open(sdk, "w") as f:
        f.write("import json,sys\n"
                "from ldclient.integrations import Redis\n"
                "from ldclient.versioned_data_kind import FEATURES, SEGMENTS\n"
                "d=json.load(open(sys.argv[1]))\n"
                f"s=Redis.new_feature_store(url='redis://{REDIS}/0', prefix='bench:py')\n"
                "s.init({FEATURES: d['flags'], SEGMENTS: d['segments']})\n")
    alternate("2. sync 10000 flags into Redis vs Python SDK", "ldstore sync", sync_cmd(path, "bench:ld"),
              "Python SDK store init()", [sys.executable, sdk, path])


def reads(tmp, n, mb):
    """5. dump / inspect / validate of the prefix synced last (bench:ld)."""
    out = os.path.join(tmp, "out.json")
    hgetall = ["sh", "-c", f"redis-cli -h {HOST} -p {PORT} --raw HGETALL bench:ld:features > {out}.raw"]
    redis = ["--redis", REDIS, "--prefix", "bench:ld"]
    alternate(f"5. dump {n} flags vs HGETALL", "ldstore dump", [BIN, "dump", *redis, "-o", out],
              "redis-cli --raw HGETALL", hgetall, data_mb=mb)
    alternate(f"5. inspect {n} flags vs HGETALL", "ldstore inspect", [BIN, "inspect", *redis, "--output", "json"],
              "redis-cli --raw HGETALL", hgetall, data_mb=mb)
    alternate(f"5. validate {n} flags vs HGETALL", "ldstore validate", [BIN, "validate", *redis, "--output", "json"],
              "redis-cli --raw HGETALL", hgetall, a_ok=(0, 1), data_mb=mb)


def diff(tmp, n, path, data, mb):
    """6. Two prefixes that differ in 1 % of their flags (a changed rule value and a new version)."""
    other = os.path.join(tmp, f"flags-{n}-changed.json")
    keys = sorted(data["flags"])
    for k in keys[::100]:
        f = data["flags"][k]
        f["version"] += 1
        if f["rules"]:
            f["rules"][0]["clauses"][0]["values"].append("bench-changed")
        else:
            f["on"] = not f["on"]
    json.dump(data, open(other, "w"), separators=(",", ":"))
    sh(sync_cmd(path, "bench:diff-a"))
    sh(sync_cmd(other, "bench:diff-b"))
    a = f"redis://{REDIS}?prefix=bench:diff-a"
    b = f"redis://{REDIS}?prefix=bench:diff-b"
    single(f"6. diff two {n}-flag prefixes, 1 % differ", [BIN, "diff", a, b, "--output", "json"], ok=(1,),
           data_mb=2 * mb)


def dynamodb():
    out = subprocess.run([os.path.join(ROOT, "scripts", "bench-dynamodb")], capture_output=True,
                         env={**os.environ, "BENCH_RUNS": str(RUNS), "BENCH_FLAGS": "10000"})
    if out.returncode != 0:
        sys.exit("scripts/bench-dynamodb failed:\n" + out.stderr.decode(errors="replace"))
    r = json.loads(out.stdout)
    extra = {k: r[k] for k in ("server_storage_median", "ldstore_over_server_storage", "best_possible_sdk_over_client",
                               "ldstore_cpu_median", "server_cpu_median", "all_cpu_over_cores_median",
                               "ldstore_over_limit") if k in r}
    row("3. sync 10000 flags into DynamoDB Local vs SDK", "ldstore sync", r["ldstore_median"],
        "Python SDK store init()", r["python_sdk_median"], extra)
    if extra:
        # The physical limit: DynamoDB Local writes on one storage thread, busy this long per run.
        print(f"{'':<46} server storage thread busy {extra['server_storage_median']:.3f}s per ldstore run: ldstore "
              f"{extra['ldstore_over_server_storage']}x of it; SDK time over it (best any client can do) "
              f"{extra['best_possible_sdk_over_client']}x", flush=True)
        print(f"{'':<46} CPU per ldstore run: server {extra['server_cpu_median']:.3f}s, ldstore "
              f"{extra['ldstore_cpu_median']:.3f}s, all over the cores {extra['all_cpu_over_cores_median']:.3f}s; "
              f"ldstore {extra['ldstore_over_limit']}x of the larger limit", flush=True)


def bench_dynamodb(env):
    """scripts/bench-dynamodb in one of its modes; its JSON result (its progress goes to stderr)."""
    out = subprocess.run([os.path.join(ROOT, "scripts", "bench-dynamodb")], stdout=subprocess.PIPE,
                         env={**os.environ, "LDSTORE_BIN": BIN, **env})
    if out.returncode != 0:
        sys.exit("scripts/bench-dynamodb failed")
    return json.loads(out.stdout)


def dynamodb_latency():
    """10. A 10,000-flag sync into DynamoDB Local through a proxy adding 0, 5 and 20 ms each way
    (BENCH_LATENCY_MS), ldstore vs the SDK's init(), alternating, BENCH_LATENCY_RUNS (15) per side."""
    r = bench_dynamodb({"BENCH_DYNAMODB_MODE": "latency", "BENCH_FLAGS": "10000"})
    for p in r["parts"]:
        if "ldstore_seconds" not in p:
            continue
        ld, sdk, ratio = p["ldstore_seconds"], p["python_sdk_seconds"], p["sdk_over_ldstore_per_run"]
        extra = {"delay_ms_each_way": p["delay_ms_each_way"], "proxy_added_rtt_ms": p["proxy_check"]["added_rtt_median_ms"],
                 "a_min_s": ld["min"], "a_max_s": ld["max"], "b_min_s": sdk["min"], "b_max_s": sdk["max"],
                 "run_ratio_min": round(1 / ratio["max"], 3), "run_ratio_median": round(1 / ratio["median"], 3),
                 "run_ratio_max": round(1 / ratio["min"], 3), "sdk_over_ldstore": ratio, "runs": p["runs"],
                 "load": p["load_before"] + p["load_after"]}
        row(f"10. sync 10000 flags into DynamoDB, {p['delay_ms_each_way']:g} ms each way", "ldstore sync",
            ld["median"], "Python SDK store init()", sdk["median"], extra)
        print(f"{'':<46} ldstore min {ld['min']:.3f}s max {ld['max']:.3f}s; SDK over ldstore per run min "
              f"{ratio['min']:.1f}x median {ratio['median']:.1f}x max {ratio['max']:.1f}x; proxy adds "
              f"{p['proxy_check']['added_rtt_median_ms']:.1f} ms per round trip; load {' '.join(p['load_before'])}",
              flush=True)


def bigseg_dynamodb(tmp):
    """11. BENCH_BIGSEG_DYNAMODB (default 100,000: DynamoDB Local takes minutes per million)
    memberships synced from a dump into DynamoDB Local, against its storage thread."""
    n = int(os.environ.get("BENCH_BIGSEG_DYNAMODB", "100000"))
    path, mb, _, _ = bigseg_dump(tmp, n)
    r = bench_dynamodb({"BENCH_DYNAMODB_MODE": "bigseg", "BENCH_BIGSEG_FILE": path, "BENCH_BIGSEG_CONTEXTS": str(n),
                        "BENCH_BIGSEG_MB": str(mb)})
    RESULTS.append({"measure": f"11. sync {n} memberships from a dump into DynamoDB Local", **r})
    over = r.get("ldstore_over_storage_per_run")
    print(f"11. sync {n} memberships into DynamoDB Local   ldstore {r['ldstore_seconds']['median']:.2f}s (min "
          f"{r['ldstore_seconds']['min']:.2f} max {r['ldstore_seconds']['max']:.2f}); "
          + (f"storage thread {r['server_storage_seconds']['median']:.2f}s, ldstore over it per run min "
             f"{over['min']} median {over['median']} max {over['max']}; " if over else "")
          + f"peak RSS {r['peak_rss_mib']:.0f} MiB = {r['rss_over_data']}x the data ({mb:.0f} MB)", flush=True)


def cargo_measure(test, env=None):
    out = subprocess.run(["cargo", "test", "--quiet", "--locked", "--test", "it", test, "--", "--ignored",
                          "--nocapture", "--exact"], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "LDSTORE_BENCH_BIN": BIN, **(env or {})})
    if out.returncode != 0:
        sys.exit(f"{test} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout + out.stderr


def consul():
    text = cargo_measure("consul::measure_sync_of_10000_flags")
    found = 0
    for line in text.splitlines():
        m = re.search(r"^(first sync|re-sync \(same data\)): 10,000 flags .*?: ([\d.]+) s, (\d+) transactions, "
                      r"ops/txn min (\d+) max (\d+) mean ([\d.]+), body max (\d+) bytes", line)
        if m:
            found += 1
            RESULTS.append({"measure": f"4. Consul test server: {m[1]}, 10000 flags", "seconds": float(m[2]),
                            "transactions": int(m[3]), "ops_per_txn_mean": float(m[6]), "ops_per_txn_max": int(m[5]),
                            "txn_body_max_bytes": int(m[7])})
            print(f"4. Consul {m[1]:<20} {float(m[2]):8.3f}s  {m[3]} transactions, {m[6]} ops/txn "
                  f"(max {m[5]}), largest body {int(m[7]) // 1024} KiB", flush=True)
    if found != 2:
        sys.exit("Consul measurement printed no first-sync and re-sync lines:\n" + text)


def relay():
    text = cargo_measure("relay::bench_relay_latency_and_rss")
    m = re.search(r"p50 ([\d.]+) ms, p99 ([\d.]+) ms, max ([\d.]+) ms; VmRSS:\s+(\d+) kB", text)
    if not m:
        sys.exit("relay measurement printed nothing:\n" + text)
    RESULTS.append({"measure": "7. relay patch-to-store latency, 1000 patches, 10000 flags loaded",
                    "p50_ms": float(m[1]), "p99_ms": float(m[2]), "max_ms": float(m[3]), "rss_kib": int(m[4])})
    print(f"7. relay patch->store p50 {m[1]} ms  p99 {m[2]} ms  max {m[3]} ms; RSS {int(m[4]) // 1024} MiB "
          "with 10000 flags", flush=True)


def relay_sustained():
    """5. relay under sustained load: 500 patches/s for 60 s (BENCH_RELAY_RATE, BENCH_RELAY_SECS)
    to a relay with 10,000 flags, straight into Redis and through a proxy that delays every Redis
    reply by BENCH_RELAY_DELAY_MS (default 5): patch-to-store p50/p99/max overall and per 10 s
    window, and the relay's RSS. One run per mode (each is a minute long; its thousands of samples
    are the distribution) unless BENCH_RELAY_RUNS says more; there is no second side to alternate
    with. At +D ms per round trip the floor of one patch is two round trips (WATCH with the read
    of the stored version, then MULTI/HSET/EXEC): 2*D."""
    runs = int(os.environ.get("BENCH_RELAY_RUNS", "1"))
    delay = int(os.environ.get("BENCH_RELAY_DELAY_MS", "5"))
    env = {"LDSTORE_BENCH_RATE": os.environ.get("BENCH_RELAY_RATE", "500"),
           "LDSTORE_BENCH_SECS": os.environ.get("BENCH_RELAY_SECS", "60"),
           "LDSTORE_BENCH_REDIS_DELAY_MS": str(delay)}
    for test, mode in (("relay::bench_relay_sustained", "direct"),
                       ("relay::bench_relay_sustained_slow_redis", f"+{delay} ms per Redis round trip")):
        for run in range(runs):
            load = os.getloadavg()
            text = cargo_measure(test, env)
            overall = re.search(r"overall n (\d+) p50 ([\d.]+) ms p99 ([\d.]+) ms max ([\d.]+) ms; unlanded (\d+); "
                                r"RSS first ([\d.]+) MiB last ([\d.]+) MiB", text)
            windows = re.findall(r"window (\d+)-(\d+) s: n (\d+) p50 ([\d.]+) ms p99 ([\d.]+) ms max ([\d.]+) ms; "
                                 r"RSS max ([\d.]+) MiB", text)
            if not overall:
                sys.exit(f"{test} printed no summary:\n{text}")
            r = {"measure": f"5. relay sustained, {mode}", "patches": int(overall[1]), "p50_ms": float(overall[2]),
                 "p99_ms": float(overall[3]), "max_ms": float(overall[4]), "unlanded": int(overall[5]),
                 "rss_first_mib": float(overall[6]), "rss_last_mib": float(overall[7]),
                 "load_avg_1m": round(load[0], 2),
                 "windows": [{"from_s": int(w[0]), "p50_ms": float(w[3]), "p99_ms": float(w[4]), "max_ms": float(w[5]),
                              "rss_max_mib": float(w[6])} for w in windows]}
            RESULTS.append(r)
            print(f"5. relay sustained, {mode:<28} p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
                  f"max {r['max_ms']:.2f} ms  ({r['patches']} patches, {r['unlanded']} unlanded; RSS "
                  f"{r['rss_first_mib']:.0f} -> {r['rss_last_mib']:.0f} MiB; load {load[0]:.2f})", flush=True)
            for w in r["windows"]:
                print(f"{'':<6}{w['from_s']:>3}-{w['from_s'] + 10:<3} s  p50 {w['p50_ms']:7.2f} ms  p99 "
                      f"{w['p99_ms']:7.2f} ms  max {w['max_ms']:7.2f} ms  RSS max {w['rss_max_mib']:.1f} MiB", flush=True)


def bigseg(tmp):
    """9. Big Segments: a dump with BENCH_BIGSEG memberships (1,000,000 by default) synced into
    Redis from the file against `redis-cli --pipe` of the same commands, then inspected (every
    record), dumped, copied to another prefix and diffed: wall time and peak RSS against the size of
    the membership data (its part of the file)."""
    n = int(os.environ.get("BENCH_BIGSEG", "1000000"))
    path, mb, members_of, synced_on = bigseg_dump(tmp, n)
    # A database of its own, emptied before every run of either side (not timed): each run writes
    # into a fresh prefix, and the keyspace does not grow by 2M keys per run.
    db = "8"
    url = f"redis://{REDIS}/{db}"
    cli = ["redis-cli", "-h", HOST, "-p", PORT, "-n", db]
    flush = lambda: sh([*cli, "FLUSHDB"])
    prefix = "bench:bs"
    pipe = os.path.join(tmp, f"bigseg-{n}.resp")
    bigseg_raw_file(n, members_of, prefix, pipe, synced_on)
    # 15 runs per side (BENCH_BIGSEG_RUNS to change): a run of either side takes a few seconds, so
    # the comparison takes about 15 x (ldstore + redis-cli + two FLUSHDB), a few minutes.
    runs = int(os.environ.get("BENCH_BIGSEG_RUNS", "15"))
    alternate(f"9. sync {n} memberships into Redis vs raw limit", "ldstore sync",
              [BIN, "-q", "sync", "--from-file", path, "--redis", url, "--prefix", prefix],
              "redis-cli --pipe (same commands)", [*cli, "--pipe"], b_stdin=pipe, data_mb=mb, runs=runs,
              before=flush)
    # The reads below read what the last run wrote (the raw side's bytes: the same memberships).
    sh([BIN, "-q", "sync", "--from-file", path, "--redis", url, "--prefix", prefix])
    src = f"redis://{REDIS}/{db}?prefix={prefix}"
    redis = ["--redis", url, "--prefix", prefix]
    single(f"9. inspect --exact, {n} memberships", [BIN, "inspect", *redis, "--exact", "--output", "json"],
           data_mb=mb)
    single(f"9. dump {n} memberships", [BIN, "dump", *redis, "-o", os.path.join(tmp, "bs-out.json")],
           data_mb=mb)
    single(f"9. copy {n} memberships Redis -> Redis",
           [BIN, "sync", "--from", src, "--redis", url, "--prefix", "bench:bs-b"], data_mb=mb)
    single(f"9. diff two prefixes of {n} memberships",
           [BIN, "diff", src, f"redis://{REDIS}/{db}?prefix=bench:bs-b", "--output", "json"], data_mb=mb)
    flush()


def bigseg_dump(tmp, n):
    """A dump with n Big Segments memberships (two unbounded segments, every context included in
    one, a third also excluded from the other): its path and the MB of its membership part."""
    path = os.path.join(tmp, f"bigseg-{n}.json")
    seg = lambda key, gen: {"key": key, "version": 1, "included": [], "excluded": [], "rules": [], "salt": "s",
                            "unbounded": True, "generation": gen}
    head = json.dumps({"flags": {}, "segments": {"beta": seg("beta", 1), "gamma": seg("gamma", 2)}},
                      separators=(",", ":"))[:-1]
    members = 0
    synced_on = str(int(time.time() * 1000))

    def members_of(i):
        h = base64.b64encode(hashlib.sha256(f"ctx-{i}".encode()).digest()).decode()
        return h, ["beta.g1"], ["gamma.g2"] if i % 3 == 0 else []

    with open(path, "w") as f:
        f.write(head)
        f.write(f',"bigSegments":{{"synchronizedOn":"{synced_on}","cursor":"1","memberships":{{')
        start = f.tell()
        for i in range(n):
            h, inc, exc = members_of(i)
            f.write(f'{"," if i else ""}"{h}":{{"included":{json.dumps(inc)},"excluded":{json.dumps(exc)}}}')
        members = f.tell() - start
        f.write("}}}\n")
    mb = members / 1e6
    print(f"Big Segments: {n} memberships, {mb:.0f} MB of membership data in the dump", flush=True)
    return path, mb, members_of, synced_on


def bigseg_raw_file(n, members_of, prefix, path, synced_on):
    """What `ldstore sync --from-file` sends for the memberships, as RESP for `redis-cli --pipe`
    (src/store/redis/big_segments.rs write_memberships): per 1,000 contexts one MULTI, for each
    context DEL + SADD of its include set then of its exclude set (no SADD for an empty one), EXEC;
    then the metadata (SET of the sync time and the cursor, in a MULTI/EXEC of their own)."""
    with open(path, "wb") as f:
        for start in range(0, n, 1000):
            out = [resp("MULTI")]
            for i in range(start, min(n, start + 1000)):
                h, inc, exc = members_of(i)
                for which, refs in (("include", inc), ("exclude", exc)):
                    key = f"{prefix}:big_segment_{which}:{h}"
                    out.append(resp("DEL", key))
                    if refs:
                        out.append(resp("SADD", key, *sorted(refs)))
            out.append(resp("EXEC"))
            f.write(b"".join(out))
        f.write(resp("MULTI") + resp("SET", f"{prefix}:big_segments_synchronized_on", synced_on)
                + resp("SET", f"{prefix}:big_segments_cursor", "1") + resp("EXEC"))


def cold(tmp):
    """8. Every command's wall time, start to exit, against an empty prefix (and an empty Redis
    database for `inspect` of all prefixes): the cost of starting, parsing the settings, connecting
    and the first round trips. Commands that refuse an empty prefix (exit 4) still count."""
    one = os.path.join(tmp, "one-flag.json")
    with open(one, "w") as f:
        json.dump({"flags": {"f": {"key": "f", "version": 1, "on": True, "variations": [True, False],
                                   "fallthrough": {"variation": 0}, "offVariation": 1, "targets": [],
                                   "rules": [], "prerequisites": [], "salt": "s"}}, "segments": {}}, f)
    empty = ["--redis", REDIS, "--prefix", "bench:empty"]
    src = f"redis://{REDIS}?prefix=bench:empty"
    any_code = tuple(range(0, 8))
    cases = [
        ("--version", [BIN, "--version"]),
        ("inspect (all prefixes, empty database)", [BIN, "inspect", "--redis", f"redis://{REDIS}/15"]),
        ("inspect --prefix", [BIN, "inspect", *empty]),
        ("dump", [BIN, "dump", *empty, "-o", os.devnull]),
        ("validate", [BIN, "validate", *empty]),
        ("diff", [BIN, "diff", src, f"redis://{REDIS}?prefix=bench:empty2"]),
        ("eval --all", [BIN, "eval", *empty, "--all", "--context", '{"kind":"user","key":"u"}']),
        ("membership", [BIN, "membership", *empty, "--context", '{"kind":"user","key":"u"}']),
        ("prune --dry-run", [BIN, "prune", *empty, "--dry-run"]),
        ("sync --dry-run (1 flag)", [BIN, "sync", "--dry-run", "--from-file", one, *empty]),
        ("sync (1 flag, new prefix)", [BIN, "sync", "--from-file", one, "--redis", REDIS, "--prefix", "bench:cold"]),
        ("completions bash", [BIN, "completions", "bash"]),
    ]
    if os.environ.get("LDSTORE_TEST_DYNAMODB"):
        cases.append(("dynamodb check-table", [BIN, "dynamodb", "check-table", "--endpoint",
                                               os.environ["LDSTORE_TEST_DYNAMODB"], "--table", "bench-cold-absent"]))
    runs = max(RUNS, 15)
    worst = 0.0
    for name, cmd in cases:
        ts, rss = [], []
        for _ in range(runs):
            t, r = timed(cmd, ok=any_code)
            ts.append(t)
            rss.append(r)
        ts.sort()
        worst = max(worst, ts[-1])
        RESULTS.append({"measure": f"8. cold start: {name}", "min_s": round(ts[0], 4),
                        "median_s": round(statistics.median(ts), 4), "max_s": round(ts[-1], 4),
                        "peak_rss_kib": max(rss), "runs": runs})
        print(f"8. cold start: {name:<40} min {ts[0] * 1000:5.1f} ms  median {statistics.median(ts) * 1000:5.1f} ms  "
              f"max {ts[-1] * 1000:5.1f} ms  RSS {max(rss) / 1024:.0f} MiB", flush=True)
    # relay runs until stopped: its cold start is the time from exec until GET /status answers.
    import socket
    import urllib.request
    ts = []
    for _ in range(runs):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        t0 = time.perf_counter()
        p = subprocess.Popen([BIN, "-q", "relay", "--listen", f"127.0.0.1:{port}", "--redis", REDIS, "--prefix",
                              "bench:cold-relay", "--stream-uri", "http://127.0.0.1:9", "--base-uri",
                              "http://127.0.0.1:9"], env={**os.environ, "LD_SDK_KEY": "sdk-bench-cold"},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=1).read()
                break
            except OSError:
                if time.perf_counter() - t0 > 10:
                    sys.exit("relay's /status never answered")
                time.sleep(0.0005)
        ts.append(time.perf_counter() - t0)
        p.terminate()
        p.wait()
    ts.sort()
    worst = max(worst, ts[-1])
    RESULTS.append({"measure": "8. cold start: relay (until GET /status answers)", "min_s": round(ts[0], 4),
                    "median_s": round(statistics.median(ts), 4), "max_s": round(ts[-1], 4), "runs": runs})
    print(f"8. cold start: {'relay (until /status answers)':<40} min {ts[0] * 1000:5.1f} ms  median "
          f"{statistics.median(ts) * 1000:5.1f} ms  max {ts[-1] * 1000:5.1f} ms", flush=True)
    print(f"{'':<46} slowest run of any command: {worst * 1000:.1f} ms (target: under 20 ms)", flush=True)


def scan(tmp):
    """10. `inspect` of all prefixes on a Redis that also holds BENCH_UNRELATED (1,000,000)
    unrelated keys, vs `redis-cli --scan` of the same keyspace. Three small LaunchDarkly prefixes are among them. The keys are
    loaded into a database of their own (9) and removed afterwards."""
    n = int(os.environ.get("BENCH_UNRELATED", "1000000"))
    db = "9"
    url = f"redis://{REDIS}/{db}"
    cli = ["redis-cli", "-h", HOST, "-p", PORT, "-n", db]
    sh([*cli, "FLUSHDB"])
    pipe = os.path.join(tmp, "unrelated.resp")
    with open(pipe, "wb") as f:
        for i in range(n):
            f.write(resp("SET", f"session:{i:08d}:{hashlib.md5(str(i).encode()).hexdigest()[:12]}", "x" * 16))
    with open(pipe, "rb") as inp:
        subprocess.run([*cli, "--pipe"], stdin=inp, check=True, capture_output=True)
    path, _, _ = gen(tmp, 100)
    for p in ("ld:prod", "ld:staging", "other"):
        sh([BIN, "-q", "sync", "--from-file", path, "--redis", url, "--prefix", p])
    keys = int(sh([*cli, "DBSIZE"]).stdout.split()[-1])
    print(f"\n{keys} keys: {n} unrelated and three LaunchDarkly prefixes of 100 flags", flush=True)
    inspect = [BIN, "inspect", "--redis", url, "--output", "json"]
    # redis-cli --scan asks for SCAN's default page (10 keys); ldstore asks for 1,000 (this
    # redis-cli has no --count to match it).
    alternate(f"10. inspect all prefixes, {n} unrelated keys", "ldstore inspect", inspect,
              "redis-cli --scan", [*cli, "--scan"])
    sh([*cli, "FLUSHDB"])


def main():
    # The generated files (up to about 700 MB with every part) go when the bench ends, however it
    # ends: a bench run again and again must not fill /tmp.
    with tempfile.TemporaryDirectory(prefix="ldstore-bench-") as tmp:
        run(tmp)


def run(tmp):
    print(f"machine: {os.cpu_count()} cores; {RUNS} runs per side, medians")
    for n in SIZES:
        if not (want("redis") or want("reads") or want("diff") or (n <= 10000 and want("sdk"))):
            continue
        path, data, mb = redis_sync_vs_raw(tmp, n)
        if n <= 10000 and want("sdk") and not SKIP_SDK:
            redis_vs_sdk(path)
        if want("reads"):
            reads(tmp, n, mb)
        if n >= 100000 and want("diff"):
            diff(tmp, n, path, data, mb)
    if want("big"):
        redis_sync_vs_raw(tmp, 10000, big=5)
    print()
    if want("dynamodb") and not SKIP_SDK:
        dynamodb()
    if want("consul"):
        consul()
    if want("relay"):
        relay()
    if want("relay-sustained"):
        relay_sustained()
    if want("stall"):
        stall(tmp)
    if want("stall-cluster"):
        stall_cluster(tmp)
    if want("cold"):
        cold(tmp)
    if want("scan"):
        scan(tmp)
    if want("bigseg"):
        bigseg(tmp)
    if want("dynamodb-latency") and not SKIP_SDK:
        dynamodb_latency()
    if want("bigseg-dynamodb"):
        bigseg_dynamodb(tmp)
    if want("cpu"):
        for n in SIZES:
            cpu_accounting(tmp, n)
    with open(os.path.join(ROOT, "bench-results.json"), "w") as f:
        json.dump({"machine": {"cores": os.cpu_count(), "uname": " ".join(os.uname()[2:5])}, "runs": RUNS,
                   "results": RESULTS}, f, indent=2)
    print("\nwrote bench-results.json")


if __name__ == "__main__":
    main()
