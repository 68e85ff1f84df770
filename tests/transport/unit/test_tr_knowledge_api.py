"""Every Knowledge API method (sync and async): the request sent and the answer parsed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from dify_transport import AsyncDifyKnowledgeClient, DifyKnowledgeClient
from dify_transport.types import (
    BuiltInField,
    ChildChunk,
    ChildChunkPage,
    Dataset,
    DatasetPage,
    DatasetTags,
    Document,
    DocumentCreated,
    DocumentDownload,
    DocumentPage,
    IndexingStatusList,
    KnowledgeTag,
    MetadataField,
    MetadataFieldList,
    ModelProviderList,
    SegmentDetail,
    SegmentList,
    SegmentPage,
)

KEY = "dataset-UnitTestKey-0123456789"
DS = "d0000000-0000-4000-8000-00000000000d"
DOC = "f0000000-0000-4000-8000-0000000000f1"
SEG = "a0000000-0000-4000-8000-0000000000a1"
KID = "b0000000-0000-4000-8000-0000000000b1"
TAG = "c0000000-0000-4000-8000-0000000000c1"
META = "e0000000-0000-4000-8000-0000000000e1"
P = f"/v1/datasets/{DS}"
D = f"{P}/documents/{DOC}"
S = f"{D}/segments/{SEG}"

DATASET = {"id": DS, "name": "kb", "document_count": 0}
DOCUMENT = {"id": DOC, "name": "a.txt", "indexing_status": "waiting"}
CREATED = {"document": DOCUMENT, "batch": "20260101000000123456"}
SEGMENT = {"id": SEG, "content": "text", "document_id": DOC}
CHUNK = {"id": KID, "segment_id": SEG, "content": "child"}
TAG_BODY = {"id": TAG, "name": "t", "type": "knowledge", "binding_count": "2"}
FIELD = {"id": META, "name": "year", "type": "number"}


@dataclass
class Case:
    """One method call, the request it must send and the answer it must parse."""

    id: str
    call: Callable[[Any], Any]
    method: str
    path: str
    answer: Any = None  # JSON body (None: 204), or bytes
    status: int = 200
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)
    check: Callable[[Any], bool] = lambda r: r is None
    multipart: bool = False


CASES = [
    Case("get_dataset", lambda c: c.get_dataset(DS), "GET", P, DATASET,
         check=lambda r: isinstance(r, Dataset) and r.id == DS),
    Case("update_dataset", lambda c: c.update_dataset(DS, name="new", description="d"), "PATCH",
         P, DATASET, body={"name": "new", "description": "d"},
         check=lambda r: isinstance(r, Dataset)),
    Case("delete_dataset", lambda c: c.delete_dataset(DS), "DELETE", P, status=204),
    Case("list_datasets", lambda c: c.list_datasets(keyword="kb", tag_ids=[TAG]), "GET",
         "/v1/datasets", {"data": [DATASET], "has_more": False, "total": 1},
         params={"page": "1", "limit": "20", "keyword": "kb", "tag_ids": TAG},
         check=lambda r: isinstance(r, DatasetPage) and r.data[0].id == DS),
    Case("create_dataset", lambda c: c.create_dataset("kb", extra={"provider": "vendor"}),
         "POST", "/v1/datasets", DATASET, body={"name": "kb", "provider": "vendor"},
         check=lambda r: isinstance(r, Dataset)),
    Case("create_document_by_text", lambda c: c.create_document_by_text(DS, "a", "hello"),
         "POST", f"{P}/document/create-by-text", CREATED,
         body={"name": "a", "text": "hello", "indexing_technique": "high_quality",
               "process_rule": {"mode": "automatic"}},
         check=lambda r: isinstance(r, DocumentCreated) and r.batch.startswith("2026")),
    Case("create_document_by_file",
         lambda c: c.create_document_by_file(DS, b"hello", filename="a.txt", doc_form="text_model"),
         "POST", f"{P}/document/create-by-file", CREATED, multipart=True,
         body={"indexing_technique": "high_quality", "doc_form": "text_model",
               "process_rule": {"mode": "automatic"}},
         check=lambda r: isinstance(r, DocumentCreated)),
    Case("update_document_by_text", lambda c: c.update_document_by_text(DS, DOC, text="new"),
         "POST", f"{D}/update-by-text", CREATED, body={"text": "new"},
         check=lambda r: isinstance(r, DocumentCreated)),
    Case("update_document_by_file",
         lambda c: c.update_document_by_file(DS, DOC, b"new", filename="a.txt"),
         "POST", f"{D}/update-by-file", CREATED, multipart=True, body={},
         check=lambda r: isinstance(r, DocumentCreated)),
    Case("list_documents", lambda c: c.list_documents(DS, status="error"), "GET",
         f"{P}/documents", {"data": [DOCUMENT], "total": 1},
         params={"page": "1", "limit": "20", "status": "error"},
         check=lambda r: isinstance(r, DocumentPage) and r.data[0].id == DOC),
    Case("get_document", lambda c: c.get_document(DS, DOC), "GET", D,
         {**DOCUMENT, "doc_metadata": [{"id": META, "name": "year", "type": "number",
                                        "value": 2024}]},
         params={"metadata": "all"},
         check=lambda r: isinstance(r, Document) and r.doc_metadata[0]["value"] == 2024),
    Case("delete_document", lambda c: c.delete_document(DS, DOC), "DELETE", D, status=204),
    Case("get_document_download_url", lambda c: c.get_document_download_url(DS, DOC), "GET",
         f"{D}/download", {"url": "https://files/x?sign=1"},
         check=lambda r: isinstance(r, DocumentDownload) and r.url.endswith("sign=1")),
    Case("download_documents_zip", lambda c: c.download_documents_zip(DS, [DOC]), "POST",
         f"{P}/documents/download-zip", b"PK\x03\x04zip", body={"document_ids": [DOC]},
         check=lambda r: r == b"PK\x03\x04zip"),
    Case("set_documents_status", lambda c: c.set_documents_status(DS, "disable", [DOC]),
         "PATCH", f"{P}/documents/status/disable", {"result": "success"},
         body={"document_ids": [DOC]}),
    Case("get_indexing_status", lambda c: c.get_indexing_status(DS, "b1"), "GET",
         f"{P}/documents/b1/indexing-status",
         {"data": [{"id": DOC, "indexing_status": "completed"}]},
         check=lambda r: isinstance(r, IndexingStatusList)),
    Case("create_segments", lambda c: c.create_segments(DS, DOC, [{"content": "x"}]), "POST",
         f"{D}/segments", {"data": [SEGMENT], "doc_form": "text_model"},
         body={"segments": [{"content": "x"}]},
         check=lambda r: isinstance(r, SegmentList) and r.data[0].id == SEG),
    Case("list_segments", lambda c: c.list_segments(DS, DOC, page=2, limit=5), "GET",
         f"{D}/segments", {"data": [SEGMENT], "total": 1}, params={"page": "2", "limit": "5"},
         check=lambda r: isinstance(r, SegmentPage)),
    Case("get_segment", lambda c: c.get_segment(DS, DOC, SEG), "GET", S,
         {"data": SEGMENT, "doc_form": "text_model"},
         check=lambda r: isinstance(r, SegmentDetail) and r.data.id == SEG),
    Case("update_segment", lambda c: c.update_segment(DS, DOC, SEG, {"enabled": False}), "POST",
         S, {"data": SEGMENT}, body={"segment": {"enabled": False}},
         check=lambda r: isinstance(r, SegmentDetail)),
    Case("delete_segment", lambda c: c.delete_segment(DS, DOC, SEG), "DELETE", S, status=204),
    Case("create_child_chunk", lambda c: c.create_child_chunk(DS, DOC, SEG, "child"), "POST",
         f"{S}/child_chunks", {"data": CHUNK}, body={"content": "child"},
         check=lambda r: isinstance(r, ChildChunk) and r.id == KID),
    Case("list_child_chunks", lambda c: c.list_child_chunks(DS, DOC, SEG, keyword="c"), "GET",
         f"{S}/child_chunks", {"data": [CHUNK], "total": 1, "total_pages": 1},
         params={"page": "1", "limit": "20", "keyword": "c"},
         check=lambda r: isinstance(r, ChildChunkPage) and r.data[0].content == "child"),
    Case("update_child_chunk", lambda c: c.update_child_chunk(DS, DOC, SEG, KID, "new"),
         "PATCH", f"{S}/child_chunks/{KID}", {"data": CHUNK}, body={"content": "new"},
         check=lambda r: isinstance(r, ChildChunk)),
    Case("delete_child_chunk", lambda c: c.delete_child_chunk(DS, DOC, SEG, KID), "DELETE",
         f"{S}/child_chunks/{KID}", status=204),
    Case("create_metadata_field", lambda c: c.create_metadata_field(DS, "year", "number"),
         "POST", f"{P}/metadata", FIELD, status=201, body={"type": "number", "name": "year"},
         check=lambda r: isinstance(r, MetadataField) and r.type == "number"),
    Case("list_metadata_fields", lambda c: c.list_metadata_fields(DS), "GET", f"{P}/metadata",
         {"doc_metadata": [{**FIELD, "count": 3}], "built_in_field_enabled": True},
         check=lambda r: isinstance(r, MetadataFieldList) and r.doc_metadata[0].count == 3),
    Case("rename_metadata_field", lambda c: c.rename_metadata_field(DS, META, "yr"), "PATCH",
         f"{P}/metadata/{META}", FIELD, body={"name": "yr"},
         check=lambda r: isinstance(r, MetadataField)),
    Case("delete_metadata_field", lambda c: c.delete_metadata_field(DS, META), "DELETE",
         f"{P}/metadata/{META}", status=204),
    Case("get_built_in_metadata_fields", lambda c: c.get_built_in_metadata_fields(DS), "GET",
         f"{P}/metadata/built-in", {"fields": [{"name": "document_name", "type": "string"}]},
         check=lambda r: isinstance(r[0], BuiltInField) and r[0].name == "document_name"),
    Case("set_built_in_metadata", lambda c: c.set_built_in_metadata(DS, enabled=False), "POST",
         f"{P}/metadata/built-in/disable", {"result": "success"}),
    Case("update_documents_metadata",
         lambda c: c.update_documents_metadata(
             DS, [{"document_id": DOC, "metadata_list": [{"id": META, "name": "year",
                                                         "value": 1}]}]),
         "POST", f"{P}/documents/metadata", {"result": "success"},
         body={"operation_data": [{"document_id": DOC, "metadata_list": [
             {"id": META, "name": "year", "value": 1}]}]}),
    Case("create_tag", lambda c: c.create_tag("t"), "POST", "/v1/datasets/tags", TAG_BODY,
         body={"name": "t"},
         check=lambda r: isinstance(r, KnowledgeTag) and r.binding_count == 2),
    Case("list_tags", lambda c: c.list_tags(), "GET", "/v1/datasets/tags", [TAG_BODY],
         check=lambda r: isinstance(r[0], KnowledgeTag) and r[0].id == TAG),
    Case("update_tag", lambda c: c.update_tag(TAG, "u"), "PATCH", "/v1/datasets/tags", TAG_BODY,
         body={"tag_id": TAG, "name": "u"}, check=lambda r: isinstance(r, KnowledgeTag)),
    Case("delete_tag", lambda c: c.delete_tag(TAG), "DELETE", "/v1/datasets/tags", status=204,
         body={"tag_id": TAG}),
    Case("bind_tags", lambda c: c.bind_tags(DS, [TAG]), "POST", "/v1/datasets/tags/binding",
         status=204, body={"tag_ids": [TAG], "target_id": DS}),
    Case("unbind_tags", lambda c: c.unbind_tags(DS, [TAG]), "POST",
         "/v1/datasets/tags/unbinding", status=204, body={"tag_ids": [TAG], "target_id": DS}),
    Case("get_dataset_tags", lambda c: c.get_dataset_tags(DS), "GET", f"{P}/tags",
         {"data": [{"id": TAG, "name": "t"}], "total": 1},
         check=lambda r: isinstance(r, DatasetTags) and r.total == 1),
    Case("list_models", lambda c: c.list_models("rerank"), "GET",
         "/v1/workspaces/current/models/model-types/rerank",
         {"data": [{"provider": "p", "label": {"en_US": "P"}, "models": [{"model": "m"}]}]},
         check=lambda r: isinstance(r, ModelProviderList) and r.data[0].models[0]["model"] == "m"),
]  # fmt: skip


def _respond(case: Case) -> httpx.Response:
    if isinstance(case.answer, bytes):
        return httpx.Response(case.status, content=case.answer,
                              headers={"Content-Type": "application/zip"})  # fmt: skip
    if case.answer is None:
        return httpx.Response(case.status)
    return httpx.Response(case.status, json=case.answer)


def _check_request(case: Case, request: httpx.Request) -> None:
    assert request.method == case.method
    assert request.url.path == case.path
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert dict(request.url.params) == case.params
    if case.multipart:
        raw = request.read()
        assert b'name="file"; filename="a.txt"' in raw
        data = raw.split(b'name="data"\r\n\r\n', 1)[1].split(b"\r\n--", 1)[0]
        assert json.loads(data) == case.body
    elif case.body is not None:
        assert json.loads(request.read()) == case.body
    elif case.method in ("GET", "DELETE"):
        assert request.read() == b""


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_sync(case: Case) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _respond(case)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with DifyKnowledgeClient(api_key=KEY, base_url="http://dify.test/v1", http_client=http) as c:
        result = case.call(c)
    assert len(seen) == 1
    _check_request(case, seen[0])
    assert case.check(result), result


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_async(case: Case) -> None:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _respond(case)

    async def run() -> Any:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        async with AsyncDifyKnowledgeClient(
            api_key=KEY, base_url="http://dify.test/v1", http_client=http
        ) as c:
            out = await case.call(c)
        await http.aclose()
        return out

    result = asyncio.run(run())
    assert len(seen) == 1
    _check_request(case, seen[0])
    assert case.check(result), result
