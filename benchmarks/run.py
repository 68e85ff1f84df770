"""``make bench``: every benchmark section, side by side, from one run.

Starts the process-isolated local server once (127.0.0.1, port 0) and runs:

1. transport ``Stream`` vs raw httpx, one 20,000-delta Dify stream (events/s)
2. 1,000 concurrent ``AsyncStream`` vs raw ``httpx.AsyncClient`` (events/s, memory/stream)
3. ``ChatDify.stream`` vs ``ChatOpenAI.stream`` (tokens/s, memory/token)
4. ``DifyLLM.stream_chat`` vs ``OpenAILike.stream_chat`` (tokens/s)
5. under load: 1,000 concurrent streams (paced and unpaced) with the package defaults vs a
   plain ``httpx.AsyncClient``; memory per open stream; first call in a fresh process
6. soak: streams for a bounded time against the emulator's chaos mode (duplicates, lost
   answers, fds, RSS)

A section whose layer cannot be imported prints "not available yet: <reason>".
This is a report: it exits 0 whether targets pass or not.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
import traceback
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c
import _server
import concurrency
import langchain_stream
import llamaindex_stream
import load
import soak
import transport_stream


def _versions() -> str:
    names = ("httpx", "langchain-core", "langchain-openai", "openai", "llama-index-core")
    out = []
    for name in names:
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name} -")
    return ", ".join(out)


def _commit() -> str:
    try:
        p = subprocess.run(
            ["git", "log", "-1", "--format=%h %s"],
            capture_output=True,
            text=True,
            check=False,
            cwd=c.BENCH_DIR,
        )
        return p.stdout.strip()[:72]
    except OSError:
        return "?"


def main() -> int:
    t0 = time.perf_counter()
    print("dify-integrations benchmarks (throughput and memory, side by side)")
    print(
        f"  python {platform.python_version()}, {os.cpu_count()} CPUs, {_versions()}\n"
        f"  commit: {_commit()}\n"
        "  local server: separate process, 127.0.0.1 only, pre-rendered chunked SSE "
        "(one HTTP chunk per frame)"
    )
    sections = (
        transport_stream.run,
        concurrency.run,
        langchain_stream.run,
        llamaindex_stream.run,
        load.run,
    )
    with _server.serve() as server:
        for section in sections:
            try:
                section(server)
            except Exception as exc:
                print(f"  section failed: {type(exc).__name__}: {exc}")
                traceback.print_exc(limit=4, file=sys.stdout)
                c.SUMMARY.append((section.__module__, f"failed: {type(exc).__name__}", "", "-"))
    try:
        soak.run()
    except Exception as exc:
        print(f"  soak failed: {type(exc).__name__}: {exc}")
        c.SUMMARY.append(("soak", f"failed: {type(exc).__name__}", "", "-"))
    c.title("Summary (ratio = ours / baseline, best of runs; higher is better)")
    c.table(["target", "measured", "target", "verdict"], c.SUMMARY)
    print(f"\n  total {time.perf_counter() - t0:.0f} s; exit 0 (a report, not a gate)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
