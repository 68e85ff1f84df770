"""Write ``notebooks/*.ipynb`` from the cells in ``scripts/notebook_cells/`` (their single source).

Each notebook's cells live in one module, ``scripts/notebook_cells/nbNN_<name>.py``
(``CELLS``); the cells they share and the ``md``/``code`` builders live in
``scripts/notebook_cells/_shared.py``. Run ``.venv/bin/python scripts/make_notebooks.py``
after editing a cell there; ``--check`` exits 1 when a stored notebook differs from
what this script writes (``tests/docs/test_notebooks.py`` runs that check, so hand
edits in Jupyter must be copied back there). Notebooks are stored without outputs
and with stable cell ids.

Every notebook starts the offline emulator itself unless ``DIFY_BASE_URL`` and
``DIFY_API_KEY`` are set, and ``make test`` executes each one top to bottom.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

SCRIPTS_DIR = Path(__file__).resolve().parent
NOTEBOOKS_DIR = SCRIPTS_DIR.parent / "notebooks"

# scripts/ is not a package: this file is run as a script or loaded from its path
# (tests/docs/_docs_paths.py), so put its directory on sys.path before importing
# the cell modules.
if str(SCRIPTS_DIR) not in sys.path:
    sys.path.insert(0, str(SCRIPTS_DIR))

from notebook_cells import (  # noqa: E402
    nb01_langchain_quickstart,
    nb02_rag_with_dify,
    nb03_llamaindex,
    nb04_agents_and_workflows,
)
from notebook_cells._shared import Cell  # noqa: E402

NOTEBOOKS: dict[str, list[Cell]] = {
    "01_langchain_quickstart.ipynb": nb01_langchain_quickstart.CELLS,
    "02_rag_with_dify.ipynb": nb02_rag_with_dify.CELLS,
    "03_llamaindex.ipynb": nb03_llamaindex.CELLS,
    "04_agents_and_workflows.ipynb": nb04_agents_and_workflows.CELLS,
}


def build(name: str, cells: list[Cell]) -> Any:
    """One notebook: stable cell ids, no outputs, a python3 kernel."""
    nb = new_notebook()  # type: ignore[no-untyped-call]  # nbformat is untyped
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    stem = name.split("_", 1)[0]
    for index, (kind, source) in enumerate(cells):
        cell_id = f"nb{stem}-{index:02d}"
        cell = (
            new_code_cell(source, id=cell_id)  # type: ignore[no-untyped-call]
            if kind == "code"
            else new_markdown_cell(source, id=cell_id)  # type: ignore[no-untyped-call]
        )
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(name: str) -> str:
    text: str = nbformat.writes(build(name, NOTEBOOKS[name]))  # type: ignore[no-untyped-call]
    return text + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a notebook is stale")
    args = parser.parse_args(argv)
    stale = []
    for name in NOTEBOOKS:
        path = NOTEBOOKS_DIR / name
        text = render(name)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(NOTEBOOKS_DIR.parent)}")
    if stale:
        print(f"stale notebooks (run scripts/make_notebooks.py): {', '.join(stale)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
