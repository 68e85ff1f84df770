# Generated from dify_transport/_async/_knowledge_meta.py by scripts/unasync.py.
# Do not edit: edit the source.
"""`KnowledgeMeta`: knowledge metadata, tags and model types, as methods.

A base of `DifyKnowledgeClient` (kept apart only to keep modules small); each
method sends one endpoint defined in ``dify_transport/_knowledge_api_meta.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dify_transport import _knowledge_api_meta as api
from dify_transport._app_api import Headers
from dify_transport._base_client import TimeoutTypes
from dify_transport._sync._engine import SyncAPIClient
from dify_transport.types import (
    BuiltInField,
    DatasetTags,
    KnowledgeTag,
    MetadataField,
    MetadataFieldList,
    ModelProviderList,
)

__all__ = ["KnowledgeMeta"]


class KnowledgeMeta(SyncAPIClient):
    """Metadata-field, tag and model-type methods of the knowledge client."""

    def create_metadata_field(
        self,
        dataset_id: str,
        name: str,
        type: api.MetadataType = "string",
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> MetadataField:
        """Add a metadata field (``string``, ``number`` or ``time``) to a knowledge base."""
        call = api.create_metadata_field(dataset_id, name, type)
        return self._send(call, timeout, extra_headers)

    def list_metadata_fields(
        self, dataset_id: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> MetadataFieldList:
        """A knowledge base's metadata fields and whether built-in fields are on."""
        return self._send(api.list_metadata_fields(dataset_id), timeout, extra_headers)

    def rename_metadata_field(
        self,
        dataset_id: str,
        metadata_id: str,
        name: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> MetadataField:
        """Rename a metadata field."""
        call = api.rename_metadata_field(dataset_id, metadata_id, name)
        return self._send(call, timeout, extra_headers)

    def delete_metadata_field(
        self,
        dataset_id: str,
        metadata_id: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Delete a metadata field (and every document's value of it)."""
        call = api.delete_metadata_field(dataset_id, metadata_id)
        self._send(call, timeout, extra_headers)

    def get_built_in_metadata_fields(
        self, dataset_id: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> list[BuiltInField]:
        """The built-in fields (``document_name``, ``uploader``, ``upload_date``, ...)."""
        call = api.get_built_in_metadata_fields(dataset_id)
        return self._send(call, timeout, extra_headers)

    def set_built_in_metadata(
        self,
        dataset_id: str,
        *,
        enabled: bool,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Turn the built-in metadata fields on or off."""
        call = api.set_built_in_metadata(dataset_id, enabled=enabled)
        self._send(call, timeout, extra_headers)

    def update_documents_metadata(
        self,
        dataset_id: str,
        operations: Sequence[Mapping[str, Any]],
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Set documents' metadata values.

        ``operations``: ``[{"document_id": ..., "metadata_list": [{"id": <field id>,
        "name": <field name>, "value": ...}], "partial_update"?: bool}]``.
        """
        call = api.update_documents_metadata(dataset_id, operations)
        self._send(call, timeout, extra_headers)

    def create_tag(
        self, name: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> KnowledgeTag:
        """Create a knowledge tag."""
        return self._send(api.create_tag(name), timeout, extra_headers)

    def list_tags(
        self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> list[KnowledgeTag]:
        """Every knowledge tag of the workspace."""
        return self._send(api.list_tags(), timeout, extra_headers)

    def update_tag(
        self, tag_id: str, name: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> KnowledgeTag:
        """Rename a knowledge tag."""
        return self._send(api.update_tag(tag_id, name), timeout, extra_headers)

    def delete_tag(
        self, tag_id: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> None:
        """Delete a knowledge tag."""
        self._send(api.delete_tag(tag_id), timeout, extra_headers)

    def bind_tags(
        self,
        dataset_id: str,
        tag_ids: Sequence[str],
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Tag a knowledge base."""
        self._send(api.bind_tags(dataset_id, tag_ids), timeout, extra_headers)

    def unbind_tags(
        self,
        dataset_id: str,
        tag_ids: Sequence[str],
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Remove tags from a knowledge base."""
        self._send(api.unbind_tags(dataset_id, tag_ids), timeout, extra_headers)

    def get_dataset_tags(
        self, dataset_id: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> DatasetTags:
        """The tags of one knowledge base."""
        return self._send(api.get_dataset_tags(dataset_id), timeout, extra_headers)

    def list_models(
        self,
        model_type: api.ModelType,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> ModelProviderList:
        """Available models of a type (``text-embedding``, ``rerank``, ...), by provider."""
        return self._send(api.list_models(model_type), timeout, extra_headers)
