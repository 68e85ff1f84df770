"""`DifyChatStore`: a read-and-delete view of one end user's Dify conversations."""

from __future__ import annotations

import logging
import uuid

from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.storage.chat_store.base import BaseChatStore

from dify_transport import Conversation, ConversationNotFoundError
from llama_index_dify._clients import AppClientsOwner
from llama_index_dify._errors import DifyReadOnlyHistoryError
from llama_index_dify._messages import messages_from_history

__all__ = ["DifyChatStore"]

logger = logging.getLogger(__name__)


def _is_conversation_id(key: str) -> bool:
    """Whether ``key`` can name a Dify conversation (Dify's ids are UUIDs)."""
    try:
        uuid.UUID(key)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


class DifyChatStore(AppClientsOwner, BaseChatStore):
    """One end user's Dify conversations as a LlamaIndex chat store.

    A key is a Dify ``conversation_id``; the store is fixed to one ``user``
    (Dify scopes conversations by it). Reads come from Dify: ``get_messages``
    returns the turns oldest first (each assistant message carries its
    ``conversation_id``, so passing them to ``DifyLLM`` continues the
    conversation; an unknown key gives ``[]``), ``get_keys`` lists the user's
    conversations and ``delete_messages`` deletes one (an unknown key is a
    no-op); ``list_conversations`` gives them with their names and
    ``rename_conversation`` renames one (async forms too). A user message's text is
    the user's words: system text sent as ``system:`` transcript lines is decoded out
    into ``additional_kwargs["system_text"]``. Dify's times count seconds; the
    history is read so that no same-second message is skipped at a page boundary.
    Dify writes history itself as the app answers and cannot append or
    edit messages, so ``set_messages``,
    ``add_message``, ``delete_message`` and ``delete_last_message`` (and their
    async forms) raise :class:`DifyReadOnlyHistoryError`.

    Examples:
        ```python
        from llama_index_dify import DifyChatStore

        store = DifyChatStore(user="alice")
        for conversation_id in store.get_keys():
            for message in store.get_messages(conversation_id):
                print(message.role.value, message.content)
        ```
    """

    @classmethod
    def class_name(cls) -> str:
        """Return the class name."""
        return "DifyChatStore"

    # -- reads and deletes (Dify can do these) -------------------------------------------

    def get_messages(self, key: str) -> list[ChatMessage]:
        """Return conversation ``key`` oldest first (user and assistant messages).

        An unknown key, or one that cannot be a Dify conversation id (such as
        ``ChatMemoryBuffer``'s default ``"chat_history"``), gives ``[]`` as
        ``BaseChatStore`` promises (logged at DEBUG with the ``user`` sent: a
        conversation of another user is unknown to this one). Other failures
        (authentication, server errors) raise.
        """
        if not self._known_form(key, "get_messages"):
            return []
        try:
            return [
                message
                for item in self.client.iter_messages(key, user=self.user)
                for message in messages_from_history(item)
            ]
        except ConversationNotFoundError:
            self._not_found(key, "get_messages")
            return []

    async def aget_messages(self, key: str) -> list[ChatMessage]:
        """Async :meth:`get_messages`."""
        if not self._known_form(key, "aget_messages"):
            return []
        messages: list[ChatMessage] = []
        try:
            async for item in self.async_client.iter_messages(key, user=self.user):
                messages.extend(messages_from_history(item))
        except ConversationNotFoundError:
            self._not_found(key, "aget_messages")
            return []
        return messages

    def delete_messages(self, key: str) -> None:
        """Delete conversation ``key`` in Dify (an unknown key is a no-op).

        Returns:
            None: Dify does not return the deleted messages (read them first
            with :meth:`get_messages` if you need them).
        """
        if not self._known_form(key, "delete_messages"):
            return
        try:
            self.client.delete_conversation(key, user=self.user)
        except ConversationNotFoundError:
            self._not_found(key, "delete_messages")

    async def adelete_messages(self, key: str) -> None:
        """Async :meth:`delete_messages`."""
        if not self._known_form(key, "adelete_messages"):
            return
        try:
            await self.async_client.delete_conversation(key, user=self.user)
        except ConversationNotFoundError:
            self._not_found(key, "adelete_messages")

    def _known_form(self, key: str, method: str) -> bool:
        if _is_conversation_id(key):
            return True
        logger.debug(
            "DifyChatStore.%s(%r): not a Dify conversation id, treated as unknown (user=%r)",
            method,
            key,
            self.user,
        )
        return False

    def _not_found(self, key: str, method: str) -> None:
        logger.debug(
            "DifyChatStore.%s(%r): no such conversation for user=%r", method, key, self.user
        )

    def get_keys(self) -> list[str]:
        """Return the ids of this user's conversations, most recently updated first."""
        return [conversation.id for conversation in self.list_conversations()]

    async def aget_keys(self) -> list[str]:
        """Async :meth:`get_keys`."""
        return [conversation.id for conversation in await self.alist_conversations()]

    def list_conversations(self) -> list[Conversation]:
        """This user's conversations (id, ``name``, times), most recently updated first."""
        return list(self.client.iter_conversations(user=self.user))

    async def alist_conversations(self) -> list[Conversation]:
        """Async :meth:`list_conversations`."""
        return [c async for c in self.async_client.iter_conversations(user=self.user)]

    def rename_conversation(
        self, key: str, name: str | None = None, *, auto_generate: bool = False
    ) -> Conversation:
        """Rename conversation ``key`` (``auto_generate=True``: Dify names it itself).

        Delete a conversation with :meth:`delete_messages`.
        """
        return self.client.rename_conversation(
            key, user=self.user, name=name, auto_generate=auto_generate
        )

    async def arename_conversation(
        self, key: str, name: str | None = None, *, auto_generate: bool = False
    ) -> Conversation:
        """Async :meth:`rename_conversation`."""
        return await self.async_client.rename_conversation(
            key, user=self.user, name=name, auto_generate=auto_generate
        )

    # -- writes (Dify cannot do these) ------------------------------------------------------

    def set_messages(self, key: str, messages: list[ChatMessage]) -> None:  # noqa: ARG002
        """Unsupported: raises :class:`DifyReadOnlyHistoryError`."""
        raise DifyReadOnlyHistoryError("set_messages")

    async def aset_messages(self, key: str, messages: list[ChatMessage]) -> None:  # noqa: ARG002
        """Unsupported: raises :class:`DifyReadOnlyHistoryError`."""
        raise DifyReadOnlyHistoryError("aset_messages")

    def add_message(self, key: str, message: ChatMessage) -> None:  # noqa: ARG002
        """Unsupported: raises :class:`DifyReadOnlyHistoryError`."""
        raise DifyReadOnlyHistoryError("add_message")

    async def async_add_message(self, key: str, message: ChatMessage) -> None:  # noqa: ARG002
        """Unsupported: raises :class:`DifyReadOnlyHistoryError`."""
        raise DifyReadOnlyHistoryError("async_add_message")

    def delete_message(self, key: str, idx: int) -> ChatMessage | None:  # noqa: ARG002
        """Unsupported: raises :class:`DifyReadOnlyHistoryError`."""
        raise DifyReadOnlyHistoryError("delete_message")

    async def adelete_message(self, key: str, idx: int) -> ChatMessage | None:  # noqa: ARG002
        """Unsupported: raises :class:`DifyReadOnlyHistoryError`."""
        raise DifyReadOnlyHistoryError("adelete_message")

    def delete_last_message(self, key: str) -> ChatMessage | None:  # noqa: ARG002
        """Unsupported: raises :class:`DifyReadOnlyHistoryError`."""
        raise DifyReadOnlyHistoryError("delete_last_message")

    async def adelete_last_message(self, key: str) -> ChatMessage | None:  # noqa: ARG002
        """Unsupported: raises :class:`DifyReadOnlyHistoryError`."""
        raise DifyReadOnlyHistoryError("adelete_last_message")
