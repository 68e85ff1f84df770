"""Error messages that used to mislead, and one policy for sampling settings, in both frameworks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from dify_transport import DifyConfigError, DifyKnowledgeClient, NotFoundError, make_status_error
from langchain_dify import ChatDify
from langchain_dify import DifyKnowledgeRetriever as LcKnowledgeRetriever
from llama_index_dify import DifyKnowledgeRetriever as LiKnowledgeRetriever
from llama_index_dify import DifyLLM

if TYPE_CHECKING:
    from dify_emulator import Emulator


@pytest.fixture
def http(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=emulator.transport()) as client:
        yield client


def test_a_retriever_without_a_dataset_id_fails_at_construction_in_both() -> None:
    messages = []
    for build in (LcKnowledgeRetriever, LiKnowledgeRetriever):
        with pytest.raises(DifyConfigError) as info:
            build(api_key="dataset-k")
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert "dataset_id=" in messages[0]
    assert "$DIFY_DATASET_ID" in messages[0]


def test_a_malformed_dataset_id_is_named(emulator: Emulator, http: httpx.Client) -> None:
    with pytest.raises(NotFoundError) as info:
        LcKnowledgeRetriever(
            api_key=emulator.keys.dataset,
            base_url=emulator.base_url,
            dataset_id="my knowledge base",
            http_client=http,
        ).invoke("warranty")
    text = str(info.value)
    assert "dataset id 'my knowledge base' is malformed" in text
    assert "UUID" in text
    assert "base_url" not in text
    hits = LiKnowledgeRetriever(
        api_key=emulator.keys.dataset,
        base_url=emulator.base_url,
        dataset_id=emulator.dataset_id,
        http_client=http,
    ).retrieve("warranty")
    assert hits  # a well-formed id is unaffected


def test_the_dataset_key_hint_points_at_the_knowledge_section(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DIFY_DATASET_API_KEY", raising=False)
    with pytest.raises(DifyConfigError) as info:
        DifyKnowledgeClient()
    text = str(info.value)
    assert "Knowledge section" in text
    assert "not an app's 'API Access' page" in text
    with pytest.raises(DifyConfigError, match="Knowledge section"):
        DifyKnowledgeClient(api_key="dataset-\u00e9")


@pytest.mark.parametrize("status", [404, 405])
def test_an_html_page_is_described_and_base_url_hinted(status: int) -> None:
    page = b"<!doctype html><html><head><title>Dify</title></head><body>app</body></html>"
    text = str(make_status_error(status, page))
    assert text.startswith(f"Dify returned {status}: an HTML page titled 'Dify' instead of")
    assert f"Dify returned {status}: Dify " not in text
    assert "base_url" in text
    assert "/v1" in text


def test_sampling_settings_one_policy_accepted_and_never_sent(
    emulator: Emulator, http: httpx.Client, recwarn: pytest.WarningsRecorder
) -> None:
    wiring = {"api_key": emulator.keys.chat, "base_url": emulator.base_url, "user": "policy"}
    chat = ChatDify(**wiring, temperature=0.2, max_tokens=50, http_client=http)
    llm = DifyLLM(**wiring, temperature=0.2, max_tokens=50, http_client=http)
    assert (chat.temperature, llm.temperature) == (0.2, 0.2)
    chat.invoke("Hello?")
    llm.complete("Hello?")
    sent = [r.body for r in emulator.requests if r.user == "policy"]
    assert len(sent) == 2
    assert not any("temperature" in body or "max_tokens" in body for body in sent)
    assert not recwarn.list  # no warning (the standard suites turn warnings into errors)
    with pytest.raises(ValueError, match="temprature"):
        ChatDify(**wiring, temprature=0.2)  # a typo is an error in both
    with pytest.raises(ValueError, match="temprature"):
        DifyLLM(**wiring, temprature=0.2)
    with pytest.raises(TypeError, match="temperature"):
        chat.invoke("Hello?", temperature=0.5)  # per call: refused, as before
