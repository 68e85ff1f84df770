"""Shared helpers: timing (alternating repetitions), tables, availability checks."""

from __future__ import annotations

import gc
import importlib
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

API_KEY = "app-bench-local"
USER = "bench-user"
OPENAI_KEY = "sk-local"


class NotAvailableError(Exception):
    """A layer this section needs cannot be imported/used yet."""


def require(module: str, *names: str) -> list[Any]:
    """Import ``module`` and return the attributes ``names``, or raise NotAvailableError."""
    try:
        mod = importlib.import_module(module)
    except Exception as exc:
        raise NotAvailableError(f"import {module} failed: {type(exc).__name__}: {exc}") from exc
    out = []
    for name in names:
        if not hasattr(mod, name):
            raise NotAvailableError(f"{module}.{name} does not exist yet")
        out.append(getattr(mod, name))
    return out


def alternate(runs: dict[str, Callable[[], Any]], reps: int) -> dict[str, list[float]]:
    """Run each callable ``reps`` times, interleaved (A B A B ...); return seconds per run.

    The order is rotated each round so neither side always runs first after a GC.
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for r in range(reps):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            gc.collect()
            t0 = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - t0)
    return times


def best(ts: Sequence[float]) -> float:
    return min(ts)


def median(ts: Sequence[float]) -> float:
    return statistics.median(ts)


def verdict(ratio: float, target: float) -> str:
    return "PASS" if ratio >= target else "BELOW"


def fmt_int(x: float) -> str:
    return f"{x:,.0f}"


def title(text: str) -> None:
    print()
    print(text)
    print("-" * len(text))


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    line = "  ".join(
        str(h).ljust(w) if i == 0 else str(h).rjust(w)
        for i, (h, w) in enumerate(zip(header, widths, strict=True))
    )
    print("  " + line)
    for row in rows:
        print(
            "  "
            + "  ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def not_available(section: str, reason: str) -> None:
    print(f"  {section}: not available yet: {reason}")
    SUMMARY.append((section, "not available yet", "", "-"))


SUMMARY: list[tuple[str, str, str, str]] = []
"""(what, measured, target, verdict) rows collected for run.py's closing table."""


def record(what: str, ratio: float, target: float, note: str = "") -> str:
    """Remember a target check for the summary and return its verdict."""
    v = verdict(ratio, target)
    SUMMARY.append((what, f"{ratio:.2f}x{note}", f">= {target}x", v))
    return v


def compare_tokens(
    runs: dict[str, Callable[[], int]],
    *,
    tokens: int,
    reps: int,
    target: float,
    ours: str,
    peer: str,
    unavailable: dict[str, str] | None = None,
) -> dict[str, list[float]]:
    """Time token streams side by side (alternating) and print tokens/s and the ratio.

    Each callable streams ``tokens`` tokens and returns how many it saw (asserted).
    ``unavailable`` maps a row name to the reason it could not run.
    """
    for name, fn in runs.items():  # warm-up + correctness
        got = fn()
        assert got >= tokens, f"{name}: saw {got} tokens, expected {tokens}"
    times = alternate(runs, reps)
    rows = [
        [
            name,
            fmt_int(tokens / best(ts)),
            fmt_int(tokens / median(ts)),
            f"{best(ts) * 1e3:.1f}",
            f"{median(ts) * 1e3:.1f}",
            f"{best(ts) / tokens * 1e6:.1f}",
        ]
        for name, ts in times.items()
    ]
    rows.extend([name, "-", "-", "-", "-", "-"] for name in unavailable or {})
    table(
        ["implementation", "tokens/s best", "tokens/s median", "best ms", "median ms", "us/token"],
        rows,
    )
    for name, reason in (unavailable or {}).items():
        not_available(name, reason)
    if ours in times and peer in times:
        ratio = best(times[peer]) / best(times[ours])
        ratio_med = median(times[peer]) / median(times[ours])
        v = record(f"{ours} vs {peer} tokens/s", ratio, target, f" (median {ratio_med:.2f}x)")
        print(
            f"  ratio ours/peer: best {ratio:.2f}x, median {ratio_med:.2f}x  "
            f"(target >= {target}x)  {v}"
        )
    return times
