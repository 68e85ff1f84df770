"""Soak (issue 9): streams for a bounded time against the emulator's chaos mode.

The emulator runs in its own process (``python -m dify_emulator --port 0``). Every
chat turn carries ``X-Emulator-Fault: chaos=P``: with probability P the request gets
one random fault (stream dropped after 0-5 deltas, 500/502/503, 429 with
``Retry-After: 0``, slow first byte); the client cancels some streams mid-way too.
``CONCURRENCY`` streams at a time through one ``AsyncDifyClient`` (package defaults),
rounds until ``SECONDS`` pass. Then, from the emulator's request log:

* duplicated turns: a turn (unique query) that reached the server more than once
  without a 429 in between must not exist (server POSTs not rejected by a 429 ==
  client calls);
* lost answers: every stream that completed must carry the text the server stored
  (checked with ``get_messages`` on a client without chaos);
* file descriptors and RSS of the client process after the last round vs after the
  first (flat: a few fds, a few MB).

``python benchmarks/soak.py [--seconds 20] [--concurrency 100] [--chaos 0.3]``;
``make soak`` runs it, ``make bench`` too. A report: exits 0, prints PASS/BELOW.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import random
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c
import psutil

SECONDS = 20.0
CONCURRENCY = 100
CHAOS = 0.3
CANCEL = 0.1
"""Share of streams the client cancels after a random short wait."""
FD_SLACK = 8
RSS_SLACK_MB = 20.0


@contextlib.contextmanager
def emulator() -> Iterator[str]:
    """The emulator in its own process; yields its base URL."""
    cmd = [sys.executable, "-m", "dify_emulator", "--port", "0", "--delay-ms", "5"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"serving at (\S+)", line)
        if not match:
            raise RuntimeError(f"emulator did not start: {line!r}")
        yield match.group(1)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _one(client: Any, tag: str, chaos: float, rng: random.Random) -> dict[str, Any]:
    from dify_emulator import FAULT_HEADER

    headers = {FAULT_HEADER: f"chaos={chaos}"}
    query = f"What is Dify? [{tag}]"
    out: dict[str, Any] = {"tag": tag, "outcome": "completed"}
    try:
        stream = await client.stream_chat(query, user="soak", extra_headers=headers)
        async with stream:
            async for _event in stream:
                pass
            result = await stream.final()
        out.update(answer=result.answer, conversation_id=result.conversation_id)
    except asyncio.CancelledError:
        out["outcome"] = "cancelled"
    except Exception as exc:
        out["outcome"] = type(exc).__name__
    return out


async def _round(client: Any, n: int, chaos: float, rng: random.Random) -> list[dict[str, Any]]:
    tasks = [asyncio.create_task(_one(client, uuid.uuid4().hex[:12], chaos, rng)) for _ in range(n)]
    for task in tasks:
        if rng.random() < CANCEL:
            asyncio.get_running_loop().call_later(rng.uniform(0.01, 0.3), task.cancel)
    done = await asyncio.gather(*tasks, return_exceptions=True)
    return [r if isinstance(r, dict) else {"outcome": "cancelled", "tag": None} for r in done]


async def soak(base_url: str, seconds: float, concurrency: int, chaos: float) -> dict[str, Any]:
    from dify_emulator import KEYS
    from dify_transport import AsyncDifyClient

    proc = psutil.Process()
    rng = random.Random(9)
    client = AsyncDifyClient(api_key=KEYS.chat, base_url=base_url)
    results: list[dict[str, Any]] = []
    first = await _round(client, concurrency, chaos, rng)
    results += first
    gc.collect()
    fds0, rss0 = proc.num_fds(), proc.memory_info().rss
    t0, rounds = time.monotonic(), 1
    while time.monotonic() - t0 < seconds:
        results += await _round(client, concurrency, chaos, rng)
        rounds += 1
    await asyncio.sleep(0.5)  # background stop calls and drains settle
    gc.collect()
    fds1, rss1 = proc.num_fds(), proc.memory_info().rss
    await client.aclose()
    gc.collect()
    fds2 = proc.num_fds()
    # The server's side: POSTs per turn, and the stored answers of completed streams.
    check = AsyncDifyClient(api_key=KEYS.chat, base_url=base_url, max_retries=5)
    async with check:
        stored: dict[str, str] = {}
        completed = [r for r in results if r["outcome"] == "completed"]
        sem = asyncio.Semaphore(20)

        async def fetch(r: dict[str, Any]) -> None:
            async with sem:
                page = await check.get_messages(r["conversation_id"], user="soak", limit=1)
                stored[r["tag"]] = page.data[-1].answer if page.data else ""

        await asyncio.gather(*(fetch(r) for r in completed))
    return {
        "results": results,
        "stored": stored,
        "rounds": rounds,
        "fds": (fds0, fds1, fds2),
        "rss": (rss0, rss1),
    }


def _server_posts(base_url: str) -> list[dict[str, Any]]:
    import httpx

    origin = base_url.rsplit("/v1", 1)[0]
    log = httpx.get(f"{origin}/_emulator/requests", timeout=60).json()
    return [r for r in log if r["method"] == "POST" and r["path"] == "/v1/chat-messages"]


def run(seconds: float = SECONDS, concurrency: int = CONCURRENCY, chaos: float = CHAOS) -> None:
    c.title(
        f"6. Soak: {concurrency} concurrent AsyncDifyClient streams for {seconds:.0f} s against "
        f"the emulator's chaos mode (chaos={chaos}; client cancels {CANCEL:.0%})"
    )
    with emulator() as base_url:
        out = asyncio.run(soak(base_url, seconds, concurrency, chaos))
        posts = _server_posts(base_url)
    results = out["results"]
    outcomes = Counter(r["outcome"] for r in results)
    tag_re = re.compile(r"\[([0-9a-f]{12})\]")
    accepted: Counter[str] = Counter()
    rejected_429 = 0
    for p in posts:
        m = tag_re.search(str((p.get("body") or {}).get("query", "")))
        if not m:
            continue
        if p.get("rejected") == 429:
            rejected_429 += 1
        else:
            accepted[m.group(1)] += 1
    calls = len(results)
    duplicated = sum(n - 1 for n in accepted.values() if n > 1)
    reached = sum(accepted.values())
    lost = [r for r in results if r["outcome"] == "completed"
            and out["stored"].get(r["tag"]) != r["answer"]]  # fmt: skip
    fds0, fds1, fds2 = out["fds"]
    rss0, rss1 = out["rss"]
    rss_mb = (rss1 - rss0) / 2**20
    print(f"  {calls} client calls in {out['rounds']} rounds: " +
          ", ".join(f"{k} {v}" for k, v in outcomes.most_common()))  # fmt: skip
    rows = [
        ["duplicated turns (POSTs of one turn not rejected by 429, beyond 1)", str(duplicated),
         "0", "PASS" if duplicated == 0 else "BELOW"],
        ["server POSTs not rejected by 429 vs client calls", f"{reached} vs {calls}",
         "<= calls", "PASS" if reached <= calls else "BELOW"],
        ["429s answered (each retried once, never counted as a turn)", str(rejected_429), "-", "-"],
        ["lost answers (completed stream != server's stored text)",
         f"{len(lost)} of {outcomes['completed']}", "0", "PASS" if not lost else "BELOW"],
        ["open fds, after round 1 -> last round (pool open)", f"{fds0} -> {fds1}",
         f"+<= {FD_SLACK}", "PASS" if fds1 - fds0 <= FD_SLACK else "BELOW"],
        ["open fds after aclose()", str(fds2), "-", "-"],
        ["RSS, after round 1 -> last round", f"{rss0 / 2**20:.0f} -> {rss1 / 2**20:.0f} MB",
         f"+<= {RSS_SLACK_MB:.0f} MB", "PASS" if rss_mb <= RSS_SLACK_MB else "BELOW"],
    ]  # fmt: skip
    c.table(["check", "measured", "target", "verdict"], rows)
    for row in rows:
        if row[3] != "-":
            c.SUMMARY.append((f"soak: {row[0].split(' (')[0]}", row[1], row[2], row[3]))


def _main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=SECONDS)
    ap.add_argument("--concurrency", type=int, default=CONCURRENCY)
    ap.add_argument("--chaos", type=float, default=CHAOS)
    args = ap.parse_args()
    run(args.seconds, args.concurrency, args.chaos)
    print(json.dumps({"summary": c.SUMMARY}))


if __name__ == "__main__":
    _main()
