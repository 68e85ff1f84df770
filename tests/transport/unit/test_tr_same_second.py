"""Issue 14: Dify's one-second clock: same-second messages are never skipped at a page edge."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from _tr_support import USER, Server, aclient, client, json_response


def dify_like(messages: list[dict[str, Any]], *, reverse_ties: bool = False):
    """``GET /messages`` as Dify pages it: newest first by second, strict ``<`` cursor."""

    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        limit = int(params.get("limit", 20))
        assert 1 <= limit <= 100
        items = list(messages)
        if first_id := params.get("first_id"):
            cursor = next(m for m in messages if m["id"] == first_id)
            items = [m for m in items if m["created_at"] < cursor["created_at"]]
        # newest first by second; ties in insertion order (or reversed)
        ranked = sorted(
            enumerate(items),
            key=lambda p: (-p[1]["created_at"], p[0] if reverse_ties else -p[0]),
        )
        page = [m for _, m in ranked[:limit]][::-1]
        return json_response(200, {"limit": limit, "has_more": len(items) > limit, "data": page})

    return handler


def turns(seconds: list[int]) -> list[dict[str, Any]]:
    return [
        {"id": f"m{i:03d}", "conversation_id": "c1", "query": f"q{i}", "answer": f"a{i}",
         "created_at": t}
        for i, t in enumerate(seconds)
    ]  # fmt: skip


SECONDS = [1, 1, 2, 2, 2, 3, 4, 4, 4, 4, 5, 6, 6, 7, 7, 7, 7, 7, 8]


def strict_read(server: Server, page_size: int) -> list[str]:
    """What paging with the oldest message as cursor returns (the old way)."""
    c = client(server)
    got: list[str] = []
    first_id = None
    while True:
        page = c.get_messages("c1", user=USER, first_id=first_id, limit=page_size)
        got = [m.id for m in page.data] + got
        if not page.has_more:
            return got
        first_id = page.data[0].id


@pytest.mark.parametrize("page_size", [1, 2, 3, 4, 5, 7, 19, 100])
def test_every_same_second_message_read_once_oldest_first(page_size, caplog):
    messages = turns(SECONDS)
    s = Server()
    s.routes[("GET", "/messages")] = dify_like(messages)
    with caplog.at_level(logging.WARNING):
        got = [m.id for m in client(s).iter_messages("c1", user=USER, page_size=page_size)]
    assert got == [m["id"] for m in messages]
    assert not caplog.records


def test_the_strict_cursor_would_skip():
    s = Server()
    s.routes[("GET", "/messages")] = dify_like(turns(SECONDS))
    assert len(strict_read(s, 3)) < len(SECONDS)


async def test_async_and_ties_keep_the_servers_order_across_seconds():
    messages = turns(SECONDS)
    s = Server()
    s.routes[("GET", "/messages")] = dify_like(messages, reverse_ties=True)
    async with aclient(s) as c:
        got = [m async for m in c.iter_messages("c1", user=USER, page_size=2)]
    assert sorted(m.id for m in got) == [m["id"] for m in messages]
    assert [m.created_at for m in got] == sorted(SECONDS)


def test_distinct_seconds_cost_no_extra_request():
    s = Server()
    s.routes[("GET", "/messages")] = dify_like(turns(list(range(30))))
    got = list(client(s).iter_messages("c1", user=USER, page_size=7))
    assert len(got) == 30
    assert len(s.calls("GET", "/messages")) == 5  # ceil(30 / 7)


def test_more_than_a_page_in_one_second_warns(caplog):
    messages = turns([1] * 3 + [2] * 120 + [3] * 2)
    s = Server()
    s.routes[("GET", "/messages")] = dify_like(messages)
    with caplog.at_level(logging.WARNING, logger="dify_transport"):
        got = [m.id for m in client(s).iter_messages("c1", user=USER, page_size=50)]
    assert len(got) == len(set(got))
    assert {"m000", "m001", "m002", "m123", "m124"} <= set(got)
    assert any("share one second" in r.getMessage() for r in caplog.records)
