"""A ChatDify turn on a chatflow whose stream drops resumes and says so (emulator)."""

from __future__ import annotations

import uuid

from dify_emulator import Emulator, Faults
from langchain_dify import ChatDify


def test_dropped_chatflow_turn_resumes_with_the_whole_answer(emulator: Emulator) -> None:
    user = f"lc-rs-{uuid.uuid4().hex[:8]}"
    llm = ChatDify(api_key=emulator.keys.chatflow, base_url=emulator.base_url, user=user)
    emulator.set_faults("chatflow", Faults(detach_after=6, delay=0.02))
    try:
        msg = llm.invoke("Tell me about the sky, long 30")
    finally:
        emulator.clear_faults()
        llm.close()
    assert msg.response_metadata["resumed"] is True
    assert "w30" in str(msg.content)
    posts = [r for r in emulator.requests if r.user == user and r.method == "POST"]
    assert [r.path for r in posts] == ["/v1/chat-messages"]
