"""Notebook displays: a chat Result, a workflow run, and the frameworks' sources helpers.

Checked through ``_repr_html_`` / ``_repr_markdown_`` as Jupyter calls them, with
answers from the emulator and with hostile strings that must show as text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from langchain_core.documents import Document
from langchain_core.messages import AIMessage
from llama_index.core.schema import NodeWithScore, TextNode

from dify_emulator import Emulator
from dify_transport import DifyClient, Result
from dify_transport.display import SourcesTable, source_rows
from dify_transport.turns import DifyInputError
from dify_transport.types import WorkflowRun
from langchain_dify import ChatDify
from langchain_dify import DifyKnowledgeRetriever as LcKnowledgeRetriever
from langchain_dify import DifyRetriever as LcRetriever
from langchain_dify import display_sources as lc_display_sources
from llama_index_dify import DifyKnowledgeRetriever as LiKnowledgeRetriever
from llama_index_dify import DifyLLM
from llama_index_dify import display_sources as li_display_sources

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> & | *bold* `tick` [a](b)'


class _Table(HTMLParser):
    """Collect the tags and the cell texts of rendered HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(name for name, _ in attrs)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(markup: str) -> _Table:
    table = _Table()
    table.feed(markup)
    table.close()
    return table


def body_rows(markup: str, css_class: str) -> list[list[str]]:
    match = re.search(rf'<table class="{css_class}">.*?</table>', markup, re.S)
    assert match, f"no {css_class} table in {markup[:200]}"
    return parse(match.group(0)).rows[1:]


@pytest.fixture
def chat(emulator: Emulator) -> Iterator[DifyClient]:
    with DifyClient(api_key=emulator.keys.chat, base_url=emulator.base_url) as client:
        yield client


# -- a chat Result -------------------------------------------------------------------------


def test_a_chat_result_renders_answer_sources_usage_and_price(chat: DifyClient) -> None:
    result = chat.stream_chat("Why is the sky blue?", user="display-test").final()
    assert result.retriever_resources, "the emulator cites its knowledge base"
    markup = result._repr_html_()
    rows = body_rows(markup, "dify-sources")
    assert [row[1] for row in rows] == [
        f"{r.document_name}{r.dataset_name}" for r in result.retriever_resources
    ]
    assert [float(row[2]) for row in rows] == [
        pytest.approx(r.score, abs=5e-4) for r in result.retriever_resources
    ]
    assert rows[0][3] in " ".join((result.retriever_resources[0].content or "").split())
    assert html.escape(result.answer) in markup
    assert result.usage is not None
    assert f"price {result.usage.total_price} USD" in markup
    assert f"{result.usage.prompt_tokens} prompt + {result.usage.completion_tokens}" in markup
    markdown = result._repr_markdown_()
    assert "| # | document | score | passage |" in markdown
    assert markdown.count("\n| ") == len(result.retriever_resources) + 1
    assert "sky" in markdown


def test_hostile_strings_render_as_text() -> None:
    result = Result.model_validate(
        {
            "answer": HOSTILE,
            "reasoning": HOSTILE,
            "message_id": "m1",
            "retriever_resources": [
                {
                    "document_name": HOSTILE,
                    "dataset_name": HOSTILE,
                    "score": 0.5,
                    "content": HOSTILE,
                }
            ],
            "usage": {"total_tokens": 3, "currency": '"><script>'},
            "nodes": [{"id": "n1", "title": HOSTILE, "status": '"><b>', "error": HOSTILE}],
        }
    )
    markup = result._repr_html_()
    parsed = parse(markup)
    assert not {"script", "img", "a"} & set(parsed.tags)
    assert set(parsed.attrs) <= {"class", "style"}, "no event handler or link attribute"
    assert html.escape(HOSTILE) in markup
    rows = body_rows(markup, "dify-sources")
    assert rows[0][1] == HOSTILE + HOSTILE  # document name, then the dataset (text, not markup)
    assert body_rows(markup, "dify-nodes")[0][0] == HOSTILE + HOSTILE  # title, then the error
    markdown = result._repr_markdown_()
    assert "<script>" not in markdown
    assert "<img" not in markdown
    table = [line for line in markdown.splitlines() if line.startswith("| 1 |")]
    assert len(table) == 1
    assert table[0].count(" | ") == 3, "a | in a passage must not add a column"


def test_source_rows_accept_models_and_mappings_and_cut_snippets() -> None:
    rows = source_rows(
        [
            {"title": "T", "page_content": "word " * 200, "score": 1},
            {"document_id": "doc-1", "text": "short"},
            "not a source",
        ],
        snippet_chars=20,
    )
    assert [(r.document, r.score, r.snippet) for r in rows] == [
        ("T", 1.0, "word word word word\u2026"),
        ("doc-1", None, "short"),
    ]
    assert "No cited passages" in SourcesTable([])._repr_html_()


# -- a workflow run ------------------------------------------------------------------------


def test_a_workflow_run_renders_a_node_timeline(emulator: Emulator) -> None:
    with DifyClient(api_key=emulator.keys.workflow, base_url=emulator.base_url) as client:
        result = client.stream_workflow(user="display-test", inputs={"text": "sky"}).final()
        run = client.get_workflow_run(result.workflow_run_id or "")
    assert [n.title for n in result.nodes] == ["Start", "LLM", "End"]
    markup = result._repr_html_()
    rows = body_rows(markup, "dify-nodes")
    assert [(row[0], row[1], row[2]) for row in rows] == [
        ("Start", "start", "succeeded"),
        ("LLM", "llm", "succeeded"),
        ("End", "end", "succeeded"),
    ]
    assert all(row[3].endswith(" ms") for row in rows)
    assert len(re.findall(r"[^-]width:[\d.]+%", markup)) == 3  # one duration bar per node
    assert "dify-sources" not in markup  # a workflow cites nothing: no empty table
    outputs = body_rows(markup, "dify-outputs")
    assert ["result", result.outputs["result"]] in outputs  # type: ignore[index]
    assert "| LLM | llm | succeeded |" in result._repr_markdown_()
    (llm_row,) = body_rows(result.nodes[1]._repr_html_(), "dify-nodes")
    assert llm_row[:3] == ["LLM", "llm", "succeeded"]
    detail = run._repr_html_()
    assert "succeeded" in detail
    assert "3 steps" in detail
    assert run.outputs
    assert html.escape(str(run.outputs["result"])) in detail
    assert "succeeded" in run._repr_markdown_()


def test_a_failed_node_shows_its_status_and_error() -> None:
    run = WorkflowRun.model_validate({"id": "r", "status": "failed", "error": "<boom>"})
    assert "&lt;boom&gt;" in run._repr_html_()
    result = Result.model_validate(
        {
            "workflow_run_id": "r",
            "status": "failed",
            "nodes": [
                {"id": "a", "title": "Code", "status": "failed", "error": "bad", "retries": 2}
            ],
        }
    )
    (row,) = body_rows(result._repr_html_(), "dify-nodes")
    assert row[0] == "Codebad"
    assert row[2] == "failed (2 retries)"


# -- the frameworks' helpers ---------------------------------------------------------------


def test_langchain_helper_renders_an_ai_messages_sources(emulator: Emulator) -> None:
    with ChatDify(api_key=emulator.keys.chat, base_url=emulator.base_url, user="display") as llm:
        message = llm.invoke("Why is the sky blue?")
    resources = message.response_metadata["retriever_resources"]
    assert resources
    table = lc_display_sources(message)
    rows = body_rows(table._repr_html_(), "dify-sources")
    assert [row[1] for row in rows] == [r["document_name"] + r["dataset_name"] for r in resources]
    assert "sky.txt" in table._repr_markdown_()
    assert "sky.txt" in repr(table)
    assert "No cited passages" in lc_display_sources(AIMessage("no sources"))._repr_html_()


def test_langchain_helper_renders_a_retrievers_documents(emulator: Emulator) -> None:
    knowledge = LcKnowledgeRetriever(
        api_key=emulator.keys.dataset,
        base_url=emulator.base_url,
        dataset_id=emulator.dataset_id,
        k=3,
    )
    with knowledge:
        docs = knowledge.invoke("Why is the sky blue?")
    rows = body_rows(lc_display_sources(docs)._repr_html_(), "dify-sources")
    assert [row[1] for row in rows] == [d.metadata["document_name"] for d in docs]
    assert [float(row[2]) for row in rows] == [
        pytest.approx(d.metadata["score"], abs=5e-4) for d in docs
    ]
    with LcRetriever(api_key=emulator.keys.chat, base_url=emulator.base_url, k=2) as cited:
        cited_docs = cited.invoke("How does Dify stream text?")
    assert len(body_rows(lc_display_sources(cited_docs)._repr_html_(), "dify-sources")) == 2
    single = lc_display_sources(Document(page_content=HOSTILE, metadata={"document_name": "x"}))
    assert html.escape(HOSTILE) in single._repr_html_()


def test_llama_index_helper_renders_nodes_and_responses(emulator: Emulator) -> None:
    retriever = LiKnowledgeRetriever(
        api_key=emulator.keys.dataset,
        base_url=emulator.base_url,
        dataset_id=emulator.dataset_id,
        similarity_top_k=3,
    )
    nodes = retriever.retrieve("Why is the sky blue?")
    rows = body_rows(li_display_sources(nodes)._repr_html_(), "dify-sources")
    assert [row[1] for row in rows] == [n.node.metadata["document_name"] for n in nodes]
    assert [float(row[2]) for row in rows] == [pytest.approx(n.score, abs=5e-4) for n in nodes]
    llm = DifyLLM(api_key=emulator.keys.chat, base_url=emulator.base_url, user="display")
    from llama_index.core.llms import ChatMessage

    reply = llm.chat([ChatMessage(role="user", content="Why is the sky blue?")])
    llm.close()
    resources = reply.additional_kwargs["retriever_resources"]
    rows = body_rows(li_display_sources(reply)._repr_html_(), "dify-sources")
    assert [row[1] for row in rows] == [r["document_name"] + r["dataset_name"] for r in resources]
    one = NodeWithScore(node=TextNode(text="plain", metadata={"title": "T"}), score=0.25)
    assert "0.250" in li_display_sources(one)._repr_html_()


@pytest.mark.parametrize("helper", [lc_display_sources, li_display_sources])
def test_helpers_name_what_they_take(helper: object) -> None:
    with pytest.raises(DifyInputError, match="display_sources takes"):
        helper(42)  # type: ignore[operator]
    with pytest.raises(DifyInputError, match="got str in the list"):
        helper(["a passage"])  # type: ignore[operator]
