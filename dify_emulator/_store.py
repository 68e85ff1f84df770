"""SQLite state: end users, conversations, messages, feedback, files, runs, tasks, knowledge."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from dify_emulator._apps import stable_id
from dify_emulator._corpus import CORPUS
from dify_emulator._store_extra import ExtraStore
from dify_emulator._store_kb import KnowledgeStore
from dify_emulator._store_kb_extra import KB_SCHEMA, KnowledgeExtraStore

__all__ = ["DEFAULT_USER", "Store", "Task"]

DEFAULT_USER: Final = "DEFAULT-USER"

_SCHEMA: Final = """
CREATE TABLE end_users (id TEXT PRIMARY KEY, app TEXT, session_id TEXT, created REAL,
    UNIQUE (app, session_id));
CREATE TABLE conversations (id TEXT PRIMARY KEY, app TEXT, end_user_id TEXT, name TEXT,
    inputs TEXT, created REAL, updated REAL, deleted INTEGER DEFAULT 0);
CREATE INDEX conv_owner ON conversations (app, end_user_id);
CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, app TEXT,
    conversation_id TEXT, end_user_id TEXT, query TEXT, answer TEXT, inputs TEXT,
    retriever_resources TEXT, agent_thoughts TEXT, files TEXT, status TEXT, error TEXT,
    created REAL);
CREATE INDEX msg_conv ON messages (conversation_id, created);
CREATE TABLE feedbacks (id TEXT PRIMARY KEY, app TEXT, message_id TEXT, conversation_id TEXT,
    end_user_id TEXT, rating TEXT, content TEXT, created REAL, updated REAL,
    UNIQUE (message_id, end_user_id));
CREATE TABLE files (id TEXT PRIMARY KEY, app TEXT, end_user_id TEXT, name TEXT, size INTEGER,
    extension TEXT, mime_type TEXT, created REAL, data BLOB);
CREATE TABLE workflow_runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, app TEXT,
    workflow_id TEXT, end_user_id TEXT, session_id TEXT, status TEXT, inputs TEXT,
    outputs TEXT, error TEXT, total_steps INTEGER, total_tokens INTEGER, elapsed REAL,
    created REAL, finished REAL);
CREATE TABLE tasks (task_id TEXT PRIMARY KEY, app TEXT, end_user_id TEXT, user TEXT,
    stopped INTEGER DEFAULT 0, created REAL);
CREATE TABLE conv_vars (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE,
    conversation_id TEXT, name TEXT, value_type TEXT, value TEXT, description TEXT,
    created REAL, updated REAL, UNIQUE (conversation_id, name));
CREATE TABLE forms (token TEXT PRIMARY KEY, form_id TEXT, run_id TEXT, app TEXT,
    definition TEXT, expires REAL, status TEXT, action TEXT, data TEXT, created REAL);
CREATE TABLE annotations (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, app TEXT,
    question TEXT, answer TEXT, hit_count INTEGER, created REAL);
CREATE TABLE datasets (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, name TEXT,
    description TEXT, indexing_technique TEXT, permission TEXT, created REAL);
CREATE TABLE documents (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE,
    dataset_id TEXT, name TEXT, position INTEGER, batch TEXT, text TEXT, created REAL);
CREATE TABLE segments (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE,
    document_id TEXT, dataset_id TEXT, position INTEGER, content TEXT, created REAL);
"""


@dataclass(slots=True)
class Task:
    """A running generation that a stop call can interrupt."""

    task_id: str
    app: str
    end_user_id: str
    user: str
    stopped: bool = False


def _new_id() -> str:
    return str(uuid.uuid4())


class Store(KnowledgeStore, KnowledgeExtraStore, ExtraStore):
    """All emulator state behind one SQLite connection and one lock."""

    def __init__(self, path: str = ":memory:") -> None:
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._last = 0.0
        self._tasks: dict[str, Task] = {}
        self._seg_tokens: dict[str, tuple[str, ...]] = {}
        self.main_dataset_id = stable_id("dataset:emulator-kb")
        self.reset()

    # -- plumbing --------------------------------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def now(self) -> float:
        """A strictly increasing wall-clock time (sub-second)."""
        with self._lock:
            t = max(time.time(), self._last + 1e-6)
            self._last = t
            return t

    def _one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(sql, args).fetchone()
            return row

    def _all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    def _exec(self, sql: str, *args: Any) -> None:
        with self._lock:
            self._db.execute(sql, args)

    def reset(self) -> None:
        """Wipe everything and re-seed the bundled corpus."""
        with self._lock:
            tables = [
                r[0]
                for r in self._db.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                )
            ]
            for t in tables:
                self._db.execute(f"DROP TABLE {t}")
            self._db.executescript(_SCHEMA + KB_SCHEMA)
            self._tasks.clear()
            self._seg_tokens.clear()
            for ds_name in dict.fromkeys(name for name, _, _ in CORPUS):
                self.create_dataset(
                    ds_name,
                    "bundled emulator corpus",
                    dataset_id=stable_id(f"dataset:{ds_name}"),
                )
            for ds_name, doc_name, text in CORPUS:
                self.add_document(stable_id(f"dataset:{ds_name}"), doc_name, text, seeded=True)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    # -- end users -------------------------------------------------------------------------
    def end_user(self, app: str, session_id: str | None) -> str:
        """The end-user id for ``session_id`` in ``app`` (created on first sight)."""
        session = session_id or DEFAULT_USER
        with self._lock:
            row = self._one("SELECT id FROM end_users WHERE app=? AND session_id=?", app, session)
            if row is not None:
                return str(row["id"])
            eid = _new_id()
            self._exec("INSERT INTO end_users VALUES (?,?,?,?)", eid, app, session, self.now())
            return eid

    # -- conversations ---------------------------------------------------------------------
    def create_conversation(self, app: str, eu: str, name: str, inputs: dict[str, Any]) -> str:
        """Create a conversation and return its id."""
        cid = _new_id()
        t = self.now()
        self._exec(
            "INSERT INTO conversations (id, app, end_user_id, name, inputs, created, updated) "
            "VALUES (?,?,?,?,?,?,?)",
            cid,
            app,
            eu,
            name,
            json.dumps(inputs),
            t,
            t,
        )
        return cid

    def conversation(self, app: str, eu: str, cid: str) -> dict[str, Any] | None:
        """The live conversation ``cid`` owned by ``eu`` in ``app``, or None."""
        row = self._one(
            "SELECT * FROM conversations WHERE id=? AND app=? AND end_user_id=? AND deleted=0",
            cid,
            app,
            eu,
        )
        return None if row is None else _conv(row)

    def list_conversations(
        self, app: str, eu: str, last_id: str | None, limit: int, sort_by: str
    ) -> tuple[list[dict[str, Any]], bool]:
        """A page of conversations; raises LookupError for an unknown cursor."""
        column = "updated" if "updated" in sort_by else "created"
        desc = sort_by.startswith("-")
        op, order = ("<", "DESC") if desc else (">", "ASC")
        where = "app=? AND end_user_id=? AND deleted=0"
        args: list[Any] = [app, eu]
        with self._lock:
            if last_id:
                cur = self._one(
                    f"SELECT * FROM conversations WHERE id=? AND {where}",  # noqa: S608
                    last_id,
                    *args,
                )
                if cur is None:
                    raise LookupError(last_id)
                where += f" AND ({column} {op} ? OR ({column} = ? AND id {op} ?))"
                args += [cur[column], cur[column], cur["id"]]
            rows = self._all(
                f"SELECT * FROM conversations WHERE {where} ORDER BY {column} {order}, "  # noqa: S608
                f"id {order} LIMIT ?",
                *args,
                limit + 1,
            )
        return [_conv(r) for r in rows[:limit]], len(rows) > limit

    def rename_conversation(self, cid: str, name: str) -> None:
        """Set a conversation's name (bumps updated_at)."""
        self._exec("UPDATE conversations SET name=?, updated=? WHERE id=?", name, self.now(), cid)

    def touch_conversation(self, cid: str) -> None:
        """Bump updated_at."""
        self._exec("UPDATE conversations SET updated=? WHERE id=?", self.now(), cid)

    def delete_conversation(self, cid: str) -> None:
        """Soft-delete a conversation."""
        self._exec("UPDATE conversations SET deleted=1 WHERE id=?", cid)

    # -- messages --------------------------------------------------------------------------
    def create_message(
        self,
        *,
        app: str,
        eu: str,
        conversation_id: str | None,
        query: str,
        inputs: dict[str, Any],
        files: list[dict[str, Any]],
    ) -> tuple[str, float]:
        """Insert a message with an empty answer; returns (id, created)."""
        mid = _new_id()
        t = self.now()
        self._exec(
            "INSERT INTO messages (id, app, conversation_id, end_user_id, query, answer, inputs, "
            "retriever_resources, agent_thoughts, files, status, error, created) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            mid,
            app,
            conversation_id,
            eu,
            query,
            "",
            json.dumps(inputs),
            "[]",
            "[]",
            json.dumps(files),
            "normal",
            None,
            t,
        )
        return mid, t

    def finish_message(
        self,
        mid: str,
        *,
        answer: str,
        resources: list[dict[str, Any]],
        thoughts: list[dict[str, Any]],
        error: str | None = None,
    ) -> None:
        """Store the final answer (and touch the conversation)."""
        with self._lock:
            self._exec(
                "UPDATE messages SET answer=?, retriever_resources=?, agent_thoughts=?, "
                "status=?, error=? WHERE id=?",
                answer,
                json.dumps(resources),
                json.dumps(thoughts),
                "error" if error else "normal",
                error,
                mid,
            )
            row = self._one("SELECT conversation_id FROM messages WHERE id=?", mid)
            if row is not None and row["conversation_id"]:
                self.touch_conversation(row["conversation_id"])

    def message(self, app: str, eu: str, mid: str) -> dict[str, Any] | None:
        """A message of ``eu`` in ``app`` (conversation not deleted), or None."""
        row = self._one(
            "SELECT m.* FROM messages m LEFT JOIN conversations c ON c.id = m.conversation_id "
            "WHERE m.id=? AND m.app=? AND m.end_user_id=? AND (c.deleted IS NULL OR c.deleted=0)",
            mid,
            app,
            eu,
        )
        return None if row is None else _msg(row)

    def list_messages(
        self, cid: str, first_id: str | None, limit: int, *, same_second: bool = False
    ) -> tuple[list[dict[str, Any]], bool]:
        """Newest page first, items ascending; raises LookupError for an unknown cursor.

        ``same_second``: Dify's one-second clock: times tie within a second, ties come
        in reverse order, and the cursor skips the rest of its second.
        """
        when = "CAST(created AS INTEGER)" if same_second else "created"
        tie = "seq ASC" if same_second else "seq DESC"
        with self._lock:
            where, args = "conversation_id=?", [cid]
            if first_id:
                cur = self._one(
                    f"SELECT {when} AS created, seq FROM messages "  # noqa: S608
                    "WHERE id=? AND conversation_id=?",
                    first_id,
                    cid,
                )
                if cur is None:
                    raise LookupError(first_id)
                if same_second:
                    where += f" AND {when} < ?"
                    args += [cur["created"]]
                else:
                    where += " AND (created < ? OR (created = ? AND seq < ?))"
                    args += [cur["created"], cur["created"], cur["seq"]]
            rows = self._all(
                f"SELECT * FROM messages WHERE {where} ORDER BY {when} DESC, {tie} LIMIT ?",  # noqa: S608
                *args,
                limit + 1,
            )
        page = [_msg(r) for r in reversed(rows[:limit])]
        return page, len(rows) > limit

    def history(self, cid: str) -> list[dict[str, Any]]:
        """All finished messages of a conversation, oldest first."""
        rows = self._all(
            "SELECT * FROM messages WHERE conversation_id=? ORDER BY created, seq", cid
        )
        return [_msg(r) for r in rows]

    # -- feedback --------------------------------------------------------------------------
    def feedback(self, mid: str, eu: str) -> dict[str, Any] | None:
        """This end user's feedback on a message."""
        row = self._one("SELECT * FROM feedbacks WHERE message_id=? AND end_user_id=?", mid, eu)
        return None if row is None else dict(row)

    def set_feedback(
        self, app: str, msg: dict[str, Any], eu: str, rating: str | None, content: str | None
    ) -> bool:
        """Upsert (or delete for None) feedback; False if deleting a missing one."""
        with self._lock:
            existing = self.feedback(msg["id"], eu)
            if rating is None:
                if existing is None:
                    return False
                self._exec("DELETE FROM feedbacks WHERE id=?", existing["id"])
                return True
            t = self.now()
            if existing is None:
                self._exec(
                    "INSERT INTO feedbacks VALUES (?,?,?,?,?,?,?,?,?)",
                    _new_id(),
                    app,
                    msg["id"],
                    msg["conversation_id"],
                    eu,
                    rating,
                    content,
                    t,
                    t,
                )
            else:
                self._exec(
                    "UPDATE feedbacks SET rating=?, content=?, updated=? WHERE id=?",
                    rating,
                    content,
                    t,
                    existing["id"],
                )
            return True

    def list_feedbacks(self, app: str, page: int, limit: int) -> list[dict[str, Any]]:
        """Feedback of an app, newest first."""
        rows = self._all(
            "SELECT * FROM feedbacks WHERE app=? ORDER BY created DESC LIMIT ? OFFSET ?",
            app,
            limit,
            (page - 1) * limit,
        )
        return [dict(r) for r in rows]

    # -- files -----------------------------------------------------------------------------
    def add_file(self, app: str, eu: str, name: str, mime_type: str, data: bytes) -> dict[str, Any]:
        """Store an uploaded file."""
        fid = _new_id()
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        t = self.now()
        self._exec(
            "INSERT INTO files VALUES (?,?,?,?,?,?,?,?,?)",
            fid,
            app,
            eu,
            name,
            len(data),
            ext,
            mime_type,
            t,
            data,
        )
        return {
            "id": fid,
            "name": name,
            "size": len(data),
            "extension": ext,
            "mime_type": mime_type,
            "created_by": eu,
            "created": t,
        }

    def file(self, app: str, eu: str, fid: str) -> dict[str, Any] | None:
        """An uploaded file of this end user, or None."""
        row = self._one(
            "SELECT id, name, size, extension, mime_type, created, end_user_id FROM files "
            "WHERE id=? AND app=? AND end_user_id=?",
            fid,
            app,
            eu,
        )
        return None if row is None else dict(row)

    def end_user_row(self, app: str, eid: str) -> dict[str, Any] | None:
        """An end user of ``app`` by id."""
        row = self._one("SELECT * FROM end_users WHERE app=? AND id=?", app, eid)
        return None if row is None else dict(row)

    def file_any(self, fid: str) -> dict[str, Any] | None:
        """An uploaded file by id, whoever uploaded it (with its bytes)."""
        row = self._one("SELECT * FROM files WHERE id=?", fid)
        return None if row is None else dict(row)

    def file_data(self, fid: str) -> bytes | None:
        """Raw bytes of an uploaded file."""
        row = self._one("SELECT data FROM files WHERE id=?", fid)
        return None if row is None else bytes(row["data"])

    # -- workflow runs ---------------------------------------------------------------------
    def save_run(self, run: dict[str, Any]) -> None:
        """Insert or replace a workflow run record."""
        cols = [
            "id",
            "app",
            "workflow_id",
            "end_user_id",
            "session_id",
            "status",
            "inputs",
            "outputs",
            "error",
            "total_steps",
            "total_tokens",
            "elapsed",
            "created",
            "finished",
        ]
        values = [
            json.dumps(run[c]) if c in ("inputs", "outputs") and run[c] is not None else run[c]
            for c in cols
        ]
        with self._lock:
            self._exec("DELETE FROM workflow_runs WHERE id=?", run["id"])
            self._exec(
                f"INSERT INTO workflow_runs ({', '.join(cols)}) VALUES "  # noqa: S608
                f"({', '.join('?' * len(cols))})",
                *values,
            )

    def run(self, run_id: str) -> dict[str, Any] | None:
        """A workflow run record (inputs/outputs as stored JSON text)."""
        row = self._one("SELECT * FROM workflow_runs WHERE id=?", run_id)
        return None if row is None else dict(row)

    def list_runs(
        self, app: str, page: int, limit: int, status: str | None
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of an app's runs, newest first, and the total."""
        where, args = "app=?", [app]
        if status:
            where += " AND status=?"
            args.append(status)
        with self._lock:
            total = self._one(f"SELECT COUNT(*) AS n FROM workflow_runs WHERE {where}", *args)  # noqa: S608
            rows = self._all(
                f"SELECT * FROM workflow_runs WHERE {where} ORDER BY seq DESC LIMIT ? OFFSET ?",  # noqa: S608
                *args,
                limit,
                (page - 1) * limit,
            )
        return [dict(r) for r in rows], int(total["n"]) if total else 0

    # -- tasks -----------------------------------------------------------------------------
    def start_task(self, app: str, eu: str, user: str) -> Task:
        """Register a running task."""
        task = Task(_new_id(), app, eu, user)
        with self._lock:
            self._tasks[task.task_id] = task
            self._exec(
                "INSERT INTO tasks VALUES (?,?,?,?,0,?)", task.task_id, app, eu, user, self.now()
            )
        return task

    def end_task(self, task: Task) -> None:
        """Forget a finished task."""
        with self._lock:
            self._tasks.pop(task.task_id, None)

    def stop_task(self, task_id: str, app: str, user: str | None, *, check_user: bool) -> bool:
        """Set the stop flag if the task runs in ``app`` (and belongs to ``user``)."""
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None or task.app != app:
                return False
            if check_user and task.user != (user or DEFAULT_USER):
                return False
            task.stopped = True
            self._exec("UPDATE tasks SET stopped=1 WHERE task_id=?", task_id)
            return True


def _conv(row: sqlite3.Row) -> dict[str, Any]:
    d = dict(row)
    d["inputs"] = json.loads(d["inputs"] or "{}")
    return d


def _msg(row: sqlite3.Row) -> dict[str, Any]:
    d = dict(row)
    for key in ("inputs", "retriever_resources", "agent_thoughts", "files"):
        d[key] = json.loads(d[key] or ("{}" if key == "inputs" else "[]"))
    return d
