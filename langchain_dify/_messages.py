"""Pure translation between LangChain messages and one Dify chat turn (no I/O).

Dify's conversation rules (which conversation to continue, what to send, the
transcript, system messages, files) live once in :mod:`dify_transport.turns`;
:func:`build_turn` only maps LangChain messages and content blocks onto its
:class:`~dify_transport.turns.Turn` and :class:`~dify_transport.turns.FilePart`.
The transcript names speakers as ``get_buffer_string`` does (``System:``,
``Human:``, ``AI:``).

:func:`chunk_from_event` and :func:`final_chunk` build the stream's chunks; both
``_stream`` and ``_astream`` use them, and ``invoke`` aggregates the same chunks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGenerationChunk

from dify_transport import turns
from dify_transport.turns import DifyInputError, FilePart, PendingUpload, PriorTurns, Turn
from langchain_dify._content_blocks import REASONING_KEY

if TYPE_CHECKING:
    from dify_transport import Result, StreamEvent

__all__ = [
    "DifyInputError",
    "DifyTurn",
    "PendingUpload",
    "PriorTurns",
    "StopScanner",
    "StreamIds",
    "TurnChunks",
    "build_turn",
    "chunk_from_event",
    "final_chunk",
    "find_conversation",
    "usage_metadata",
]

PROVIDER = "dify"

_BLOCK_FILE_TYPES: dict[str, turns.FileType] = {
    "image": "image",
    "audio": "audio",
    "video": "video",
    "file": "document",
}
_LABELS = {"human": "Human", "ai": "AI", "system": "System", "tool": "Tool", "function": "Function"}


@dataclass(slots=True)
class DifyTurn:
    """Everything one ``POST /chat-messages`` needs, derived from a message list."""

    query: str
    conversation_id: str | None
    inputs: dict[str, Any] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    uploads: list[PendingUpload] = field(default_factory=list)
    name: str | None = None
    """A name for the new conversation (its query is a transcript), else None."""


def _turn(message: BaseMessage) -> Turn:
    text = message.text
    if isinstance(message, HumanMessage):
        return Turn("user", text, "Human", files=partial(_file_parts, message))
    if isinstance(message, AIMessage):
        found = message.response_metadata.get("conversation_id")
        tools = str(message.tool_calls) if message.tool_calls else ""
        cid = found if isinstance(found, str) and found else None
        return Turn("assistant", text + tools, "AI", conversation_id=cid)
    if isinstance(message, SystemMessage):
        return Turn("system", text, "System")
    label = message.role if isinstance(message, ChatMessage) else _LABELS.get(message.type)
    return Turn("other", text, label or message.type)


def find_conversation(
    messages: Sequence[BaseMessage], explicit: str | None = None
) -> tuple[str | None, int]:
    """Resolve the conversation and the index of the newest message Dify already has.

    Returns:
        ``(conversation_id, boundary)``: ``boundary`` is the index of the newest
        ``AIMessage`` of that conversation, or -1 when none is in the list.
    """
    return turns.find_conversation([_turn(m) for m in messages], explicit)


def build_turn(
    messages: Sequence[BaseMessage],
    *,
    conversation_id: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    system_input: str | None = None,
    prior_turns: PriorTurns = "transcript",
    answer_format: str | None = None,
) -> DifyTurn:
    """Turn a LangChain message list into one Dify chat turn (see ``dify_transport.turns``).

    ``answer_format`` (structured output) is appended to the query.

    Raises:
        DifyInputError: Nothing new to send, or a content block Dify cannot take.
    """
    plan = turns.plan_turn(
        [_turn(m) for m in messages],
        conversation_id=conversation_id,
        system_input=system_input,
        prior_turns=prior_turns,
        user_noun="human message",
        answer_format=answer_format,
    )
    return DifyTurn(
        query=plan.query,
        conversation_id=plan.conversation_id,
        inputs={**(inputs or {}), **plan.inputs},
        files=[dict(f) for f in plan.files if not isinstance(f, PendingUpload)],
        uploads=[f for f in plan.files if isinstance(f, PendingUpload)],
        name=plan.name,
    )


def _file_parts(message: HumanMessage) -> Iterator[FilePart]:
    """The file parts of a human message's content blocks (text blocks add nothing)."""
    if isinstance(message.content, str):
        return
    for block in message.content:
        if isinstance(block, dict) and block.get("type") != "text":
            yield _file_part(block)


def _file_part(block: Mapping[str, Any]) -> FilePart:
    kind = block.get("type")
    if kind == "image_url":  # OpenAI chat-completions shape
        spec = block.get("image_url")
        return _url_part(spec if isinstance(spec, str) else (spec or {}).get("url"), "image", block)
    if kind not in _BLOCK_FILE_TYPES:
        msg = f"Content blocks of type {kind!r} cannot be sent to a Dify app."
        raise DifyInputError(msg)
    mime_type = block.get("mime_type")
    mime = mime_type if isinstance(mime_type, str) and mime_type else None
    file_type = _BLOCK_FILE_TYPES[str(kind)]
    if kind == "file" and mime:
        file_type = turns.file_type_for_mime(mime)
    source_type = block.get("source_type")  # v0 data blocks
    if block.get("file_id") or source_type == "id":
        return FilePart(file_type, file_id=str(block.get("file_id") or block.get("id")))
    if block.get("base64") or source_type == "base64":
        name = block.get("filename") or (block.get("extras") or {}).get("filename")
        data = str(block.get("base64") or block.get("data"))
        return FilePart(file_type, data=data, mime_type=mime, filename=name or None)
    if block.get("url"):
        return _url_part(block["url"], file_type, block, mime)
    msg = f"A {kind!r} content block needs a 'url', 'base64' or 'file_id' for Dify."
    raise DifyInputError(msg)


def _url_part(
    url: object, file_type: turns.FileType, block: Mapping[str, Any], mime: str | None = None
) -> FilePart:
    if not isinstance(url, str) or not url:
        msg = f"Content block {block.get('type')!r} has no URL."
        raise DifyInputError(msg)
    return FilePart(file_type, url=url, mime_type=mime)


# ---------------------------------------------------------------------- streaming


def chunk_from_event(event: StreamEvent) -> ChatGenerationChunk | None:
    """The chunk for one stream event: a text delta, or None for anything else.

    String metadata is deliberately absent here (chunk merging concatenates strings);
    it all goes on :func:`final_chunk`.
    """
    text, reasoning = event.text, event.reasoning
    if not text and not reasoning:
        return None
    chunk = text_chunk(text or "", event.message_id)
    if reasoning:  # Dify's reasoning: a reasoning content block (``_content_blocks``)
        chunk.message.additional_kwargs[REASONING_KEY] = reasoning
    return chunk


def text_chunk(text: str, message_id: str | None) -> ChatGenerationChunk:
    """A plain text chunk (``model_provider`` merges as one value, so every chunk has it)."""
    metadata = {"model_provider": PROVIDER}
    return ChatGenerationChunk(
        message=AIMessageChunk(content=text, id=message_id, response_metadata=metadata)
    )


class StreamIds(Protocol):
    """The ids a transport stream has seen so far."""

    @property
    def conversation_id(self) -> str | None: ...
    @property
    def message_id(self) -> str | None: ...
    @property
    def task_id(self) -> str | None: ...


class TurnChunks:
    """The chunks of one streamed turn, stop sequences applied (no I/O).

    ``ChatDify._stream`` and ``_astream`` only drive it: `feed` each event, leave the
    loop once `stopped`, then emit `end`'s chunks.
    """

    def __init__(
        self, model_name: str, stops: Sequence[str] | None, user: str | None = None
    ) -> None:
        self._model = model_name
        self._scanner = StopScanner(stops) if stops else None
        self._user = user
        self._sent: dict[str, str] = {}  # the ids (and user) the first chunk carried

    @property
    def stopped(self) -> bool:
        """A stop sequence was hit: read no further (leaving the stream stops the task)."""
        return self._scanner is not None and self._scanner.hit

    def feed(self, event: StreamEvent) -> ChatGenerationChunk | None:
        """The text chunk to emit for ``event``, or None."""
        chunk = chunk_from_event(event)
        if chunk is not None and self._scanner is not None and chunk.text:
            chunk = text_chunk(self._scanner.feed(chunk.text), event.message_id)
        if chunk is None or not (chunk.text or chunk.message.additional_kwargs):
            return None
        if not self._sent:
            # The first chunk carries the ids (a UI can offer stop and feedback at once);
            # the last chunk then leaves them out, so summed chunks never double a string.
            ids = {
                "conversation_id": event.conversation_id,
                "message_id": event.message_id,
                "task_id": event.task_id,
                "user": self._user,
            }
            self._sent = {k: v for k, v in ids.items() if v}
            chunk.message.response_metadata.update(self._sent)
        return chunk

    def end(self, stream: StreamIds, result: Result | None) -> list[ChatGenerationChunk]:
        """The closing chunks: held-back text, then `final_chunk` (``result`` None if stopped)."""
        if result is None:
            last = final_chunk(
                self._model,
                result=None,
                conversation_id=stream.conversation_id,
                message_id=stream.message_id,
                task_id=stream.task_id,
                finish_reason="stop_sequence",
            )
            return [self._without_sent(last)]
        rest = self._scanner.flush() if self._scanner is not None else ""
        head = [text_chunk(rest, result.message_id)] if rest else []
        return [*head, self._without_sent(final_chunk(self._model, result=result))]

    def _without_sent(self, chunk: ChatGenerationChunk) -> ChatGenerationChunk:
        """``chunk`` without what the first chunk carried (the user is added if not sent)."""
        metadata = chunk.message.response_metadata
        for key in self._sent:
            metadata.pop(key, None)
        if self._user and "user" not in self._sent:
            metadata["user"] = self._user
        return chunk


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
        if result.resumed:  # a dropped chatflow stream resumed; the answer was read back
            metadata["resumed"] = True
        if result.paused is not None:  # a chatflow waiting for human input
            metadata["paused"] = result.paused.model_dump(mode="json")
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
