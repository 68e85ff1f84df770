"""AgentSteps: agent_thought events folded into tool-call starts and ends (pure)."""

from __future__ import annotations

from typing import Any

from dify_transport.agent_steps import AgentSteps


def _thought(**kw: Any) -> dict[str, Any]:
    return {"event": "agent_thought", "id": "t1", "position": 1, "thought": "", "observation": "",
            "tool": "", "tool_input": "", **kw}  # fmt: skip


def test_one_tool_starts_once_and_ends_once() -> None:
    steps = AgentSteps()
    assert steps.feed("agent_thought", _thought()) == []  # the empty first form
    (start,) = steps.feed(
        "agent_thought", _thought(tool="search", tool_input='{"search": {"q": "x"}}')
    )
    assert (start.phase, start.tool, start.input) == ("start", "search", {"q": "x"})
    assert (
        steps.feed("agent_thought", _thought(tool="search", tool_input='{"search": {"q": "x"}}'))
        == []
    )
    (end,) = steps.feed("agent_thought", _thought(tool="search", observation='{"search": "found"}'))
    assert (end.phase, end.observation, end.key) == ("end", "found", start.key)
    assert steps.feed("agent_thought", _thought(tool="search", observation="again")) == []
    assert steps.finish() == []
    assert steps.feed("message", {"answer": "x"}) == []


def test_several_tools_in_one_thought_are_split() -> None:
    steps = AgentSteps()
    both = _thought(tool="a;b", tool_input='{"a": {"x": 1}, "b": "raw"}',
                    observation='{"a": {"ok": true}, "b": "text"}')  # fmt: skip
    out = steps.feed("agent_thought", both)
    assert [(s.phase, s.tool) for s in out] == [
        ("start", "a"), ("end", "a"), ("start", "b"), ("end", "b")
    ]  # fmt: skip
    assert out[0].input == {"x": 1}
    assert out[2].input == {"input": "raw"}
    assert out[1].observation == '{"ok": true}'
    assert out[3].observation == "text"


def test_a_call_without_observation_is_ended_by_finish() -> None:
    steps = AgentSteps()
    (start,) = steps.feed("agent_thought", _thought(tool="slow", tool_input="not json"))
    assert start.input == {"input": "not json"}
    (end,) = steps.finish()
    assert (end.phase, end.tool, end.observation) == ("end", "slow", "")
    assert steps.finish() == []


def test_thoughts_without_ids_are_keyed_by_position() -> None:
    steps = AgentSteps()
    first = steps.feed("agent_thought", _thought(id=None, position=1, tool="t"))
    second = steps.feed("agent_thought", _thought(id=None, position=2, tool="t"))
    assert first[0].key != second[0].key
