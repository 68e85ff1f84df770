# Generated from dify_transport/_async/_pool.py by scripts/unasync.py.
# Do not edit: edit the source.
"""The HTTP client a transport client builds: httpx, with its connections in several pools.

One ``httpx.Client`` whose transport (`ShardedTransport`) spreads requests
over httpx's own pools of at most ``POOL_SHARD_SIZE`` connections (``max_connections``
in all), because httpcore's bookkeeping grows with a pool's size: why, and the rules
(first free pool, waiting, ``PoolTimeoutError``, proxies), in docs/architecture.md,
"Connection pools".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import httpx

from dify_transport._pools import env_proxied, pool_limits, shard_sizes, tls_context

__all__ = ["ShardedTransport", "build_http_client"]


def build_http_client(timeout: httpx.Timeout, max_connections: int) -> httpx.Client:
    """The client's own HTTP client (no I/O: only objects and the shared TLS context)."""
    if env_proxied():
        return httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            limits=pool_limits(max_connections),
            verify=tls_context(),
        )
    return httpx.Client(
        timeout=timeout,
        follow_redirects=False,
        transport=ShardedTransport(max_connections),
    )


class ShardedTransport(httpx.BaseTransport):
    """httpx transports (pools) sharing ``max_connections``; each request uses one."""

    def __init__(self, max_connections: int) -> None:
        self.max_connections = max_connections
        self._sizes = shard_sizes(max_connections)
        self._shards: list[httpx.HTTPTransport] = []
        self._busy: list[int] = []
        self._next = 0
        self._lock = threading.Lock()
        self._shard(0)

    def _shard(self, index: int) -> httpx.HTTPTransport:
        """The pool at ``index`` (built on first need, in order)."""
        while len(self._shards) <= index:
            size = self._sizes[len(self._shards)]
            self._shards.append(httpx.HTTPTransport(verify=tls_context(), limits=pool_limits(size)))
            self._busy.append(0)
        return self._shards[index]

    def _acquire(self) -> int:
        """Index of the pool a new request goes to, counted busy until its response closes."""
        with self._lock:
            busy, sizes = self._busy, self._sizes
            for index, count in enumerate(busy):
                if count < sizes[index]:
                    break
            else:
                if len(busy) < len(sizes):
                    index = len(busy)
                    self._shard(index)
                else:  # every connection busy: wait in the least busy pool, in turn
                    low = min(busy)
                    start = self._next = (self._next + 1) % len(busy)
                    index = next(
                        i % len(busy)
                        for i in range(start, start + len(busy))
                        if busy[i % len(busy)] == low
                    )
            busy[index] += 1
            return index

    def _release(self, index: int) -> None:
        with self._lock:
            self._busy[index] -= 1

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        index = self._acquire()
        try:
            response = self._shards[index].handle_request(request)
        except BaseException:
            self._release(index)
            raise
        stream = response.stream
        assert isinstance(stream, httpx.SyncByteStream)
        response.stream = _Released(stream, lambda: self._release(index))
        return response

    def close(self) -> None:
        with self._lock:
            shards = list(self._shards)
        for shard in shards:
            shard.close()


class _Released(httpx.SyncByteStream):
    """A response body that marks its pool slot free when closed (no per-chunk cost)."""

    __slots__ = ("_inner", "_release")

    def __init__(self, inner: httpx.SyncByteStream, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> Iterator[bytes]:
        return self._inner.__iter__()

    def close(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()
        self._inner.close()
