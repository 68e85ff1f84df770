"""Section 2 (issue 2): 1,000 concurrent async streams, transport ``AsyncStream`` vs raw httpx.

Throughput: 1,000 tasks on one ``httpx.AsyncClient`` (limits >= 1,000 connections,
shared by both sides; the transport gets it via ``http_client=``), each reading a
whole 200-delta Dify stream. Prints how many completed (asserted == 1,000) and the
aggregate events/s.

Memory per open stream: each task reads its first event, then waits until all
1,000 streams are open mid-stream; at that moment we measure, then release them.
Measured in a fresh subprocess per (implementation, method) so one side's freed
arenas cannot hide the other's growth: tracemalloc (Python heap bytes traced) and
RSS delta (psutil), both divided by 1,000.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c
import _server
import httpx

STREAMS = 1_000
DELTAS = 200
REPS = 4
TARGET = 0.95

Gate = Callable[[], Awaitable[None]]


class Barrier:
    """All tasks arrive after their first event; the main task measures, then releases."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.arrived = 0
        self.all_open = asyncio.Event()
        self.release = asyncio.Event()

    async def arrive(self) -> None:
        self.arrived += 1
        if self.arrived == self.total:
            self.all_open.set()
        await self.release.wait()


class PoolTimer:
    """Times httpcore's pool bookkeeping (``_assign_requests_to_connections``).

    At 1,000 connections httpcore rescans every connection for every idle one on
    each request start/finish (O(connections^2) per call); this cost is the same
    for both sides and is reported so the ratio can be read against it. The
    wrapper only adds a perf_counter pair per call (a few thousand per round).
    """

    def __init__(self) -> None:
        from httpcore._async.connection_pool import AsyncConnectionPool

        self.cls = AsyncConnectionPool
        self.original = AsyncConnectionPool._assign_requests_to_connections
        self.seconds = 0.0
        self.calls = 0

    def __enter__(self) -> PoolTimer:
        original = self.original
        perf = time.perf_counter

        def timed(pool: Any) -> Any:
            t0 = perf()
            try:
                return original(pool)
            finally:
                self.seconds += perf() - t0
                self.calls += 1

        self.cls._assign_requests_to_connections = timed  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        self.cls._assign_requests_to_connections = self.original  # type: ignore[method-assign]

    def take(self) -> float:
        seconds, self.seconds, self.calls = self.seconds, 0.0, 0
        return seconds


def make_http() -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=STREAMS + 100, max_keepalive_connections=STREAMS + 100)
    return httpx.AsyncClient(timeout=120, limits=limits, trust_env=False)


async def raw_stream(http: httpx.AsyncClient, url: str, query: str, gate: Gate | None) -> int:
    loads = json.loads
    count = 0
    body = {"query": query, "inputs": {}, "user": c.USER, "response_mode": "streaming"}
    headers = {"Authorization": f"Bearer {c.API_KEY}"}
    async with http.stream("POST", url, json=body, headers=headers) as r:
        r.raise_for_status()
        buf = b""
        async for chunk in r.aiter_bytes():
            *frames, buf = (buf + chunk).split(b"\n\n")
            for frame in frames:
                if frame.startswith(b"data:"):
                    loads(frame[5:])
                    count += 1
                    if gate is not None and count == 1:
                        await gate()
    return count


async def transport_stream(client: Any, query: str, gate: Gate | None) -> int:
    stream = client.stream_chat(query, user=c.USER)
    if inspect.isawaitable(stream):
        stream = await stream
    count = 0
    async for _event in stream:
        count += 1
        if gate is not None and count == 1:
            await gate()
    result = await stream.final()
    assert len(result.answer) > 0
    return count


def make_transport(base_url: str, http: httpx.AsyncClient) -> Any:
    (cls,) = c.require("dify_transport", "AsyncDifyClient")
    return cls(api_key=c.API_KEY, base_url=base_url, http_client=http)


def _one(impl: str, http: httpx.AsyncClient, base_url: str) -> Callable[..., Awaitable[int]]:
    if impl == "raw":
        url = f"{base_url}/chat-messages"
        return lambda query, gate=None: raw_stream(http, url, query, gate)
    client = make_transport(base_url, http)
    return lambda query, gate=None: transport_stream(client, query, gate)


async def _fan_out(one: Callable[..., Awaitable[int]], n: int) -> tuple[int, int, float]:
    t0 = time.perf_counter()
    results = await asyncio.gather(*(one(f"n={n}") for _ in range(STREAMS)), return_exceptions=True)
    elapsed = time.perf_counter() - t0
    ok = [r for r in results if isinstance(r, int) and r == n + 1]
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        print(f"    ! {len(errors)} streams failed, first: {type(errors[0]).__name__}: {errors[0]}")
    return len(ok), sum(r for r in results if isinstance(r, int)), elapsed


async def throughput(base_url: str, reps: int) -> dict[str, Any]:
    http = make_http()
    try:
        impls: dict[str, Callable[..., Awaitable[int]]] = {"raw": _one("raw", http, base_url)}
        reason = None
        try:
            impls["transport"] = _one("transport", http, base_url)
            await impls["transport"]("n=1")
        except c.NotAvailableError as exc:
            impls.pop("transport", None)
            reason = str(exc)
        except Exception as exc:
            impls.pop("transport", None)
            reason = f"transport run failed: {type(exc).__name__}: {exc}"
        # Informational: one async 20,000-delta stream, no pool contention.
        single: dict[str, list[float]] = {name: [] for name in impls}
        for r in range(5):
            for name in list(impls)[r % len(impls) :] + list(impls)[: r % len(impls)]:
                gc.collect()
                t0 = time.perf_counter()
                await impls[name]("n=20000")
                single[name].append(time.perf_counter() - t0)
        out_single = {name: 20_001 / min(ts) for name, ts in single.items()}
        # Warm-up (discarded): opens the 1,000 pooled connections.
        await _fan_out(impls["raw"], DELTAS)
        out: dict[str, Any] = {name: {"times": [], "completed": [], "pool": []} for name in impls}
        names = list(impls)
        with PoolTimer() as pool:
            for r in range(reps):
                for name in names[r % len(names) :] + names[: r % len(names)]:
                    gc.collect()
                    pool.take()
                    done, events, elapsed = await _fan_out(impls[name], DELTAS)
                    out[name]["times"].append(elapsed)
                    out[name]["pool"].append(pool.take())
                    out[name]["completed"].append(done)
                    out[name]["events"] = events
        out["reason"] = reason
        out["single"] = out_single
        return out
    finally:
        await http.aclose()


async def memory_probe(impl: str, base_url: str, mode: str) -> None:
    """Run in a fresh process: bytes per stream while 1,000 are open mid-stream.

    The server holds every stream after its first frame (``hold=1``), so what we
    measure is connection + response + decoder/stream state, not buffered body.
    Includes the pooled connection each stream needs (the same for both sides).
    """
    import psutil

    proc = psutil.Process()
    http = make_http()
    await _one(impl, http, base_url)("n=5")  # warm-up: lazy imports, code paths
    await http.aclose()
    http = make_http()
    one = _one(impl, http, base_url)
    barrier = Barrier(STREAMS)
    gc.collect()
    if mode == "tracemalloc":
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
    else:
        before = proc.memory_info().rss
    tasks = [asyncio.create_task(one(f"n={DELTAS} hold=1", barrier.arrive)) for _ in range(STREAMS)]
    await asyncio.wait_for(barrier.all_open.wait(), 120)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0] if mode == "tracemalloc" else proc.memory_info().rss
    assert all(not t.done() for t in tasks)
    result = {"per_stream": (after - before) / barrier.arrived, "open": barrier.arrived}
    print(json.dumps(result), flush=True)
    # Leave at once: no teardown of 1,000 held streams (cancelling them would make the
    # transport send 1,000 stop calls); the parent releases the server side.
    os._exit(0)


def _probe_subprocess(impl: str, server: _server.ServerHandle, mode: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--probe", impl, "--mode", mode]
    cmd += ["--base-url", server.base_url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    server.release()
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        tail = (p.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": tail}
    return json.loads(lines[-1])


def run(server: _server.ServerHandle, reps: int = REPS) -> None:
    c.title(
        f"2. {STREAMS:,} concurrent async streams x {DELTAS} deltas: AsyncStream vs raw "
        f"httpx.AsyncClient (best/median of {reps}, alternating)"
    )
    res = asyncio.run(throughput(server.base_url, reps))
    reason = res.pop("reason")
    single = res.pop("single")
    labels = {"raw": "raw httpx.AsyncClient", "transport": "dify_transport AsyncStream"}
    per = STREAMS * (DELTAS + 1)
    rows = []
    for name, r in res.items():
        ts = r["times"]
        i_best = ts.index(c.best(ts))
        rows.append(
            [
                labels[name],
                f"{min(r['completed'])}/{STREAMS}",
                c.fmt_int(per / c.best(ts)),
                c.fmt_int(per / c.median(ts)),
                f"{c.best(ts):.2f}",
                f"{r['pool'][i_best]:.2f}",
            ]
        )
        if min(r["completed"]) != STREAMS:
            c.SUMMARY.append((f"{labels[name]}: all {STREAMS:,} complete", "no", "all", "BELOW"))
        assert min(r["completed"]) == STREAMS, f"{name}: not all streams completed"
    c.table(
        [
            "implementation",
            "completed",
            "events/s best",
            "events/s median",
            "best s",
            "of which httpcore pool s",
        ],
        rows,
    )
    if reason:
        c.not_available("dify_transport AsyncStream", reason)
    else:
        raw_t, tr_t = res["raw"]["times"], res["transport"]["times"]
        ratio = c.best(raw_t) / c.best(tr_t)
        ratio_med = c.median(raw_t) / c.median(tr_t)
        v = c.record(
            f"AsyncStream vs raw httpx events/s ({STREAMS:,} concurrent)",
            ratio,
            TARGET,
            f" (median {ratio_med:.2f}x)",
        )
        print(
            f"  ratio transport/raw: best {ratio:.3f}x, median {ratio_med:.3f}x  "
            f"(target >= {TARGET}x)  {v}"
        )

    line = ", ".join(f"{labels[k]} {c.fmt_int(v)}" for k, v in single.items())
    if "transport" in single:
        line += f" -> {single['transport'] / single['raw']:.3f}x"
    print(f"  (informational: one async 20,000-delta stream, best of 5, events/s: {line})")

    print(f"  memory per open stream ({STREAMS:,} open mid-stream, fresh process each):")
    mem_rows = []
    impls = ["raw"] if reason else ["raw", "transport"]
    for impl in impls:
        tm = _probe_subprocess(impl, server, "tracemalloc")
        rss = _probe_subprocess(impl, server, "rss")
        if "error" in tm or "error" in rss:
            mem_rows.append([labels[impl], "error", tm.get("error") or rss.get("error"), ""])
            continue
        mem_rows.append(
            [
                labels[impl],
                f"{tm['per_stream'] / 1024:.1f} KiB",
                f"{rss['per_stream'] / 1024:.1f} KiB",
                f"{int(tm['open'])}/{STREAMS}",
            ]
        )
    c.table(["implementation", "tracemalloc/stream", "RSS delta/stream", "open"], mem_rows)


def _main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe", choices=["raw", "transport"])
    ap.add_argument("--mode", choices=["tracemalloc", "rss"], default="tracemalloc")
    ap.add_argument("--base-url")
    args = ap.parse_args()
    if args.probe:
        _server.isolate_env()
        asyncio.run(memory_probe(args.probe, args.base_url, args.mode))
        return
    with _server.serve() as srv:
        run(srv)


if __name__ == "__main__":
    _main()
