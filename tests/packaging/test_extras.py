"""Install only your framework: the extras, and the one-line errors when one is missing.

Each check runs in a fresh interpreter where the framework import is blocked
(``sys.modules[name] = None`` makes ``import name`` fail as if it were not
installed), so the environment of this test run does not matter.
``make check-extras`` checks the same against real installs of the built wheel.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("package", "blocked", "extra"),
    [
        ("langchain_dify", "langchain_core", "langchain"),
        ("llama_index_dify", "llama_index.core", "llama-index"),
        ("llama_index_dify", "llama_index", "llama-index"),
    ],
)
def test_missing_framework_names_the_extra(package: str, blocked: str, extra: str) -> None:
    proc = run(
        f"""
        import sys
        sys.modules[{blocked!r}] = None
        try:
            import {package}
        except ImportError as exc:
            print(exc)
        else:
            print("imported")
        """
    )
    assert proc.returncode == 0, proc.stderr
    message = proc.stdout.strip()
    assert "\n" not in message, "one line"
    assert message.endswith(f"pip install 'dify-integrations[{extra}]'"), message


def test_the_message_is_the_last_line_of_an_uncaught_import() -> None:
    proc = run("import sys; sys.modules['langchain_core'] = None; import langchain_dify")
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last == (
        "ImportError: langchain_dify needs langchain-core: "
        "pip install 'dify-integrations[langchain]'"
    )


@pytest.mark.parametrize(
    ("package", "absent"),
    [
        ("dify_transport", ("langchain_core", "llama_index", "langgraph", "h11")),
        ("langchain_dify", ("llama_index", "langgraph")),
        ("llama_index_dify", ("langchain_core", "langchain", "langgraph")),
    ],
)
def test_a_package_imports_only_its_own_framework(package: str, absent: tuple[str, ...]) -> None:
    proc = run(
        f"""
        import sys
        import {package}
        print(sorted({{m.split(".")[0] for m in sys.modules}} & {set(absent)!r}))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_require_langgraph_names_the_extra() -> None:
    proc = run(
        """
        import sys
        sys.modules["langgraph"] = None
        from langchain_dify._optional import require_langgraph
        try:
            require_langgraph("langgraph.graph")
        except ImportError as exc:
            print(exc)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == (
        "this feature needs langgraph: pip install 'dify-integrations[langgraph]'"
    )


def test_require_langgraph_imports_when_installed() -> None:
    from langchain_dify._optional import require_langgraph

    graph = require_langgraph("langgraph.graph")
    assert graph.__name__ == "langgraph.graph"
    assert hasattr(graph, "StateGraph")
    with pytest.raises(ValueError, match="langgraph modules only"):
        require_langgraph("langchain_core")


def _names(requirements: list[str]) -> set[str]:
    return {
        req.split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip() for req in requirements
    }


def test_core_runtime_is_httpx_and_pydantic_only() -> None:
    assert _names(PYPROJECT["project"]["dependencies"]) == {"httpx", "pydantic"}


def test_each_framework_is_its_own_extra() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert _names(extras["langchain"]) == {"langchain-core"}
    assert _names(extras["llama-index"]) == {"llama-index-core"}
    assert _names(extras["langgraph"]) == {"dify-integrations", "langgraph"}
    assert "dify-integrations[langchain]" in extras["langgraph"]
    assert extras["all"] == ["dify-integrations[langchain,langgraph,llama-index]"]
    assert "dify-integrations[all,emulator]" in extras["dev"]
    assert not any("llama" in req for req in extras["langchain"] + extras["langgraph"])
    assert not any("langchain" in req for req in extras["llama-index"])


def test_the_examples_extra_serves_the_proxy_and_dev_installs_it() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert _names(extras["examples"]) == {"dify-integrations", "starlette", "uvicorn", "websockets"}
    assert "dify-integrations[examples]" in extras["dev"]
    assert "playwright" in _names(extras["dev"])


def test_supported_pythons_are_classifiers() -> None:
    classifiers = PYPROJECT["project"]["classifiers"]
    for version in ("3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in classifiers
