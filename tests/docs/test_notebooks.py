"""Every notebook runs top to bottom against the emulator, and is stored clean.

The root conftest strips ``DIFY_*`` from the environment, and the kernel inherits
it, so each notebook's first code cell starts its own emulator, as it does for a
newcomer without a Dify account.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from _docs_paths import GENERATOR, NOTEBOOKS, NOTEBOOKS_DIR, load_script
from nbclient import NotebookClient

EXPECTED = {
    "01_langchain_quickstart.ipynb",
    "02_rag_with_dify.ipynb",
    "03_llamaindex.ipynb",
    "04_agents_and_workflows.ipynb",
}
CELL_TIMEOUT = 60
# Rich displays a notebook must show (dify_transport.display), by notebook.
RICH_OUTPUTS = {
    "01_langchain_quickstart.ipynb": ('class="dify-sources"', 'class="dify-nodes"'),
    "02_rag_with_dify.ipynb": ('class="dify-sources"',),
    "03_llamaindex.ipynb": ('class="dify-sources"',),
}


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def test_the_four_notebooks_exist() -> None:
    assert {p.name for p in NOTEBOOKS} == EXPECTED


@pytest.mark.timeout(240)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # silence jupyter_core's path migration
    nb = _read(path)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    client.execute()  # a failing cell raises CellExecutionError with its traceback
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors
    shown = [
        str(out.get("data", {}).get("text/html", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    ]
    for marker in RICH_OUTPUTS.get(path.name, ()):
        assert any(marker in html for html in shown), f"{path.name} shows no {marker} table"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = _read(path)
    nbformat.validate(nb)
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code_cells
    for cell in code_cells:
        assert cell.outputs == [], f"{path.name}: cell {cell.get('id')} has stored outputs"
        assert cell.execution_count is None, f"{path.name}: cell {cell.get('id')} was run"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_starts_the_emulator_when_no_dify_is_configured(path: Path) -> None:
    first = next(cell for cell in _read(path).cells if cell.cell_type == "code").source
    assert "DIFY_BASE_URL" in first
    assert "start_emulator()" in first


def test_notebooks_match_their_generator() -> None:
    generator = load_script(GENERATOR)
    assert set(generator.NOTEBOOKS) == EXPECTED
    assert generator.main(["--check"]) == 0, "run: .venv/bin/python scripts/make_notebooks.py"
