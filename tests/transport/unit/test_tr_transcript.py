"""Issue 14: the transcript format read back (split_transcript) and new conversations' names."""

from __future__ import annotations

import pytest

from dify_transport.turns import Turn, TurnPlan, conversation_name, plan_turn, split_transcript


def lc(role: str, text: str, cid: str | None = None) -> Turn:
    labels = {"system": "System", "user": "Human", "assistant": "AI"}
    return Turn(role, text, labels[role], conversation_id=cid)  # type: ignore[arg-type]


def li(role: str, text: str, cid: str | None = None) -> Turn:
    return Turn(role, text, role, conversation_id=cid)  # type: ignore[arg-type]


@pytest.mark.parametrize("make", [lc, li], ids=["langchain", "llama_index"])
def test_what_plan_turn_writes_splits_back(make) -> None:
    turns = [make("system", "Be brief.\nAnd kind."), make("user", "Hi"),
             make("assistant", "Hello", "c1"), make("user", "Line one\nline two")]  # fmt: skip
    plan = plan_turn(turns)
    assert plan.query.splitlines()[0].lower().startswith("system: be brief.")
    assert split_transcript(plan.query) == ("Line one\nline two", "Be brief.\nAnd kind.")


def test_a_new_conversation_transcript_keeps_the_other_turns_without_system() -> None:
    plan = plan_turn([lc("system", "S"), lc("user", "a"), lc("assistant", "b"), lc("user", "c")])
    assert plan.query == "System: S\nHuman: a\nAI: b\nHuman: c"
    assert split_transcript(plan.query) == ("Human: a\nAI: b\nHuman: c", "S")
    assert plan.name == "a"


@pytest.mark.parametrize(
    "query",
    [
        "Just a question",
        "Human: no system line first\nSystem: x",
        "System: a system line but no user line",
        "system status?\nuser: ok",  # a label needs its colon
        "",
    ],
)
def test_other_queries_are_the_users_words(query: str) -> None:
    assert split_transcript(query) == (query, "")


def test_names_only_for_new_transcript_conversations() -> None:
    assert plan_turn([lc("user", "plain")]).name is None
    continuing = [lc("system", "S"), lc("user", "q1"), lc("assistant", "a", "c1"), lc("user", "q2")]
    assert plan_turn(continuing).name is None  # Dify already named it
    assert plan_turn([lc("system", "S"), lc("user", "q")], system_input="sys").name is None
    long = "word " * 30
    named = plan_turn([lc("system", "S"), lc("user", long)])
    assert named.name == conversation_name(long)
    assert len(named.name) == 40
    assert named.name.endswith("\u2026")
    assert TurnPlan("q", None).name is None


def test_read_back_drops_the_structured_output_block_too() -> None:
    """A structured-output turn is read back as the user's words, without the format block."""
    from dify_transport.turns import answer_format

    sent = "System: Be brief.\nHuman: Why is the sky blue?" + answer_format({"type": "object"})
    assert split_transcript(sent) == ("Why is the sky blue?", "Be brief.")
    assert split_transcript("Why?" + answer_format(None)) == ("Why?", "")
