"""``make check-extras``: install only your framework, checked against real installs.

Builds the wheel (``python -m build`` when available, else ``pip wheel --no-deps``;
hatchling is the backend) and installs it into fresh venvs under a temporary
directory, one per extra:

- ``[langchain]``: no ``llama_index`` package is installed, ``from langchain_dify
  import ChatDify`` works, and ``import llama_index_dify`` fails with one line naming
  ``dify-integrations[llama-index]``;
- ``[llama-index]``: no ``langchain`` package is installed, ``import llama_index_dify``
  works, and ``import langchain_dify`` names ``dify-integrations[langchain]``;
- no extra: ``import dify_transport`` works with httpx and pydantic alone.

Then it prints the size of each venv's site-packages (``du -sk``; the venvs are made
without pip, which installs into them from outside, so only the packages count) next
to a venv holding ``langchain-openai``, measured the same way, and the ratio
``[langchain]`` / ``langchain-openai`` (target: at most 1.1). Needs the package index.
Exits 1 when a check fails; ``--keep`` leaves the temporary directory for inspection.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.1
BASELINE = "langchain-openai"
# extra, distributions it must not pull in, code that must run, the other adapter, its extra
EXTRAS = [
    ("langchain", ("llama-index", "langgraph"), "from langchain_dify import ChatDify",
     "llama_index_dify", "llama-index"),
    ("llama-index", ("langchain",), "from llama_index_dify import DifyChatEngine",
     "langchain_dify", "langchain"),
]  # fmt: skip


class CheckError(Exception):
    """A check on an installed extra did not hold."""


def run(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, check=False, timeout=900
    )
    if check and proc.returncode != 0:
        raise CheckError(f"{' '.join(map(str, args))}\n{proc.stdout}\n{proc.stderr}")
    return proc


def build_wheel(out: Path) -> Path:
    if importlib.util.find_spec("build") is not None:
        run(sys.executable, "-m", "build", "--wheel", "--outdir", out, ROOT)
    else:
        run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--wheel-dir", out, ROOT)
    (wheel,) = out.glob("dify_integrations-*.whl")
    return wheel


class Venv:
    """A fresh venv without pip; the running interpreter's pip installs into it."""

    def __init__(self, root: Path, name: str) -> None:
        self.path = root / name
        self.name = name
        run(sys.executable, "-m", "venv", "--without-pip", self.path)
        self.python = self.path / "bin" / "python"
        purelib = run(
            self.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
        )
        self.site_packages = Path(purelib.stdout.strip())

    def install(self, *requirements: str) -> None:
        run(
            sys.executable, "-m", "pip", "--python", self.python, "install", "-q",
            "--disable-pip-version-check", *requirements,
        )  # fmt: skip

    def distributions(self) -> set[str]:
        code = (
            "import importlib.metadata as m; "
            "print('\\n'.join(sorted({d.metadata['Name'].lower() for d in m.distributions()})))"
        )
        return set(run(self.python, "-c", code).stdout.split())

    def python_ok(self, code: str) -> None:
        run(self.python, "-c", code)

    def import_error(self, module: str) -> str:
        proc = run(self.python, "-c", f"import {module}", check=False)
        if proc.returncode == 0:
            raise CheckError(f"{self.name}: `import {module}` should fail")
        return proc.stderr.strip().splitlines()[-1]

    def size_kib(self) -> int:
        if shutil.which("du"):
            return int(run("du", "-sk", self.site_packages).stdout.split()[0])
        return sum(p.lstat().st_blocks * 512 for p in self.site_packages.rglob("*")) // 1024


def expect_no(venv: Venv, prefix: str) -> None:
    found = sorted(d for d in venv.distributions() if d.startswith(prefix))
    if found:
        raise CheckError(f"{venv.name} installed {prefix}* packages: {found}")
    if (venv.site_packages / prefix.replace("-", "_")).exists():
        raise CheckError(f"{venv.name} has a {prefix.replace('-', '_')}/ package")


def expect_hint(venv: Venv, module: str, extra: str) -> str:
    line = venv.import_error(module)
    hint = f"pip install 'dify-integrations[{extra}]'"
    if not line.endswith(hint):
        raise CheckError(f"{venv.name}: `import {module}` said {line!r}, not ...{hint!r}")
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    if run(sys.executable, "-m", "pip", "--version", check=False).returncode != 0:
        print(f"check-extras: {sys.executable} has no pip", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="dify-check-extras-"))
    print(f"check-extras: Python {sysconfig.get_python_version()}, working in {tmp}")
    try:
        wheel = build_wheel(tmp / "dist")
        print(f"  built {wheel.name}")
        sizes: dict[str, int] = {}

        core = Venv(tmp, "core")
        core.install(str(wheel))
        core.python_ok("import dify_transport; dify_transport.DifyClient")
        expect_no(core, "langchain")
        expect_no(core, "llama-index")
        expect_hint(core, "langchain_dify", "langchain")
        sizes["dify-integrations (no extra)"] = core.size_kib()
        print("  ok  no extra: dify_transport imports; no framework installed")

        for extra, absent, works, other, other_extra in EXTRAS:
            venv = Venv(tmp, extra)
            venv.install(f"{wheel}[{extra}]")
            for prefix in absent:
                expect_no(venv, prefix)
            venv.python_ok(works)
            hint = expect_hint(venv, other, other_extra)
            sizes[f"dify-integrations[{extra}]"] = venv.size_kib()
            print(f"  ok  [{extra}]: no {'/'.join(absent)} package; `{works}`")
            print(f"      `import {other}` -> {hint}")

        base = Venv(tmp, "baseline")
        base.install(BASELINE)
        sizes[BASELINE] = base.size_kib()

        print("\nsite-packages sizes (du -sk, venvs without pip):")
        for name, kib in sizes.items():
            print(f"  {name:<34} {kib / 1024:8.1f} MiB")
        ratio = sizes["dify-integrations[langchain]"] / sizes[BASELINE]
        verdict = "ok" if ratio <= TARGET_RATIO else "OVER TARGET"
        print(f"  [langchain] / {BASELINE}: {ratio:.2f}x (target <= {TARGET_RATIO}x) {verdict}")
        return 0 if ratio <= TARGET_RATIO else 1
    except CheckError as failure:
        print(f"check-extras FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
