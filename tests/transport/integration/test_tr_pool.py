"""Issue 9 (under load): the connection limit and the typed pool-wait error, over 127.0.0.1.

Functional, not timed: the limit is settable on the clients, its default fits a chat
backend (not httpx's 100), a request finding every connection busy raises
`PoolTimeoutError` naming the limit (never retried, so a paid turn is never resent),
and the connections are spread over several httpx pools.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from dify_emulator import FAULT_HEADER, Emulator
from dify_transport import (
    DEFAULT_MAX_CONNECTIONS,
    APITimeoutError,
    AsyncDifyClient,
    DifyClient,
    DifyConfigError,
    DifyKnowledgeClient,
    PoolTimeoutError,
)
from dify_transport._pools import shard_sizes

pytestmark = pytest.mark.timeout(60)

SHORT_POOL = httpx.Timeout(10.0, pool=0.3)
SLOW = {FAULT_HEADER: "delay=0.2"}


def _chat_posts(emu: Emulator, u: str) -> int:
    return sum(1 for r in emu.requests if r.path.endswith("/chat-messages") and r.user == u)


def test_default_limit_fits_a_chat_backend():
    assert DEFAULT_MAX_CONNECTIONS >= 1000
    c = DifyClient(api_key="app-x")
    assert c.max_connections == DEFAULT_MAX_CONNECTIONS
    assert DifyClient(api_key="app-x", max_connections=7).max_connections == 7
    assert DifyKnowledgeClient(api_key="dataset-x", max_connections=3).max_connections == 3
    assert AsyncDifyClient(api_key="app-x", max_connections=5).max_connections == 5
    assert shard_sizes(1000) == [63] * 8 + [62] * 8  # 16 pools, 1,000 connections in all
    assert sum(shard_sizes(65)) == 65
    assert max(shard_sizes(65)) <= 64
    for bad in (0, -1, 1.5, True):
        with pytest.raises(DifyConfigError, match="max_connections"):
            DifyClient(api_key="app-x", max_connections=bad)  # type: ignore[arg-type]
    with pytest.raises(DifyConfigError, match=r"httpx\.Limits"):
        DifyClient(api_key="app-x", http_client=httpx.Client(), max_connections=5)


def test_pool_wait_raises_a_typed_error_naming_the_limit_and_sends_nothing(emulator):
    u = f"pool-{uuid.uuid4().hex[:8]}"
    with DifyClient(api_key=emulator.keys.chat, base_url=emulator.base_url, max_connections=2) as c:
        held = [c.stream_chat("a long answer", user=u, extra_headers=SLOW) for _ in range(2)]
        with pytest.raises(PoolTimeoutError) as info:
            c.stream_chat("one too many", user=u, timeout=SHORT_POOL)
        err = info.value
        assert isinstance(err, APITimeoutError)
        assert err.max_connections == 2
        assert "max_connections=2" in str(err)
        assert "nothing was sent" in str(err)
        assert _chat_posts(emulator, u) == 2  # the third turn never left, nor was resent
        with pytest.raises(PoolTimeoutError):
            c.get_parameters(timeout=SHORT_POOL)  # idempotent calls are not retried either
        held[0].close()  # a closed stream frees its connection
        assert c.stream_chat("now there is room", user=u, timeout=SHORT_POOL).final().answer
        held[1].close()
    assert _chat_posts(emulator, u) == 3


async def test_async_pool_wait_and_limit_spread_over_pools(emulator):
    u = f"pool-{uuid.uuid4().hex[:8]}"
    async with AsyncDifyClient(
        api_key=emulator.keys.chat, base_url=emulator.base_url, max_connections=130
    ) as c:
        transport = c._http()._transport
        streams = [await c.stream_chat("long", user=u, extra_headers=SLOW) for _ in range(130)]
        assert len(transport._shards) == 3
        assert transport._busy == [44, 43, 43]
        with pytest.raises(PoolTimeoutError, match="max_connections=130"):
            await c.stream_chat("one too many", user=u, timeout=SHORT_POOL)
        assert _chat_posts(emulator, u) == 130
        for stream in streams:
            await stream.aclose()
        assert transport._busy == [0, 0, 0]
        result = await (await c.stream_chat("again", user=u)).final()
        assert result.answer


def test_injected_client_pool_wait_names_that_client(emulator):
    u = f"pool-{uuid.uuid4().hex[:8]}"
    http = httpx.Client(limits=httpx.Limits(max_connections=1))
    c = DifyClient(api_key=emulator.keys.chat, base_url=emulator.base_url, http_client=http)
    assert c.max_connections is None
    held = c.stream_chat("a long answer", user=u, extra_headers=SLOW)
    with pytest.raises(PoolTimeoutError, match="injected http_client") as info:
        c.stream_chat("one too many", user=u, timeout=SHORT_POOL)
    assert info.value.max_connections is None
    held.close()
    http.close()
