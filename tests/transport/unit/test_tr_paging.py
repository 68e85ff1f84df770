"""Acceptance 7: paging returns every item once (messages oldest first); delete on both wires."""

from __future__ import annotations

import httpx
import pytest
from _tr_support import USER, Server, aclient, client, json_response

from dify_transport import ConversationNotFoundError

MESSAGES = [
    {
        "id": f"m{i:03d}",
        "conversation_id": "c1",
        "query": f"q{i}",
        "answer": f"a{i}",
        "created_at": i,
    }
    for i in range(47)
]
CONVERSATIONS = [
    {"id": f"c{i:03d}", "name": f"n{i}", "inputs": {}, "status": "normal", "updated_at": 1000 - i}
    for i in range(23)
]


def messages_handler(request: httpx.Request) -> httpx.Response:
    """Dify semantics: newest page first, ascending within, cursor = first (oldest) id."""
    params = request.url.params
    if params.get("user") != USER:
        return json_response(
            404, {"code": "not_found", "message": "Conversation Not Exists.", "status": 404}
        )
    limit = int(params.get("limit", 20))
    items = MESSAGES
    first_id = params.get("first_id")
    if first_id:
        index = next(i for i, m in enumerate(items) if m["id"] == first_id)
        items = items[:index]
    page = items[-limit:]
    has_more = len(items) > limit
    return json_response(200, {"limit": limit, "has_more": has_more, "data": page})


def conversations_handler(request: httpx.Request) -> httpx.Response:
    params = request.url.params
    limit = int(params.get("limit", 20))
    items = CONVERSATIONS
    last_id = params.get("last_id")
    if last_id:
        index = next(i for i, c in enumerate(items) if c["id"] == last_id)
        items = items[index + 1 :]
    page = items[:limit]
    return json_response(200, {"limit": limit, "has_more": len(items) > limit, "data": page})


def server() -> Server:
    s = Server()
    s.routes[("GET", "/messages")] = messages_handler
    s.routes[("GET", "/conversations")] = conversations_handler
    return s


@pytest.mark.parametrize("page_size", [1, 5, 20, 46, 47, 100])
def test_iter_messages_oldest_first_each_once(page_size):
    s = server()
    got = [m.id for m in client(s).iter_messages("c1", user=USER, page_size=page_size)]
    assert got == [m["id"] for m in MESSAGES]
    requests = s.calls("GET", "/messages")
    assert all(r.params["user"] == USER for r in requests)
    assert len(requests) == -(-len(MESSAGES) // page_size)


def test_get_messages_single_page_is_ascending_newest_page():
    page = client(server()).get_messages("c1", user=USER, limit=5)
    assert [m.id for m in page.data] == [m["id"] for m in MESSAGES[-5:]]
    assert page.has_more


@pytest.mark.parametrize("page_size", [1, 7, 23, 100])
def test_iter_conversations_each_once_in_order(page_size):
    s = server()
    got = [c.id for c in client(s).iter_conversations(user=USER, page_size=page_size)]
    assert got == [c["id"] for c in CONVERSATIONS]
    assert all(r.params["sort_by"] == "-updated_at" for r in s.calls("GET", "/conversations"))


async def test_async_iterators():
    async with aclient(server()) as c:
        messages = [m.id async for m in c.iter_messages("c1", user=USER, page_size=10)]
        conversations = [x.id async for x in c.iter_conversations(user=USER, page_size=10)]
    assert messages == [m["id"] for m in MESSAGES]
    assert conversations == [c["id"] for c in CONVERSATIONS]


def test_wrong_user_names_the_user_in_the_error():
    with pytest.raises(ConversationNotFoundError) as info:
        client(server()).get_messages("c1", user="someone-else")
    assert "someone-else" in str(info.value)


def test_iteration_stops_on_repeating_cursor():
    s = Server()
    s.routes[("GET", "/messages")] = json_response(
        200, {"limit": 1, "has_more": True, "data": [MESSAGES[0]]}
    )
    got = list(client(s).iter_messages("c1", user=USER, page_size=1))
    assert [m.id for m in got] == ["m000"]
    assert len(s.seen) == 2


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(204),
        json_response(200, {"result": "success"}),
    ],
    ids=["1.x-204-empty", "0.15-200-json"],
)
def test_delete_both_wire_generations_with_json_body(response):
    s = Server()
    s.routes[("DELETE", "/conversations/c1")] = response
    assert client(s).delete_conversation("c1", user=USER) is None
    seen = s.seen[0]
    assert seen.body == {"user": USER}
    assert seen.headers["content-type"] == "application/json"


async def test_async_delete_204():
    s = Server()
    s.routes[("DELETE", "/conversations/c1")] = httpx.Response(204)
    async with aclient(s) as c:
        assert await c.delete_conversation("c1", user=USER) is None
    assert s.seen[0].body == {"user": USER}
