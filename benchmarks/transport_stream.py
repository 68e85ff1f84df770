"""Section 1 (issue 2): events/s, transport ``Stream`` vs raw httpx, one 20,000-delta stream.

Raw httpx: ``client.stream(...)``, ``iter_bytes()``, split on blank lines,
``json.loads`` every data frame (the least a caller could do).
Transport: ``DifyClient.stream_chat(...)``, iterate every ``StreamEvent``, then
``stream.final()`` (the aggregate ``Result``). Both share one ``httpx.Client``
(keep-alive) against the process-isolated local server.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c
import _payloads
import _server
import httpx

N_DELTAS = 20_000
REPS = 7
TARGET = 0.95
RAW = "raw httpx (iter_bytes+split+json.loads)"
RAW_FLOOR = "raw httpx, iter_raw() variant"
OURS = "dify_transport Stream (+final())"


def raw_httpx_events(http: httpx.Client, url: str, n: int, *, raw: bool = False) -> int:
    """Raw baseline: bytes -> frames on blank lines -> json.loads. Returns data frames seen.

    ``raw=True`` reads ``iter_raw()`` instead of ``iter_bytes()`` (no decoder chain).
    """
    loads = json.loads
    count = 0
    body = {"query": f"n={n}", "inputs": {}, "user": c.USER, "response_mode": "streaming"}
    headers = {"Authorization": f"Bearer {c.API_KEY}"}
    with http.stream("POST", url, json=body, headers=headers) as r:
        r.raise_for_status()
        buf = b""
        for chunk in r.iter_raw() if raw else r.iter_bytes():
            *frames, buf = (buf + chunk).split(b"\n\n")
            for frame in frames:
                if frame.startswith(b"data:"):
                    loads(frame[5:])
                    count += 1
    return count


def transport_events(client: Any, n: int) -> tuple[int, Any]:
    """Iterate every StreamEvent, then aggregate with final(). Returns (events, Result)."""
    count = 0
    stream = client.stream_chat(f"n={n}", user=c.USER)
    for _event in stream:
        count += 1
    return count, stream.final()


def make_transport_client(base_url: str, http: httpx.Client) -> Any:
    (dify_client,) = c.require("dify_transport", "DifyClient")
    return dify_client(api_key=c.API_KEY, base_url=base_url, http_client=http)


def run(server: _server.ServerHandle, n: int = N_DELTAS, reps: int = REPS) -> None:
    c.title(
        f"1. Transport Stream vs raw httpx: one {n:,}-delta Dify stream "
        f"(sync, best/median of {reps}, alternating)"
    )
    url = f"{server.base_url}/chat-messages"
    events = n + 1  # n message deltas + message_end
    http = httpx.Client(timeout=60, trust_env=False)
    try:

        def raw() -> None:
            got = raw_httpx_events(http, url, n)
            assert got == events, (got, events)

        def raw_floor() -> None:
            got = raw_httpx_events(http, url, n, raw=True)
            assert got == events, (got, events)

        runs: dict[str, Any] = {RAW: raw, RAW_FLOOR: raw_floor}
        reason = None
        try:
            client = make_transport_client(server.base_url, http)
            expected = _payloads.expected_answer(n)

            def transport() -> None:
                got, result = transport_events(client, n)
                assert got == events, (got, events)
                assert result.answer == expected, "aggregate answer mismatch"

            transport()  # warm-up + correctness check
            runs[OURS] = transport
        except c.NotAvailableError as exc:
            reason = str(exc)
        except Exception as exc:
            reason = f"transport run failed: {type(exc).__name__}: {exc}"
        raw()  # warm-up
        times = c.alternate(runs, reps)
        rows = []
        for name, ts in times.items():
            rows.append(
                [
                    name,
                    c.fmt_int(events / c.best(ts)),
                    c.fmt_int(events / c.median(ts)),
                    f"{c.best(ts) * 1e3:.1f}",
                    f"{c.median(ts) * 1e3:.1f}",
                ]
            )
        c.table(
            ["implementation", "events/s best", "events/s median", "best ms", "median ms"], rows
        )
        if reason:
            c.not_available("dify_transport Stream", reason)
            return
        raw_t, tr_t = times[RAW], times[OURS]
        ratio_best = c.best(raw_t) / c.best(tr_t)
        ratio_med = c.median(raw_t) / c.median(tr_t)
        v = c.record(
            "transport Stream vs raw httpx events/s (1 x 20k)",
            ratio_best,
            TARGET,
            f" (median {ratio_med:.2f}x)",
        )
        print(
            f"  ratio transport/raw: best {ratio_best:.3f}x, median {ratio_med:.3f}x  "
            f"(target >= {TARGET}x)  {v}"
        )
        iter_raw = c.best(times[RAW_FLOOR]) / c.best(tr_t)
        print(
            f"  (informational: vs raw httpx iter_raw(), which skips httpx's decoder "
            f"chain as the transport does: {iter_raw:.3f}x)"
        )
    finally:
        http.close()


if __name__ == "__main__":
    with _server.serve() as srv:
        run(srv)
