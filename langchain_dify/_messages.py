"""Pure translation between LangChain messages and one Dify chat turn (no I/O).

Dify keeps a conversation's memory on the server; LangChain hands a model the whole
message list. :func:`build_turn` bridges the two as DESIGN.md's "Conversations"
section says:

1. The conversation is the explicit one (call kwarg, then the model field), else
   the one carried by the newest ``AIMessage`` whose
   ``response_metadata["conversation_id"]`` is set, else none (Dify starts one).
2. Messages up to and including that conversation's newest ``AIMessage`` are
   already on the server; only the messages after it are sent.
3. If what remains is human turns only, their text is the ``query``. Otherwise
   (earlier AI turns, system messages) the remainder is carried as a compact
   transcript in the ``query`` (``prior_turns="transcript"``), or reduced to the
   trailing human turns when the caller chose ``prior_turns="drop"``. When
   continuing a conversation, Dify holds the earlier turns but never stores system
   messages as such (and ignores ``inputs`` after the first turn), so *every*
   system message in the list, including those before its newest ``AIMessage``,
   is carried as the transcript's ``System:`` lines before the new human turn(s);
   ``prior_turns="drop"`` is the opt-out. System messages go to an app input
   variable instead when ``system_input`` is set and the turn starts a new
   conversation (Dify reads ``inputs`` on a conversation's first turn only).
4. Image/audio/video/file content blocks in the sent human turns become Dify
   ``files``: URLs as ``remote_url``, ``file_id`` as ``local_file``, and inline
   data (base64, data URLs) as :class:`PendingUpload`s the caller uploads first.

:func:`chunk_from_event` and :func:`final_chunk` build the stream's chunks; both
``_stream`` and ``_astream`` use them, and ``invoke`` aggregates the same chunks.
"""

from __future__ import annotations

import base64
import binascii
import logging
import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    get_buffer_string,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGenerationChunk

if TYPE_CHECKING:
    from dify_transport import Result, StreamEvent

logger = logging.getLogger(__name__)

__all__ = [
    "DifyInputError",
    "DifyTurn",
    "PendingUpload",
    "PriorTurns",
    "StopScanner",
    "build_turn",
    "chunk_from_event",
    "final_chunk",
    "find_conversation",
    "usage_metadata",
]

PriorTurns = Literal["transcript", "drop"]
"""What to do with earlier turns Dify has not seen: carry them, or drop them."""

PROVIDER = "dify"

_BLOCK_FILE_TYPES = {"image": "image", "audio": "audio", "video": "video", "file": "document"}


class DifyInputError(ValueError):
    """The messages cannot be turned into a Dify chat turn (the text says why)."""


@dataclass(frozen=True, slots=True)
class PendingUpload:
    """Inline file data that must go through ``/files/upload`` before the turn."""

    data: bytes
    mime_type: str
    filename: str
    file_type: str
    """Dify's file type: ``image``, ``audio``, ``video`` or ``document``."""

    def as_file_input(self, upload_file_id: str) -> dict[str, Any]:
        """The ``files`` entry that references the uploaded file."""
        return {
            "type": self.file_type,
            "transfer_method": "local_file",
            "upload_file_id": upload_file_id,
        }


@dataclass(slots=True)
class DifyTurn:
    """Everything one ``POST /chat-messages`` needs, derived from a message list."""

    query: str
    conversation_id: str | None
    inputs: dict[str, Any] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    uploads: list[PendingUpload] = field(default_factory=list)


def find_conversation(
    messages: Sequence[BaseMessage], explicit: str | None = None
) -> tuple[str | None, int]:
    """Resolve the conversation and the index of the newest message Dify already has.

    Args:
        messages: The input messages, oldest first.
        explicit: A conversation chosen by the caller (kwarg or model field).

    Returns:
        ``(conversation_id, boundary)``: ``boundary`` is the index of the newest
        ``AIMessage`` of that conversation, or -1 when none is in the list.
    """
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if not isinstance(message, AIMessage):
            continue
        found = message.response_metadata.get("conversation_id")
        if found and (explicit is None or found == explicit):
            return found, index
    return explicit, -1


def build_turn(
    messages: Sequence[BaseMessage],
    *,
    conversation_id: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    system_input: str | None = None,
    prior_turns: PriorTurns = "transcript",
) -> DifyTurn:
    """Turn a LangChain message list into one Dify chat turn (see module docstring).

    Raises:
        DifyInputError: Nothing new to send, or a content block Dify cannot take.
    """
    conversation, boundary = find_conversation(messages, conversation_id)
    merged_inputs = dict(inputs or {})
    pending = list(messages[boundary + 1 :])

    if system_input is not None and conversation is None:
        # A new conversation: Dify reads ``inputs`` on its first turn only.
        system_text = "\n\n".join(m.text for m in messages if isinstance(m, SystemMessage))
        if system_text:
            merged_inputs[system_input] = system_text
        pending = [m for m in pending if not isinstance(m, SystemMessage)]
    elif boundary >= 0 and prior_turns != "drop":
        # Continuing: Dify never stores system messages as such and ignores ``inputs``
        # now, so the list's system messages (a prompt's "context: ..." placed before
        # the history, too) travel in the query transcript, before the new turns.
        earlier = [m for m in messages[:boundary] if isinstance(m, SystemMessage)]
        pending = [*earlier, *pending]

    if not all(isinstance(m, HumanMessage) for m in pending) and prior_turns == "drop":
        start = len(pending)
        while start > 0 and isinstance(pending[start - 1], HumanMessage):
            start -= 1
        logger.debug("Dropping %d earlier message(s) (prior_turns='drop')", start)
        pending = pending[start:]

    humans = [m for m in pending if isinstance(m, HumanMessage)]
    if not humans:
        msg = (
            "No new human message to send to Dify: the input must end with at least one "
            "HumanMessage after the last AIMessage of the conversation."
        )
        raise DifyInputError(msg)

    if len(humans) == len(pending):
        query = "\n\n".join(text for m in humans if (text := m.text))
    else:
        query = get_buffer_string(pending)
    if not query.strip():
        msg = "The new human message has no text; Dify requires a non-empty query."
        raise DifyInputError(msg)

    files: list[dict[str, Any]] = []
    uploads: list[PendingUpload] = []
    for message in humans:
        if isinstance(message.content, str):
            continue
        for block in message.content:
            if isinstance(block, dict):
                _collect_file(block, files, uploads)
    return DifyTurn(
        query=query,
        conversation_id=conversation,
        inputs=merged_inputs,
        files=files,
        uploads=uploads,
    )


def _collect_file(
    block: Mapping[str, Any], files: list[dict[str, Any]], uploads: list[PendingUpload]
) -> None:
    """Append the Dify file for one content block (text blocks add nothing)."""
    kind = block.get("type")
    if kind == "text":
        return
    if kind == "image_url":  # OpenAI chat-completions shape
        spec = block.get("image_url")
        url = spec if isinstance(spec, str) else (spec or {}).get("url")
        _add_url(url, "image", block, files, uploads)
        return
    if kind not in _BLOCK_FILE_TYPES:
        msg = f"Content blocks of type {kind!r} cannot be sent to a Dify app."
        raise DifyInputError(msg)
    mime_type = block.get("mime_type")
    file_type = _BLOCK_FILE_TYPES[str(kind)]
    if kind == "file" and isinstance(mime_type, str):
        file_type = _file_type_for_mime(mime_type)
    source_type = block.get("source_type")  # v0 data blocks
    if block.get("file_id") or source_type == "id":
        file_id = block.get("file_id") or block.get("id")
        files.append(
            {"type": file_type, "transfer_method": "local_file", "upload_file_id": file_id}
        )
    elif block.get("base64") or source_type == "base64":
        data = block.get("base64") or block.get("data")
        uploads.append(_pending(str(data), mime_type, file_type, block, len(uploads)))
    elif block.get("url"):
        _add_url(block["url"], file_type, block, files, uploads)
    else:
        msg = f"A {kind!r} content block needs a 'url', 'base64' or 'file_id' for Dify."
        raise DifyInputError(msg)


def _add_url(
    url: object,
    file_type: str,
    block: Mapping[str, Any],
    files: list[dict[str, Any]],
    uploads: list[PendingUpload],
) -> None:
    if not isinstance(url, str) or not url:
        msg = f"Content block {block.get('type')!r} has no URL."
        raise DifyInputError(msg)
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        mime_type = header[5:].split(";", 1)[0] or None
        if ";base64" not in header:
            msg = "Only base64 data URLs can be uploaded to Dify."
            raise DifyInputError(msg)
        uploads.append(_pending(data, mime_type, file_type, block, len(uploads)))
        return
    files.append({"type": file_type, "transfer_method": "remote_url", "url": url})


def _pending(
    data: str, mime_type: object, file_type: str, block: Mapping[str, Any], index: int
) -> PendingUpload:
    try:
        raw = base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError) as exc:
        msg = f"A {block.get('type')!r} content block holds invalid base64 data."
        raise DifyInputError(msg) from exc
    mime = mime_type if isinstance(mime_type, str) and mime_type else _default_mime(file_type)
    name = block.get("filename") or (block.get("extras") or {}).get("filename")
    if not isinstance(name, str) or not name:
        extension = mimetypes.guess_extension(mime) or ""
        name = f"{file_type}-{index + 1}{extension}"
    return PendingUpload(data=raw, mime_type=mime, filename=name, file_type=file_type)


def _file_type_for_mime(mime_type: str) -> str:
    major = mime_type.split("/", 1)[0]
    return major if major in {"image", "audio", "video"} else "document"


def _default_mime(file_type: str) -> str:
    return {"image": "image/png", "audio": "audio/mpeg", "video": "video/mp4"}.get(
        file_type, "application/octet-stream"
    )


# ---------------------------------------------------------------------- streaming


def chunk_from_event(event: StreamEvent) -> ChatGenerationChunk | None:
    """The chunk for one stream event: a text delta, or None for anything else.

    String metadata is deliberately absent here (chunk merging concatenates strings);
    it all goes on :func:`final_chunk`.
    """
    text = event.text
    if not text:
        return None
    return ChatGenerationChunk(message=AIMessageChunk(content=text, id=event.message_id))


def text_chunk(text: str, message_id: str | None) -> ChatGenerationChunk:
    """A plain text chunk (used when a stop sequence trims a delta)."""
    return ChatGenerationChunk(message=AIMessageChunk(content=text, id=message_id))


def usage_metadata(result: Result) -> UsageMetadata | None:
    """LangChain token counts from Dify's usage, or None when Dify sent none."""
    usage = result.usage
    if usage is None:
        return None
    return UsageMetadata(
        input_tokens=int(usage.prompt_tokens or 0),
        output_tokens=int(usage.completion_tokens or 0),
        total_tokens=int(usage.total_tokens or 0),
    )


def final_chunk(
    model_name: str,
    *,
    result: Result | None,
    conversation_id: str | None = None,
    message_id: str | None = None,
    task_id: str | None = None,
    finish_reason: str | None = None,
) -> ChatGenerationChunk:
    """The closing chunk: every string field and the usage, exactly once.

    ``result`` is the stream's aggregate; it is None when the stream was cut short on
    our side (a stop sequence), in which case the ids seen so far are used.
    """
    metadata: dict[str, Any] = {"model_name": model_name, "model_provider": PROVIDER}
    usage: UsageMetadata | None = None
    if result is not None:
        raw = result.metadata if isinstance(result.metadata, dict) else {}
        metadata |= {
            "conversation_id": result.conversation_id,
            "message_id": result.message_id,
            "task_id": result.task_id,
            "retriever_resources": _raw_list(
                raw.get("retriever_resources"), result.retriever_resources
            ),
            "usage": raw.get("usage")
            or (result.usage.model_dump(mode="json") if result.usage else {}),
            "finish_reason": finish_reason or result.finish_reason or "stop",
        }
        if result.agent_thoughts:
            metadata["agent_thoughts"] = [t.model_dump(mode="json") for t in result.agent_thoughts]
        if result.message_replace is not None:
            metadata["message_replace"] = result.message_replace
        if result.files:
            metadata["files"] = list(result.files)
        usage = usage_metadata(result)
        message_id = result.message_id
    else:
        metadata |= {
            "conversation_id": conversation_id,
            "message_id": message_id,
            "task_id": task_id,
            "retriever_resources": [],
            "finish_reason": finish_reason or "stop",
        }
    return ChatGenerationChunk(
        message=AIMessageChunk(
            content="",
            id=message_id,
            response_metadata=metadata,
            usage_metadata=usage,
            chunk_position="last",
        )
    )


def _raw_list(raw: object, parsed: Sequence[Any]) -> list[dict[str, Any]]:
    if isinstance(raw, list):
        return [dict(item) for item in raw if isinstance(item, dict)]
    return [item.model_dump(mode="json") for item in parsed]


class StopScanner:
    """Cut streamed text at the first stop sequence, holding back partial matches.

    Dify apps fix their stop sequences in the app's model settings; a per-call
    ``stop`` is therefore applied here, on the client: text from the first stop
    sequence on is never emitted, and the caller ends (and stops) the Dify task.
    """

    __slots__ = ("_pending", "_stops", "hit")

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = [s for s in stops if s]
        self._pending = ""
        self.hit = False

    def feed(self, text: str) -> str:
        """Return the part of ``text`` that is safe to emit now."""
        buffer = self._pending + text
        cuts = [i for s in self._stops if (i := buffer.find(s)) >= 0]
        if cuts:
            self.hit = True
            self._pending = ""
            return buffer[: min(cuts)]
        hold = max(
            (
                k
                for s in self._stops
                for k in range(min(len(s) - 1, len(buffer)), 0, -1)
                if buffer.endswith(s[:k])
            ),
            default=0,
        )
        self._pending = buffer[len(buffer) - hold :] if hold else ""
        return buffer[: len(buffer) - hold]

    def flush(self) -> str:
        """Return any held-back text (the stream ended without a match)."""
        out, self._pending = self._pending, ""
        return out
