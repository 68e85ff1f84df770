"""What a newcomer sees: believable citation scores and a short echo of the question."""

from __future__ import annotations

import itertools
from typing import Any

from emu_helpers import Api

from dify_emulator._retrieval import display_scores

RAG_PROMPT = (
    "Use the context to answer.\n\nContext:\nDify is an open-source platform.\n"
    "The sky is blue.\n\nQuestion: Why is the sky blue?\n\n"
)


def _assert_believable(scores: list[float]) -> None:
    assert scores
    assert all(0 < s <= 1 for s in scores), scores
    assert all(a > b for a, b in itertools.pairwise(scores)), scores
    assert all(round(s, 4) == s for s in scores), scores


def test_citation_scores_are_non_zero_and_strictly_decreasing(anyapi: Api) -> None:
    for query in ("Why is the sky blue?", "hello there", "What is Dify?"):
        body = anyapi.chat(query).json()
        res = body["metadata"]["retriever_resources"]
        assert len(res) == 3
        _assert_believable([r["score"] for r in res])
    # The best match looks like a real similarity, the stored history keeps the scores.
    body = anyapi.chat("Why is the sky blue?").json()
    top = body["metadata"]["retriever_resources"][0]
    assert top["document_name"] == "sky.txt"
    assert 0.5 < top["score"] < 1
    hist = anyapi.get("chat", "/messages", params={"user": "u1",
                      "conversation_id": body["conversation_id"]}).json()  # fmt: skip
    assert [r["score"] for r in hist["data"][0]["retriever_resources"]] == [
        r["score"] for r in body["metadata"]["retriever_resources"]
    ]


def test_knowledge_retrieve_scores(anyapi: Api) -> None:
    url = f"/datasets/{anyapi.emu.dataset_id}/retrieve"
    model: dict[str, Any] = {"search_method": "semantic_search", "reranking_enable": False,
                             "score_threshold_enabled": False, "top_k": 10}  # fmt: skip
    recs = anyapi.post("dataset", url, {"query": "sky", "retrieval_model": model}).json()["records"]
    assert len(recs) > 3
    _assert_believable([r["score"] for r in recs])
    model.update(score_threshold_enabled=True, score_threshold=0.05)
    recs = anyapi.post("dataset", url, {"query": "sky", "retrieval_model": model}).json()["records"]
    assert all(r["score"] >= 0.05 for r in recs)


def test_display_scores_edge_cases() -> None:
    _assert_believable(display_scores([1.0, 1.0, 1.0, 0.0, 0.0]))
    _assert_believable(display_scores([0.0] * 60))
    assert display_scores([1.0])[0] == 0.97
    assert display_scores([]) == []


def test_answer_addresses_the_question_of_a_rag_prompt(anyapi: Api) -> None:
    answer = anyapi.chat(RAG_PROMPT).json()["answer"]
    assert answer.startswith("From the context you gave me: The sky is blue.")
    assert "You asked" not in answer
    assert "Answer:" not in answer
    assert "Use the context" not in answer
    # Deterministic: the same prompt in a new conversation gives the same answer.
    assert anyapi.chat(RAG_PROMPT).json()["answer"] == answer
    # A plain question is answered from the best passage of the notes, with its source.
    answer = anyapi.chat("Why is the sky blue?").json()["answer"]
    assert answer.startswith("The sky is blue on a clear day because air molecules scatter")
    assert answer.endswith("(Source: sky.txt)")
    # Nothing relevant: say so, quoting the question briefly.
    long_line = "Please explain " + "very " * 40 + "carefully."
    answer = anyapi.chat(f"context line\n{long_line}").json()["answer"]
    echo = answer.split('"')[1]
    assert echo.endswith("…")
    assert len(echo) == 80
    assert long_line.startswith(echo[:-1])


def test_every_mode_answers_the_question(anyapi: Api) -> None:
    cid = anyapi.chat(RAG_PROMPT, app="chatflow").json()["conversation_id"]
    second = anyapi.chat("thanks", app="chatflow", conversation_id=cid).json()["answer"]
    assert second.startswith('Earlier you asked: "Why is the sky blue?".')
    first = anyapi.chat(RAG_PROMPT, app="chatflow").json()["answer"]
    assert first == "From the context you gave me: The sky is blue."
    r = anyapi.post("completion", "/completion-messages",
                    {"inputs": {"query": RAG_PROMPT}, "user": "u1"})  # fmt: skip
    assert r.json()["answer"] == first
    r = anyapi.post("workflow", "/workflows/run", {"inputs": {"text": "How is green tea brewed?"},
                    "user": "u1", "response_mode": "blocking"})  # fmt: skip
    result = r.json()["data"]["outputs"]["result"]
    assert result.startswith("Green tea is brewed with water below boiling")
    assert result.endswith("(Source: tea.txt)")
