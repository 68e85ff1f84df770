"""Issue 14: the LangGraph example keeps one Dify conversation per thread across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dify_emulator import Emulator

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "langgraph_threads.py"


def run(emu: Emulator, state: Path, user: str, thread: str, question: str) -> dict[str, Any]:
    """One process: one question in one thread."""
    env = {**os.environ, "DIFY_API_KEY": emu.keys.chat, "DIFY_BASE_URL": emu.base_url}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--user", user, "--thread", thread,
         "--state", str(state), question],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_one_conversation_per_thread_across_processes(emulator: Emulator, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    alice, bob = f"alice-{tag}", f"bob-{tag}"
    first = run(emulator, tmp_path, alice, "t1", "My name is Alice.")
    second = run(emulator, tmp_path, alice, "t1", "What is my name?")
    other = run(emulator, tmp_path, bob, "t2", "Hello")

    assert first["streamed"] == first["answer"]  # streamed token by token through the graph
    assert second["conversation_id"] == first["conversation_id"]
    assert second["turns"] == 2
    assert second["message_ids"][0] == first["message_ids"][0]  # the checkpoint kept the ids
    assert other["conversation_id"] != first["conversation_id"]

    sent = [r for r in emulator.requests if r.path.endswith("/chat-messages")]
    by_alice = [r.body for r in sent if r.user == alice]
    assert [b.get("conversation_id") for b in by_alice] == [None, first["conversation_id"]]
    assert by_alice[1]["query"] == "What is my name?"  # only the new turn is sent
    assert [r.body.get("conversation_id") for r in sent if r.user == bob] == [None]
