"""Count the hand-written lines of the client packages at one or more git revisions.

Counted: ``dify_transport`` (not the generated ``_sync/``, nor the emulator it once
held), ``langchain_dify`` and ``llama_index_dify``; a line counts unless it is blank or
a comment. The second figure leaves docstrings out too.

``python scripts/count_lines.py 4e26c23 HEAD`` compares revisions with the first one;
``--commits A B ...`` prints what each commit changed against its first parent, and the sum.
"""

from __future__ import annotations

import ast
import subprocess
import sys

PACKAGES = ("dify_transport", "langchain_dify", "llama_index_dify")
# Generated code, and the emulator from before it left dify_transport.
SKIPPED = ("dify_transport/_sync/", "dify_transport/emulator/")


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout


def _docstring_lines(source: str) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def count(rev: str) -> tuple[int, int]:
    """(lines that are not blank or comments, those of them outside docstrings)."""
    total = code = 0
    for path in _git("ls-tree", "-r", "--name-only", rev).split():
        if not path.endswith(".py") or path.split("/")[0] not in PACKAGES:
            continue
        if path.startswith(SKIPPED):
            continue
        source = _git("show", f"{rev}:{path}")
        docs = _docstring_lines(source)
        for number, line in enumerate(source.splitlines(), 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            total += 1
            code += number not in docs
    return total, code


def commits(revs: list[str]) -> None:
    summed = 0
    for rev in revs:
        change = count(rev)[0] - count(f"{rev}^")[0]
        summed += change
        print(f"{change:+6d}  {_git('log', '-1', '--format=%h %s', rev)[:100].strip()}")
    print(f"{summed:+6d}  in all")


def main(revs: list[str]) -> None:
    base: tuple[int, int] | None = None
    for rev in revs or ["HEAD"]:
        total, code = count(rev)
        change = ""
        if base is not None:
            lines, rest = (total - base[0]) / base[0], (code - base[1]) / base[1]
            change = f"  ({lines:+.1%}, outside docstrings {rest:+.1%})"
        print(f"{rev:>12}: {total} lines, {code} outside docstrings{change}")
        base = base or (total, code)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--commits"]:
        commits(sys.argv[2:])
    else:
        main(sys.argv[1:])
