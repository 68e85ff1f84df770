"""The sync clients are generated from the async ones; hand edits to either twin are caught."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "unasync.py"


def _load_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("unasync_script", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_sync_clients_match_their_async_source() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_async_module_has_its_generated_twin() -> None:
    wanted = _load_script().expected()
    names = {path.name for path in wanted}
    assert names == {
        "_engine.py",
        "_app_client.py",
        "_app_client_1x.py",
        "_knowledge_client.py",
        "_pool.py",
    }
    for text in wanted.values():
        assert "async def" not in text
        assert "await " not in text
