"""Dify chat, chatflow and agent apps as LlamaIndex query engines and agent tools.

* `DifyQueryEngine`: a question in, the app's answer out, with the cited passages
  as ``source_nodes``; every query is a new Dify conversation.
* `DifyChatTool`: a ``FunctionTool`` (``query`` in, the answer out) named and
  described by the app (``GET /info``). Inside an agent workflow it continues one
  Dify conversation per workflow ``Context`` and end user (kept in ``ctx.store``),
  so agent sessions never share a conversation; called without a ``Context`` (or
  synchronously) each call starts a new one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole
from llama_index.core.base.response.schema import Response
from llama_index.core.prompts.mixin import PromptMixinType
from llama_index.core.schema import QueryBundle
from llama_index.core.tools import FunctionTool, ToolMetadata, ToolOutput
from llama_index.core.workflow import Context

from dify_transport import AppInfo
from dify_transport.inputs import AppQuestion, chat_tool_meta
from llama_index_dify._nodes import nodes_from_resources

if TYPE_CHECKING:
    from llama_index_dify.llms import DifyLLM

__all__ = ["DifyChatTool", "DifyQueryEngine"]


def _ask(query: str) -> list[ChatMessage]:
    return [ChatMessage(role=MessageRole.USER, content=query)]


def _response(final: ChatResponse) -> Response:
    extra = dict(final.additional_kwargs)
    return Response(
        response=final.message.content or "",
        source_nodes=nodes_from_resources(extra.get("retriever_resources") or []),
        metadata=extra,
    )


class DifyQueryEngine(BaseQueryEngine):
    """A Dify chat app as a query engine (each query is a new conversation).

    ```python
    engine = DifyLLM(user="alice").as_query_engine()
    response = engine.query("What is Dify?")
    response.response, response.source_nodes, response.metadata["conversation_id"]
    ```
    """

    def __init__(self, llm: DifyLLM) -> None:
        """Query through ``llm`` (its callback manager is the engine's)."""
        self._llm = llm
        super().__init__(callback_manager=llm.callback_manager)

    def _get_prompt_modules(self) -> PromptMixinType:
        return {}

    def _query(self, query_bundle: QueryBundle) -> Response:
        return _response(self._llm.chat(_ask(query_bundle.query_str), conversation_id=None))

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        final = await self._llm.achat(_ask(query_bundle.query_str), conversation_id=None)
        return _response(final)


class DifyChatTool(FunctionTool):
    """A Dify chat, chatflow or agent app as a tool (``query`` in, the answer out).

    ```python
    tool = DifyLLM(user="alice").as_tool()  # reads GET /info now; or await llm.aas_tool()
    agent = FunctionAgent(tools=[tool], llm=...)
    ```
    """

    @classmethod
    def from_llm(
        cls,
        llm: DifyLLM,
        *,
        name: str | None = None,
        description: str | None = None,
        info: AppInfo | None = None,
    ) -> DifyChatTool:
        """Build the tool; reads ``GET /info`` now unless ``info`` (or name and description)."""
        if info is None and (name is None or description is None):
            info = llm._get_client().get_info()
        return cls._build(llm, info, name, description)

    @classmethod
    async def afrom_llm(
        cls,
        llm: DifyLLM,
        *,
        name: str | None = None,
        description: str | None = None,
        info: AppInfo | None = None,
    ) -> DifyChatTool:
        """Async `from_llm`."""
        if info is None and (name is None or description is None):
            info = await llm._get_aclient().get_info()
        return cls._build(llm, info, name, description)

    @classmethod
    def _build(
        cls, llm: DifyLLM, info: AppInfo | None, name: str | None, description: str | None
    ) -> DifyChatTool:
        slug, about = chat_tool_meta(info, name, description)
        key = f"dify_conversation:{slug}:{llm.user}"

        def run(ctx: Any, query: str) -> str:  # noqa: ARG001 - sync: a new conversation
            return llm.chat(_ask(query), conversation_id=None).message.content or ""

        async def arun(ctx: Any, query: str) -> str:
            conversation = await ctx.store.get(key, default=None) if ctx is not None else None
            final = await llm.achat(_ask(query), conversation_id=conversation)
            found = final.message.additional_kwargs.get("conversation_id")
            if ctx is not None and isinstance(found, str):
                await ctx.store.set(key, found)
            return final.message.content or ""

        # FunctionTool finds the Context parameter by its (evaluated) annotation
        for fn in (run, arun):
            fn.__annotations__ = {"ctx": Context, "query": str, "return": str}
        metadata = ToolMetadata(name=slug, description=about, fn_schema=AppQuestion)
        return cls(fn=run, async_fn=arun, metadata=metadata)

    def call(self, *args: Any, **kwargs: Any) -> ToolOutput:
        """Call the tool; without a ``Context`` a new conversation is started."""
        kwargs.setdefault(self.ctx_param_name or "ctx", None)
        return super().call(*args, **kwargs)

    async def acall(self, *args: Any, **kwargs: Any) -> ToolOutput:
        """Async `call`; with the agent's ``Context`` the conversation continues."""
        kwargs.setdefault(self.ctx_param_name or "ctx", None)
        return await super().acall(*args, **kwargs)
