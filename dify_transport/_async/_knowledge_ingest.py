"""`AsyncKnowledgeIngest`: waiting for indexing, and documents with metadata added.

A base of `AsyncDifyKnowledgeClient`; the rules (types, reserved names) are in
``dify_transport/_ingest.py``. Both frameworks' ingestion helpers call `add_documents`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dify_transport import _retry
from dify_transport._app_api import Headers
from dify_transport._async._knowledge_docs import AsyncKnowledgeDocuments
from dify_transport._async._knowledge_meta import AsyncKnowledgeMeta
from dify_transport._base_client import TimeoutTypes
from dify_transport._indexing import DEFAULT_MAX_WAIT, DEFAULT_POLL_INTERVAL, IndexingWatch
from dify_transport._ingest import TextDocument, missing_fields, operations
from dify_transport.types import IndexingStatusList

__all__ = ["AsyncKnowledgeIngest"]


class AsyncKnowledgeIngest(AsyncKnowledgeDocuments, AsyncKnowledgeMeta):
    """`wait_for_indexing` and `add_documents` (the ingestion both frameworks use)."""

    async def wait_for_indexing(
        self,
        dataset_id: str,
        batch: str,
        *,
        max_wait: float = DEFAULT_MAX_WAIT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        progress: bool | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> IndexingStatusList:
        """Poll a batch's indexing status until every document is ``completed``.

        Args:
            dataset_id: Knowledge base id.
            batch: The ``batch`` a document creation or update returned.
            max_wait: Seconds to wait in total.
            poll_interval: Seconds between polls.
            progress: Show progress (a tqdm bar when tqdm is installed, else a line per
                change on stderr); None: only on a terminal or in a notebook.
            timeout: Per-request timeout.
            extra_headers: Extra HTTP headers.

        Returns:
            The last status (every document ``completed``).

        Raises:
            IndexingFailedError: A document's indexing ended in ``error``.
            IndexingPausedError: Indexing was paused.
            IndexingTimeoutError: Not completed within ``max_wait`` seconds.
        """
        watch = IndexingWatch(batch, max_wait=max_wait, progress=progress)
        sleep = self._sleep or _retry.async_sleep
        try:
            while True:
                listing = await self.get_indexing_status(
                    dataset_id, batch, timeout=timeout, extra_headers=extra_headers
                )
                if watch.done(listing):
                    return listing
                left = watch.remaining()
                if left <= 0:
                    raise watch.timed_out(listing)
                await sleep(min(poll_interval, left))
        finally:
            watch.close()

    async def add_documents(
        self,
        dataset_id: str,
        documents: Sequence[TextDocument],
        *,
        indexing_technique: str | None = "high_quality",
        doc_form: str | None = None,
        process_rule: Mapping[str, Any] | None = None,
        wait: bool = True,
        max_wait: float = DEFAULT_MAX_WAIT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        progress: bool | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> list[str]:
        """Add text documents, keep their metadata as Dify metadata, wait for indexing.

        Missing metadata fields are created (see ``dify_transport._ingest`` for the type
        rules); each document's values are set once it exists.

        Args:
            dataset_id: Knowledge base id.
            documents: The documents (`TextDocument`: name, text, metadata).
            indexing_technique: ``high_quality`` or ``economy``.
            doc_form: ``text_model`` (default), ``hierarchical_model`` or ``qa_model``.
            process_rule: Dify's chunking rule (default ``{"mode": "automatic"}``).
            wait: Wait until every document is indexed (`wait_for_indexing`).
            max_wait: Seconds to wait per batch.
            poll_interval: Seconds between status polls.
            progress: Show indexing progress (None: on a terminal or in a notebook).
            timeout: Per-request timeout.
            extra_headers: Extra HTTP headers.

        Returns:
            The Dify document ids, in order (pass them to `delete_document`).
        """
        docs = list(documents)
        created: list[tuple[str, str, TextDocument]] = []
        for doc in docs:
            answer = await self.create_document_by_text(
                dataset_id, doc.name, doc.text, indexing_technique=indexing_technique,
                doc_form=doc_form, process_rule=process_rule, timeout=timeout,
                extra_headers=extra_headers,
            )  # fmt: skip
            created.append((answer.document.id, answer.batch, doc))
        if any(doc.metadata for doc in docs):
            fields = await self.list_metadata_fields(
                dataset_id, timeout=timeout, extra_headers=extra_headers
            )
            known = list(fields.doc_metadata)
            for name, kind in missing_fields(docs, known).items():
                known.append(
                    await self.create_metadata_field(
                        dataset_id, name, kind,  # type: ignore[arg-type]
                        timeout=timeout, extra_headers=extra_headers,
                    )
                )  # fmt: skip
            ops = operations([(doc_id, doc) for doc_id, _, doc in created], known)
            if ops:
                await self.update_documents_metadata(
                    dataset_id, ops, timeout=timeout, extra_headers=extra_headers
                )
        if wait:
            for _, batch, _ in created:
                await self.wait_for_indexing(
                    dataset_id, batch, max_wait=max_wait, poll_interval=poll_interval,
                    progress=progress, timeout=timeout, extra_headers=extra_headers,
                )  # fmt: skip
        return [doc_id for doc_id, _, _ in created]
