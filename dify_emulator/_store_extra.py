"""SQLite state of the 1.x additions: conversation variables, human-input forms, annotations."""

from __future__ import annotations

import json
import uuid
from typing import Any, Final

from dify_emulator._store_kb import SqlBase

__all__ = ["CONVERSATION_VARIABLES", "ExtraStore"]

CONVERSATION_VARIABLES: Final = (
    ("user_name", "string", "", "The user's name; the chatflow greets them by it."),
    ("turn_count", "number", "0", "How many turns the chatflow answered (it updates this)."),
    ("last_question", "string", "", "The question of the last turn (the chatflow sets it)."),
)
"""(name, value_type, initial value, description) of the chatflow's conversation variables."""


class ExtraStore(SqlBase):
    """Mixin for :class:`dify_emulator._store.Store` (same connection and lock)."""

    # -- conversation variables ------------------------------------------------------------
    def _ensure_variables(self, cid: str) -> None:
        if self._one("SELECT 1 FROM conv_vars WHERE conversation_id=?", cid) is not None:
            return
        t = self.now()
        for name, kind, value, description in CONVERSATION_VARIABLES:
            self._exec(
                "INSERT INTO conv_vars (id, conversation_id, name, value_type, value, "
                "description, created, updated) VALUES (?,?,?,?,?,?,?,?)",
                str(uuid.uuid4()), cid, name, kind, value, description, t, t,
            )  # fmt: skip

    def variable_rows(self, cid: str) -> list[dict[str, Any]]:
        """All variables of a conversation (created on first use), in declaration order."""
        self._ensure_variables(cid)
        return [dict(r) for r in self._all(
            "SELECT * FROM conv_vars WHERE conversation_id=? ORDER BY seq", cid)]  # fmt: skip

    def variables(self, cid: str) -> dict[str, Any]:
        """``{name: value}`` with numbers as numbers."""
        out: dict[str, Any] = {}
        for r in self.variable_rows(cid):
            out[r["name"]] = float(r["value"]) if r["value_type"] == "number" else r["value"]
        return out

    def set_variables(self, cid: str, values: dict[str, Any]) -> None:
        """Write some variables by name (the chatflow's variable assigner)."""
        self._ensure_variables(cid)
        t = self.now()
        for name, value in values.items():
            self._exec(
                "UPDATE conv_vars SET value=?, updated=? WHERE conversation_id=? AND name=?",
                str(value), t, cid, name,
            )  # fmt: skip

    def set_variable(self, cid: str, vid: str, value: str) -> dict[str, Any] | None:
        """Write one variable by id; None when it does not exist."""
        self._ensure_variables(cid)
        row = self._one("SELECT * FROM conv_vars WHERE conversation_id=? AND id=?", cid, vid)
        if row is None:
            return None
        self._exec("UPDATE conv_vars SET value=?, updated=? WHERE id=?", value, self.now(), vid)
        fresh = self._one("SELECT * FROM conv_vars WHERE id=?", vid)
        return None if fresh is None else dict(fresh)

    # -- human-input forms -----------------------------------------------------------------
    def add_form(self, token: str, form_id: str, run_id: str, app: str,  # noqa: PLR0917
                 definition: dict[str, Any], expires: float) -> None:  # fmt: skip
        """Store a waiting form."""
        self._exec(
            "INSERT INTO forms VALUES (?,?,?,?,?,?,?,?,?,?)",
            token, form_id, run_id, app, json.dumps(definition), expires, "waiting", None,
            None, self.now(),
        )  # fmt: skip

    def form(self, token: str) -> dict[str, Any] | None:
        """A form by token (``definition`` and ``data`` decoded)."""
        row = self._one("SELECT * FROM forms WHERE token=?", token)
        if row is None:
            return None
        d = dict(row)
        d["definition"] = json.loads(d["definition"])
        d["data"] = json.loads(d["data"]) if d["data"] else None
        return d

    def form_of_run(self, run_id: str) -> dict[str, Any] | None:
        """The waiting form of a paused run, if any."""
        row = self._one("SELECT token FROM forms WHERE run_id=? AND status='waiting'", run_id)
        return None if row is None else self.form(row["token"])

    def settle_form(self, token: str, status: str, action: str | None,
                    data: dict[str, Any] | None) -> bool:  # fmt: skip
        """Mark a waiting form ``submitted`` or ``timeout``; False if it was not waiting."""
        row = self._one("SELECT status FROM forms WHERE token=?", token)
        if row is None or row["status"] != "waiting":
            return False
        self._exec("UPDATE forms SET status=?, action=?, data=? WHERE token=?", status, action,
                   json.dumps(data) if data is not None else None, token)  # fmt: skip
        return True

    # -- annotations -----------------------------------------------------------------------
    def add_annotation(self, app: str, question: str, answer: str) -> dict[str, Any]:
        """Create an annotation."""
        aid = str(uuid.uuid4())
        self._exec(
            "INSERT INTO annotations (id, app, question, answer, hit_count, created) "
            "VALUES (?,?,?,?,?,?)", aid, app, question, answer, 0, self.now(),
        )  # fmt: skip
        found = self.annotation(app, aid)
        assert found is not None
        return found

    def annotation(self, app: str, aid: str) -> dict[str, Any] | None:
        """An annotation of an app."""
        row = self._one("SELECT * FROM annotations WHERE app=? AND id=?", app, aid)
        return None if row is None else dict(row)

    def list_annotations(self, app: str, page: int, limit: int,
                         keyword: str) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
        """A page of an app's annotations (newest first) and the total."""
        where, args = "app=?", [app]
        if keyword:
            where += " AND (question LIKE ? OR answer LIKE ?)"
            args += [f"%{keyword}%", f"%{keyword}%"]
        total = self._one(f"SELECT COUNT(*) AS n FROM annotations WHERE {where}", *args)  # noqa: S608
        rows = self._all(
            f"SELECT * FROM annotations WHERE {where} ORDER BY seq DESC LIMIT ? OFFSET ?",  # noqa: S608
            *args, limit, (page - 1) * limit,
        )  # fmt: skip
        return [dict(r) for r in rows], int(total["n"]) if total else 0

    def update_annotation(self, app: str, aid: str, question: str, answer: str) -> bool:
        """Rewrite an annotation; False if unknown."""
        if self.annotation(app, aid) is None:
            return False
        self._exec("UPDATE annotations SET question=?, answer=? WHERE id=?", question, answer, aid)
        return True

    def delete_annotation(self, app: str, aid: str) -> bool:
        """Delete an annotation; False if unknown."""
        if self.annotation(app, aid) is None:
            return False
        self._exec("DELETE FROM annotations WHERE id=?", aid)
        return True
