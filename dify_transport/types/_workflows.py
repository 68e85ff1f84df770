"""Workflow run detail and workflow logs (``GET /workflows/run/{id}``, ``/workflows/logs``)."""

# Pydantic copies list/dict defaults per instance; ruff cannot see across files that
# DifyModel is a BaseModel (as it could in the single-module types.py), hence:
# ruff: noqa: RUF012

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from dify_transport.display import workflow_run_html, workflow_run_markdown
from dify_transport.types._common import DifyModel, _from_json_text, _to_timestamp

__all__ = [
    "WorkflowLogPage",
    "WorkflowRun",
]


class WorkflowRun(DifyModel):
    """A workflow run's detail (``GET /workflows/run/{id}``), either wire generation."""

    id: str | None = None
    """Run id."""
    workflow_id: str | None = None
    """Workflow (version) id."""
    status: str | None = None
    """``running``, ``succeeded``, ``failed``, ``stopped``, ``partial-succeeded``."""
    inputs: dict[str, Any] | None = None
    """Inputs incl. ``sys.*`` keys (decoded from Dify's JSON string)."""
    outputs: dict[str, Any] | None = None
    """Outputs (decoded from a JSON string when needed)."""
    error: str | None = None
    """Error text of a failed run."""
    total_steps: int | None = None
    """Number of node executions."""
    total_tokens: int | None = None
    """Tokens used."""
    created_at: int | None = None
    """Start, Unix seconds (0.15's RFC-822 strings are converted)."""
    finished_at: int | None = None
    """End, Unix seconds."""
    elapsed_time: float | None = None
    """Seconds the run took."""

    @field_validator("inputs", "outputs", mode="before")
    @classmethod
    def _json_text(cls, value: object) -> object:
        return _from_json_text(value)

    @field_validator("created_at", "finished_at", mode="before")
    @classmethod
    def _timestamps(cls, value: object) -> object:
        return _to_timestamp(value)

    def _repr_html_(self) -> str:
        """Notebook display: status, duration, steps, tokens, outputs."""
        return workflow_run_html(self)

    def _repr_markdown_(self) -> str:
        """Notebook display in Markdown."""
        return workflow_run_markdown(self)


class WorkflowLogPage(DifyModel):
    """A page of workflow logs (``GET /workflows/logs``)."""

    page: int = 1
    """Page number (1-based)."""
    limit: int = 20
    """Page size."""
    total: int = 0
    """Number of log entries."""
    has_more: bool = False
    """True when later pages exist."""
    data: list[dict[str, Any]] = []
    """Entries as Dify sent them (``workflow_run``, ``created_by_end_user``, ...)."""
