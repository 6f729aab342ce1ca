#!/usr/bin/env python3
"""A TCP proxy that adds network latency, for the benchmarks (not shipped, not used by tests).

    scripts/latency-proxy.py --upstream 127.0.0.1:8000 --delay-ms 5 [--listen 127.0.0.1:0]
        prints "listening on HOST:PORT" once it accepts connections, then runs until killed.
    scripts/latency-proxy.py --check --delay-ms 5
        measures the round trip it adds (through an echo server of its own) and prints it as JSON.

A link with latency, not a bandwidth cap: every chunk read from one side is written to the other
at its arrival time + the delay, each way. Reading never waits for writing (a reader task per
direction queues each chunk with its arrival time; a writer task sleeps until the chunk is due),
so many chunks and many connections are in flight at once; the order of chunks is kept per
direction. A round trip through it therefore costs 2 x delay more than without it (checked by
--check). Python asyncio rather than a Rust helper: the benchmarks are Python already (the
bench starts it as a separate process, so its CPU does not share the bench's interpreter), it needs
no build, and its overhead at the chunk rates of a sync (a few thousand per second) is well under a
millisecond per chunk (--check shows it).
"""
import argparse
import asyncio
import json
import socket
import statistics
import sys
import time


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def pump(reader, writer, delay):
    """Copy reader to writer, each chunk `delay` seconds after it arrived, in order."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def read():
        try:
            while True:
                data = await reader.read(1 << 16)
                queue.put_nowait((loop.time() + delay, data))
                if not data:
                    return
        except (ConnectionError, OSError):
            queue.put_nowait((loop.time() + delay, b""))

    async def write():
        try:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            return

    r = asyncio.ensure_future(read())
    await write()
    r.cancel()


async def serve(listen, upstream, delay, ready=None):
    up_host, up_port = upstream.rsplit(":", 1)

    async def handle(c_reader, c_writer):
        try:
            u_reader, u_writer = await asyncio.open_connection(up_host, int(up_port))
        except OSError:
            c_writer.close()
            return
        nodelay(c_writer)
        nodelay(u_writer)
        await asyncio.gather(pump(c_reader, u_writer, delay), pump(u_reader, c_writer, delay))
        for w in (c_writer, u_writer):
            w.close()

    host, port = listen.rsplit(":", 1)
    server = await asyncio.start_server(handle, host, int(port))
    addr = server.sockets[0].getsockname()
    if ready is not None:
        ready.set_result(f"{addr[0]}:{addr[1]}")
    else:
        print(f"listening on {addr[0]}:{addr[1]}", flush=True)
    async with server:
        await server.serve_forever()


async def check(delay, pings=50):
    """Round trips of a small message through an echo server, direct and through the proxy."""

    async def echo(reader, writer):
        nodelay(writer)
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    target = "127.0.0.1:%d" % server.sockets[0].getsockname()[1]
    ready = asyncio.get_running_loop().create_future()
    proxy = asyncio.ensure_future(serve("127.0.0.1:0", target, delay, ready))
    through = await ready

    async def rtts(addr):
        host, port = addr.rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        nodelay(writer)
        out = []
        for _ in range(pings):
            t0 = time.perf_counter()
            writer.write(b"x" * 100)
            await writer.drain()
            got = 0
            while got < 100:
                got += len(await reader.read(1 << 16))
            out.append(time.perf_counter() - t0)
        writer.close()
        return out

    direct, proxied = await rtts(target), await rtts(through)
    await asyncio.sleep(2 * delay + 0.1)  # the connections' ends pass through, then all is idle
    proxy.cancel()
    server.close()
    added = [p - statistics.median(direct) for p in proxied]
    return {"delay_ms_each_way": delay * 1000, "claimed_rtt_added_ms": round(2 * delay * 1000, 3),
            "direct_rtt_median_ms": round(statistics.median(direct) * 1000, 3),
            "added_rtt_min_ms": round(min(added) * 1000, 3),
            "added_rtt_median_ms": round(statistics.median(added) * 1000, 3),
            "added_rtt_max_ms": round(max(added) * 1000, 3), "pings": pings}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--upstream")
    ap.add_argument("--delay-ms", type=float, default=5.0, help="added each way (default 5)")
    ap.add_argument("--check", action="store_true", help="measure the round trip added, print JSON, exit")
    a = ap.parse_args()
    delay = a.delay_ms / 1000
    if a.check:
        print(json.dumps(asyncio.run(check(delay))))
        return
    if not a.upstream:
        sys.exit("--upstream HOST:PORT is required")
    try:
        asyncio.run(serve(a.listen, a.upstream, delay))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
