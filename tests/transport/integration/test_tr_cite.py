"""`cite`: the retrievers' one path to a chat app's cited passages (sync and async)."""

from __future__ import annotations

import uuid

import pytest

from dify_emulator import Emulator
from dify_transport import AsyncDifyClient, DifyClient


def _positions(result) -> list[int | None]:
    return [r.position for r in result.retriever_resources]


@pytest.mark.parametrize("delete", [False, True])
def test_cite_streams_untitled_turn_in_citation_order(emulator: Emulator, delete: bool) -> None:
    user = f"cite-{uuid.uuid4().hex[:8]}"
    with DifyClient(api_key=emulator.keys.chat, base_url=emulator.base_url) as client:
        result = client.cite("Why is the sky blue?", user=user, delete_conversation=delete)
        assert result.retriever_resources
        assert _positions(result) == sorted(_positions(result))
        posts = [r for r in emulator.requests if r.user == user and r.method == "POST"]
        assert len(posts) == 1
        assert posts[0].body["response_mode"] == "streaming"
        assert posts[0].body["auto_generate_name"] is False
        listed = client.get_conversations(user=user).data
        assert [c.id for c in listed] == ([] if delete else [result.conversation_id])


async def test_async_cite_matches_sync(emulator: Emulator) -> None:
    user = f"cite-{uuid.uuid4().hex[:8]}"
    async with AsyncDifyClient(api_key=emulator.keys.chat, base_url=emulator.base_url) as client:
        result = await client.cite("Why is the sky blue?", user=user, delete_conversation=True)
        assert result.retriever_resources
        assert (await client.get_conversations(user=user)).data == []
