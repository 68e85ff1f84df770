"""Every code block in README.md runs, against the emulator, so the README cannot rot.

``python`` blocks run in order in one namespace (later blocks may use names from
earlier ones), with ``DIFY_BASE_URL``, ``DIFY_API_KEY``, ``DIFY_DATASET_API_KEY`` and
``DIFY_DATASET_ID`` pointing at a fresh emulator: exactly what a reader sets for
their own Dify, so the code runs unchanged. A block right after an HTML comment

- ``<!-- not-tested: reason -->`` is skipped (use sparingly);
- ``<!-- pytest: ... -->`` is written to a file and run by pytest in a subprocess;
- ``<!-- error-tree: ... -->`` (a text block) is checked against ``dify_transport``.

``bash`` and ``text`` blocks are not executed; the first ``bash`` block must hold
exactly the two newcomer commands.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _docs_paths import README

import dify_transport
import langchain_dify
import llama_index_dify
from dify_emulator import Emulator, start_emulator

_FENCE = re.compile(r"^```(\w*)\s*$")
_MARKER = re.compile(r"^<!--\s*([\w-]+)\s*(?::\s*(.*?))?\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    lang: str
    line: int  # 1-based line of the opening fence
    source: str
    marker: str | None
    reason: str | None

    @property
    def id(self) -> str:
        return f"{self.lang}-L{self.line}"


def parse_blocks(text: str) -> list[Block]:
    """Fenced blocks with their language, line and the marker comment just above."""
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].rstrip() != "```":
            body.append(lines[index])
            index += 1
        assert index < len(lines), f"README.md:{start + 1}: unclosed code block"
        index += 1
        previous = start - 1
        while previous >= 0 and not lines[previous].strip():
            previous -= 1
        marker = _MARKER.match(lines[previous].strip()) if previous >= 0 else None
        blocks.append(
            Block(
                lang=opening.group(1),
                line=start + 1,
                source="\n".join(body) + "\n",
                marker=marker.group(1) if marker else None,
                reason=marker.group(2) if marker else None,
            )
        )
    return blocks


TEXT = README.read_text(encoding="utf-8")
BLOCKS = parse_blocks(TEXT)
PYTHON = [b for b in BLOCKS if b.lang == "python" and b.marker not in ("pytest",)]
PYTEST = [b for b in BLOCKS if b.lang == "python" and b.marker == "pytest"]
KNOWN_MARKERS = {None, "not-tested", "pytest", "error-tree", "emulator-env"}


# ----------------------------------------------------------------------------- running


@pytest.fixture(scope="module")
def readme_emulator() -> Iterator[Emulator]:
    """A fresh emulator for the README alone (blocks rely on a clean state)."""
    emu = start_emulator()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture(scope="module")
def namespace() -> dict[str, Any]:
    """One namespace shared by the README's blocks, in order."""
    return {"__name__": "readme"}


@pytest.fixture
def reader_env(readme_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a reader with their own Dify has set (the root conftest cleared DIFY_*)."""
    monkeypatch.setenv("DIFY_BASE_URL", readme_emulator.base_url)
    monkeypatch.setenv("DIFY_API_KEY", readme_emulator.keys.chat)
    monkeypatch.setenv("DIFY_DATASET_API_KEY", readme_emulator.keys.dataset)
    monkeypatch.setenv("DIFY_DATASET_ID", readme_emulator.dataset_id)
    monkeypatch.setenv("DIFY_WORKFLOW_API_KEY", readme_emulator.keys.workflow)
    monkeypatch.setenv("DIFY_REVIEW_WORKFLOW_API_KEY", readme_emulator.keys.review_workflow)
    monkeypatch.setenv("DIFY_COMPLETION_API_KEY", readme_emulator.keys.completion)


def test_the_readme_has_runnable_blocks() -> None:
    assert len(PYTHON) >= 8
    assert len(PYTEST) == 1
    assert all(block.marker in KNOWN_MARKERS for block in BLOCKS), [
        (block.id, block.marker) for block in BLOCKS if block.marker not in KNOWN_MARKERS
    ]
    skipped = [block for block in PYTHON if block.marker == "not-tested"]
    assert all(block.reason for block in skipped), "say why a block is not tested"
    assert len(skipped) <= 2, "mark blocks not-tested sparingly"


# llama-index's `workflows` package (FunctionAgent, Workflow) touches pydantic's deprecated
# `__fields__` (its warning, not ours).
@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20")
@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211")
@pytest.mark.usefixtures("reader_env")
@pytest.mark.parametrize("block", PYTHON, ids=lambda b: b.id)
def test_python_block_runs(block: Block, namespace: dict[str, Any]) -> None:
    if block.marker == "not-tested":
        pytest.skip(f"README.md:{block.line}: {block.reason}")
    code = compile(block.source, f"README.md:{block.line}", "exec")
    exec(code, namespace)  # the README's own code, as a reader runs it


@pytest.mark.parametrize("block", PYTEST, ids=lambda b: b.id)
def test_pytest_block_passes(block: Block, tmp_path: Path) -> None:
    test_file = tmp_path / "test_readme_example.py"
    test_file.write_text(block.source, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIFY_")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test_file.name],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert proc.returncode == 0, f"README.md:{block.line}\n{proc.stdout}\n{proc.stderr}"
    assert re.search(r"\b4 passed\b", proc.stdout), proc.stdout


# ----------------------------------------------------------------------------- truth


def test_error_tree_matches_dify_transport() -> None:
    (block,) = [b for b in BLOCKS if b.marker == "error-tree"]
    stack: list[tuple[int, type[BaseException]]] = []
    seen: set[str] = set()
    for line in block.source.splitlines():
        match = re.search(r"\b([A-Z]\w*Error)\b", line)
        if not match:
            continue
        name, column = match.group(1), match.start()
        cls = getattr(dify_transport, name, None)
        assert isinstance(cls, type), f"README error tree: dify_transport has no {name}"
        while stack and stack[-1][0] >= column:
            stack.pop()
        if stack:
            parent = stack[-1][1]
            assert issubclass(cls, parent), f"README error tree: {name} is not a {parent}"
        stack.append((column, cls))
        seen.add(name)
    exported = {
        name
        for name in dify_transport.__all__
        if isinstance(getattr(dify_transport, name), type)
        and issubclass(getattr(dify_transport, name), dify_transport.DifyError)
    }
    assert exported <= seen, f"missing from the README error tree: {sorted(exported - seen)}"


def test_two_setup_commands_for_a_newcomer() -> None:
    first_bash = next(b for b in BLOCKS if b.lang == "bash")
    commands = [
        line.split("#", 1)[0].strip()
        for line in first_bash.source.splitlines()
        if line.split("#", 1)[0].strip()
    ]
    assert commands == ["make demo", "make test"]
    newcomer_part = TEXT[: TEXT.index("## Quickstart: LangChain")]
    for extra in ("make bench", "make lint", "make emulator", "pip install"):
        assert extra not in newcomer_part


def test_every_public_class_is_in_the_readme() -> None:
    names = [
        name
        for module in (langchain_dify, llama_index_dify)
        for name in module.__all__
        if isinstance(getattr(module, name), type) and not name.endswith("Error")
    ]
    missing = [name for name in names if f"`{name}`" not in TEXT]
    assert not missing


@pytest.mark.parametrize(
    "name",
    ["DIFY_API_KEY", "DIFY_BASE_URL", "DIFY_USER", "DIFY_DATASET_API_KEY", "DIFY_DATASET_ID"],
)
def test_configuration_variables_are_documented(name: str) -> None:
    assert f"| `{name}` |" in TEXT


def test_defaults_quoted_in_the_readme_are_true() -> None:
    assert f"`{dify_transport.DEFAULT_BASE_URL}`" in TEXT
    assert f"`{langchain_dify.DEFAULT_USER}`" in TEXT
    assert f"`{llama_index_dify.DEFAULT_USER}`" in TEXT
    assert f"max_retries={dify_transport.DEFAULT_MAX_RETRIES}" in TEXT
    assert "python -m dify_emulator" in TEXT


def test_links_point_at_files_that_exist() -> None:
    root = README.parent
    for target in re.findall(r"\]\(((?!https?:)[^)#]+)\)", TEXT):
        assert (root / target).exists(), target


def test_the_emulator_block_exports_what_the_blocks_read() -> None:
    """The hand-run emulator block sets every variable ``reader_env`` sets, with true values."""
    from dify_emulator import DEFAULT_PORT, KEYS

    (block,) = [b for b in BLOCKS if b.marker == "emulator-env"]
    assert "python -m dify_emulator" in block.source
    exported = dict(re.findall(r"^export (DIFY_\w+)=(\S+)", block.source, re.MULTILINE))
    assert exported == {
        "DIFY_BASE_URL": f"http://127.0.0.1:{DEFAULT_PORT}/v1",
        "DIFY_API_KEY": KEYS.chat,
        "DIFY_DATASET_API_KEY": KEYS.dataset,
        "DIFY_DATASET_ID": Emulator().dataset_id,
        "DIFY_WORKFLOW_API_KEY": KEYS.workflow,
        "DIFY_REVIEW_WORKFLOW_API_KEY": KEYS.review_workflow,
        "DIFY_COMPLETION_API_KEY": KEYS.completion,
    }
    read = set(re.findall(r"\bDIFY_[A-Z_]+\b", "".join(b.source for b in PYTHON)))
    assert read <= set(exported) | {"DIFY_USER"}
