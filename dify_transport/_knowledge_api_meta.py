"""Dataset-key endpoints of knowledge metadata, tags and model types (pure: no I/O).

Oddities kept here: tag listings are bare arrays, ``binding_count`` is a string, and the
model-types endpoint (under ``/workspaces``) takes the dataset key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias

import httpx

from dify_transport._app_api import model_parser, no_content
from dify_transport._base_client import Call, parse_json, seg
from dify_transport.types import (
    BuiltInField,
    DatasetTags,
    KnowledgeTag,
    MetadataField,
    MetadataFieldList,
    ModelProviderList,
)

__all__ = [
    "MetadataType",
    "ModelType",
    "bind_tags",
    "create_metadata_field",
    "create_tag",
    "delete_metadata_field",
    "delete_tag",
    "get_built_in_metadata_fields",
    "get_dataset_tags",
    "list_metadata_fields",
    "list_models",
    "list_tags",
    "rename_metadata_field",
    "set_built_in_metadata",
    "unbind_tags",
    "update_documents_metadata",
    "update_tag",
]

MetadataType: TypeAlias = Literal["string", "number", "time"]
ModelType: TypeAlias = Literal[
    "text-embedding", "rerank", "llm", "tts", "speech2text", "moderation"
]


_SINCE = "1.1"
"""Knowledge metadata arrived in Dify 1.1: an older server's bare 404 says so."""


def _meta(dataset_id: str) -> str:
    return f"/datasets/{seg(dataset_id)}/metadata"


def create_metadata_field(dataset_id: str, name: str, type: MetadataType) -> Call[MetadataField]:
    """``POST /datasets/{id}/metadata`` (201)."""
    body = {"type": type, "name": name}
    return Call(
        "POST", _meta(dataset_id), parse=model_parser(MetadataField), json=body, since=_SINCE
    )


def list_metadata_fields(dataset_id: str) -> Call[MetadataFieldList]:
    """``GET /datasets/{id}/metadata``."""
    return Call("GET", _meta(dataset_id), parse=model_parser(MetadataFieldList), since=_SINCE)


def rename_metadata_field(dataset_id: str, metadata_id: str, name: str) -> Call[MetadataField]:
    """``PATCH /datasets/{id}/metadata/{metadata_id}``."""
    path = f"{_meta(dataset_id)}/{seg(metadata_id)}"
    body = {"name": name}
    return Call("PATCH", path, parse=model_parser(MetadataField), json=body, since=_SINCE)


def delete_metadata_field(dataset_id: str, metadata_id: str) -> Call[None]:
    """``DELETE /datasets/{id}/metadata/{metadata_id}`` (204)."""
    path = f"{_meta(dataset_id)}/{seg(metadata_id)}"
    return Call("DELETE", path, parse=no_content, since=_SINCE)


def _fields(response: httpx.Response) -> list[BuiltInField]:
    body = parse_json(response)
    items = body.get("fields") if isinstance(body, dict) else body
    return [BuiltInField.model_validate(item) for item in items or []]


def get_built_in_metadata_fields(dataset_id: str) -> Call[list[BuiltInField]]:
    """``GET /datasets/{id}/metadata/built-in``."""
    return Call("GET", f"{_meta(dataset_id)}/built-in", parse=_fields, since=_SINCE)


def set_built_in_metadata(dataset_id: str, *, enabled: bool) -> Call[None]:
    """``POST /datasets/{id}/metadata/built-in/{enable|disable}`` (safe to repeat)."""
    action = "enable" if enabled else "disable"
    path = f"{_meta(dataset_id)}/built-in/{action}"
    return Call("POST", path, parse=no_content, creates_work=False, since=_SINCE)


def update_documents_metadata(
    dataset_id: str, operations: Sequence[Mapping[str, Any]]
) -> Call[None]:
    """``POST /datasets/{id}/documents/metadata``.

    ``operations``: ``[{document_id, metadata_list: [{id, name, value}], partial_update?}]``.
    """
    body = {"operation_data": [dict(op) for op in operations]}
    path = f"/datasets/{seg(dataset_id)}/documents/metadata"
    return Call("POST", path, parse=no_content, json=body, creates_work=False, since=_SINCE)


def create_tag(name: str) -> Call[KnowledgeTag]:
    """``POST /datasets/tags``."""
    return Call("POST", "/datasets/tags", parse=model_parser(KnowledgeTag), json={"name": name})


def _tags(response: httpx.Response) -> list[KnowledgeTag]:
    body = parse_json(response)
    items = body.get("data") if isinstance(body, dict) else body  # a bare array on the wire
    return [KnowledgeTag.model_validate(item) for item in items or []]


def list_tags() -> Call[list[KnowledgeTag]]:
    """``GET /datasets/tags`` (a bare JSON array)."""
    return Call("GET", "/datasets/tags", parse=_tags)


def update_tag(tag_id: str, name: str) -> Call[KnowledgeTag]:
    """``PATCH /datasets/tags``: ``{tag_id, name}``."""
    body = {"tag_id": tag_id, "name": name}
    return Call("PATCH", "/datasets/tags", parse=model_parser(KnowledgeTag), json=body)


def delete_tag(tag_id: str) -> Call[None]:
    """``DELETE /datasets/tags`` with a JSON body ``{tag_id}`` (204)."""
    return Call("DELETE", "/datasets/tags", parse=no_content, json={"tag_id": tag_id})


def bind_tags(dataset_id: str, tag_ids: Sequence[str]) -> Call[None]:
    """``POST /datasets/tags/binding`` (safe to repeat)."""
    body = {"tag_ids": list(tag_ids), "target_id": dataset_id}
    return Call("POST", "/datasets/tags/binding", parse=no_content, json=body, creates_work=False)


def unbind_tags(dataset_id: str, tag_ids: Sequence[str]) -> Call[None]:
    """``POST /datasets/tags/unbinding`` (``tag_ids``; safe to repeat)."""
    body = {"tag_ids": list(tag_ids), "target_id": dataset_id}
    path = "/datasets/tags/unbinding"
    return Call("POST", path, parse=no_content, json=body, creates_work=False)


def get_dataset_tags(dataset_id: str) -> Call[DatasetTags]:
    """``GET /datasets/{id}/tags``."""
    return Call("GET", f"/datasets/{seg(dataset_id)}/tags", parse=model_parser(DatasetTags))


def list_models(model_type: ModelType) -> Call[ModelProviderList]:
    """``GET /workspaces/current/models/model-types/{type}`` (takes the *dataset* key)."""
    path = f"/workspaces/current/models/model-types/{seg(model_type)}"
    return Call("GET", path, parse=model_parser(ModelProviderList))
