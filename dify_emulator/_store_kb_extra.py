"""SQLite state of the rest of the Knowledge API: props, metadata, tags, child chunks.

``kb_props`` holds a JSON object per dataset / document / segment id for what the base
tables lack (enabled, archived, answer, keywords, the simulated indexing plan, a
dataset's retrieval settings and built-in-field switch).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Final

from dify_emulator._corpus import split_segments
from dify_emulator._store_kb import SqlBase

__all__ = ["KB_SCHEMA", "KnowledgeExtraStore"]

KB_SCHEMA: Final = """
CREATE TABLE kb_props (id TEXT PRIMARY KEY, props TEXT);
CREATE TABLE meta_fields (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE,
    dataset_id TEXT, name TEXT, type TEXT, created REAL, UNIQUE (dataset_id, name));
CREATE TABLE meta_values (document_id TEXT, field_id TEXT, value TEXT,
    PRIMARY KEY (document_id, field_id));
CREATE TABLE tags (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, name TEXT UNIQUE,
    created REAL);
CREATE TABLE tag_bindings (tag_id TEXT, target_id TEXT, PRIMARY KEY (tag_id, target_id));
CREATE TABLE child_chunks (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE,
    segment_id TEXT, position INTEGER, content TEXT, created REAL);
"""


class KnowledgeExtraStore(SqlBase):
    """Mixin for :class:`dify_emulator._store.Store` (same connection and lock)."""

    # -- props -----------------------------------------------------------------------------
    def props(self, oid: str) -> dict[str, Any]:
        """The extra properties of a dataset, document or segment ({} when none)."""
        row = self._one("SELECT props FROM kb_props WHERE id=?", oid)
        return dict(json.loads(row["props"])) if row is not None else {}

    def set_props(self, oid: str, **values: Any) -> dict[str, Any]:
        """Merge ``values`` into an object's properties."""
        merged = {**self.props(oid), **values}
        self._exec("INSERT OR REPLACE INTO kb_props (id, props) VALUES (?,?)", oid,
                   json.dumps(merged))  # fmt: skip
        return merged

    # -- datasets and documents ------------------------------------------------------------
    def update_dataset_row(self, did: str, fields: dict[str, Any]) -> None:
        """Update some of name, description, indexing_technique, permission."""
        for key in ("name", "description", "indexing_technique", "permission"):
            if key in fields and fields[key] is not None:
                self._exec(f"UPDATE datasets SET {key}=? WHERE id=?", fields[key], did)  # noqa: S608

    def delete_dataset(self, did: str) -> None:
        """Delete a dataset and everything in it."""
        for row in self._all("SELECT id FROM documents WHERE dataset_id=?", did):
            self.delete_document(row["id"])
        self._exec("DELETE FROM meta_fields WHERE dataset_id=?", did)
        self._exec("DELETE FROM tag_bindings WHERE target_id=?", did)
        self._exec("DELETE FROM kb_props WHERE id=?", did)
        self._exec("DELETE FROM datasets WHERE id=?", did)

    def delete_document(self, doc_id: str) -> None:
        """Delete a document, its segments, child chunks and metadata values."""
        for row in self._all("SELECT id FROM segments WHERE document_id=?", doc_id):
            self.delete_segment(row["id"])
        self._exec("DELETE FROM meta_values WHERE document_id=?", doc_id)
        self._exec("DELETE FROM kb_props WHERE id=?", doc_id)
        self._exec("DELETE FROM documents WHERE id=?", doc_id)

    def replace_document(self, did: str, doc_id: str, name: str | None, text: str | None) -> str:
        """New name and/or text (re-split into segments); returns the new batch."""
        t = self.now()
        batch = time.strftime("%Y%m%d%H%M%S", time.gmtime(t)) + f"{int(t * 1e6) % 1000000:06d}"
        self._exec("UPDATE documents SET batch=? WHERE id=?", batch, doc_id)
        if name:
            self._exec("UPDATE documents SET name=? WHERE id=?", name, doc_id)
        if text is not None:
            for row in self._all("SELECT id FROM segments WHERE document_id=?", doc_id):
                self.delete_segment(row["id"])
            self._exec("UPDATE documents SET text=? WHERE id=?", text, doc_id)
            for content in split_segments(text):
                self.add_segment(did, doc_id, content)
        return batch

    # -- segments --------------------------------------------------------------------------
    def add_segment(self, did: str, doc_id: str, content: str) -> str:
        """Append a segment to a document; returns its id."""
        row = self._one(
            "SELECT COALESCE(MAX(position),0)+1 AS p FROM segments WHERE document_id=?", doc_id
        )
        sid = str(uuid.uuid4())
        self._exec(
            "INSERT INTO segments (id, document_id, dataset_id, position, content, created) "
            "VALUES (?,?,?,?,?,?)",
            sid, doc_id, did, int(row["p"]) if row else 1, content, self.now(),
        )  # fmt: skip
        return sid

    def segment_row(self, doc_id: str, sid: str) -> dict[str, Any] | None:
        """One segment of a document."""
        row = self._one("SELECT * FROM segments WHERE id=? AND document_id=?", sid, doc_id)
        return None if row is None else dict(row)

    def set_segment_content(self, sid: str, content: str) -> None:
        """Replace a segment's text."""
        self._exec("UPDATE segments SET content=? WHERE id=?", content, sid)
        getattr(self, "_seg_tokens", {}).pop(sid, None)

    def delete_segment(self, sid: str) -> None:
        """Delete a segment and its child chunks."""
        self._exec("DELETE FROM child_chunks WHERE segment_id=?", sid)
        self._exec("DELETE FROM kb_props WHERE id=?", sid)
        self._exec("DELETE FROM segments WHERE id=?", sid)
        getattr(self, "_seg_tokens", {}).pop(sid, None)

    # -- child chunks ----------------------------------------------------------------------
    def add_child_chunk(self, sid: str, content: str) -> dict[str, Any]:
        """Append a child chunk to a segment."""
        row = self._one(
            "SELECT COALESCE(MAX(position),0)+1 AS p FROM child_chunks WHERE segment_id=?", sid
        )
        cid = str(uuid.uuid4())
        self._exec(
            "INSERT INTO child_chunks (id, segment_id, position, content, created) "
            "VALUES (?,?,?,?,?)",
            cid, sid, int(row["p"]) if row else 1, content, self.now(),
        )  # fmt: skip
        chunk = self.child_chunk(sid, cid)
        assert chunk is not None
        return chunk

    def child_chunk(self, sid: str, cid: str) -> dict[str, Any] | None:
        """One child chunk of a segment."""
        row = self._one("SELECT * FROM child_chunks WHERE id=? AND segment_id=?", cid, sid)
        return None if row is None else dict(row)

    def child_chunks(self, sid: str) -> list[dict[str, Any]]:
        """A segment's child chunks by position."""
        rows = self._all("SELECT * FROM child_chunks WHERE segment_id=? ORDER BY position", sid)
        return [dict(r) for r in rows]

    def set_child_chunk(self, cid: str, content: str | None) -> None:
        """Replace (content) or delete (None) a child chunk."""
        if content is None:
            self._exec("DELETE FROM child_chunks WHERE id=?", cid)
        else:
            self._exec("UPDATE child_chunks SET content=? WHERE id=?", content, cid)

    # -- metadata --------------------------------------------------------------------------
    def meta_fields(self, did: str) -> list[dict[str, Any]]:
        """A dataset's metadata fields with their use counts."""
        rows = self._all(
            "SELECT f.*, (SELECT COUNT(*) FROM meta_values v WHERE v.field_id=f.id) AS count "
            "FROM meta_fields f WHERE f.dataset_id=? ORDER BY seq",
            did,
        )
        return [dict(r) for r in rows]

    def add_meta_field(self, did: str, name: str, kind: str) -> dict[str, Any]:
        """Create a metadata field."""
        fid = str(uuid.uuid4())
        self._exec("INSERT INTO meta_fields (id, dataset_id, name, type, created) "
                   "VALUES (?,?,?,?,?)", fid, did, name, kind, self.now())  # fmt: skip
        return {"id": fid, "name": name, "type": kind}

    def set_meta_field(self, did: str, fid: str, name: str | None) -> None:
        """Rename (name) or delete (None) a metadata field."""
        if name is None:
            self._exec("DELETE FROM meta_values WHERE field_id=?", fid)
            self._exec("DELETE FROM meta_fields WHERE id=? AND dataset_id=?", fid, did)
        else:
            self._exec("UPDATE meta_fields SET name=? WHERE id=? AND dataset_id=?", name, fid, did)

    def doc_meta(self, doc_id: str) -> list[dict[str, Any]]:
        """A document's metadata values ``[{id, name, type, value}]`` (values decoded)."""
        rows = self._all(
            "SELECT f.id, f.name, f.type, v.value FROM meta_values v JOIN meta_fields f "
            "ON f.id=v.field_id WHERE v.document_id=? ORDER BY f.seq",
            doc_id,
        )
        return [{**dict(r), "value": json.loads(r["value"])} for r in rows]

    def set_doc_meta(self, doc_id: str, values: dict[str, Any], *, partial: bool) -> None:
        """Set a document's values by field id (replacing all unless ``partial``)."""
        if not partial:
            self._exec("DELETE FROM meta_values WHERE document_id=?", doc_id)
        for fid, value in values.items():
            self._exec("INSERT OR REPLACE INTO meta_values (document_id, field_id, value) "
                       "VALUES (?,?,?)", doc_id, fid, json.dumps(value))  # fmt: skip

    # -- tags ------------------------------------------------------------------------------
    def tags(self) -> list[dict[str, Any]]:
        """Every tag with its binding count."""
        rows = self._all(
            "SELECT t.*, (SELECT COUNT(*) FROM tag_bindings b WHERE b.tag_id=t.id) AS n "
            "FROM tags t ORDER BY seq"
        )
        return [dict(r) for r in rows]

    def tag(self, tid: str) -> dict[str, Any] | None:
        """One tag."""
        return next((t for t in self.tags() if t["id"] == tid), None)

    def add_tag(self, name: str) -> dict[str, Any]:
        """Create a tag."""
        tid = str(uuid.uuid4())
        self._exec("INSERT INTO tags (id, name, created) VALUES (?,?,?)", tid, name, self.now())
        tag = self.tag(tid)
        assert tag is not None
        return tag

    def set_tag(self, tid: str, name: str | None) -> None:
        """Rename (name) or delete (None) a tag."""
        if name is None:
            self._exec("DELETE FROM tag_bindings WHERE tag_id=?", tid)
            self._exec("DELETE FROM tags WHERE id=?", tid)
        else:
            self._exec("UPDATE tags SET name=? WHERE id=?", name, tid)

    def bind(self, tag_ids: list[str], target: str, *, bound: bool) -> None:
        """Bind or unbind tags to a dataset (unknown tag ids are ignored)."""
        for tid in tag_ids:
            if not bound:
                self._exec("DELETE FROM tag_bindings WHERE tag_id=? AND target_id=?", tid, target)
            elif self.tag(tid) is not None:
                self._exec("INSERT OR IGNORE INTO tag_bindings (tag_id, target_id) VALUES (?,?)",
                           tid, target)  # fmt: skip

    def dataset_tags(self, did: str) -> list[dict[str, Any]]:
        """The tags bound to a dataset."""
        rows = self._all(
            "SELECT t.id, t.name FROM tags t JOIN tag_bindings b ON b.tag_id=t.id "
            "WHERE b.target_id=? ORDER BY t.seq",
            did,
        )
        return [dict(r) for r in rows]
