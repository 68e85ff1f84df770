"""The Dify end user of one request, taken from the ``RunnableConfig``.

One compiled LangGraph graph (or one chain) serves many end users: the caller puts
the user in ``config["configurable"]`` and ``ChatDify`` sends it as Dify's ``user``,
streaming or not. langchain-core hands a chat model only the callbacks, tags and
metadata of its config, so :class:`RequestUserChatModel` reads the user where the
config is still whole (``invoke``/``stream`` and their async forms; ``batch`` and
``astream_events`` go through them) and passes it on as the ``user`` call kwarg.
Inside a graph node or a chain step the node's config is found even when the
node calls the model without passing ``config``.

Order: a ``user`` call kwarg (``llm.bind(user=...)``, ``llm.invoke(..., user=...)``),
then ``configurable["dify_user"]``, then ``configurable["user_id"]`` (the key
``DifyChatMessageHistory.history_factory_config`` uses), then the model's ``user``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import ensure_config

__all__ = ["CONFIG_USER_KEYS", "RequestUserChatModel", "config_user"]

CONFIG_USER_KEYS = ("dify_user", "user_id")
"""``configurable`` keys read for the Dify user, first found wins."""


def config_user(config: RunnableConfig | None) -> str | None:
    """The Dify user named by ``config`` (or the running graph node's / chain's config)."""
    configurable = ensure_config(config).get("configurable") or {}
    for key in CONFIG_USER_KEYS:
        value = configurable.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _with_user(config: RunnableConfig | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    if kwargs.get("user"):
        return kwargs
    user = config_user(config)
    return {**kwargs, "user": user} if user else kwargs


class RequestUserChatModel(BaseChatModel):
    """A chat model whose ``user`` call kwarg defaults to the config's Dify user."""

    def invoke(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        """``BaseChatModel.invoke``, sending the config's Dify user."""
        return super().invoke(input, config, stop=stop, **_with_user(config, kwargs))

    async def ainvoke(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        """``BaseChatModel.ainvoke``, sending the config's Dify user."""
        return await super().ainvoke(input, config, stop=stop, **_with_user(config, kwargs))

    def stream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        """``BaseChatModel.stream``, sending the config's Dify user."""
        return super().stream(input, config, stop=stop, **_with_user(config, kwargs))

    def astream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        """``BaseChatModel.astream``, sending the config's Dify user."""
        return super().astream(input, config, stop=stop, **_with_user(config, kwargs))
