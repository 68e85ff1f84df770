"""Acceptance: LlamaIndex Documents into a Dify knowledge base, found again with MetadataFilters."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from llama_index.core.schema import Document, TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from dify_emulator import FAULT_HEADER, Emulator
from dify_transport import DifyKnowledgeClient, IndexingTimeoutError, MetadataFilterError
from llama_index_dify import DifyKnowledgeIndex, DifyKnowledgeRetriever

DOCS = [
    Document(text="Darjeeling tea grows in the Himalayan foothills of India.", doc_id="india",
             metadata={"file_name": "india.txt", "region": "asia", "year": 2024}),
    Document(text="Kenyan tea is grown on the slopes near Kericho.", doc_id="kenya",
             metadata={"file_name": "kenya.txt", "region": "africa", "year": 2021}),
    Document(text="Assam tea is strong and malty, from the Brahmaputra valley.", doc_id="assam",
             metadata={"file_name": "assam.txt", "region": "asia", "year": 2015}),
]  # fmt: skip


def _dataset(emu: Emulator) -> str:
    with DifyKnowledgeClient(api_key=emu.keys.dataset, base_url=emu.base_url) as kc:
        return kc.create_dataset(f"li-{uuid.uuid4().hex[:10]}").id


def _f(key: str, value: object, op: FilterOperator = FilterOperator.EQ) -> MetadataFilter:
    return MetadataFilter(key=key, value=value, operator=op)  # type: ignore[arg-type]


def test_documents_inserted_waited_and_found_with_metadata_filters(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset_id = _dataset(emulator)
    http = httpx.Client(headers={FAULT_HEADER: "index_polls=2"})
    with pytest.MonkeyPatch.context() as mp:  # the plain progress line (as without tqdm)
        mp.setattr("dify_transport._indexing.IndexingWatch._make_bar", lambda *_: None)
        mp.setattr("dify_transport._retry.sleep", lambda _s: None)
        index = DifyKnowledgeIndex.from_documents(
            DOCS, dataset_id, api_key=emulator.keys.dataset, base_url=emulator.base_url,
            http_client=http, show_progress=True,
        )  # fmt: skip
    err = capsys.readouterr().err
    assert "(indexing)" in err
    assert "(completed)" in err

    asia = MetadataFilters(filters=[_f("region", "asia")])
    nodes = index.as_retriever(similarity_top_k=5, filters=asia).retrieve("tea")
    assert {n.node.metadata["file_name"] for n in nodes} == {"india.txt", "assam.txt"}
    recent_asia = MetadataFilters(filters=[_f("region", "asia"),
                                           _f("year", 2020, FilterOperator.GTE)])  # fmt: skip
    only = index.as_retriever(filters=recent_asia).retrieve("tea")
    assert [n.node.metadata["year"] for n in only] == [2024]
    assert "year: 2024" in only[0].node.get_content(metadata_mode="llm")  # type: ignore[arg-type]
    either = MetadataFilters(filters=[_f("year", 2015), _f("region", "africa")],
                             condition=FilterCondition.OR)  # fmt: skip
    retriever = DifyKnowledgeRetriever(dataset_id=dataset_id, api_key=emulator.keys.dataset,
                                       base_url=emulator.base_url, filters=either)  # fmt: skip
    assert {n.node.metadata["file_name"] for n in retriever.retrieve("tea")} == {
        "kenya.txt", "assam.txt"}  # fmt: skip
    with pytest.raises(MetadataFilterError, match="ANY"):
        DifyKnowledgeRetriever(dataset_id=dataset_id, api_key=emulator.keys.dataset,
                               base_url=emulator.base_url,
                               filters=MetadataFilters(filters=[
                                   _f("region", ["asia"], FilterOperator.ANY)]))  # fmt: skip

    index.delete_ref_doc("india")
    left = index.as_retriever(similarity_top_k=5).retrieve("tea")
    assert {n.node.metadata["file_name"] for n in left} == {"kenya.txt", "assam.txt"}
    ids = index.add_documents([TextNode(text="Rooibos is not tea.", metadata={"kind": "herb"})])
    herbs = index.as_retriever(filters=MetadataFilters(filters=[_f("kind", "herb")]))
    assert [n.node.metadata["document_id"] for n in herbs.retrieve("rooibos")] == ids
    index.delete_ref_doc(ids[0])  # a Dify id works too
    assert herbs.retrieve("rooibos") == []
    http.close()


def test_async_insert_and_timeout_is_typed(emulator: Emulator) -> None:
    dataset_id = _dataset(emulator)

    async def run() -> None:
        index = DifyKnowledgeIndex(dataset_id, api_key=emulator.keys.dataset,
                                   base_url=emulator.base_url, progress=False)  # fmt: skip
        await index.ainsert(Document(text="Matcha is powdered green tea.", doc_id="m",
                                     metadata={"origin": "japan"}))  # fmt: skip
        retriever = index.as_retriever(filters=MetadataFilters(filters=[_f("origin", "japan")]))
        nodes = await retriever.aretrieve("matcha")
        assert nodes
        assert nodes[0].node.metadata["origin"] == "japan"
        await index.adelete_ref_doc("m")
        assert await retriever.aretrieve("matcha") == []
        await index.aclose()

    asyncio.run(run())
    stuck = httpx.Client(headers={FAULT_HEADER: "index_polls=1000"})
    index = DifyKnowledgeIndex(dataset_id, api_key=emulator.keys.dataset,
                               base_url=emulator.base_url, http_client=stuck, max_wait=0.05,
                               progress=False)  # fmt: skip
    with pytest.raises(IndexingTimeoutError, match="did not complete"):
        index.insert(Document(text="Never indexed."))
    stuck.close()
