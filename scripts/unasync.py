"""Generate the sync clients from the async ones (httpcore's unasync approach).

``dify_transport/_async/*.py`` is the source; ``dify_transport/_sync/*.py`` is written
from it by token substitutions, then formatted with ruff. ``--check`` fails (exit 1)
when a generated file differs from what this script would write, so the twins cannot
drift (``make test`` runs it).

    python scripts/unasync.py          # regenerate
    python scripts/unasync.py --check  # verify
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "dify_transport" / "_async"
TARGET = ROOT / "dify_transport" / "_sync"

SUBSTITUTIONS: list[tuple[str, str]] = [
    (r"\bAsyncDifyKnowledgeClient\b", "DifyKnowledgeClient"),
    (r"\bAsyncDifyClient\b", "DifyClient"),
    (r"\bAsyncAppEndpoints1x\b", "AppEndpoints1x"),
    (r"\bAsync(Knowledge(?:Documents|Meta|Ingest))\b", r"\1"),
    (r"\bAsyncAPIClient\b", "SyncAPIClient"),
    (r"\bAsyncStream\b", "Stream"),
    (r"\bAsyncClosing\b", "Closing"),
    (r"\bAsyncResumer\b", "Resumer"),
    (r"\bAsyncStop\b", "Stop"),
    (r"\bAsyncSleep\b", "Sleep"),
    (r"\bAsyncIterator\b", "Iterator"),
    (r"\bhttpx\.AsyncClient\b", "httpx.Client"),
    (r"\bAsyncShardedTransport\b", "ShardedTransport"),
    (r"\bhttpx\.AsyncHTTPTransport\b", "httpx.HTTPTransport"),
    (r"\bhttpx\.AsyncBaseTransport\b", "httpx.BaseTransport"),
    (r"\bhttpx\.AsyncByteStream\b", "httpx.SyncByteStream"),
    (r"\bhandle_async_request\b", "handle_request"),
    (r"\b__aiter__\b", "__iter__"),
    (r"\basync_sleep\b", "sleep"),
    (r"\bcurrent_async_loop\b", "no_loop"),
    (r"\basync_deadline\b", "sync_deadline"),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\baclose\b", "close"),
    (r"\baread\b", "read"),
    (r"\basync def\b", "def"),
    (r"\basync for\b", "for"),
    (r"\basync with\b", "with"),
    (r"\bawait ", ""),
    (r"\bdify_transport\._async\b", "dify_transport._sync"),
    (r"\bdify_transport/_async/", "dify_transport/_sync/"),
    (r"\bAsynchronous\b", "Synchronous"),
    (r"\basynchronous\b", "synchronous"),
]
"""Applied in order to every line of the source."""

_COMPILED = [(re.compile(pattern), new) for pattern, new in SUBSTITUTIONS]


def header(source: Path) -> str:
    rel = source.relative_to(ROOT).as_posix()
    return f"# Generated from {rel} by scripts/unasync.py.\n# Do not edit: edit the source.\n"


def unasync_text(text: str) -> str:
    """The sync twin of one async module's text (before formatting)."""
    for pattern, new in _COMPILED:
        text = pattern.sub(new, text)
    return text


def _ruff(args: list[str], text: str, target: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(target), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode not in (0, 1) or not done.stdout:
        raise SystemExit(f"ruff failed on {target.name}: {done.stderr}")
    return done.stdout


def formatted(text: str, target: Path) -> str:
    """``text`` with imports sorted and formatted by ruff (the project's settings)."""
    text = _ruff(["check", "--fix-only", "--select", "I,UP028", "--unsafe-fixes"], text, target)
    return _ruff(["format"], text, target)


def expected() -> dict[Path, str]:
    """Every generated file and the text it must hold."""
    out: dict[Path, str] = {}
    for source in sorted(SOURCE.glob("_*.py")):
        if source.name == "__init__.py":
            continue
        target = TARGET / source.name
        out[target] = header(source) + formatted(unasync_text(source.read_text()), target)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a generated file differs")
    args = parser.parse_args(argv)
    wanted = expected()
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text() != text]
    extra = [p for p in TARGET.glob("_*.py") if p not in wanted and p.name != "__init__.py"]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} differs from its async source: run scripts/unasync.py")
        for path in extra:
            print(f"{path.relative_to(ROOT)} has no async source in {SOURCE.relative_to(ROOT)}")
        return 1 if stale or extra else 0
    TARGET.mkdir(exist_ok=True)
    for path in stale:
        path.write_text(wanted[path])
        print(f"wrote {path.relative_to(ROOT)}")
    for path in extra:
        path.unlink()
        print(f"removed {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
