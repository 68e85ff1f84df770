"""Issue 9.9: keys validated at construction, echoed keys scrubbed, base_url passwords masked."""

from __future__ import annotations

import pickle

import httpx
import pytest
from _tr_support import KEY, USER, client, json_response

from dify_transport import (
    APIConnectionError,
    AsyncDifyClient,
    AsyncDifyKnowledgeClient,
    AuthenticationError,
    DifyClient,
    DifyConfigError,
    DifyKnowledgeClient,
)

CLASSES = (DifyClient, AsyncDifyClient, DifyKnowledgeClient, AsyncDifyKnowledgeClient)


@pytest.mark.parametrize("cls", CLASSES)
def test_surrounding_whitespace_is_stripped(cls):
    c = cls(api_key=f"  {KEY}\n", base_url="http://dify.test/v1")
    assert c._headers(None)["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("bad", [f"{KEY}\r\nX: 1", f"app-\u00e9{KEY}", f"app-\x00{KEY}", "app-\tx"])
def test_control_or_non_ascii_key_is_a_config_error_without_echo(cls, bad):
    with pytest.raises(DifyConfigError) as info:
        cls(api_key=bad, base_url="http://dify.test/v1")
    assert KEY not in str(info.value)
    assert "non-ASCII" in str(info.value)


def test_echoed_key_is_scrubbed_from_body_also_after_pickling():
    echo = {"code": "unauthorized", "message": f"token {KEY} bad", "detail": [KEY]}
    c = client(lambda r: json_response(401, echo))
    with pytest.raises(AuthenticationError) as info:
        c.get_conversations(user=USER)
    err = info.value
    assert KEY not in repr(err.body)
    assert KEY not in repr(pickle.loads(pickle.dumps(err)).body)


def test_echoed_key_in_a_text_body_is_scrubbed():
    c = client(lambda r: httpx.Response(401, text=f"bad key {KEY}"))
    with pytest.raises(AuthenticationError) as info:
        c.get_conversations(user=USER)
    assert KEY not in str(info.value.body)


def test_base_url_password_is_masked_in_repr_and_errors():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    url = "http://alice:hunter2@dify.test/v1"
    c = DifyClient(
        api_key=KEY,
        base_url=url,
        http_client=httpx.Client(transport=httpx.MockTransport(refuse)),
        max_retries=0,
    )
    assert "hunter2" not in repr(c)
    assert "alice:***@dify.test" in repr(c)
    with pytest.raises(APIConnectionError) as info:
        c.get_conversations(user=USER)
    assert "hunter2" not in str(info.value)
