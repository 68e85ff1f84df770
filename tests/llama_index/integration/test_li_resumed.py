"""A DifyLLM turn on a chatflow whose stream drops resumes and says so (emulator)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_index.core.base.llms.types import ChatMessage, MessageRole

from dify_emulator import Faults

if TYPE_CHECKING:
    from tests.llama_index.conftest import Target


def test_dropped_chatflow_turn_resumes_with_the_whole_answer(target: Target) -> None:
    llm = target.llm("chatflow")
    target.emu.set_faults("chatflow", Faults(detach_after=6, delay=0.02))
    try:
        response = llm.chat([ChatMessage(role=MessageRole.USER, content="The sky? long 30")])
    finally:
        target.emu.clear_faults()
    assert response.additional_kwargs["resumed"] is True
    assert "w30" in (response.message.content or "")
    posts = [r for r in target.emu.requests if r.user == target.user and r.method == "POST"]
    assert [r.path for r in posts] == ["/v1/chat-messages"]
