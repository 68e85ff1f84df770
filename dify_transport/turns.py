"""Dify's conversation rules, once: a message list -> one chat turn (pure, no I/O).

Dify keeps a conversation's memory on the server; LangChain and LlamaIndex hand a
model the whole message list. Each adapter maps its messages onto :class:`Turn` and
:func:`plan_turn` applies the rules of docs/architecture.md, "Turns": which
conversation, which turns are sent (a transcript or only user turns), where system
text goes, which files are uploaded first, the answer-format block of structured
output, and reading a stored transcript back (:func:`split_transcript`).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import mimetypes
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, cast

from dify_transport._errors import DifyError, DifyInputError
from dify_transport.types import FileInput

if TYPE_CHECKING:
    from dify_transport._async._app_client import AsyncDifyClient
    from dify_transport._sync._app_client import DifyClient

__all__ = [
    "SYSTEM_LABELS",
    "USER_LABELS",
    "DifyInputError",
    "FilePart",
    "FileType",
    "PendingUpload",
    "PriorTurns",
    "Role",
    "Turn",
    "TranscriptSplit",
    "TurnPlan",
    "answer_format",
    "aname_conversation",
    "auto_generate_name",
    "aupload_files",
    "conversation_name",
    "file_type_for_mime",
    "find_conversation",
    "name_conversation",
    "plan_turn",
    "strip_transcript",
    "split_transcript",
    "upload_files",
]

logger = logging.getLogger(__name__)

Role = Literal["user", "assistant", "system", "other"]
"""What a message is to Dify: the asker, an answer, an instruction, or anything else."""

FileType = Literal["image", "document", "audio", "video"]
"""Dify's file types."""

PriorTurns = Literal["transcript", "drop"]
"""What to do with turns Dify has not seen (and, when continuing, system messages):
carry them in the query, or send only the trailing user turn(s)."""

_DEFAULT_MIME = {"image": "image/png", "audio": "audio/mpeg", "video": "video/mp4"}


@dataclass(frozen=True, slots=True)
class FilePart:
    """One file in a user message, as the adapter found it (set one source).

    Attributes:
        file_type: Dify's file type.
        url: An ``http(s)`` URL (sent as ``remote_url``) or a ``data:`` URL.
        file_id: The id of a file already uploaded to Dify (sent as ``local_file``).
        data: Inline bytes, or base64 text.
        mime_type: The MIME type, when known.
        filename: The file's name, when known.
        title: A name stem used when there is no ``filename``.
    """

    file_type: FileType
    url: str | None = None
    file_id: str | None = None
    data: bytes | str | None = field(default=None, repr=False)
    mime_type: str | None = None
    filename: str | None = None
    title: str | None = None


def _no_files() -> Iterable[FilePart]:
    return ()


@dataclass(frozen=True, slots=True)
class Turn:
    """One message, framework-neutral.

    Attributes:
        role: What the message is to Dify.
        text: Its text (text blocks only).
        label: How the transcript names the speaker (``Human``, ``user``, ...).
        conversation_id: The Dify conversation an assistant turn belongs to.
        files: Returns the message's file parts; only called for user turns that
            are sent (older messages are never inspected).
    """

    role: Role
    text: str
    label: str
    conversation_id: str | None = None
    files: Callable[[], Iterable[FilePart]] = _no_files


@dataclass(frozen=True, slots=True)
class PendingUpload:
    """Inline file data that must go through ``/files/upload`` before the turn."""

    file_type: FileType
    data: bytes = field(repr=False)
    filename: str
    mime_type: str

    def as_file_input(self, upload_file_id: str) -> FileInput:
        """The ``files`` entry that references the uploaded file."""
        return self.reference(self.file_type, upload_file_id)

    @staticmethod
    def reference(file_type: FileType, upload_file_id: str) -> FileInput:
        """A ``local_file`` entry for a file already uploaded to Dify."""
        return {
            "type": file_type,
            "transfer_method": "local_file",
            "upload_file_id": upload_file_id,
        }


@dataclass(frozen=True, slots=True)
class TurnPlan:
    """What one ``POST /chat-messages`` sends.

    Attributes:
        query: The ``query`` text.
        conversation_id: The conversation to continue, or None for a new one.
        inputs: System text routed to the ``system_input`` app variable (or empty).
        files: Files in block order: ready ``FileInput`` dicts and uploads still due.
        name: For a new conversation whose query is a transcript (it would start
            with ``System:``): the name to give it, from the user's words. Send
            ``auto_generate_name=False`` and call :func:`name_conversation` after
            the turn. None otherwise (Dify names the conversation itself).
    """

    query: str
    conversation_id: str | None
    inputs: dict[str, str] = field(default_factory=dict)
    files: tuple[FileInput | PendingUpload, ...] = ()
    name: str | None = None


def find_conversation(turns: Sequence[Turn], explicit: str | None = None) -> tuple[str | None, int]:
    """Resolve the conversation and the index of the newest turn Dify already has.

    Args:
        turns: The messages, oldest first.
        explicit: A conversation chosen by the caller; only its turns count.

    Returns:
        ``(conversation_id, boundary)``: ``boundary`` is the index of the newest
        assistant turn of that conversation, or -1 when none is in the list.
    """
    for index in range(len(turns) - 1, -1, -1):
        found = turns[index].conversation_id if turns[index].role == "assistant" else None
        if found and (explicit is None or found == explicit):
            return found, index
    return explicit, -1


def plan_turn(
    turns: Sequence[Turn],
    *,
    conversation_id: str | None = None,
    use_history_id: bool = True,
    system_input: str | None = None,
    prior_turns: PriorTurns = "transcript",
    user_noun: str = "user message",
    answer_format: str | None = None,
) -> TurnPlan:
    """Turn a message list into one Dify chat turn (the rules: docs/architecture.md, "Turns").

    Args:
        turns: The messages, oldest first.
        conversation_id: An explicit conversation to continue, or None.
        use_history_id: Take the conversation from the turns when none is given.
        system_input: App input variable for system text on a new conversation.
        prior_turns: ``"transcript"`` or ``"drop"``.
        user_noun: How error messages name a user message.
        answer_format: A block from :func:`answer_format`, appended to the query.

    Raises:
        DifyInputError: Nothing new to send, no text, or a file Dify cannot take.
    """
    conversation, boundary = conversation_id, -1
    if conversation_id is not None or use_history_id:
        conversation, boundary = find_conversation(turns, conversation_id)
    inputs: dict[str, str] = {}
    pending = list(turns[boundary + 1 :])
    if system_input is not None and conversation is None:
        # A new conversation: Dify reads ``inputs`` on its first turn only.
        system_text = "\n\n".join(t.text for t in turns if t.role == "system")
        if system_text:
            inputs[system_input] = system_text
        pending = [t for t in pending if t.role != "system"]
    elif boundary >= 0 and prior_turns != "drop":
        # Continuing: Dify never stores system messages as such and ignores ``inputs``
        # now, so the list's system messages (a prompt's "context: ..." placed before
        # the history, too) travel in the query transcript, before the new turns.
        pending = [*(t for t in turns[:boundary] if t.role == "system"), *pending]

    if prior_turns == "drop" and not all(t.role == "user" for t in pending):
        start = len(pending)
        while start > 0 and pending[start - 1].role == "user":
            start -= 1
        logger.debug("Dropping %d earlier message(s) (prior_turns='drop')", start)
        pending = pending[start:]

    users = [t for t in pending if t.role == "user"]
    if not users:
        msg = (
            f"No new {user_noun} to send to Dify: the messages must end with at least one "
            f"{user_noun} after the conversation's last assistant reply."
        )
        raise DifyInputError(msg)
    if len(users) == len(pending):
        query = "\n\n".join(t.text for t in users if t.text)
    else:
        query = "\n".join(f"{t.label}: {t.text}" for t in pending if t.text)
    if not query.strip():
        msg = f"The new {user_noun} has no text; Dify requires a non-empty query."
        raise DifyInputError(msg)
    files = tuple(_file(part) for t in users for part in t.files())
    if answer_format:
        query = f"{query}{answer_format}"
    name = None
    if conversation is None and len(users) != len(pending):
        name = conversation_name(next((t.text for t in users if t.text), ""))
    return TurnPlan(
        query=query, conversation_id=conversation, inputs=inputs, files=files, name=name or None
    )


# -- file parts -> Dify files -----------------------------------------------------------


def file_type_for_mime(mime_type: str | None, default: FileType = "document") -> FileType:
    """Dify's file type for a MIME type (``image/*`` -> image, ...; else ``default``)."""
    major = (mime_type or "").split("/", 1)[0]
    return cast("FileType", major) if major in ("image", "audio", "video") else default


def _file(part: FilePart) -> FileInput | PendingUpload:
    if part.file_id:
        return PendingUpload.reference(part.file_type, part.file_id)
    mime = part.mime_type
    data: bytes | str | None = part.data
    if part.url is not None and data is None:
        if not part.url.startswith("data:"):
            return {"type": part.file_type, "transfer_method": "remote_url", "url": part.url}
        header, _, payload = part.url[5:].partition(",")
        mime = mime or header.split(";")[0] or None
        data = payload if ";base64" in header else payload.encode()
    if data is None:
        msg = f"A {part.file_type!r} file needs a URL, inline data or a file id for Dify."
        raise DifyInputError(msg)
    if isinstance(data, str):
        try:
            data = base64.b64decode(data)
        except (binascii.Error, ValueError) as exc:
            msg = f"A {part.file_type!r} content block holds invalid base64 data."
            raise DifyInputError(msg) from exc
    name = part.filename
    mime = mime or (mimetypes.guess_type(name)[0] if name else None)
    mime = mime or _DEFAULT_MIME.get(part.file_type, "application/octet-stream")
    if not name:
        name = f"{part.title or part.file_type}{mimetypes.guess_extension(mime) or '.bin'}"
    return PendingUpload(file_type=part.file_type, data=data, filename=name, mime_type=mime)


def upload_files(
    client: DifyClient, files: Iterable[Mapping[str, Any] | PendingUpload], *, user: str
) -> list[FileInput]:
    """Upload the :class:`PendingUpload` items (in order); other files pass through."""
    out: list[FileInput] = []
    for item in files:
        if isinstance(item, PendingUpload):
            uploaded = client.upload_file(
                item.data, user=user, filename=item.filename, mime_type=item.mime_type
            )
            out.append(item.as_file_input(uploaded.id))
        else:
            out.append(cast("FileInput", item))
    return out


async def aupload_files(
    client: AsyncDifyClient, files: Iterable[Mapping[str, Any] | PendingUpload], *, user: str
) -> list[FileInput]:
    """Async :func:`upload_files`."""
    out: list[FileInput] = []
    for item in files:
        if isinstance(item, PendingUpload):
            uploaded = await client.upload_file(
                item.data, user=user, filename=item.filename, mime_type=item.mime_type
            )
            out.append(item.as_file_input(uploaded.id))
        else:
            out.append(cast("FileInput", item))
    return out


# -- structured output: the answer-format block of the transcript ---------------------

ANSWER_FORMAT_HEAD = "\n\n## Answer format\nReply with one JSON object and nothing else"
"""How every answer-format block starts (what :func:`strip_transcript` looks for)."""


def answer_format(schema: Mapping[str, Any] | None) -> str:
    """The block appended to a query that asks for a JSON answer.

    Args:
        schema: The JSON Schema the answer must validate against; None asks for any
            JSON object (JSON mode).

    Returns:
        The block, starting with :data:`ANSWER_FORMAT_HEAD` (a blank line first).
    """
    head = f"{ANSWER_FORMAT_HEAD} (no prose, no Markdown code fence)."
    if schema is None:
        return head
    dumped = json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
    return f"{head}\nIt must validate against this JSON Schema:\n{dumped}"


def strip_transcript(query: str) -> str:
    """A sent query as the user wrote it: the package's answer-format block removed."""
    head = query.rfind(ANSWER_FORMAT_HEAD)
    return query[:head] if head >= 0 else query


# -- reading the transcript back ------------------------------------------------------

SYSTEM_LABELS = frozenset({"System", "system", "developer"})
"""Transcript labels of system text (LangChain ``System``; LlamaIndex role values)."""

USER_LABELS = frozenset({"Human", "user"})
"""Transcript labels of the user's own words."""

_OTHER_LABELS = frozenset({"AI", "assistant", "Tool", "tool", "Function", "function", "chatbot",
                           "model"})  # fmt: skip
_ALL_LABELS = "|".join(sorted(map(re.escape, SYSTEM_LABELS | USER_LABELS | _OTHER_LABELS)))
_LABEL_LINE = re.compile(rf"^({_ALL_LABELS}): ?")
_NAME_LIMIT = 40


class TranscriptSplit(NamedTuple):
    """A stored query, decoded: the user's words and the system text it carried."""

    text: str
    """The user's words (the query unchanged when it is not a transcript)."""
    system: str
    """The system text the query carried ("" when none)."""


def split_transcript(query: str) -> TranscriptSplit:
    """Decode a query :func:`plan_turn` wrote: the user's words apart from the system text.

    When continuing a conversation (and on a first turn without ``system_input``)
    system messages travel as ``System: ...`` lines before the user's words, so Dify
    stores them as part of the question. A query whose first line starts with a
    system label and that has a user line (``Human:`` / ``user:``) is decoded: the
    system turns go to ``system``; ``text`` is the user turns' text (joined by a
    blank line, as sent), or, when the query also carried other turns (earlier
    ``AI:`` replies Dify had not seen), those turns as ``Label: text`` lines without
    the system ones. The answer-format block of structured output is removed first.
    Any other query is returned as the user's words unchanged (so a
    user who types ``System: ...`` themselves, followed by a ``Human:`` line, is
    read as a transcript: the one ambiguity of the format).
    """
    query = strip_transcript(query)  # an answer-format block is never the user's words
    parts: list[tuple[str, list[str]]] = []
    for line in query.split("\n"):
        match = _LABEL_LINE.match(line)
        if match:
            parts.append((match.group(1), [line[match.end() :]]))
        elif parts:
            parts[-1][1].append(line)
        else:
            return TranscriptSplit(query, "")
    if parts[0][0] not in SYSTEM_LABELS or not any(label in USER_LABELS for label, _ in parts):
        return TranscriptSplit(query, "")
    system = "\n\n".join("\n".join(lines) for label, lines in parts if label in SYSTEM_LABELS)
    rest = [(label, "\n".join(lines)) for label, lines in parts if label not in SYSTEM_LABELS]
    if all(label in USER_LABELS for label, _ in rest):
        return TranscriptSplit("\n\n".join(text for _, text in rest), system)
    return TranscriptSplit("\n".join(f"{label}: {text}" for label, text in rest), system)


def conversation_name(text: str, limit: int = _NAME_LIMIT) -> str:
    """A conversation name from the user's words: one line, at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "\u2026"


def name_conversation(
    client: DifyClient, conversation_id: str | None, name: str | None, *, user: str
) -> None:
    """Give a new conversation :attr:`TurnPlan.name` (best effort: a failure is logged)."""
    if not conversation_id or not name:
        return
    try:
        client.rename_conversation(conversation_id, user=user, name=name)
    except DifyError as exc:
        logger.warning("Could not name Dify conversation %s: %s", conversation_id, exc)


async def aname_conversation(
    client: AsyncDifyClient, conversation_id: str | None, name: str | None, *, user: str
) -> None:
    """Async :func:`name_conversation`."""
    if not conversation_id or not name:
        return
    try:
        await client.rename_conversation(conversation_id, user=user, name=name)
    except DifyError as exc:
        logger.warning("Could not name Dify conversation %s: %s", conversation_id, exc)


def auto_generate_name(wanted: bool | None, name: str | None) -> bool | None:
    """A turn's ``auto_generate_name``: off when it has a :attr:`TurnPlan.name` to give."""
    return False if name else wanted
