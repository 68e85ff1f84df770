"""Documents with metadata into a knowledge base: the pure rules (no I/O).

`add_documents` on the knowledge clients creates one Dify document per `TextDocument`,
keeps its metadata as Dify document metadata and waits for indexing. Dify stores
metadata in typed fields (``string``, ``number``, ``time``) that must exist first, so:

* ``str`` -> ``string``; ``int`` / ``float`` -> ``number``; ``datetime`` / ``date`` ->
  ``time`` (Unix seconds); ``bool`` -> ``string`` (``"true"`` / ``"false"``);
* ``None``, lists, dicts and other values are not kept (Dify has no such type; logged at
  DEBUG);
* a key that is a built-in field name (``document_name``, ``uploader``, ``upload_date``,
  ``last_update_date``, ``source``) is kept as ``doc_<key>`` (e.g. a loader's ``source``
  becomes ``doc_source``), as Dify refuses those names;
* a missing field is created with the type of the first value seen; a value that does not
  fit an existing field's type is not kept.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Final

from dify_transport._constants import LOGGER_NAME
from dify_transport._errors import DifyConfigError
from dify_transport.types import MetadataField

__all__ = [
    "BUILT_IN_NAMES",
    "NAME_LIMIT",
    "RESERVED_PREFIX",
    "TextDocument",
    "dify_key",
    "dify_value",
    "document_name",
    "field_type",
    "missing_fields",
    "operations",
]

_log = logging.getLogger(LOGGER_NAME)

BUILT_IN_NAMES: Final = frozenset(
    {"document_name", "uploader", "upload_date", "last_update_date", "source"}
)
"""Dify's built-in metadata field names (a custom field may not use them)."""
RESERVED_PREFIX: Final = "doc_"
"""Prefix of a metadata key that is a built-in field name."""
NAME_LIMIT: Final = 255
"""Dify's longest document name."""
_NAME_KEYS: Final = ("title", "file_name", "file_path", "source")


@dataclass(frozen=True, slots=True)
class TextDocument:
    """One document to add: its name, text and metadata."""

    name: str
    text: str
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            msg = f"Document {self.name!r} has no text; Dify cannot index an empty document."
            raise DifyConfigError(msg)
        if not isinstance(self.name, str) or not self.name.strip():
            raise DifyConfigError("A document needs a non-empty name.")


def document_name(metadata: Mapping[str, Any], doc_id: str | None, number: int) -> str:
    """A document's Dify name: its title, a file name, its id, or ``document-<number>.txt``."""
    for key in _NAME_KEYS:
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            name = value if key == "title" else PurePath(value).name
            if name:
                return name[:NAME_LIMIT]
    return (doc_id or f"document-{number}.txt")[:NAME_LIMIT]


def dify_key(key: str) -> str:
    """The Dify field name for a metadata key (built-in names get ``doc_``)."""
    return f"{RESERVED_PREFIX}{key}" if key in BUILT_IN_NAMES else key


def field_type(value: Any) -> str | None:
    """The Dify field type for a value (None: Dify cannot keep it)."""
    if isinstance(value, bool | str):
        return "string"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dt.date):
        return "time"
    return None


def dify_value(value: Any, kind: str) -> Any:
    """``value`` as a field of type ``kind`` stores it, or None when it does not fit."""
    if isinstance(value, bool):
        return ("true" if value else "false") if kind == "string" else None
    if kind == "string":
        return value if isinstance(value, str) else str(value) if field_type(value) else None
    if kind == "number":
        return value if isinstance(value, int | float) else None
    if kind == "time":
        if isinstance(value, dt.datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
            return int(moment.timestamp())
        if isinstance(value, dt.date):
            return int(dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp())
        return int(value) if isinstance(value, int | float) else None
    return None


def missing_fields(
    docs: Sequence[TextDocument], existing: Sequence[MetadataField]
) -> dict[str, str]:
    """``{field name: type}`` of the fields to create for ``docs``."""
    have = {f.name for f in existing}
    out: dict[str, str] = {}
    for doc in docs:
        for key, value in doc.metadata.items():
            name, kind = dify_key(str(key)), field_type(value)
            if kind is None:
                _log.debug("metadata %r of %r not kept: Dify has no type for %r",
                           key, doc.name, type(value).__name__)  # fmt: skip
            elif name not in have and name not in out:
                out[name] = kind
    return out


def operations(
    pairs: Sequence[tuple[str, TextDocument]], fields: Sequence[MetadataField]
) -> list[dict[str, Any]]:
    """``operation_data`` setting each created document's metadata values."""
    by_name = {f.name: f for f in fields}
    ops = []
    for document_id, doc in pairs:
        items = []
        for key, value in doc.metadata.items():
            target = by_name.get(dify_key(str(key)))
            stored = dify_value(value, target.type) if target is not None else None
            if target is not None and stored is not None:
                items.append({"id": target.id, "name": target.name, "value": stored})
        if items:
            ops.append({"document_id": document_id, "metadata_list": items})
    return ops
