"""An app's input form (``GET /parameters`` ``user_input_form``): fields, JSON Schema, checks.

Framework-neutral: both adapters build tool schemas from `input_schema` and check
inputs with `check_inputs` before anything is sent, so a missing required field, a
wrong type or a value outside a select fails with the field's name, not a Dify 400.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from dify_transport.turns import DifyInputError
from dify_transport.types import AppInfo, AppParameters

__all__ = [
    "AppQuestion",
    "InputField",
    "chat_tool_meta",
    "check_inputs",
    "input_fields",
    "input_model",
    "input_schema",
    "tool_name",
    "workflow_tool_meta",
]

_SLUG = re.compile(r"[^a-zA-Z0-9_-]+")
_STRING_KINDS = frozenset({"text-input", "paragraph", "select"})
_FILE_KINDS = frozenset({"file", "file-list"})


@dataclass(frozen=True, slots=True)
class InputField:
    """One field of an app's input form."""

    variable: str
    """The input variable's name (the key in ``inputs``)."""
    kind: str
    """``text-input``, ``paragraph``, ``select``, ``number``, ``checkbox``, ``file``,
    ``file-list`` (other kinds are passed through unchecked)."""
    label: str = ""
    required: bool = False
    default: Any = None
    max_length: int | None = None
    options: tuple[str, ...] = ()
    file_type: str = "document"
    """For file inputs: the Dify file type sent with a URL (``image``, ``document``, ...)."""
    raw: Mapping[str, Any] = field(default_factory=dict)


def input_fields(parameters: AppParameters | Mapping[str, Any]) -> list[InputField]:
    """The fields of ``user_input_form`` (each entry is ``{kind: {variable, ...}}``)."""
    form = (
        parameters.user_input_form
        if isinstance(parameters, AppParameters)
        else parameters.get("user_input_form") or []
    )
    fields: list[InputField] = []
    for entry in form:
        if not isinstance(entry, Mapping) or len(entry) != 1:
            continue
        ((kind, spec),) = entry.items()
        if not isinstance(spec, Mapping) or not isinstance(spec.get("variable"), str):
            continue
        types = spec.get("allowed_file_types") or []
        fields.append(
            InputField(
                variable=spec["variable"],
                kind=str(spec.get("type") or kind),
                label=str(spec.get("label") or spec["variable"]),
                required=bool(spec.get("required")),
                default=spec.get("default") if spec.get("default") not in ("", None) else None,
                max_length=spec.get("max_length")
                if isinstance(spec.get("max_length"), int)
                else None,
                options=tuple(str(o) for o in spec.get("options") or ()),
                file_type=str(types[0]) if len(types) == 1 else "document",
                raw=dict(spec),
            )
        )
    return fields


def _property(f: InputField) -> dict[str, Any]:
    prop: dict[str, Any] = {"description": f.label}
    if f.kind in _STRING_KINDS:
        prop["type"] = "string"
        if f.options and f.kind == "select":
            prop["enum"] = list(f.options)
        if f.max_length:
            prop["maxLength"] = f.max_length
    elif f.kind == "number":
        prop["type"] = "number"
    elif f.kind == "checkbox":
        prop["type"] = "boolean"
    elif f.kind == "file":
        prop |= {"type": "string", "format": "uri", "description": f"{f.label} (a file URL)"}
    elif f.kind == "file-list":
        prop |= {"type": "array", "items": {"type": "string", "format": "uri"}}
    if f.default is not None:
        prop["default"] = f.default
    return prop


def input_schema(fields: Sequence[InputField], *, title: str = "inputs") -> dict[str, Any]:
    """A JSON Schema (an object) of the form.

    Required fields are required, selects are enums, numbers numbers, files URL strings;
    defaults and max lengths are kept.
    """
    return {
        "title": title,
        "type": "object",
        "properties": {f.variable: _property(f) for f in fields},
        "required": [f.variable for f in fields if f.required],
    }


def _annotation(f: InputField) -> Any:
    if f.kind == "select" and f.options:
        return Literal[f.options]
    if f.kind == "number":
        return float
    if f.kind == "checkbox":
        return bool
    if f.kind == "file-list":
        return list[str]
    return str


def input_model(fields: Sequence[InputField], name: str = "DifyInputs") -> type[BaseModel]:
    """A pydantic model of the form (for frameworks that take a model, e.g. ``fn_schema``).

    Same rules as `input_schema`; optional fields default to the app's default or None.
    """
    definitions: dict[str, Any] = {}
    for f in fields:
        limit = f.max_length if f.kind in _STRING_KINDS else None
        required = f.required and f.default is None
        definitions[f.variable] = (
            _annotation(f) if required else _annotation(f) | None,
            Field(... if required else f.default, description=f.label, max_length=limit),
        )
    model: type[BaseModel] = create_model(name, **definitions)
    return model


def _bad(f: InputField, why: str) -> DifyInputError:
    return DifyInputError(f"Input {f.variable!r} ({f.label}) {why}")


def _url_file(f: InputField, value: object) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)  # a FileInput dict as Dify takes it
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise _bad(f, f"must be a file URL (http/https), got {value!r}")
    return {"type": f.file_type, "transfer_method": "remote_url", "url": value}


def _checked(f: InputField, value: object) -> object:
    if f.kind in _STRING_KINDS:
        if not isinstance(value, str):
            raise _bad(f, f"must be a string, got {type(value).__name__}")
        if f.max_length and len(value) > f.max_length:
            raise _bad(f, f"is {len(value)} characters long; the app allows {f.max_length}")
        if f.kind == "select" and f.options and value not in f.options:
            raise _bad(f, f"must be one of {list(f.options)}, got {value!r}")
        return value
    if f.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _bad(f, f"must be a number, got {type(value).__name__}")
        try:
            number = float(value)
        except ValueError:
            raise _bad(f, f"must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise _bad(f, "must be a finite number")
        return value if not isinstance(value, str) else number
    if f.kind == "checkbox":
        if not isinstance(value, bool):
            raise _bad(f, f"must be true or false, got {value!r}")
        return value
    if f.kind == "file":
        return _url_file(f, value)
    if f.kind == "file-list":
        if not isinstance(value, list | tuple):
            raise _bad(f, "must be a list of file URLs")
        return [_url_file(f, v) for v in value]
    return value


def check_inputs(fields: Sequence[InputField], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``inputs`` against the form before anything is sent.

    Args:
        fields: The app's form (`input_fields`).
        inputs: The caller's values (unknown keys are passed through: Dify ignores them).

    Returns:
        The inputs to send: file URLs as ``remote_url`` file dicts, numeric strings as
        numbers.

    Raises:
        DifyInputError: A required field is missing, or a value has the wrong type, is
            too long, or is not one of a select's options (the message names the field).
    """
    out = dict(inputs)
    for f in fields:
        value = out.get(f.variable)
        if value is None or value == "":
            if f.required and f.default is None:
                raise _bad(f, "is required")
            out.pop(f.variable, None)
            continue
        out[f.variable] = _checked(f, value)
    return out


def tool_name(app_name: str | None, fallback: str = "dify_app") -> str:
    """A tool name from an app's name, as tool-calling models require: ``^[a-zA-Z0-9_-]{1,64}$``."""
    slug = _SLUG.sub("_", (app_name or "").strip()).strip("_")[:64]
    return slug or fallback


class AppQuestion(BaseModel):
    """The argument schema of a chat app's tool, in both adapters."""

    query: str = Field(description="The question or message for the app")


def chat_tool_meta(
    info: AppInfo | None, name: str | None, description: str | None
) -> tuple[str, str]:
    """A chat app tool's name and description: the given ones, else from the app's info."""
    app = info.name if info is not None else None
    slug = name or tool_name(app, "dify_chat")
    about = (info.description if info is not None else None) or (
        f"Asks the Dify app {app or slug} a question and returns its answer"
    )
    return slug, description or about


def workflow_tool_meta(info: AppInfo, name: str | None, description: str | None) -> tuple[str, str]:
    """A workflow app tool's name and description: the given ones, else from the app's info."""
    slug = name or tool_name(info.name, "dify_workflow")
    return slug, description or info.description or f"Runs the Dify workflow {info.name}"
