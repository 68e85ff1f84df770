"""Pure translation between LlamaIndex messages and Dify turns (no I/O).

* :func:`build_turn`: a ``ChatMessage`` list -> one Dify turn (``query``,
  ``conversation_id``, files), following the conversation rules of DESIGN.md.
* :func:`response_from_event` / :func:`response_from_result`: Dify stream events
  and the aggregated ``Result`` -> ``ChatResponse`` (shared by sync and async).
* :func:`messages_from_history`: one Dify history item -> user + assistant messages.
"""

from __future__ import annotations

import base64
import binascii
import logging
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    ChatResponse,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    VideoBlock,
)

from dify_transport import StreamEvent
from dify_transport.types import FileInput, Message, Result

__all__ = [
    "ID_KEYS",
    "MODEL_PROVIDER",
    "DifyTurn",
    "FileUpload",
    "PriorTurns",
    "build_turn",
    "conversation_anchor",
    "messages_from_history",
    "response_from_event",
    "response_from_result",
]

ID_KEYS = ("conversation_id", "message_id", "task_id")
"""Keys a ``ChatMessage`` from Dify carries in ``additional_kwargs``."""

MODEL_PROVIDER = "dify"
"""Value of ``additional_kwargs["model_provider"]`` on responses."""

FileType = Literal["image", "document", "audio", "video"]

PriorTurns = Literal["transcript", "drop"]
"""What to do with turns Dify has not seen (and, when continuing, system messages):
carry them in the query, or send only the trailing user turn(s)."""

_SYSTEM_ROLES = (MessageRole.SYSTEM, MessageRole.DEVELOPER)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FileUpload:
    """A content block whose bytes must go through ``/files/upload`` first.

    Attributes:
        file_type: Dify file type (``image``, ``document``, ``audio``, ``video``).
        data: The raw bytes.
        filename: A name with an extension Dify accepts.
        mime_type: The MIME type, when known.
    """

    file_type: FileType
    data: bytes = field(repr=False)
    filename: str
    mime_type: str | None


@dataclass(frozen=True, slots=True)
class DifyTurn:
    """What one call sends to Dify.

    Attributes:
        query: The ``query`` text.
        conversation_id: The conversation to continue, or None for a new one.
        files: Files in block order: ready ``FileInput`` dicts (remote URLs) and
            :class:`FileUpload` items still to upload.
        inputs: Extra ``inputs`` (system messages routed to an app variable).
    """

    query: str
    conversation_id: str | None
    files: tuple[FileInput | FileUpload, ...] = ()
    inputs: dict[str, str] = field(default_factory=dict)


def _conversation_of(message: ChatMessage) -> str | None:
    if message.role != MessageRole.ASSISTANT:
        return None
    value = message.additional_kwargs.get("conversation_id")
    return value if isinstance(value, str) and value else None


def conversation_anchor(
    messages: Sequence[ChatMessage], conversation_id: str | None = None
) -> tuple[int, str] | None:
    """Find the newest assistant message that carries a Dify conversation id.

    Args:
        messages: The chat history, oldest first.
        conversation_id: Only accept a message of this conversation (None: any).

    Returns:
        ``(index, conversation_id)``, or None when no such message is in the list.
    """
    for index in range(len(messages) - 1, -1, -1):
        found = _conversation_of(messages[index])
        if found and (conversation_id is None or found == conversation_id):
            return index, found
    return None


def _text(message: ChatMessage) -> str:
    return "\n".join(b.text for b in message.blocks if isinstance(b, TextBlock))


def _transcript(messages: Sequence[ChatMessage]) -> str:
    lines = []
    for message in messages:
        text = _text(message)
        if text:
            lines.append(f"{message.role.value}: {text}")
    return "\n".join(lines)


def build_turn(
    messages: Sequence[ChatMessage],
    *,
    conversation_id: str | None,
    use_history_id: bool = True,
    system_variable: str | None = None,
    prior_turns: PriorTurns = "transcript",
) -> DifyTurn:
    """Turn a message list into one Dify turn, dropping nothing silently.

    Resolution: a given ``conversation_id`` wins; otherwise (when
    ``use_history_id``) the newest assistant message carrying a Dify conversation
    id; otherwise Dify starts a new conversation.

    Everything after the newest assistant message of that conversation is sent
    (Dify holds the rest); with no such message, the whole list is. When
    continuing a conversation found in the list, Dify holds its earlier turns but
    never stores system messages as such (and ignores ``inputs`` after the first
    turn), so *every* system message in the list, also those before that reply,
    is sent too, as ``system:`` lines before the new user turn(s). When what is
    sent holds only user turns, their texts form the query; otherwise (earlier
    turns, system messages) it goes as a compact ``role: text`` transcript, or,
    with ``prior_turns="drop"`` (the opt-out), only the trailing user turn(s) are
    sent. With ``system_variable``, system messages go to that app input instead
    when the turn starts a new conversation (Dify reads ``inputs`` on a
    conversation's first turn only).

    Args:
        messages: The chat history, oldest first.
        conversation_id: An explicit conversation to continue (call kwarg or the
            component's own field), or None.
        use_history_id: Whether to take the conversation from the messages when
            none is given.
        system_variable: Name of an app input variable that receives system
            messages on a new conversation's first turn, or None to keep them in
            the transcript.
        prior_turns: ``"transcript"`` carries unseen turns and system messages in
            the query; ``"drop"`` sends only the trailing user turn(s).

    Returns:
        The turn to send.

    Raises:
        ValueError: If no user message comes after the conversation's last reply,
            or it has no text.
    """
    anchor = None
    if conversation_id is not None or use_history_id:
        anchor = conversation_anchor(messages, conversation_id)
    if conversation_id is None and anchor is not None:
        conversation_id = anchor[1]

    sent = list(messages[anchor[0] + 1 :] if anchor is not None else messages)
    inputs: dict[str, str] = {}
    if system_variable is not None and conversation_id is None:
        # A new conversation: Dify reads ``inputs`` on its first turn only.
        system_text = "\n\n".join(_text(m) for m in messages if m.role in _SYSTEM_ROLES)
        if system_text:
            inputs[system_variable] = system_text
        sent = [m for m in sent if m.role not in _SYSTEM_ROLES]
    elif anchor is not None and prior_turns != "drop":
        # Continuing: Dify never stores system messages as such and ignores ``inputs``
        # now, so the list's system messages (a prompt's "context: ..." placed before
        # the history, too) travel in the query transcript, before the new turns.
        earlier = [m for m in messages[: anchor[0]] if m.role in _SYSTEM_ROLES]
        sent = [*earlier, *sent]

    if prior_turns == "drop" and not all(m.role == MessageRole.USER for m in sent):
        start = len(sent)
        while start > 0 and sent[start - 1].role == MessageRole.USER:
            start -= 1
        logger.debug("Dropping %d earlier message(s) (prior_turns='drop')", start)
        sent = sent[start:]

    users = [m for m in sent if m.role == MessageRole.USER]
    if not users:
        msg = (
            "No new user message to send to Dify: the messages must end with at least "
            "one user message after the conversation's last assistant reply."
        )
        raise ValueError(msg)
    if len(users) == len(sent):
        query = "\n\n".join(text for m in users if (text := _text(m)))
    else:
        query = _transcript(sent)
    if not query.strip():
        msg = "The new user message has no text; Dify requires a non-empty query."
        raise ValueError(msg)

    files = tuple(f for m in users for f in files_of(m))
    return DifyTurn(query=query, conversation_id=conversation_id, files=files, inputs=inputs)


# -- content blocks -> Dify files -------------------------------------------------


def _from_data_url(url: str) -> tuple[bytes, str | None] | None:
    if not url.startswith("data:"):
        return None
    header, _, payload = url[5:].partition(",")
    mime = header.split(";")[0] or None
    try:
        data = base64.b64decode(payload) if ";base64" in header else payload.encode()
    except binascii.Error as exc:
        msg = "Malformed base64 data URL in a content block."
        raise ValueError(msg) from exc
    return data, mime


def _filename(file_type: FileType, path: object, mime: str | None, title: str | None) -> str:
    if path is not None:
        return str(getattr(path, "name", path))
    if title and "." in title:
        return title
    ext = (mimetypes.guess_extension(mime) if mime else None) or ".bin"
    return f"{title or file_type}{ext}"


def _file(
    file_type: FileType,
    *,
    url: object,
    path: object,
    mime: str | None,
    read: Any,
    title: str | None = None,
) -> FileInput | FileUpload:
    if url is not None:
        text = str(url)
        inline = _from_data_url(text)
        if inline is None:
            return FileInput(type=file_type, transfer_method="remote_url", url=text)
        data, inline_mime = inline
        mime = mime or inline_mime
        return FileUpload(file_type, data, _filename(file_type, None, mime, title), mime)
    data = read().read()
    name = _filename(file_type, path, mime, title)
    mime = mime or mimetypes.guess_type(name)[0]
    return FileUpload(file_type, data, name, mime)


def files_of(message: ChatMessage) -> list[FileInput | FileUpload]:
    """Return the Dify files for a message's image/document/audio/video blocks.

    URL blocks become ``remote_url`` files; bytes, paths, base64 and ``data:``
    URLs become :class:`FileUpload` items (uploaded first, then ``local_file``).

    Args:
        message: A user message.

    Returns:
        The files, in block order.
    """
    files: list[FileInput | FileUpload] = []
    for block in message.blocks:
        if isinstance(block, ImageBlock):
            files.append(
                _file(
                    "image",
                    url=block.url,
                    path=block.path,
                    mime=block.image_mimetype,
                    read=block.resolve_image,
                )
            )
        elif isinstance(block, DocumentBlock):
            files.append(
                _file(
                    "document",
                    url=block.url,
                    path=block.path,
                    mime=block.document_mimetype,
                    read=block.resolve_document,
                    title=block.title,
                )
            )
        elif isinstance(block, AudioBlock):
            mime = f"audio/{block.format}" if block.format else None
            files.append(
                _file("audio", url=block.url, path=block.path, mime=mime, read=block.resolve_audio)
            )
        elif isinstance(block, VideoBlock):
            files.append(
                _file(
                    "video",
                    url=block.url,
                    path=block.path,
                    mime=block.video_mimetype,
                    read=block.resolve_video,
                )
            )
    return files


# -- Dify -> ChatResponse ---------------------------------------------------------


def response_from_event(event: StreamEvent, text_so_far: str) -> ChatResponse | None:
    """Build the streamed ``ChatResponse`` for one Dify event.

    Pure and shared by the sync and async paths. Only events that add text give
    a response; the final one comes from :func:`response_from_result`.

    Args:
        event: The stream event.
        text_so_far: The answer before this event.

    Returns:
        A response with the cumulative ``message``, the new ``delta`` and the raw
        event in ``raw``, or None when the event adds no text.
    """
    delta = event.text
    if not delta:
        return None
    ids = {
        key: value
        for key, value in (
            ("conversation_id", event.conversation_id),
            ("message_id", event.message_id),
            ("task_id", event.task_id),
        )
        if value is not None
    }
    message = ChatMessage(
        role=MessageRole.ASSISTANT,
        blocks=[TextBlock(text=text_so_far + delta)],
        additional_kwargs=ids,
    )
    return ChatResponse(message=message, delta=delta, raw=event.data)


def response_from_result(result: Result, *, model: str, delta: str | None) -> ChatResponse:
    """Build the final ``ChatResponse`` from the aggregated Dify ``Result``.

    The message holds the whole answer (the moderation replacement when
    ``message_replace`` fired) and the ids that continue the conversation. The
    response's ``additional_kwargs`` hold ``model_name``, ``model_provider``,
    ``usage`` (Dify's dict: tokens, prices, currency, latency),
    ``retriever_resources``, ``finish_reason`` and, when present,
    ``message_replace``, ``agent_thoughts`` and ``files``; ``raw`` is the whole
    result as JSON-safe data (its ``usage`` is what ``TokenCountingHandler`` reads).

    Args:
        result: The aggregated result.
        model: The model label.
        delta: ``""`` for the last streamed response, None for ``chat()``.

    Returns:
        The response.
    """
    raw = result.model_dump(mode="json")
    ids = {key: raw[key] for key in ID_KEYS if raw.get(key) is not None}
    extra: dict[str, Any] = {
        "model_name": model,
        "model_provider": MODEL_PROVIDER,
        **ids,
        "usage": raw.get("usage"),
        "retriever_resources": raw.get("retriever_resources") or [],
        "finish_reason": result.finish_reason,
    }
    if result.message_replace is not None:
        extra["message_replace"] = result.message_replace
    for key in ("agent_thoughts", "files"):
        if raw.get(key):
            extra[key] = raw[key]
    message = ChatMessage(
        role=MessageRole.ASSISTANT, blocks=[TextBlock(text=result.answer)], additional_kwargs=ids
    )
    return ChatResponse(message=message, delta=delta, raw=raw, additional_kwargs=extra)


def messages_from_history(item: Message) -> list[ChatMessage]:
    """Turn one Dify history item into its user and assistant messages.

    The assistant message carries ``conversation_id`` and ``message_id`` (so it
    continues the conversation when passed back) and, when present,
    ``retriever_resources`` and ``feedback``. User files with a URL come back as
    image blocks.

    Args:
        item: A ``GET /messages`` item.

    Returns:
        ``[user, assistant]`` (the assistant message is left out while empty).
    """
    blocks: list[Any] = [TextBlock(text=item.query)]
    for file in item.message_files:
        if file.get("belongs_to", "user") == "user" and file.get("type") == "image":
            url = file.get("url")
            if isinstance(url, str) and url.startswith(("http://", "https://")):
                blocks.append(ImageBlock(url=url))
    messages = [ChatMessage(role=MessageRole.USER, blocks=blocks)]
    if item.answer or item.status == "normal":
        extra: dict[str, Any] = {"message_id": item.id}
        if item.conversation_id:
            extra = {"conversation_id": item.conversation_id, **extra}
        if item.retriever_resources:
            extra["retriever_resources"] = [
                r.model_dump(mode="json") for r in item.retriever_resources
            ]
        if item.feedback:
            extra["feedback"] = item.feedback
        messages.append(
            ChatMessage(
                role=MessageRole.ASSISTANT,
                blocks=[TextBlock(text=item.answer)],
                additional_kwargs=extra,
            )
        )
    return messages
