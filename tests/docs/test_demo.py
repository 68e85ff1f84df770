"""``scripts/demo.py`` (``make demo``) runs, streams, and shows every section.

Run as a subprocess, as ``make demo`` runs it: with no ``DIFY_*`` variables (the root
conftest strips them) it starts the emulator itself; with ``DIFY_BASE_URL`` and
``DIFY_API_KEY`` it uses that Dify (here: the session emulator, standing in for
the user's own).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest
from _docs_paths import DEMO, ROOT

if TYPE_CHECKING:
    from dify_emulator import Emulator

pytestmark = pytest.mark.timeout(90)


def _env(**extra: str) -> dict[str, str]:
    # PYTHONUNBUFFERED would hide a missing flush: the demo must flush each token itself.
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("DIFY_") and k != "PYTHONUNBUFFERED"
    }
    env.update(NO_COLOR="1", **extra)
    return env


def _check_sections(out: str) -> None:
    assert "1. LangChain" in out
    assert "2. LlamaIndex" in out
    assert out.count("Sources (retriever_resources)") == 4
    assert out.count("Usage ") == 4
    assert re.search(r"\d+ tokens \(\d+ prompt \+ \d+ completion\), [\d.]+ USD, latency", out)
    assert out.count("(same conversation)") == 2, out
    assert "NEW conversation" not in out
    # each framework's two turns share one conversation id; the two frameworks differ
    ids = re.findall(r"^Conversation\s+([0-9a-f-]{36})", out, flags=re.MULTILINE)
    assert len(ids) == 4
    assert ids[0] == ids[1] != ids[2] == ids[3]
    # the sources table: a header and at least one row with a score and a document
    assert re.search(r"^\s+#\s+score\s+document\s+passage$", out, flags=re.MULTILINE)
    assert re.search(r"^\s+1\s+\d\.\d{3}\s+\S+\.txt\s+\S", out, flags=re.MULTILINE)
    assert "Done." in out


def test_demo_streams_against_its_own_emulator() -> None:
    """Read the demo's stdout as it comes: an answer must arrive in many pieces."""
    proc = subprocess.Popen(
        [sys.executable, str(DEMO)],
        cwd=ROOT,
        env=_env(DEMO_TOKEN_DELAY="0.01"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    reads: list[tuple[float, bytes]] = []
    while chunk := os.read(proc.stdout.fileno(), 65536):
        reads.append((time.monotonic(), chunk))
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.wait(timeout=60) == 0, stderr
    out = b"".join(chunk for _, chunk in reads).decode()
    assert "offline emulator" in out
    _check_sections(out)
    # Tokens are flushed one by one: the first answer reaches the pipe in many reads.
    answer_reads = [chunk for _, chunk in reads if chunk and b"\n" not in chunk.strip(b" ")]
    assert len(answer_reads) >= 10, f"the answer was not streamed ({len(reads)} reads)"


def test_demo_uses_the_dify_named_by_the_environment(emulator: Emulator) -> None:
    proc = subprocess.run(
        [sys.executable, str(DEMO)],
        cwd=ROOT,
        env=_env(
            DIFY_BASE_URL=emulator.base_url,
            DIFY_API_KEY=emulator.keys.chat,
            DIFY_USER="readme-user",
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"Dify:  {emulator.base_url}" in proc.stdout
    assert "offline emulator" not in proc.stdout
    assert "user: readme-user" in proc.stdout
    _check_sections(proc.stdout)
    users = {r.user for r in emulator.requests if r.path.endswith("/chat-messages")}
    assert "readme-user" in users


def test_demo_exits_1_with_a_hint_when_the_key_is_wrong(emulator: Emulator) -> None:
    proc = subprocess.run(
        [sys.executable, str(DEMO)],
        cwd=ROOT,
        env=_env(DIFY_BASE_URL=emulator.base_url, DIFY_API_KEY="app-wrong-key-123"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert "AuthenticationError" in proc.stdout
    assert "DIFY_API_KEY" in proc.stdout
    assert "app-wrong-key-123" not in proc.stdout
