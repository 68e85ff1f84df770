"""Package surface: exports, layering, secrets."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import langchain_dify
from langchain_dify import ChatDify, DifyChatMessageHistory, DifyKnowledgeRetriever, DifyRetriever

PACKAGE = Path(langchain_dify.__file__).parent

EXPECTED_ALL = [
    "DEFAULT_USER",
    "ChatDify",
    "DifyAPIConnectionError",
    "DifyAPIError",
    "DifyAPITimeoutError",
    "DifyAuthenticationError",
    "DifyBadRequestError",
    "DifyChatMessageHistory",
    "DifyContentTooLargeError",
    "DifyIncompleteStreamError",
    "DifyInputError",
    "DifyInternalServerError",
    "DifyKnowledgeRetriever",
    "DifyNotFoundError",
    "DifyPermissionDeniedError",
    "DifyRateLimitError",
    "DifyRetriever",
    "DifyUnsupportedMediaTypeError",
    "InMemorySessionStore",
    "SessionStore",
    "DifyCompletion",
    "DifyWorkflow",
    "DifyWorkflowPausedError",
    "DifyKnowledgeBase",
    "display_sources",
    "DifyAppTool",
    "DifyChatPausedError",
    "DifyToolException",
]


def test_all_is_explicit_and_importable() -> None:
    assert sorted(langchain_dify.__all__) == sorted(EXPECTED_ALL)
    for name in langchain_dify.__all__:
        assert getattr(langchain_dify, name) is not None


def test_never_imports_llama_index() -> None:
    code = "import sys, langchain_dify; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", "import json;" + code],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert not [m for m in json.loads(out) if m.startswith("llama_index")]


def test_httpx_is_only_imported_for_type_checking() -> None:
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only; TYPE_CHECKING blocks are `if` nodes
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] != "httpx" for a in node.names), path
            if isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] not in {"httpx", "llama_index"}, path


def test_modules_stay_small() -> None:
    for path in PACKAGE.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 600, path


def test_key_never_leaks() -> None:
    secret = "app-super-secret-key"
    llm = ChatDify(api_key=secret, model="m")
    assert secret not in repr(llm)
    assert secret not in str(llm)
    assert secret not in str(llm.asdict())
    assert secret not in str(llm._identifying_params)
    assert secret not in str(llm._get_ls_params())
    assert secret not in json.dumps(llm.to_json(), default=str)
    assert secret not in llm.model_dump_json()
    for retriever in (
        DifyRetriever(api_key=secret),
        DifyKnowledgeRetriever(api_key=secret, dataset_id="d"),
    ):
        assert secret not in repr(retriever)
        assert secret not in retriever.model_dump_json()
    history = DifyChatMessageHistory("c1", api_key=secret)
    assert secret not in repr(history)


def test_default_user_is_the_transports_shared_one() -> None:
    import dify_transport

    assert langchain_dify.DEFAULT_USER == dify_transport.DEFAULT_USER == "dify-integrations"
    assert ChatDify().user == dify_transport.DEFAULT_USER
    assert DifyRetriever().user == dify_transport.DEFAULT_USER
    assert DifyChatMessageHistory().user == dify_transport.DEFAULT_USER
