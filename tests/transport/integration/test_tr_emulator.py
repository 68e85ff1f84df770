"""Acceptance 2, 4, 5, 6, 7 against the Dify emulator over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest

from dify_emulator import FAULT_HEADER, Emulator
from dify_transport import (
    AgentBlockingModeError,
    APIConnectionError,
    APIStatusError,
    AsyncDifyClient,
    DifyClient,
    DifyKnowledgeClient,
    InternalServerError,
    NotFoundError,
    Result,
)

pytestmark = pytest.mark.timeout(90)

MODES = ("chat", "chatflow", "agent", "completion", "workflow")
WIRES = ("1.x", "0.15")


@pytest.fixture(params=WIRES)
def emu(request: pytest.FixtureRequest) -> Emulator:
    name = "emulator" if request.param == "1.x" else "emulator_015"
    emulator: Emulator = request.getfixturevalue(name)
    return emulator


def user() -> str:
    return f"tr-{uuid.uuid4().hex[:10]}"


def nonce() -> str:
    return f"nonce={uuid.uuid4().hex}"


def fault(spec: str) -> dict[str, str]:
    return {FAULT_HEADER: f"{spec}; {nonce()}"}


def app_client(emu: Emulator, mode: str, **kw: Any) -> DifyClient:
    return DifyClient(api_key=getattr(emu.keys, mode), base_url=emu.base_url, **kw)


def async_client(emu: Emulator, mode: str, **kw: Any) -> AsyncDifyClient:
    return AsyncDifyClient(api_key=getattr(emu.keys, mode), base_url=emu.base_url, **kw)


def start(c: Any, mode: str, u: str, query: str, headers: dict[str, str] | None = None) -> Any:
    if mode == "completion":
        return c.stream_completion(user=u, inputs={}, query=query, extra_headers=headers)
    if mode == "workflow":
        return c.stream_workflow(user=u, inputs={"text": query}, extra_headers=headers)
    return c.stream_chat(query, user=u, extra_headers=headers)


def block(c: DifyClient, mode: str, u: str, query: str) -> Result:
    if mode == "completion":
        return c.completion(user=u, inputs={}, query=query)
    if mode == "workflow":
        return c.run_workflow(user=u, inputs={"text": query})
    return c.chat(query, user=u)


def requests_of(emu: Emulator, u: str, method: str, path_part: str) -> list[Any]:
    return [r for r in emu.requests if r.user == u and r.method == method and path_part in r.path]


# -- acceptance 2 ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("spec", ["", "chunk=1; ping_every=1", "chunk=7; ping_every=2"])
def test_stream_aggregate_equals_server_answer(emu, mode, spec):
    u = user()
    query = "What colour is the sky? Ünïcödé 🌍"
    with app_client(emu, mode) as c:
        stream = start(c, mode, u, query, fault(spec) if spec else None)
        deltas = [ev.text for ev in stream if ev.text is not None]
        result = stream.final()
        assert "".join(deltas) == result.answer
        assert result.answer
        assert result.task_id
        if mode == "agent":
            with pytest.raises(AgentBlockingModeError):
                block(c, mode, u, query)
            reference = None
        else:
            reference = block(c, mode, user(), query)
            assert result.answer == reference.answer
        if mode in ("chat", "chatflow", "agent"):
            history = c.get_messages(result.conversation_id, user=u)
            assert history.data[-1].answer == result.answer
            assert history.data[-1].id == result.message_id
            assert result.usage is not None
            assert result.usage.total_tokens > 0
            if reference is not None:
                assert len(result.retriever_resources) == len(reference.retriever_resources)
        elif mode == "completion":
            assert result.conversation_id is None
            assert result.message_id
        else:
            assert result.workflow_run_id
            assert result.status == "succeeded"
            run = c.get_workflow_run(result.workflow_run_id)
            assert run.status == "succeeded"


async def test_async_stream_and_blocking(emulator):
    u = user()
    async with async_client(emulator, "chat") as c:
        stream = await c.stream_chat("hello there", user=u, extra_headers=fault("chunk=3"))
        texts = [ev.text async for ev in stream if ev.text]
        result = await stream.final()
        blocking = await c.chat("hello there", user=user())
    assert "".join(texts) == result.answer == blocking.answer
    assert result.retriever_resources


def test_knowledge_retrieve(emu):
    with DifyKnowledgeClient(api_key=emu.keys.dataset, base_url=emu.base_url) as kc:
        hits = kc.retrieve(emu.dataset_id, "What colour is the sky?", top_k=2)
        assert 0 < len(hits.records) <= 2
        assert hits.records[0].segment.content
        with pytest.raises(NotFoundError):
            kc.retrieve(str(uuid.uuid4()), "x")


def test_knowledge_overrides_merge_into_the_datasets_settings(emulator: Emulator) -> None:
    with DifyKnowledgeClient(api_key=emulator.keys.dataset, base_url=emulator.base_url) as kc:
        own = next(
            d.model_extra["retrieval_model_dict"]
            for d in kc.list_datasets(limit=100).data
            if d.id == emulator.dataset_id
        )
        mark = len(emulator.requests)
        hits = kc.retrieve(emulator.dataset_id, "What colour is the sky?", top_k=1)
        again = kc.retrieve(emulator.dataset_id, "What colour is the sky?", score_threshold=0.0)
    assert len(hits.records) == 1
    assert again.records
    sent = emulator.requests[mark:]
    assert [(r.method, r.path.split("?")[0]) for r in sent] == [
        ("GET", "/v1/datasets"),
        ("POST", f"/v1/datasets/{emulator.dataset_id}/retrieve"),
        ("POST", f"/v1/datasets/{emulator.dataset_id}/retrieve"),
    ]
    assert sent[1].body["retrieval_model"] == {**own, "top_k": 1}
    assert sent[2].body["retrieval_model"] == {
        **own,
        "score_threshold_enabled": True,
        "score_threshold": 0.0,
    }
    assert "reranking_model" in sent[1].body["retrieval_model"]  # the dataset's, not ours


# -- acceptance 4 ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["chat", "agent", "completion", "chatflow"])
def test_in_stream_error_after_partial_text(emu, mode):
    u = user()
    with app_client(emu, mode) as c:
        stream = start(c, mode, u, "tell me about the sky", fault("error_after=3"))
        t0 = time.monotonic()
        with pytest.raises(APIStatusError) as info:
            stream.final()
        assert time.monotonic() - t0 < 30
    err = info.value
    assert err.in_stream
    assert err.partial_answer
    assert err.task_id or err.message_id


@pytest.mark.parametrize("mode", MODES)
def test_dropped_connection_raises_with_partial_text(emu, mode):
    u = user()
    with app_client(emu, mode) as c:
        stream = start(c, mode, u, "tell me about the sky", fault("drop_after=3"))
        with pytest.raises(APIConnectionError) as info:
            for _ in stream:
                pass
    assert info.value.partial_answer
    assert info.value.task_id


async def test_async_drop_and_error(emulator):
    async with async_client(emulator, "chat") as c:
        stream = await c.stream_chat("sky", user=user(), extra_headers=fault("drop_after=2"))
        with pytest.raises(APIConnectionError) as info:
            await asyncio.wait_for(stream.final(), 30)
        assert info.value.partial_answer
        stream = await c.stream_chat("sky", user=user(), extra_headers=fault("error_after=2"))
        with pytest.raises(APIStatusError) as info2:
            await asyncio.wait_for(stream.final(), 30)
        assert info2.value.partial_answer


# -- acceptance 5 ----------------------------------------------------------------------


def stops_for(emu: Emulator, u: str) -> list[Any]:
    return [s for s in emu.stop_calls if s.user == u]


@pytest.mark.parametrize("mode", MODES)
def test_break_after_first_delta_stops_once(emu, mode):
    u = user()
    with app_client(emu, mode) as c:
        stream = start(c, mode, u, "a long answer please", fault("delay=0.05"))
        for ev in stream:
            if ev.text:
                break
        task_id = stream.task_id
    calls = stops_for(emu, u)
    assert [(s.task_id, s.user) for s in calls] == [(task_id, u)]


@pytest.mark.parametrize("mode", ["chat", "workflow"])
async def test_async_break_stops_once(emu, mode):
    u = user()
    async with async_client(emu, mode) as c:
        stream = await start(c, mode, u, "a long answer please", fault("delay=0.05"))
        async with stream:
            async for ev in stream:
                if ev.text:
                    break
    assert [(s.task_id, s.user) for s in stops_for(emu, u)] == [(stream.task_id, u)]


async def test_async_task_cancellation_stops_once(emulator):
    u = user()
    first = asyncio.Event()
    async with async_client(emulator, "chat") as c:
        stream = await c.stream_chat("long answer", user=u, extra_headers=fault("delay=0.2"))

        async def consume() -> None:
            async for ev in stream:
                if ev.text:
                    first.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(first.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert [(s.task_id, s.user) for s in stops_for(emulator, u)] == [(stream.task_id, u)]


def test_completed_stream_sends_no_stop(emulator):
    u = user()
    with app_client(emulator, "chat") as c, c.stream_chat("hi", user=u) as stream:
        stream.final()
    assert stops_for(emulator, u) == []


# -- acceptance 6 ----------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["status=500", "status=503", "drop_after=0"])
def test_chat_post_failure_after_send_is_not_retried(emulator, spec):
    u = user()
    with (
        app_client(emulator, "chat", max_retries=3) as c,
        pytest.raises((APIStatusError, APIConnectionError)),
    ):
        c.stream_chat("hi", user=u, extra_headers=fault(spec)).final()
    assert (
        len(requests_of(emulator, u, "POST", "/chat-messages")) - len(stops_for(emulator, u)) == 1
    )


def test_blocking_chat_500_is_not_retried(emulator):
    u = user()
    with app_client(emulator, "chat", max_retries=3) as c, pytest.raises(InternalServerError):
        c.chat("hi", user=u, extra_headers=fault("status=500"))
    assert len(requests_of(emulator, u, "POST", "/chat-messages")) == 1


def test_get_503_twice_then_200(emulator):
    u = user()
    waits: list[float] = []
    with app_client(emulator, "chat") as c:
        c._sleep = waits.append
        page = c.get_conversations(user=u, extra_headers=fault("status=503; times=2"))
    assert page.data == []
    assert len(requests_of(emulator, u, "GET", "/conversations")) == 3
    assert len(waits) == 2


def test_429_retry_after_is_waited_for(emulator):
    u = user()
    with app_client(emulator, "chat") as c:
        t0 = time.monotonic()
        result = c.chat("hi", user=u, extra_headers=fault("status=429; times=1; retry_after=1"))
        elapsed = time.monotonic() - t0
    assert result.answer
    assert elapsed >= 0.95
    assert len(requests_of(emulator, u, "POST", "/chat-messages")) == 2


# -- acceptance 7 ----------------------------------------------------------------------


def test_messages_and_conversations_paging(emu):
    u = user()
    with app_client(emu, "chat") as c:
        first = c.chat("turn 0", user=u)
        cid = first.conversation_id
        later = [c.chat(f"turn {i}", user=u, conversation_id=cid) for i in range(1, 7)]
        sent = [first.message_id] + [r.message_id for r in later]
        for size in (1, 3, 7, 100):
            got = [m.id for m in c.iter_messages(cid, user=u, page_size=size)]
            assert got == sent
        convs = [cid] + [c.chat(f"new {i}", user=u).conversation_id for i in range(4)]
        for size in (1, 2, 5, 100):
            listed = [x.id for x in c.iter_conversations(user=u, page_size=size)]
            assert sorted(listed) == sorted(convs)
            assert len(listed) == len(set(listed))
        renamed = c.rename_conversation(cid, user=u, name="renamed")
        assert renamed.name == "renamed"
        c.delete_conversation(cid, user=u)
        with pytest.raises(NotFoundError) as info:
            c.get_messages(cid, user=u)
        assert u in str(info.value)


async def test_async_paging_and_delete(emulator_015):
    u = user()
    async with async_client(emulator_015, "chat") as c:
        first = await c.chat("a", user=u)
        second = await c.chat("b", user=u, conversation_id=first.conversation_id)
        got = [m.id async for m in c.iter_messages(first.conversation_id, user=u, page_size=1)]
        assert got == [first.message_id, second.message_id]
        await c.delete_conversation(first.conversation_id, user=u)
        listed = [x.id async for x in c.iter_conversations(user=u)]
        assert listed == []


def test_stop_goes_through_a_one_connection_pool(emulator):
    # The streaming response is closed before the stop call, so the pool has room for it.
    u = user()
    http = httpx.Client(limits=httpx.Limits(max_connections=1))
    with app_client(emulator, "chat", http_client=http) as c:
        stream = c.stream_chat("a long answer please", user=u, extra_headers=fault("delay=0.05"))
        t0 = time.monotonic()
        for ev in stream:
            if ev.text:
                break
        stream.close()
        assert time.monotonic() - t0 < 1.5
    http.close()
    assert [(s.task_id, s.user) for s in stops_for(emulator, u)] == [(stream.task_id, u)]


async def test_async_stop_goes_through_a_one_connection_pool(emulator):
    u = user()
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=1))
    async with async_client(emulator, "chat", http_client=http) as c:
        stream = await c.stream_chat(
            "a long answer please", user=u, extra_headers=fault("delay=0.05")
        )
        async with stream:
            async for ev in stream:
                if ev.text:
                    break
    await http.aclose()
    assert [(s.task_id, s.user) for s in stops_for(emulator, u)] == [(stream.task_id, u)]
