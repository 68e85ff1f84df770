"""Defaults shared by every part of the transport (no I/O, no state)."""

from __future__ import annotations

import httpx

DEFAULT_BASE_URL = "https://api.dify.ai/v1"
"""Dify Cloud's Service API root."""

DEFAULT_CONNECT_TIMEOUT = 5.0
"""Seconds allowed to open a connection."""

DEFAULT_READ_TIMEOUT = 60.0
"""Seconds allowed between two reads; well above Dify's 10 s ping interval."""

DEFAULT_TIMEOUT = httpx.Timeout(DEFAULT_READ_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT)
"""The timeout used when none is given."""

DEFAULT_BLOCKING_READ_TIMEOUT = 300.0
"""Read timeout, in seconds, of blocking generation (``chat``, ``completion``, ``run_workflow``).

A blocking run sends nothing until it finishes (no pings, docs/wire-traps.md T19), so the 60 s
read timeout would abandon runs the server keeps executing (and billing). 300 s is
about what gateways in front of Dify allow; Dify itself kills runs at 1200 s. Used
only when neither the call nor the client was given an explicit ``timeout``.
"""

DEFAULT_BLOCKING_TIMEOUT = httpx.Timeout(
    DEFAULT_BLOCKING_READ_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT
)
"""The timeout of blocking generation calls when none is given."""

DEFAULT_MAX_RETRIES = 2
"""How many times a retryable failure is retried."""

STOP_TIMEOUT = 2.0
"""Upper bound, in seconds, for the best-effort stop call made when a stream is abandoned."""

INITIAL_RETRY_DELAY = 0.5
"""First backoff delay in seconds (doubles each attempt)."""

MAX_RETRY_DELAY = 8.0
"""Cap of the exponential backoff in seconds."""

MAX_RETRY_AFTER = 30.0
"""Cap, in seconds, on how long a ``Retry-After`` header may make us wait."""

ENV_API_KEY = "DIFY_API_KEY"
"""Environment variable holding an app key (``app-...``)."""

ENV_BASE_URL = "DIFY_BASE_URL"
"""Environment variable holding the Service API root (ending in ``/v1``)."""

ENV_DATASET_API_KEY = "DIFY_DATASET_API_KEY"
"""Environment variable holding a knowledge key (``dataset-...``)."""

ENV_DATASET_ID = "DIFY_DATASET_ID"
"""Environment variable holding a default knowledge base id (used by adapters)."""

ENV_USER = "DIFY_USER"
"""Environment variable the adapters read for the default end-user id."""

DEFAULT_USER = "dify-integrations"
"""End-user id the adapters send when neither ``user=`` nor ``$DIFY_USER`` is given.

One value for both frameworks: Dify scopes conversations by user, so a conversation
started through LangChain is visible through LlamaIndex and vice versa."""

LOGGER_NAME = "dify_transport"
"""Name of the logger used by the transport."""

STOP_DRAIN_TIMEOUT = 3.0
"""Upper bound, in seconds, on reading a stopped workflow stream on until ``workflow_finished``.

Dify records a stopped run as ``stopped`` only while its stream is still read (it saves the
run when it writes ``workflow_finished``); a stream closed at once leaves it ``running``.
The reading happens in the background (a task, or a daemon thread for sync streams)."""
DEFAULT_MAX_CONNECTIONS = 1000
"""Connections a client built by the transport may open at once (``max_connections=``).

httpx's default of 100 turns a chat backend into a queue: the 101st concurrent stream
waits for a free connection. A wait longer than the timeout's ``pool`` phase raises
``PoolTimeoutError`` naming this limit."""

POOL_SHARD_SIZE = 64
"""Connections per httpx pool inside one client: ``max_connections`` is split over
several pools of at most this size, because httpcore's pool bookkeeping costs grow
with the square of the connections one pool holds."""
