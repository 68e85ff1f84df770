"""Nothing in code, docs or tests points at a file a clone lacks; cited wire traps exist."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SELF = Path(__file__).resolve().relative_to(ROOT).as_posix()
FORBIDDEN = re.compile(r"DESIGN\.md|§|/work/|\.\./shared|\bshared/|docs/reference")
TRAP = re.compile(r"\b(?:trap[- ]|wire-traps\.md\)?:? ?|wire-traps\.md`?\W+)(T\d+)\b|\[(T\d+)\]")


def _tracked() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "*.py", "*.md", "*.ipynb", "Makefile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [
        ROOT / name
        for name in out
        if not name.startswith(("tests/fixtures/", ".venv")) and name != SELF
    ]


def test_no_reference_to_files_outside_the_clone() -> None:
    hits = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _tracked()
        if path.exists()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if FORBIDDEN.search(line)
    ]
    assert hits == []


def test_every_cited_wire_trap_is_in_docs_wire_traps() -> None:
    listed = set(re.findall(r"^\d+\. \*\*(T\d+):", (ROOT / "docs/wire-traps.md").read_text(), re.M))
    cited = {
        label
        for path in _tracked()
        if path.exists()
        for match in TRAP.finditer(path.read_text(encoding="utf-8"))
        for label in match.groups()
        if label
    }
    assert cited, "the pattern finds the citations"
    assert cited <= listed, sorted(cited - listed)
