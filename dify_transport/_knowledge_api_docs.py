"""Dataset-key endpoints of documents, chunks (segments) and child chunks (pure: no I/O).

Same rules as ``_knowledge_api.py``: one builder per endpoint returning a `Call`; a
POST creates work (never resent once it may have reached Dify) unless it says
``creates_work=False``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias

import httpx

from dify_transport._app_api import drop_none, model_parser, no_content, raw_content
from dify_transport._base_client import Call, parse_json, seg
from dify_transport._files import FileTypes, file_part
from dify_transport.types import (
    ChildChunk,
    ChildChunkPage,
    Document,
    DocumentCreated,
    DocumentDownload,
    DocumentPage,
    IndexingStatusList,
    SegmentDetail,
    SegmentList,
    SegmentPage,
)

__all__ = [
    "DocumentAction",
    "MetadataView",
    "create_child_chunk",
    "create_document_by_file",
    "create_document_by_text",
    "create_segments",
    "delete_child_chunk",
    "delete_document",
    "delete_segment",
    "download_documents_zip",
    "get_document",
    "get_document_download_url",
    "get_indexing_status",
    "get_segment",
    "list_child_chunks",
    "list_documents",
    "list_segments",
    "set_documents_status",
    "update_child_chunk",
    "update_document_by_file",
    "update_document_by_text",
    "update_segment",
]

DocumentAction: TypeAlias = Literal["enable", "disable", "archive", "un_archive"]
MetadataView: TypeAlias = Literal["all", "only", "without"]


def _docs(dataset_id: str) -> str:
    return f"/datasets/{seg(dataset_id)}/documents"


def _segments(dataset_id: str, document_id: str) -> str:
    return f"{_docs(dataset_id)}/{seg(document_id)}/segments"


def _new(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A new document's settings: None dropped, ``process_rule`` automatic by default."""
    return {"process_rule": {"mode": "automatic"}, **drop_none(settings)}


def _by_file(
    path: str, file: FileTypes, settings: dict[str, Any], filename: str | None, mime: str | None
) -> Call[DocumentCreated]:
    """A multipart document upload: ``file`` + ``data`` (the settings as JSON)."""
    files = {"file": file_part(file, filename, mime)}
    data = {"data": json.dumps(settings)}
    return Call("POST", path, parse=model_parser(DocumentCreated), files=files, data=data)


def create_document_by_text(
    dataset_id: str, name: str, text: str, settings: Mapping[str, Any]
) -> Call[DocumentCreated]:
    """``POST /datasets/{id}/document/create-by-text``.

    ``settings``: ``indexing_technique``, ``doc_form``, ``process_rule``, ... (None dropped;
    ``process_rule`` defaults to automatic).
    """
    body = {"name": name, "text": text, **_new(settings)}
    path = f"/datasets/{seg(dataset_id)}/document/create-by-text"
    return Call("POST", path, parse=model_parser(DocumentCreated), json=body)


def create_document_by_file(
    dataset_id: str,
    file: FileTypes,
    settings: Mapping[str, Any],
    *,
    filename: str | None,
    mime_type: str | None,
) -> Call[DocumentCreated]:
    """``POST /datasets/{id}/document/create-by-file`` (multipart)."""
    path = f"/datasets/{seg(dataset_id)}/document/create-by-file"
    return _by_file(path, file, _new(settings), filename, mime_type)


def update_document_by_text(
    dataset_id: str, document_id: str, settings: Mapping[str, Any]
) -> Call[DocumentCreated]:
    """``POST /datasets/{id}/documents/{document_id}/update-by-text`` (re-indexes)."""
    path = f"{_docs(dataset_id)}/{seg(document_id)}/update-by-text"
    return Call("POST", path, parse=model_parser(DocumentCreated), json=drop_none(settings))


def update_document_by_file(
    dataset_id: str,
    document_id: str,
    file: FileTypes,
    settings: Mapping[str, Any],
    *,
    filename: str | None,
    mime_type: str | None,
) -> Call[DocumentCreated]:
    """``POST /datasets/{id}/documents/{document_id}/update-by-file`` (multipart)."""
    path = f"{_docs(dataset_id)}/{seg(document_id)}/update-by-file"
    return _by_file(path, file, drop_none(settings), filename, mime_type)


def list_documents(
    dataset_id: str, *, page: int, limit: int, keyword: str | None, status: str | None
) -> Call[DocumentPage]:
    """``GET /datasets/{id}/documents``."""
    params = {"page": page, "limit": limit, "keyword": keyword, "status": status}
    return Call("GET", _docs(dataset_id), parse=model_parser(DocumentPage), params=params)


def get_document(dataset_id: str, document_id: str, *, metadata: MetadataView) -> Call[Document]:
    """``GET /datasets/{id}/documents/{document_id}`` (with ``doc_metadata`` values)."""
    path = f"{_docs(dataset_id)}/{seg(document_id)}"
    return Call("GET", path, parse=model_parser(Document), params={"metadata": metadata})


def delete_document(dataset_id: str, document_id: str) -> Call[None]:
    """``DELETE /datasets/{id}/documents/{document_id}`` (204)."""
    return Call("DELETE", f"{_docs(dataset_id)}/{seg(document_id)}", parse=no_content)


def get_document_download_url(dataset_id: str, document_id: str) -> Call[DocumentDownload]:
    """``GET /datasets/{id}/documents/{document_id}/download``: a signed URL."""
    path = f"{_docs(dataset_id)}/{seg(document_id)}/download"
    return Call("GET", path, parse=model_parser(DocumentDownload))


def download_documents_zip(dataset_id: str, document_ids: Sequence[str]) -> Call[bytes]:
    """``POST /datasets/{id}/documents/download-zip``: the files as one ZIP archive."""
    body = {"document_ids": list(document_ids)}
    path = f"{_docs(dataset_id)}/download-zip"
    return Call("POST", path, parse=raw_content, json=body, creates_work=False)


def set_documents_status(
    dataset_id: str, action: DocumentAction, document_ids: Sequence[str]
) -> Call[None]:
    """``PATCH /datasets/{id}/documents/status/{action}``."""
    path = f"{_docs(dataset_id)}/status/{seg(action)}"
    return Call("PATCH", path, parse=no_content, json={"document_ids": list(document_ids)})


def get_indexing_status(dataset_id: str, batch: str) -> Call[IndexingStatusList]:
    """``GET /datasets/{id}/documents/{batch}/indexing-status``."""
    path = f"{_docs(dataset_id)}/{seg(batch)}/indexing-status"
    return Call("GET", path, parse=model_parser(IndexingStatusList))


def create_segments(
    dataset_id: str, document_id: str, segments: Sequence[Mapping[str, Any]]
) -> Call[SegmentList]:
    """``POST .../documents/{document_id}/segments``: ``[{content, answer?, keywords?}]``."""
    body = {"segments": [dict(s) for s in segments]}
    path = _segments(dataset_id, document_id)
    return Call("POST", path, parse=model_parser(SegmentList), json=body)


def list_segments(
    dataset_id: str,
    document_id: str,
    *,
    keyword: str | None,
    status: str | None = None,
    page: int | None = None,
    limit: int | None = None,
) -> Call[SegmentPage]:
    """``GET .../documents/{document_id}/segments``."""
    params = {"keyword": keyword, "status": status, "page": page, "limit": limit}
    path = _segments(dataset_id, document_id)
    return Call("GET", path, parse=model_parser(SegmentPage), params=params)


def get_segment(dataset_id: str, document_id: str, segment_id: str) -> Call[SegmentDetail]:
    """``GET .../segments/{segment_id}``."""
    path = f"{_segments(dataset_id, document_id)}/{seg(segment_id)}"
    return Call("GET", path, parse=model_parser(SegmentDetail))


def update_segment(
    dataset_id: str, document_id: str, segment_id: str, segment: Mapping[str, Any]
) -> Call[SegmentDetail]:
    """``POST .../segments/{segment_id}``: ``{segment: {content?, answer?, enabled?, ...}}``."""
    path = f"{_segments(dataset_id, document_id)}/{seg(segment_id)}"
    return Call("POST", path, parse=model_parser(SegmentDetail), json={"segment": dict(segment)})


def delete_segment(dataset_id: str, document_id: str, segment_id: str) -> Call[None]:
    """``DELETE .../segments/{segment_id}`` (204)."""
    path = f"{_segments(dataset_id, document_id)}/{seg(segment_id)}"
    return Call("DELETE", path, parse=no_content)


def _child_chunk(response: httpx.Response) -> ChildChunk:
    body = parse_json(response)
    return ChildChunk.model_validate(body.get("data") if isinstance(body, dict) else body)


def _chunks(dataset_id: str, document_id: str, segment_id: str) -> str:
    return f"{_segments(dataset_id, document_id)}/{seg(segment_id)}/child_chunks"


def create_child_chunk(
    dataset_id: str, document_id: str, segment_id: str, content: str
) -> Call[ChildChunk]:
    """``POST .../segments/{segment_id}/child_chunks``."""
    path = _chunks(dataset_id, document_id, segment_id)
    return Call("POST", path, parse=_child_chunk, json={"content": content})


def list_child_chunks(
    dataset_id: str,
    document_id: str,
    segment_id: str,
    *,
    page: int,
    limit: int,
    keyword: str | None,
) -> Call[ChildChunkPage]:
    """``GET .../segments/{segment_id}/child_chunks``."""
    params = {"page": page, "limit": limit, "keyword": keyword}
    path = _chunks(dataset_id, document_id, segment_id)
    return Call("GET", path, parse=model_parser(ChildChunkPage), params=params)


def update_child_chunk(
    dataset_id: str, document_id: str, segment_id: str, child_chunk_id: str, content: str
) -> Call[ChildChunk]:
    """``PATCH .../child_chunks/{child_chunk_id}``."""
    path = f"{_chunks(dataset_id, document_id, segment_id)}/{seg(child_chunk_id)}"
    return Call("PATCH", path, parse=_child_chunk, json={"content": content})


def delete_child_chunk(
    dataset_id: str, document_id: str, segment_id: str, child_chunk_id: str
) -> Call[None]:
    """``DELETE .../child_chunks/{child_chunk_id}`` (204)."""
    path = f"{_chunks(dataset_id, document_id, segment_id)}/{seg(child_chunk_id)}"
    return Call("DELETE", path, parse=no_content)
