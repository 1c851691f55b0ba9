"""How many requests per second the simulator serves on loopback (latency injection off).

The simulator runs in its own process (one core); the load generator runs in
``--clients`` other processes, each an asyncio/uvloop loop keeping
``--connections`` keep-alive HTTP/1.1 connections busy with item pages of
every platform (Host header per platform, plain HTTP). Three runs; the median
counts. Target: >= 5,000 requests/s.

    .venv/bin/python bench/sim.py [--quick] [--scenario action-day]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

TARGET_RPS = 5000.0


def _server(scenario: str, q: mp.Queue) -> None:  # type: ignore[type-arg]
    import uvloop

    from takedown.sim.runtime import Sim
    from takedown.sim.scenario import load_scenario, resolve_scenario_path

    async def main() -> None:
        sim = Sim(load_scenario(resolve_scenario_path(scenario)), tls=False, inject=False)
        await sim.start()
        now = sim.clock.ts()
        urls = [
            it.url
            for it in sim.world.items.values()
            if it.alive(now) and not it.host.endswith(".onion")
        ]
        random.Random(1).shuffle(urls)
        q.put((sim.port, urls[:3000], len(sim.world.items)))
        await asyncio.Event().wait()

    uvloop.run(main())


def _requests(urls: list[str]) -> list[bytes]:
    out = []
    for u in urls:
        s = urllib.parse.urlsplit(u)
        target = s.path + ("?" + s.query if s.query else "")
        out.append(
            f"GET {target} HTTP/1.1\r\nHost: {s.hostname}\r\nUser-Agent: bench\r\n\r\n".encode()
        )
    return out


class _Client(asyncio.Protocol):
    def __init__(self, reqs: list[bytes], counter: list[int], stop: list[bool], seed: int) -> None:
        self.reqs = reqs
        self.counter = counter
        self.stop = stop
        self.i = seed
        self.buf = b""
        self.need = -1
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._send()

    def _send(self) -> None:
        if self.stop[0]:
            assert self.transport is not None
            self.transport.close()
            return
        self.i = (self.i + 1) % len(self.reqs)
        assert self.transport is not None
        self.transport.write(self.reqs[self.i])

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            if self.need < 0:
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = self.buf[:end].lower()
                k = head.find(b"content-length:")
                length = int(
                    head[k + 15 : head.find(b"\r\n", k) if head.find(b"\r\n", k) > 0 else None]
                )
                self.need = end + 4 + length
            if len(self.buf) < self.need:
                return
            self.buf = self.buf[self.need :]
            self.need = -1
            self.counter[0] += 1
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


def _load(port: int, urls: list[str], seconds: float, conns: int, seed: int, q: mp.Queue) -> None:  # type: ignore[type-arg]
    import uvloop

    reqs = _requests(urls)

    async def main() -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        counter, stop = [0], [False]
        clients = []
        for i in range(conns):

            def factory(i: int = i) -> _Client:
                return _Client(reqs, counter, stop, seed * 1000 + i * 37)

            _, proto = await loop.create_connection(factory, "127.0.0.1", port)
            clients.append(proto)
        await asyncio.sleep(0.3)  # warm-up
        c0, t0 = counter[0], time.perf_counter()
        await asyncio.sleep(seconds)
        c1, t1 = counter[0], time.perf_counter()
        stop[0] = True
        await asyncio.wait([c.done for c in clients], timeout=2)
        return c1 - c0, t1 - t0

    q.put(uvloop.run(main()))


def _cpu_seconds(pid: int) -> float:
    """User+system CPU time of a process (Linux /proc), to report capacity under contention."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(
    port: int, urls: list[str], seconds: float, clients: int, conns: int
) -> tuple[float, int]:
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [
        ctx.Process(target=_load, args=(port, urls, seconds, conns, i, q)) for i in range(clients)
    ]
    for p in procs:
        p.start()
    results = [q.get(timeout=seconds + 60) for _ in procs]
    for p in procs:
        p.join()
    total = sum(n for n, _ in results)
    return float(total / max(t for _, t in results)), total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small scenario, short runs")
    ap.add_argument("--scenario", default=None)
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--clients", type=int, default=1, help="load-generator processes")
    ap.add_argument(
        "--connections", type=int, default=32, help="keep-alive connections per process"
    )
    args = ap.parse_args()
    scenario = args.scenario or ("small" if args.quick else "action-day")
    seconds = args.seconds or (2.0 if args.quick else 5.0)

    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    server = ctx.Process(target=_server, args=(scenario, q), daemon=True)
    t0 = time.perf_counter()
    server.start()
    port, urls, n_items = q.get(timeout=120)
    startup = time.perf_counter() - t0
    assert server.pid is not None
    cpu0 = _cpu_seconds(server.pid)
    try:
        results = [run_once(port, urls, seconds, args.clients, args.connections) for _ in range(3)]
        cpu = _cpu_seconds(server.pid) - cpu0
    finally:
        server.terminate()
        server.join()
    runs = [r for r, _ in results]
    per_cpu = sum(n for _, n in results) / cpu if cpu > 0 else float("nan")
    med = statistics.median(runs)
    print(f"scenario            {scenario} ({n_items} items, {len(urls)} distinct URLs)")
    print(f"server start        {startup:.2f} s (process spawn + generation)")
    print(f"load generator      {args.clients} process(es) x {args.connections} connections")
    for i, r in enumerate(runs, 1):
        print(f"run {i}               {r:,.0f} req/s")
    print(f"median              {med:,.0f} req/s   (target >= {TARGET_RPS:,.0f})")
    print(f"server capacity     {per_cpu:,.0f} req per server CPU-second (includes warm-ups)")
    print(
        json.dumps(
            {
                "bench": "sim",
                "scenario": scenario,
                "requests_per_second": round(med),
                "runs": [round(r) for r in runs],
                "requests_per_server_cpu_second": round(per_cpu),
                "seconds_per_run": seconds,
                "clients": args.clients,
                "connections": args.connections,
                "targets": {"requests_per_second": TARGET_RPS},
                "targets_met": med >= TARGET_RPS,
            }
        )
    )


if __name__ == "__main__":
    main()
