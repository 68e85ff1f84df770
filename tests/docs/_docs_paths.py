"""Paths shared by the documentation tests (README, notebooks, demo)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
README = ROOT / "README.md"
DEMO = ROOT / "scripts" / "demo.py"
GENERATOR = ROOT / "scripts" / "make_notebooks.py"


def load_script(path: Path) -> ModuleType:
    """Import a file under ``scripts/`` as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"_docs_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
