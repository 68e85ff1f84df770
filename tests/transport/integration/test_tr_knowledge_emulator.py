"""Every Knowledge API method against the emulator (sync and async), as a user would call it."""

from __future__ import annotations

import asyncio
import io
import uuid
import zipfile

import pytest

from dify_emulator import FAULT_HEADER, Emulator
from dify_transport import (
    AsyncDifyKnowledgeClient,
    BadRequestError,
    DifyKnowledgeClient,
    IndexingFailedError,
    IndexingPausedError,
    IndexingTimeoutError,
    MetadataFilterError,
    NotFoundError,
)
from dify_transport._async import _knowledge_client as async_mod
from dify_transport._sync import _knowledge_client as sync_mod

TEXT = (
    "Tea is grown in the hills of Darjeeling. The monsoon brings the first flush.\n\n"
    "Coffee grows best at high altitude in volcanic soil."
)


def _kc(emu: Emulator) -> DifyKnowledgeClient:
    return DifyKnowledgeClient(api_key=emu.keys.dataset, base_url=emu.base_url)


def _name() -> str:
    return f"kb-{uuid.uuid4().hex[:10]}"


def test_datasets_crud(emulator: Emulator) -> None:
    with _kc(emulator) as kc:
        ds = kc.create_dataset(_name(), description="d", indexing_technique="high_quality")
        assert kc.get_dataset(ds.id).name == ds.name
        renamed = kc.update_dataset(ds.id, name=ds.name + "x", description="new")
        assert (renamed.name, renamed.description) == (ds.name + "x", "new")
        found = kc.list_datasets(keyword=ds.name + "x")
        assert [d.id for d in found.data] == [ds.id]
        kc.delete_dataset(ds.id)
        with pytest.raises(NotFoundError):
            kc.get_dataset(ds.id)


def test_documents_by_text_and_file(emulator: Emulator) -> None:
    with _kc(emulator) as kc:
        ds = kc.create_dataset(_name())
        created = kc.create_document_by_text(ds.id, "tea.txt", TEXT)
        assert created.document.indexing_status == "waiting"
        done = kc.wait_for_indexing(ds.id, created.batch, progress=False)
        assert done.data[0].indexing_status == "completed"
        doc_id = created.document.id
        from_file = kc.create_document_by_file(ds.id, b"Rice needs water.", filename="rice.md")
        kc.wait_for_indexing(ds.id, from_file.batch, poll_interval=0.01)
        page = kc.list_documents(ds.id)
        assert {d.name for d in page.data} == {"tea.txt", "rice.md"}
        assert kc.list_documents(ds.id, keyword="rice").total == 1
        updated = kc.update_document_by_text(ds.id, doc_id, name="tea2.txt", text="Green tea.")
        kc.wait_for_indexing(ds.id, updated.batch)
        assert kc.get_document(ds.id, doc_id).name == "tea2.txt"
        refiled = kc.update_document_by_file(ds.id, doc_id, b"Black tea.", filename="b.txt")
        kc.wait_for_indexing(ds.id, refiled.batch)
        segs = kc.list_segments(ds.id, doc_id)
        assert [s.content for s in segs.data] == ["Black tea."]
        assert kc.get_document_download_url(ds.id, doc_id).url.startswith("http")
        archive = kc.download_documents_zip(ds.id, [doc_id, from_file.document.id])
        names = zipfile.ZipFile(io.BytesIO(archive)).namelist()
        assert sorted(names) == ["b.txt", "rice.md"]
        kc.set_documents_status(ds.id, "disable", [doc_id])
        assert kc.list_documents(ds.id, status="disabled").data[0].id == doc_id
        with pytest.raises(BadRequestError) as bad:
            kc.set_documents_status(ds.id, "explode", [doc_id])  # type: ignore[arg-type]
        assert bad.value.code == "invalid_action"
        kc.delete_document(ds.id, doc_id)
        with pytest.raises(NotFoundError):
            kc.get_document(ds.id, doc_id)


def test_segments_and_child_chunks(emulator: Emulator) -> None:
    with _kc(emulator) as kc:
        ds = kc.create_dataset(_name())
        created = kc.create_document_by_text(ds.id, "notes.txt", TEXT)
        kc.wait_for_indexing(ds.id, created.batch)
        doc = created.document.id
        added = kc.create_segments(ds.id, doc, [{"content": "Oolong is half oxidised."}])
        sid = added.data[0].id
        assert kc.get_segment(ds.id, doc, sid).data.content == "Oolong is half oxidised."
        changed = kc.update_segment(ds.id, doc, sid, {"content": "Oolong.", "keywords": ["o"]})
        assert (changed.data.content, changed.data.keywords) == ("Oolong.", ["o"])
        assert kc.list_segments(ds.id, doc, keyword="oolong").data[0].id == sid
        with pytest.raises(BadRequestError) as bad:  # Dify's bare {"error": ...} body
            kc.create_segments(ds.id, doc, [{"content": ""}])
        assert "Content is empty" in str(bad.value)
        child = kc.create_child_chunk(ds.id, doc, sid, "half oxidised")
        assert kc.list_child_chunks(ds.id, doc, sid).data[0].id == child.id
        assert kc.update_child_chunk(ds.id, doc, sid, child.id, "semi").content == "semi"
        kc.delete_child_chunk(ds.id, doc, sid, child.id)
        assert kc.list_child_chunks(ds.id, doc, sid).total == 0
        kc.delete_segment(ds.id, doc, sid)
        with pytest.raises(NotFoundError):
            kc.get_segment(ds.id, doc, sid)


def test_metadata_and_filtered_retrieve(emulator: Emulator) -> None:
    with _kc(emulator) as kc:
        ds = kc.create_dataset(_name())
        docs = {}
        for name, text in (("a.txt", "Tea from India."), ("b.txt", "Tea from China.")):
            created = kc.create_document_by_text(ds.id, name, text)
            kc.wait_for_indexing(ds.id, created.batch)
            docs[name] = created.document.id
        year = kc.create_metadata_field(ds.id, "year", "number")
        region = kc.create_metadata_field(ds.id, "region")
        renamed = kc.rename_metadata_field(ds.id, region.id, "origin")
        kc.update_documents_metadata(ds.id, [
            {"document_id": docs["a.txt"], "metadata_list": [
                {"id": year.id, "name": "year", "value": 2024},
                {"id": region.id, "name": "origin", "value": "india"}]},
            {"document_id": docs["b.txt"], "metadata_list": [
                {"id": year.id, "name": "year", "value": 2019}]},
        ])  # fmt: skip
        fields = kc.list_metadata_fields(ds.id)
        assert {(f.name, f.count) for f in fields.doc_metadata} == {("year", 2), ("origin", 1)}
        assert renamed.name == "origin"
        detail = kc.get_document(ds.id, docs["a.txt"])
        assert {m["name"]: m["value"] for m in detail.doc_metadata or []} == {
            "year": 2024, "origin": "india"}  # fmt: skip
        hits = kc.retrieve(ds.id, "tea", metadata_filter={"year": {"$gte": 2020}})
        assert [r.segment.document_id for r in hits.records] == [docs["a.txt"]]
        assert hits.records[0].segment.document.doc_metadata == {"year": 2024, "origin": "india"}
        either = kc.retrieve(ds.id, "tea", metadata_filter={
            "$or": [{"origin": "india"}, {"year": {"$lt": 2020}}]})  # fmt: skip
        assert len(either.records) == 2
        with pytest.raises(MetadataFilterError, match=r"\$regex"):
            kc.retrieve(ds.id, "tea", metadata_filter={"origin": {"$regex": "^in"}})
        assert next(f.name for f in kc.get_built_in_metadata_fields(ds.id)) == "document_name"
        kc.set_built_in_metadata(ds.id, enabled=True)
        assert kc.list_metadata_fields(ds.id).built_in_field_enabled is True
        by_name = kc.retrieve(ds.id, "tea", metadata_filter={"document_name": "b.txt"})
        assert [r.segment.document_id for r in by_name.records] == [docs["b.txt"]]
        kc.set_built_in_metadata(ds.id, enabled=False)
        kc.delete_metadata_field(ds.id, region.id)
        assert [f.name for f in kc.list_metadata_fields(ds.id).doc_metadata] == ["year"]


def test_tags_and_models(emulator: Emulator) -> None:
    with _kc(emulator) as kc:
        ds = kc.create_dataset(_name())
        tag = kc.create_tag(_name())
        assert tag.binding_count == 0
        kc.bind_tags(ds.id, [tag.id])
        assert [t.id for t in kc.get_dataset_tags(ds.id).data] == [tag.id]
        listed = {t.id: t for t in kc.list_tags()}
        assert listed[tag.id].binding_count == 1
        assert kc.update_tag(tag.id, tag.name + "2").name == tag.name + "2"
        kc.unbind_tags(ds.id, [tag.id])
        assert kc.get_dataset_tags(ds.id).total == 0
        kc.delete_tag(tag.id)
        assert tag.id not in {t.id for t in kc.list_tags()}
        models = kc.list_models("text-embedding")
        assert models.data[0].models[0]["model_type"] == "text-embedding"


def test_wait_for_indexing_progress_line(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    with _kc(emulator) as kc:
        ds = kc.create_dataset(_name())
        created = kc.create_document_by_text(
            ds.id, "t.txt", TEXT, extra_headers={FAULT_HEADER: "index_polls=3"}
        )
        kc._sleep = lambda _s: None
        done = kc.wait_for_indexing(ds.id, created.batch, progress=True)
        assert done.data[0].indexing_status == "completed"
        with pytest.MonkeyPatch.context() as mp:  # no tqdm: the plain line
            mp.setattr("dify_transport._indexing.IndexingWatch._make_bar", lambda *_: None)
            again = kc.create_document_by_text(
                ds.id, "u.txt", TEXT, extra_headers={FAULT_HEADER: "index_polls=2"}
            )
            kc.wait_for_indexing(ds.id, again.batch, progress=True)
    err = capsys.readouterr().err
    assert f"Indexing batch {again.batch}: 0/2 segments (indexing)" in err
    assert f"Indexing batch {again.batch}: 2/2 segments (completed)" in err


@pytest.mark.parametrize(
    ("fault", "error", "needle"),
    [
        ("index_error=1", IndexingFailedError, "Emulated indexing failure"),
        ("index_pause=1", IndexingPausedError, "paused"),
        ("index_polls=1000", IndexingTimeoutError, r"did not complete within 0\.05 s"),
    ],
)
def test_wait_for_indexing_errors(
    emulator: Emulator, fault: str, error: type[Exception], needle: str
) -> None:
    with _kc(emulator) as kc:
        ds = kc.create_dataset(_name())
        created = kc.create_document_by_text(ds.id, "t.txt", TEXT,
                                             extra_headers={FAULT_HEADER: fault})  # fmt: skip
        with pytest.raises(error, match=needle) as caught:
            kc.wait_for_indexing(ds.id, created.batch, max_wait=0.05, poll_interval=0.01)
        assert caught.value.batch == created.batch  # type: ignore[attr-defined]
        assert caught.value.statuses[0].id == created.document.id  # type: ignore[attr-defined]
        # a document that never indexed is not searchable
        assert kc.retrieve(ds.id, "tea").records == []


def test_async_lifecycle(emulator: Emulator) -> None:
    async def run() -> None:
        async with AsyncDifyKnowledgeClient(
            api_key=emulator.keys.dataset, base_url=emulator.base_url
        ) as kc:
            ds = await kc.create_dataset(_name())
            created = await kc.create_document_by_text(
                ds.id, "t.txt", TEXT, extra_headers={FAULT_HEADER: "index_polls=2"}
            )
            done = await kc.wait_for_indexing(ds.id, created.batch, poll_interval=0.01)
            assert done.data[0].completed_segments == done.data[0].total_segments
            field = await kc.create_metadata_field(ds.id, "lang")
            await kc.update_documents_metadata(ds.id, [{"document_id": created.document.id,
                "metadata_list": [{"id": field.id, "name": "lang", "value": "en"}]}])  # fmt: skip
            hits = await kc.retrieve(ds.id, "tea", metadata_filter={"lang": "en"})
            assert hits.records
            assert all(
                r.segment.document_id == created.document.id for r in hits.records
            )
            none = await kc.retrieve(ds.id, "tea", metadata_filter={"lang": {"$ne": "en"}})
            assert none.records == []
            failed = await kc.create_document_by_text(
                ds.id, "x.txt", TEXT, extra_headers={FAULT_HEADER: "index_error=1"}
            )
            with pytest.raises(IndexingFailedError):
                await kc.wait_for_indexing(ds.id, failed.batch, poll_interval=0.01)
            await kc.delete_dataset(ds.id)

    asyncio.run(run())


def test_sync_and_async_modules_are_twins() -> None:
    assert sync_mod.DifyKnowledgeClient.__name__ == "DifyKnowledgeClient"
    assert async_mod.AsyncDifyKnowledgeClient.__name__ == "AsyncDifyKnowledgeClient"


def test_add_documents_keeps_metadata_as_dify_fields(emulator: Emulator) -> None:
    import datetime as dt

    from dify_transport import DifyConfigError, TextDocument

    with _kc(emulator) as kc:
        ds = kc.create_dataset(_name())
        kc.create_metadata_field(ds.id, "year", "number")
        ids = kc.add_documents(ds.id, [
            TextDocument("a.txt", "Tea from India.", {"source": "/data/a.txt", "year": 2024,
                         "draft": True, "when": dt.date(2024, 5, 1), "tags": ["x"]}),
            TextDocument("b.txt", "Tea from China.", {"year": "not a number"}),
        ], progress=False)  # fmt: skip
        fields = {f.name: f.type for f in kc.list_metadata_fields(ds.id).doc_metadata}
        assert fields == {"year": "number", "doc_source": "string", "draft": "string",
                          "when": "time"}  # fmt: skip
        values = {m["name"]: m["value"] for m in kc.get_document(ds.id, ids[0]).doc_metadata or []}
        assert values == {"doc_source": "/data/a.txt", "year": 2024, "draft": "true",
                          "when": 1714521600}  # fmt: skip
        assert kc.get_document(ds.id, ids[1]).doc_metadata == []  # "not a number" not kept
        with pytest.raises(DifyConfigError, match="no text"):
            TextDocument("empty.txt", "  ")


def test_metadata_on_an_older_dify_names_the_version(emulator_015: Emulator) -> None:
    with DifyKnowledgeClient(api_key=emulator_015.keys.dataset,
                             base_url=emulator_015.base_url) as kc:  # fmt: skip
        ds = kc.create_dataset(_name())
        with pytest.raises(NotFoundError, match=r"needs Dify 1\.1 or newer"):
            kc.list_metadata_fields(ds.id)
        assert kc.get_dataset(ds.id).id == ds.id  # the rest of the API is there
