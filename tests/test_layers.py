"""The layer rules of docs/architecture.md, checked on the source (no imports run)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "dify_transport": {"dify_emulator", "langchain_core", "langchain", "llama_index", "langgraph"},
    "dify_emulator": {
        "dify_transport",
        "langchain_dify",
        "llama_index_dify",
        "langchain_core",
        "llama_index",
    },
    "langchain_dify": {"llama_index", "llama_index_dify", "dify_emulator"},
    "llama_index_dify": {"langchain_core", "langchain", "langchain_dify", "dify_emulator"},
}


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_its_layer(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_roots(path) & FORBIDDEN[package])
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}
