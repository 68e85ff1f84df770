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
