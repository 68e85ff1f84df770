"""Acceptance: LangChain Documents into a Dify knowledge base, found again by metadata filter."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from langchain_core.documents import Document

from dify_emulator import FAULT_HEADER, Emulator
from dify_transport import DifyKnowledgeClient, IndexingFailedError, MetadataFilterError
from langchain_dify import DifyKnowledgeBase, DifyKnowledgeRetriever

DOCS = [
    Document(page_content="Darjeeling tea grows in the Himalayan foothills of India.",
             metadata={"source": "/notes/india.txt", "region": "asia", "year": 2024}),
    Document(page_content="Kenyan tea is grown on the slopes near Kericho.",
             metadata={"source": "/notes/kenya.txt", "region": "africa", "year": 2021}),
    Document(page_content="Assam tea is strong and malty, from the Brahmaputra valley.",
             metadata={"source": "/notes/assam.txt", "region": "asia", "year": 2015}),
]  # fmt: skip


def _dataset(emu: Emulator) -> str:
    with DifyKnowledgeClient(api_key=emu.keys.dataset, base_url=emu.base_url) as kc:
        return kc.create_dataset(f"lc-{uuid.uuid4().hex[:10]}").id


def test_documents_ingested_waited_and_found_by_metadata_filter(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset_id = _dataset(emulator)
    # indexing takes two polls per document: progress is shown while waiting
    http = httpx.Client(headers={FAULT_HEADER: "index_polls=2"})
    kb = DifyKnowledgeBase(dataset_id, api_key=emulator.keys.dataset,
                           base_url=emulator.base_url, http_client=http, progress=True)  # fmt: skip
    kb._clients.sync()._sleep = lambda _s: None
    with pytest.MonkeyPatch.context() as mp:  # the plain line (as without tqdm)
        mp.setattr("dify_transport._indexing.IndexingWatch._make_bar", lambda *_: None)
        ids = kb.add_documents(DOCS)
    assert len(ids) == 3
    err = capsys.readouterr().err
    assert "(indexing)" in err
    assert "(completed)" in err

    retriever = DifyKnowledgeRetriever(
        dataset_id=dataset_id, api_key=emulator.keys.dataset, base_url=emulator.base_url,
        k=5, filter={"region": "asia"},
    )  # fmt: skip
    found = retriever.invoke("tea")
    assert {d.metadata["doc_source"] for d in found} == {"/notes/india.txt", "/notes/assam.txt"}
    assert all(d.metadata["region"] == "asia" for d in found)
    newer = retriever.invoke("tea", filter={"$and": [{"region": "asia"},
                                                     {"year": {"$gte": 2020}}]})  # fmt: skip
    assert [d.metadata["document_id"] for d in newer] == [ids[0]]
    assert newer[0].metadata["year"] == 2024
    with pytest.raises(MetadataFilterError, match=r"\$regex"):
        retriever.invoke("tea", filter={"region": {"$regex": "^a"}})

    hits = kb.similarity_search("tea", k=5, filter={"region": {"$ne": "asia"}})
    assert [h.metadata["document_id"] for h in hits] == [ids[1]]
    vs_retriever = kb.as_retriever(search_kwargs={"k": 2, "filter": {"year": {"$lt": 2020}}})
    assert [d.metadata["document_id"] for d in vs_retriever.invoke("tea")] == [ids[2]]
    scored = kb.similarity_search_with_relevance_scores("Kericho", k=1)
    assert 0 < scored[0][1] <= 1
    got = kb.get_by_ids([ids[1]])
    assert got[0].page_content.startswith("Kenyan tea")
    assert got[0].metadata["year"] == 2021

    assert kb.delete(ids[:1]) is True
    assert {d.metadata["document_id"] for d in kb.similarity_search("tea", k=5)} == set(ids[1:])
    http.close()


def test_async_ingestion_and_failure_is_typed(emulator: Emulator) -> None:
    dataset_id = _dataset(emulator)

    async def run() -> None:
        kb = DifyKnowledgeBase(dataset_id, api_key=emulator.keys.dataset,
                               base_url=emulator.base_url, progress=False)  # fmt: skip
        ids = await kb.aadd_texts(["Oolong is partly oxidised."], [{"kind": "oolong"}])
        retriever = DifyKnowledgeRetriever(dataset_id=dataset_id, api_key=emulator.keys.dataset,
                                           base_url=emulator.base_url)  # fmt: skip
        docs = await retriever.ainvoke("oolong", filter={"kind": "oolong"})
        assert [d.metadata["document_id"] for d in docs] == ids
        assert await kb.adelete(ids) is True
        await kb.aclose()

    asyncio.run(run())
    failing = httpx.Client(headers={FAULT_HEADER: "index_error=1"})
    kb = DifyKnowledgeBase(dataset_id, api_key=emulator.keys.dataset, base_url=emulator.base_url,
                           http_client=failing, progress=False)  # fmt: skip
    with pytest.raises(IndexingFailedError, match="Emulated indexing failure"):
        kb.add_texts(["This one fails."])
    failing.close()
