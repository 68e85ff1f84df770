"""Pure translation between LlamaIndex messages and Dify turns (no I/O).

* :func:`build_turn`: a ``ChatMessage`` list -> one Dify turn. Dify's conversation
  rules live once in :mod:`dify_transport.turns`; here messages and content blocks
  are only mapped onto its ``Turn`` / ``FilePart`` (the transcript names speakers
  by role value: ``system:``, ``user:``, ``assistant:``).
* :func:`response_from_event` / :func:`response_from_result`: Dify stream events
  and the aggregated ``Result`` -> ``ChatResponse`` (shared by sync and async).
* :func:`messages_from_history`: one Dify history item -> user + assistant messages.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

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

from dify_transport import StreamEvent, turns
from dify_transport.turns import FilePart, PriorTurns, Turn, TurnPlan
from dify_transport.turns import PendingUpload as FileUpload
from dify_transport.types import Message, Result
from llama_index_dify._content_blocks import answer_blocks

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

DifyTurn = TurnPlan
"""What one call sends to Dify (query, conversation, system ``inputs``, files)."""

_ROLES: dict[MessageRole, turns.Role] = {
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
    MessageRole.SYSTEM: "system",
    MessageRole.DEVELOPER: "system",
}


def _turn(message: ChatMessage) -> Turn:
    role = _ROLES.get(message.role, "other")
    text = "\n".join(b.text for b in message.blocks if isinstance(b, TextBlock))
    found = message.additional_kwargs.get("conversation_id")
    cid = found if role == "assistant" and isinstance(found, str) and found else None
    return Turn(role, text, message.role.value, cid, partial(files_of, message))


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
    found, index = turns.find_conversation([_turn(m) for m in messages], conversation_id)
    return (index, found) if found is not None and index >= 0 else None


def build_turn(
    messages: Sequence[ChatMessage],
    *,
    conversation_id: str | None,
    use_history_id: bool = True,
    system_variable: str | None = None,
    prior_turns: PriorTurns = "transcript",
    answer_format: str | None = None,
) -> DifyTurn:
    """Turn a message list into one Dify turn (the rules: ``dify_transport.turns``).

    Args:
        messages: The chat history, oldest first.
        conversation_id: An explicit conversation to continue (call kwarg or the
            component's own field), or None.
        use_history_id: Whether to take the conversation from the messages when
            none is given.
        system_variable: As the ``DifyLLM`` field.
        prior_turns: As the ``DifyLLM`` field.
        answer_format: Structured output's answer-format block, appended to the query.

    Returns:
        The turn to send; ``files`` hold ``FileInput`` dicts and :class:`FileUpload`
        items still to upload, in block order.

    Raises:
        ValueError: If no user message comes after the conversation's last reply,
            or it has no text.
    """
    return turns.plan_turn(
        [_turn(m) for m in messages],
        conversation_id=conversation_id,
        use_history_id=use_history_id,
        system_input=system_variable,
        prior_turns=prior_turns,
        answer_format=answer_format,
    )


def files_of(message: ChatMessage) -> Iterator[FilePart]:
    """The file parts of a message's image/document/audio/video blocks, in block order.

    A URL is sent as is (``remote_url``, or uploaded when it is a ``data:`` URL);
    otherwise the block's bytes (from ``path`` or inline data) are uploaded.
    """
    for block in message.blocks:
        if isinstance(block, ImageBlock):
            yield _part(block, "image", block.image_mimetype, block.resolve_image)
        elif isinstance(block, DocumentBlock):
            title = block.title
            yield _part(block, "document", block.document_mimetype, block.resolve_document, title)
        elif isinstance(block, AudioBlock):
            mime = f"audio/{block.format}" if block.format else None
            yield _part(block, "audio", mime, block.resolve_audio)
        elif isinstance(block, VideoBlock):
            yield _part(block, "video", block.video_mimetype, block.resolve_video)


def _part(
    block: ImageBlock | DocumentBlock | AudioBlock | VideoBlock,
    file_type: turns.FileType,
    mime: str | None,
    read: Any,
    title: str | None = None,
) -> FilePart:
    named = title if title and "." in title else None
    if block.url is not None:
        return FilePart(file_type, url=str(block.url), mime_type=mime, filename=named, title=title)
    name = str(getattr(block.path, "name", block.path)) if block.path is not None else named
    return FilePart(file_type, data=read().read(), mime_type=mime, filename=name, title=title)


# -- Dify -> ChatResponse ---------------------------------------------------------


def response_from_event(event: StreamEvent, text_so_far: str) -> ChatResponse | None:
    """The streamed ``ChatResponse`` for one Dify event, or None when it adds no text.

    It holds the cumulative ``message`` (``text_so_far`` plus the event's text), the
    new ``delta`` and the raw event in ``raw``; the final response comes from
    :func:`response_from_result`.
    """
    delta = event.text
    if not delta:
        return None
    ids = {key: value for key in ID_KEYS if (value := getattr(event, key)) is not None}
    message = ChatMessage(
        role=MessageRole.ASSISTANT,
        blocks=[TextBlock(text=text_so_far + delta)],
        additional_kwargs=ids,
    )
    return ChatResponse(message=message, delta=delta, raw=event.data)


def response_from_result(
    result: Result, *, model: str, delta: str | None, user: str | None = None
) -> ChatResponse:
    """Build the final ``ChatResponse`` from the aggregated Dify ``Result``.

    The message holds the whole answer (the moderation replacement when
    ``message_replace`` fired) and the ids that continue the conversation; its blocks are
    a ``ThinkingBlock`` (reasoning, when any), the ``TextBlock`` and one ``CitationBlock``
    per cited passage (``_content_blocks``). The
    response's ``additional_kwargs`` hold ``model_name``, ``model_provider``,
    ``usage`` (Dify's dict: tokens, prices, currency, latency),
    ``retriever_resources``, ``finish_reason`` and, when present,
    ``message_replace``, ``agent_thoughts``, ``files``, ``resumed`` (a dropped
    chatflow stream was resumed) and ``paused`` (a chatflow waiting for human input:
    ``finish_reason == "paused"``); ``raw`` is the whole
    result as JSON-safe data (its ``usage`` is what ``TokenCountingHandler`` reads).

    Args:
        result: The aggregated result.
        model: The model label.
        delta: ``""`` for the last streamed response, None for ``chat()``.
        user: The Dify end user the turn was sent as (kept as ``additional_kwargs
            ["user"]``, which feedback on this answer uses).

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
    if user:
        extra["user"] = user
    if result.message_replace is not None:
        extra["message_replace"] = result.message_replace
    for key in ("agent_thoughts", "files", "resumed", "paused"):  # paused: awaits human input
        if raw.get(key):
            extra[key] = raw[key]
    blocks = answer_blocks(result, extra["retriever_resources"])  # thinking, text, citations
    message = ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=ids)
    return ChatResponse(message=message, delta=delta, raw=raw, additional_kwargs=extra)


def messages_from_history(item: Message) -> list[ChatMessage]:
    """Turn one Dify history item into its user and assistant messages.

    The assistant message carries ``conversation_id`` and ``message_id`` (so it
    continues the conversation when passed back) and, when present,
    ``retriever_resources`` and ``feedback``. User files with a URL come back as
    image blocks. The user message holds the user's words: system messages sent as
    ``system:`` transcript lines are decoded out of the stored query
    (``split_transcript``) and kept in ``additional_kwargs["system_text"]``.

    Args:
        item: A ``GET /messages`` item.

    Returns:
        ``[user, assistant]`` (the assistant message is left out while empty).
    """
    words, system = turns.split_transcript(item.query)
    blocks: list[Any] = [TextBlock(text=words)]
    for file in item.message_files:
        if file.get("belongs_to", "user") == "user" and file.get("type") == "image":
            url = file.get("url")
            if isinstance(url, str) and url.startswith(("http://", "https://")):
                blocks.append(ImageBlock(url=url))
    extra_user = {"system_text": system} if system else {}
    messages = [ChatMessage(role=MessageRole.USER, blocks=blocks, additional_kwargs=extra_user)]
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
