"""Rich notebook displays: an answer with its cited passages, usage and price; a run's nodes.

Pure string building (no IPython import), every server text escaped; what is shown
and who calls it: docs/architecture.md, "Notebook displays".
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from dify_transport._errors import DifyInputError

if TYPE_CHECKING:
    from dify_transport.types import NodeRun, Result, RetrieverResource, Usage, WorkflowRun

__all__ = [
    "SNIPPET_CHARS",
    "SourceRow",
    "SourcesTable",
    "nodes_html",
    "nodes_markdown",
    "resource_mappings",
    "result_html",
    "result_markdown",
    "source_rows",
    "sources_html",
    "sources_markdown",
    "sources_table",
    "workflow_run_html",
    "workflow_run_markdown",
]

SNIPPET_CHARS = 240
"""Longest passage snippet shown in a sources table (whitespace collapsed)."""

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_STATUS_COLOURS = {
    "succeeded": "#2e7d32",
    "running": "#1565c0",
    "failed": "#c62828",
    "exception": "#c62828",
    "stopped": "#6d4c41",
    "partial-succeeded": "#ef6c00",
    "paused": "#ef6c00",
}
_GREY = "#757575"
_DOT = " \u00b7 "


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One cited passage, reduced to what a table shows."""

    position: int | None
    document: str
    dataset: str | None
    score: float | None
    snippet: str
    segment_id: str | None = None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _snippet(text: object, limit: int) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else flat[: max(limit - 1, 0)].rstrip() + "\u2026"


def _score(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return float(value)


def source_rows(
    sources: Iterable[RetrieverResource | Mapping[str, Any]], *, snippet_chars: int = SNIPPET_CHARS
) -> list[SourceRow]:
    """Rows for a sources table, in the given order.

    Args:
        sources: ``RetrieverResource`` objects or mappings shaped like Dify's
            ``retriever_resources`` entries (``document_name``, ``dataset_name``, ``score``,
            ``content``, ``position``, ``segment_id``); ``title`` / ``document_id`` stand in
            for a missing name, ``page_content`` / ``text`` for missing ``content``.
        snippet_chars: Longest snippet kept per passage.

    Returns:
        One `SourceRow` per source; items that are neither are skipped.
    """
    rows: list[SourceRow] = []
    for item in sources:
        data: Mapping[str, Any]
        if isinstance(item, Mapping):
            data = item
        elif hasattr(item, "model_dump"):
            data = item.model_dump()
        else:
            continue
        content = next(
            (data[k] for k in ("content", "page_content", "text") if _text(data.get(k))), ""
        )
        position = data.get("position")
        rows.append(
            SourceRow(
                position=position if isinstance(position, int) else None,
                document=_text(data.get("document_name"))
                or _text(data.get("title"))
                or _text(data.get("document_id"))
                or "",
                dataset=_text(data.get("dataset_name")),
                score=_score(data.get("score")),
                snippet=_snippet(content, snippet_chars),
                segment_id=_text(data.get("segment_id")),
            )
        )
    return rows


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _md(value: object) -> str:
    """Markdown-safe inline text: HTML entities, escaped punctuation, one line."""
    flat = " ".join(str(value).split())
    return _MD_SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))


def _fmt_score(score: float | None) -> str:
    return "\u2013" if score is None else f"{score:.3f}"


def _html_table(name: str, head: str, rows: Iterable[str]) -> str:
    """The ``dify-{name}`` table: ``head`` holds the header cells, each row is a ``<tr>``."""
    return (
        f'<table class="dify-{name}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def sources_html(rows: Sequence[SourceRow]) -> str:
    """An HTML table: position, document (and dataset), score, passage snippet."""
    if not rows:
        return '<p class="dify-sources-empty"><em>No cited passages.</em></p>'
    body = (
        "<tr>"
        f'<td style="text-align:right">{_e(row.position if row.position is not None else i)}</td>'
        f"<td>{_e(row.document)}"
        + (f'<br><small style="color:{_GREY}">{_e(row.dataset)}</small>' if row.dataset else "")
        + "</td>"
        f'<td style="text-align:right">{_e(_fmt_score(row.score))}</td>'
        f'<td style="text-align:left">{_e(row.snippet)}</td>'
        "</tr>"
        for i, row in enumerate(rows, 1)
    )
    head = '<th>#</th><th>document</th><th>score</th><th style="text-align:left">passage</th>'
    return _html_table("sources", head, body)


def sources_markdown(rows: Sequence[SourceRow]) -> str:
    """The same table in Markdown (every cell escaped, one line each)."""
    if not rows:
        return "_No cited passages._"
    lines = ["| # | document | score | passage |", "|--:|---|--:|---|"]
    for i, row in enumerate(rows, 1):
        document = _md(row.document) + (f" ({_md(row.dataset)})" if row.dataset else "")
        number = row.position if row.position is not None else i
        lines.append(f"| {number} | {document} | {_fmt_score(row.score)} | {_md(row.snippet)} |")
    return "\n".join(lines)


class SourcesTable:
    """A sources table a notebook renders (``_repr_html_``/``_repr_markdown_``); plain text else."""

    def __init__(self, rows: Sequence[SourceRow]) -> None:
        self.rows = list(rows)

    def _repr_html_(self) -> str:
        return sources_html(self.rows)

    def _repr_markdown_(self) -> str:
        return sources_markdown(self.rows)

    def __repr__(self) -> str:
        lines = [
            f"{row.position or i}. {row.document} ({_fmt_score(row.score)}): {row.snippet}"
            for i, row in enumerate(self.rows, 1)
        ]
        return "\n".join(lines) or "No cited passages."


def _usage_parts(usage: Usage | None) -> list[str]:
    if usage is None:
        return []
    parts = []
    if usage.prompt_tokens or usage.completion_tokens:
        parts.append(f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens")
    elif usage.total_tokens:
        parts.append(f"{usage.total_tokens} tokens")
    if usage.total_price is not None:
        parts.append(f"price {usage.total_price} {usage.currency or ''}".rstrip())
    if usage.latency is not None:
        parts.append(f"latency {usage.latency:.2f} s")
    return parts


def _ids(result: Result) -> list[tuple[str, str]]:
    pairs = (
        ("conversation", result.conversation_id),
        ("message", result.message_id),
        ("workflow run", result.workflow_run_id),
    )
    ids = [(name, value) for name, value in pairs if value]
    if result.finish_reason and result.finish_reason != "stop":
        ids.append(("finish", result.finish_reason))
    if result.status:
        ids.append(("status", result.status))
    return ids


def _seconds(value: float | None) -> str:
    if value is None:
        return "\u2013"
    if value < 1:
        return f"{value * 1000:.{3 if value < 0.001 else 1}f} ms"
    return f"{value:.2f} s"


def nodes_html(nodes: Sequence[NodeRun]) -> str:
    """A run's nodes in start order: title, type, status, duration and a duration bar."""
    if not nodes:
        return ""
    longest = max((n.elapsed_time or 0.0 for n in nodes), default=0.0) or 1.0
    rows = []
    for node in nodes:
        status = node.status or "unknown"
        colour = _STATUS_COLOURS.get(status, _GREY)
        width = max(min((node.elapsed_time or 0.0) / longest * 100, 100.0), 0.0)
        extra = f" ({node.retries} retries)" if node.retries else ""
        error = f'<br><small style="color:#c62828">{_e(node.error)}</small>' if node.error else ""
        rows.append(
            "<tr>"
            f'<td style="text-align:left">{_e(node.title or node.node_id or node.id)}{error}</td>'
            f"<td>{_e(node.node_type or '')}</td>"
            f'<td style="color:{colour}">{_e(status)}{_e(extra)}</td>'
            f'<td style="text-align:right">{_e(_seconds(node.elapsed_time))}</td>'
            f'<td style="min-width:8em"><div style="background:{colour};height:0.8em;'
            f'width:{width:.1f}%"></div></td>'
            "</tr>"
        )
    head = (
        '<th style="text-align:left">node</th>'
        "<th>type</th><th>status</th><th>duration</th><th>timeline</th>"
    )
    return _html_table("nodes", head, rows)


def nodes_markdown(nodes: Sequence[NodeRun]) -> str:
    """The node timeline as a Markdown table."""
    if not nodes:
        return ""
    lines = ["| node | type | status | duration |", "|---|---|---|--:|"]
    for node in nodes:
        status = (node.status or "unknown") + (f" ({node.retries} retries)" if node.retries else "")
        title = _md(node.title or node.node_id or node.id)
        if node.error:
            title += f": {_md(node.error)}"
        lines.append(
            f"| {title} | {_md(node.node_type or '')} | {_md(status)} | "
            f"{_seconds(node.elapsed_time)} |"
        )
    return "\n".join(lines)


def _outputs_html(outputs: Mapping[str, Any] | None) -> str:
    if not outputs:
        return ""
    items = (
        f"<tr><td><code>{_e(key)}</code></td>"
        f'<td style="text-align:left;white-space:pre-wrap">{_e(_value(value))}</td></tr>'
        for key, value in outputs.items()
    )
    return _html_table("outputs", '<th>output</th><th style="text-align:left">value</th>', items)


def _outputs_markdown(outputs: Mapping[str, Any] | None) -> list[str]:
    return [f"- **{_md(k)}**: {_md(_value(v))}" for k, v in (outputs or {}).items()]


def _error_html(error: str | None) -> str:
    return f'<p style="color:#c62828">{_e(error)}</p>' if error else ""


def _value(value: object) -> str:
    """An output value as text: strings as they are, anything else as JSON (cut)."""
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 500 else text[:499] + "\u2026"


def result_html(result: Result) -> str:
    """A `Result` as HTML: answer, reasoning (folded), sources, nodes, usage and ids."""
    parts = ['<div class="dify-result">']
    if result.answer:
        parts.append(f'<div style="white-space:pre-wrap">{_e(result.answer)}</div>')
    if result.reasoning:
        parts.append(
            f'<details><summary>reasoning</summary><div style="white-space:pre-wrap">'
            f"{_e(result.reasoning)}</div></details>"
        )
    parts.append(_error_html(result.error))
    if result.retriever_resources or result.message_id:
        parts.append(sources_html(source_rows(result.retriever_resources)))
    if result.outputs and not result.message_id:
        parts.append(_outputs_html(result.outputs))
    parts.append(nodes_html(result.nodes))
    facts = _usage_parts(result.usage) + [f"{k} {v}" for k, v in _ids(result)]
    if facts:
        parts.append(f'<p><small style="color:{_GREY}">{_e(_DOT.join(facts))}</small></p>')
    parts.append("</div>")
    return "".join(parts)


def result_markdown(result: Result) -> str:
    """A `Result` as Markdown: the same parts as `result_html`."""
    parts = [_md_block(result.answer)] if result.answer else []
    if result.error:
        parts.append(f"**error:** {_md(result.error)}")
    if result.retriever_resources or result.message_id:
        parts.append(sources_markdown(source_rows(result.retriever_resources)))
    if result.outputs and not result.message_id:
        parts.extend(_outputs_markdown(result.outputs))
    if result.nodes:
        parts.append(nodes_markdown(result.nodes))
    facts = _usage_parts(result.usage) + [f"{k} {v}" for k, v in _ids(result)]
    if facts:
        parts.append("_" + _md(_DOT.join(facts)) + "_")
    return "\n\n".join(parts)


def _md_block(text: str) -> str:
    """A multi-line answer as Markdown text: each line escaped, line breaks kept."""
    return "  \n".join(_md(line) for line in text.splitlines())


def workflow_run_html(run: WorkflowRun) -> str:
    """A run detail (``get_workflow_run``): status, duration, tokens, steps, outputs."""
    status = run.status or "unknown"
    colour = _STATUS_COLOURS.get(status, _GREY)
    facts = [f"{_seconds(run.elapsed_time)}"]
    if run.total_steps is not None:
        facts.append(f"{run.total_steps} steps")
    if run.total_tokens is not None:
        facts.append(f"{run.total_tokens} tokens")
    parts = [
        '<div class="dify-workflow-run">',
        f"<p><b>run</b> <code>{_e(run.id or '')}</code> "
        f'<span style="color:{colour}">{_e(status)}</span> '
        f"<small>{_e(_DOT.join(facts))}</small></p>",
    ]
    parts += [_error_html(run.error), _outputs_html(run.outputs), "</div>"]
    return "".join(parts)


def workflow_run_markdown(run: WorkflowRun) -> str:
    """The run detail as Markdown."""
    lines = [
        f"**run** {_md(run.id or '')} {_md(run.status or 'unknown')}, "
        f"{_seconds(run.elapsed_time)}, {run.total_steps} steps, {run.total_tokens} tokens"
    ]
    if run.error:
        lines.append(f"**error:** {_md(run.error)}")
    return "\n\n".join(lines + _outputs_markdown(run.outputs))


T = TypeVar("T")


def resource_mappings(metadata: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The ``retriever_resources`` entries a framework message keeps in ``metadata``."""
    resources = metadata.get("retriever_resources")
    return [r for r in resources if isinstance(r, Mapping)] if isinstance(resources, list) else []


def sources_table(
    source: object,
    kind: type[T],
    row: Callable[[T], Mapping[str, Any]],
    snippet_chars: int,
    *,
    items: str,
    takes: str,
) -> SourcesTable:
    """An adapter's ``display_sources`` of one ``kind`` passage (``Document``, ...) or a list.

    ``row`` reads a passage as a ``retriever_resources`` entry; otherwise raise
    ``DifyInputError`` saying the list must hold ``items`` / ``display_sources`` ``takes``.
    """
    listed: list[Any]
    if isinstance(source, kind):
        listed = [source]
    elif isinstance(source, Iterable) and not isinstance(source, str | bytes | Mapping):
        listed = list(source)
        wrong = sorted({type(item).__name__ for item in listed if not isinstance(item, kind)})
        if wrong:
            msg = f"display_sources takes {items}; got {', '.join(wrong)} in the list"
            raise DifyInputError(msg)
    else:
        raise DifyInputError(f"display_sources takes {takes}; got {type(source).__name__}")
    return SourcesTable(source_rows([row(item) for item in listed], snippet_chars=snippet_chars))
