"""A chatflow that pauses for human input, under ``ChatDify``.

Inside a LangGraph node the pause becomes the graph's ``interrupt()`` (as for
``DifyWorkflow``, see :mod:`langchain_dify._langgraph`): the turn and each resume
are LangGraph tasks, so the replayed node continues the same Dify run instead of
sending the question again. Outside LangGraph ``invoke`` raises
:class:`DifyChatPausedError`, whose ``resume(...)`` answers the form and returns
the finished answer. ``stream`` ends with a chunk whose ``response_metadata``
carries the ``paused`` handle. ``answer_form`` / ``aanswer_form`` answer a form for
both ``ChatDify`` and ``DifyWorkflow``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, messages_from_dict, messages_to_dict
from langchain_core.outputs import ChatGeneration, ChatResult

from dify_transport import DifyError, PausedRun, Result
from langchain_dify._agent_steps import model_run
from langchain_dify._errors import translate_errors
from langchain_dify._langgraph import arun_values_in_graph, in_graph, run_values_in_graph
from langchain_dify._messages import final_chunk

if TYPE_CHECKING:
    from langchain_dify._clients import AppClientOwner
    from langchain_dify.chat_models import ChatDify

__all__ = ["DifyChatPausedError", "aanswer_form", "answer_form", "asettle", "settle"]


class DifyChatPausedError(DifyError):
    """A chatflow turn paused for human input: answer ``paused.forms`` and `resume`.

    Attributes:
        message: The answer so far (``response_metadata`` has the ids and ``paused``).
        paused: The paused run: run id, task id, user, forms keyed by node id.
    """

    def __init__(self, message: AIMessage, paused: PausedRun, model: ChatDify) -> None:
        self.message = message
        self.paused = paused
        self._model = model
        forms = ", ".join(paused.forms) or "none"
        super().__init__(
            f"Dify chatflow run {paused.workflow_run_id} paused for human input (forms at "
            f"nodes: {forms}); answer with .resume(action=..., inputs=...)"
        )

    def resume(
        self, *, action: str, inputs: dict[str, Any] | None = None, node_id: str | None = None
    ) -> AIMessage:
        """Answer the form and follow the same run; return the whole answer."""
        result = answer_form(self._model, self.paused, action, inputs or {}, node_id)
        return _done(_message(result, self._model, self.message.text), self._model)

    async def aresume(
        self, *, action: str, inputs: dict[str, Any] | None = None, node_id: str | None = None
    ) -> AIMessage:
        """Async `resume`."""
        result = await aanswer_form(self._model, self.paused, action, inputs or {}, node_id)
        return _done(_message(result, self._model, self.message.text), self._model)


def _paused(message: AIMessage) -> PausedRun | None:
    handle = message.response_metadata.get("paused")
    return PausedRun.model_validate(handle) if isinstance(handle, dict) else None


def _done(message: AIMessage, model: ChatDify) -> AIMessage:
    paused = _paused(message)
    if paused is not None:
        raise DifyChatPausedError(message, paused, model)
    return message


def _message(result: Result, model: ChatDify, before: str) -> AIMessage:
    """The whole answer: the text before the pause, then what followed it."""
    last = final_chunk(model.model, result=result).message
    return AIMessage(
        content=before + result.answer,
        id=result.message_id,
        response_metadata=dict(last.response_metadata),
        usage_metadata=getattr(last, "usage_metadata", None),
    )


def answer_form(
    app: AppClientOwner, paused: PausedRun, action: str, inputs: dict[str, Any], node: str | None
) -> Result:
    """Answer a form of a paused run and follow the same run (no new POST), as ``app.user``."""
    with translate_errors():
        return app._client.answer_form(
            paused, action=action, inputs=inputs, node_id=node, user=app.user
        )


async def aanswer_form(
    app: AppClientOwner, paused: PausedRun, action: str, inputs: dict[str, Any], node: str | None
) -> Result:
    """Async `answer_form`."""
    with translate_errors():
        return await app._async_client.answer_form(
            paused, action=action, inputs=inputs, node_id=node, user=app.user
        )


def _first(result: ChatResult) -> AIMessage:
    message = result.generations[0].message
    if not isinstance(message, AIMessage):  # pragma: no cover - ChatDify builds AIMessages
        msg = "ChatDify produced no AIMessage"
        raise DifyError(msg)
    return message


def _plain(message: AIMessage) -> dict[str, Any]:
    return {"message": messages_to_dict([message])[0]}


def _from_plain(value: dict[str, Any]) -> AIMessage:
    (message,) = messages_from_dict([value["message"]])
    if not isinstance(message, AIMessage):  # pragma: no cover - only AIMessages are stored
        msg = "a checkpointed Dify turn is not an AIMessage"
        raise DifyError(msg)
    return message


def _paused_of(seen: dict[str, str], value: dict[str, Any]) -> PausedRun | None:
    message = _from_plain(value)
    seen["before"] = message.text  # what the resumed answer continues
    return _paused(message)


def _result(message: AIMessage) -> ChatResult:
    return ChatResult(generations=[ChatGeneration(message=message)])


def settle(
    model: ChatDify, generate: Callable[[], ChatResult], run_manager: object = None
) -> ChatResult:
    """Run one turn; a pause interrupts the graph (inside LangGraph) or raises.

    ``run_manager`` (the model's run) becomes the parent of an agent app's tool runs.
    """
    if not in_graph():
        with model_run(run_manager):
            result = generate()
        _done(_first(result), model)
        return result
    seen = {"before": ""}

    def start() -> dict[str, Any]:
        with model_run(run_manager):
            return _plain(_first(generate()))

    def resume(
        handle: dict[str, Any], action: str, inputs: dict[str, Any], node_id: str | None
    ) -> dict[str, Any]:
        result = answer_form(model, PausedRun.model_validate(handle), action, inputs, node_id)
        return _plain(_message(result, model, seen["before"]))

    value = run_values_in_graph(start, resume, partial(_paused_of, seen), name="dify_chat")
    return _result(_from_plain(value))


async def asettle(
    model: ChatDify, generate: Callable[[], Awaitable[ChatResult]], run_manager: object = None
) -> ChatResult:
    """Async `settle`."""
    if not in_graph():
        with model_run(run_manager):
            result = await generate()
        _done(_first(result), model)
        return result
    seen = {"before": ""}

    async def start() -> dict[str, Any]:
        with model_run(run_manager):
            return _plain(_first(await generate()))

    async def resume(
        handle: dict[str, Any], action: str, inputs: dict[str, Any], node_id: str | None
    ) -> dict[str, Any]:
        paused = PausedRun.model_validate(handle)
        result = await aanswer_form(model, paused, action, inputs, node_id)
        return _plain(_message(result, model, seen["before"]))

    value = await arun_values_in_graph(start, resume, partial(_paused_of, seen), name="dify_chat")
    return _result(_from_plain(value))
