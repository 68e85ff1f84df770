"""Knowledge-base tables of the store: datasets, documents, segments."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from typing import Any

from dify_emulator._apps import stable_id
from dify_emulator._corpus import split_segments, terms

__all__ = ["KnowledgeStore", "SqlBase"]


class SqlBase:
    """What the ``Store`` mixins use of ``Store``: its clock and query helpers."""

    def now(self) -> float:  # pragma: no cover - provided by Store
        """A strictly increasing time."""
        raise NotImplementedError

    def _one(self, sql: str, *args: Any) -> sqlite3.Row | None:  # pragma: no cover
        raise NotImplementedError

    def _all(self, sql: str, *args: Any) -> list[sqlite3.Row]:  # pragma: no cover
        raise NotImplementedError

    def _exec(self, sql: str, *args: Any) -> None:  # pragma: no cover
        raise NotImplementedError


class KnowledgeStore(SqlBase):
    """Dataset, document and segment queries (mixed into ``Store``)."""

    _lock: threading.RLock
    _seg_tokens: dict[str, tuple[str, ...]]

    def create_dataset(
        self,
        name: str,
        description: str | None,
        *,
        dataset_id: str | None = None,
        indexing_technique: str | None = "high_quality",
        permission: str = "only_me",
    ) -> dict[str, Any]:
        """Create a knowledge base."""
        did = dataset_id or str(uuid.uuid4())
        self._exec(
            "INSERT INTO datasets (id, name, description, indexing_technique, permission, "
            "created) VALUES (?,?,?,?,?,?)",
            did,
            name,
            description,
            indexing_technique,
            permission,
            self.now(),
        )
        ds = self.dataset(did)
        assert ds is not None
        return ds

    def dataset(self, did: str) -> dict[str, Any] | None:
        """One dataset with document/word counts."""
        row = self._one(
            "SELECT d.*, (SELECT COUNT(*) FROM documents WHERE dataset_id=d.id) AS document_count,"
            " (SELECT COALESCE(SUM(LENGTH(text)),0) FROM documents WHERE dataset_id=d.id) "
            "AS word_count FROM datasets d WHERE d.id=?",
            did,
        )
        return None if row is None else dict(row)

    def dataset_by_name(self, name: str) -> dict[str, Any] | None:
        """A dataset by its name."""
        row = self._one("SELECT id FROM datasets WHERE name=?", name)
        return None if row is None else self.dataset(row["id"])

    def list_datasets(self, page: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        """A page of datasets and the total."""
        ids = self._all(
            "SELECT id FROM datasets ORDER BY seq LIMIT ? OFFSET ?", limit, (page - 1) * limit
        )
        total = self._one("SELECT COUNT(*) AS n FROM datasets")
        out = [self.dataset(r["id"]) for r in ids]
        return [d for d in out if d is not None], int(total["n"]) if total else 0

    def add_document(
        self, did: str, name: str, text: str, *, seeded: bool = False
    ) -> tuple[dict[str, Any], str]:
        """Create a document (indexed at once) and its segments; returns (document, batch)."""
        with self._lock:
            doc_id = stable_id(f"document:{did}:{name}") if seeded else str(uuid.uuid4())
            t = self.now()
            batch = time.strftime("%Y%m%d%H%M%S", time.gmtime(t)) + f"{int(t * 1e6) % 1000000:06d}"
            pos_row = self._one(
                "SELECT COALESCE(MAX(position),0)+1 AS p FROM documents WHERE dataset_id=?", did
            )
            position = int(pos_row["p"]) if pos_row else 1
            self._exec(
                "INSERT INTO documents (id, dataset_id, name, position, batch, text, created) "
                "VALUES (?,?,?,?,?,?,?)",
                doc_id,
                did,
                name,
                position,
                batch,
                text,
                t,
            )
            for i, content in enumerate(split_segments(text), start=1):
                sid = stable_id(f"segment:{doc_id}:{i}") if seeded else str(uuid.uuid4())
                self._exec(
                    "INSERT INTO segments (id, document_id, dataset_id, position, content, "
                    "created) VALUES (?,?,?,?,?,?)",
                    sid,
                    doc_id,
                    did,
                    i,
                    content,
                    t,
                )
            doc = self.document(did, doc_id)
            assert doc is not None
            return doc, batch

    def document(self, did: str, doc_id: str) -> dict[str, Any] | None:
        """One document of a dataset."""
        row = self._one(
            "SELECT d.*, (SELECT COUNT(*) FROM segments WHERE document_id=d.id) AS segment_count"
            " FROM documents d WHERE d.id=? AND d.dataset_id=?",
            doc_id,
            did,
        )
        return None if row is None else dict(row)

    def list_documents(self, did: str, batch: str | None = None) -> list[dict[str, Any]]:
        """Documents of a dataset (optionally of one batch), by position."""
        sql = (
            "SELECT d.*, (SELECT COUNT(*) FROM segments WHERE document_id=d.id) AS segment_count "
            "FROM documents d WHERE d.dataset_id=?"
        )
        args: list[Any] = [did]
        if batch is not None:
            sql += " AND d.batch=?"
            args.append(batch)
        return [dict(r) for r in self._all(sql + " ORDER BY position", *args)]

    def segments(self, dataset_ids: list[str], doc_id: str | None = None) -> list[dict[str, Any]]:
        """Segments of some datasets (or one document), with document and dataset names."""
        marks = ",".join("?" * len(dataset_ids))
        sql = (
            "SELECT s.*, d.name AS document_name, d.position AS document_position, "  # noqa: S608
            "ds.name AS dataset_name FROM segments s JOIN documents d ON d.id=s.document_id "
            f"JOIN datasets ds ON ds.id=s.dataset_id WHERE s.dataset_id IN ({marks})"
        )
        args: list[Any] = list(dataset_ids)
        if doc_id is not None:
            sql += " AND s.document_id=?"
            args.append(doc_id)
        rows = [dict(r) for r in self._all(sql + " ORDER BY ds.seq, d.position, s.position", *args)]
        for r in rows:
            toks = self._seg_tokens.get(r["id"])
            if toks is None:
                toks = self._seg_tokens[r["id"]] = terms(r["content"])
            r["terms"] = toks
        return rows
