"""``ChatDify.with_structured_output`` and ``bind_tools``: what a Dify app can and cannot do.

A Dify app has no JSON mode and decides its tools on the server. Structured output is
asked for in the query (:func:`dify_transport.turns.answer_format`: the schema and
"reply with one JSON object") and the answer is parsed here: streamed as partial
objects, checked at the end. A malformed answer raises :class:`DifyOutputParserError`
(LangChain's ``OutputParserException`` and the transport's ``StructuredOutputError``,
``raw`` holding the answer). ``bind_tools`` raises :class:`DifyToolCallingError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.exceptions import LangChainException, OutputParserException
from langchain_core.messages import BaseMessage
from langchain_core.output_parsers.transform import BaseCumulativeTransformOutputParser
from langchain_core.outputs import ChatGeneration, Generation
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_json_schema
from langchain_core.utils.json import parse_json_markdown
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import ValidationError
from pydantic.v1 import ValidationError as ValidationErrorV1

from dify_transport import DifyConfigError
from dify_transport.structured import StructuredOutputError, check_required, extract_json
from dify_transport.turns import answer_format

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel, LanguageModelInput

__all__ = [
    "DifyOutputParserError",
    "DifyStructuredOutputParser",
    "DifyToolCallingError",
    "StructuredMethod",
    "structured_runnable",
    "tools_error",
]

StructuredMethod = Literal["json_schema", "json_mode", "function_calling"]


class DifyOutputParserError(StructuredOutputError, OutputParserException):
    """The answer is not the JSON asked for: an ``OutputParserException`` and a `DifyError`.

    ``raw`` and ``llm_output`` hold the answer as Dify sent it; ``reason`` says what is
    wrong with it.
    """

    def __init__(self, reason: str, raw: str) -> None:
        StructuredOutputError.__init__(self, reason, raw)
        self.observation: str | None = None
        self.llm_output: str | None = raw
        self.send_to_llm = False


class DifyToolCallingError(DifyConfigError, LangChainException):
    """Client-side tools cannot be bound to a Dify app (it chooses its tools on the server)."""


def tools_error(tools: object) -> DifyToolCallingError:
    """The error ``ChatDify.bind_tools`` raises (it names the tools it was given)."""
    names = [getattr(t, "name", None) or getattr(t, "__name__", type(t).__name__) for t in tools]  # type: ignore[attr-defined]
    return DifyToolCallingError(
        f"ChatDify cannot bind tools ({', '.join(map(str, names)) or 'none given'}): a Dify "
        "app decides its tools on the server. Give the tools to a Dify agent app (or a "
        "chatflow) and call it with ChatDify, or turn Dify workflows into tools for "
        "another model with DifyWorkflow(...).as_tool(). For JSON answers use "
        "with_structured_output(schema)."
    )


def _raise(exc: StructuredOutputError) -> DifyOutputParserError:
    return DifyOutputParserError(exc.reason, exc.raw)


def _text(chunk: str | BaseMessage) -> str:
    return chunk if isinstance(chunk, str) else chunk.text


class DifyStructuredOutputParser(BaseCumulativeTransformOutputParser[Any]):
    """Parse a Dify answer into the schema: partial objects while streaming, checked at the end.

    A pydantic ``schema`` gives validated instances (a partial one only once it
    validates); a JSON Schema or TypedDict gives dicts, checked for the required
    fields. ``schema=None`` (JSON mode) gives any JSON value.
    """

    pydantic_object: Any = None
    """A pydantic (v1 or v2) model class, or None."""

    json_schema: dict[str, Any] | None = None
    """The JSON Schema asked for (None: any JSON)."""

    def _validate(self, value: Any, raw: str) -> Any:
        if self.pydantic_object is not None:
            model = self.pydantic_object
            try:
                if hasattr(model, "model_validate"):
                    return model.model_validate(value)
                return model.parse_obj(value)
            except (ValidationError, ValidationErrorV1, TypeError) as exc:
                reason = f"it does not validate as {model.__name__}: {exc}"
                raise DifyOutputParserError(reason, raw) from exc
        if self.json_schema is not None and self.json_schema.get("type", "object") == "object":
            try:
                return check_required(value, self.json_schema, raw)
            except StructuredOutputError as exc:
                raise _raise(exc) from exc
        return value

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        """The parsed answer (``partial``: the object so far, or None while unreadable)."""
        generation = result[0]
        text = (
            generation.message.text if isinstance(generation, ChatGeneration) else generation.text
        )
        if partial:
            try:
                value = parse_json_markdown(text.strip())
            except ValueError:
                return None
            if self.pydantic_object is None:
                return value if isinstance(value, dict | list) else None
            try:
                return self._validate(value, text)
            except DifyOutputParserError:
                return None
        try:
            value = extract_json(text)
        except StructuredOutputError as exc:
            raise _raise(exc) from exc
        return self._validate(value, text)

    def parse(self, text: str) -> Any:
        """Parse a whole answer."""
        return self.parse_result([Generation(text=text)])

    @property
    def _type(self) -> str:
        return "dify_structured_output"

    def _transform(self, input: Iterator[str | BaseMessage]) -> Iterator[Any]:
        seen: list[str] = []

        def tee() -> Iterator[str | BaseMessage]:
            for chunk in input:
                seen.append(_text(chunk))
                yield chunk

        last: Any = None
        for last in super()._transform(tee()):
            yield last
        final = self.parse("".join(seen))  # the whole answer, checked (raises if malformed)
        if final != last:
            yield final

    async def _atransform(self, input: AsyncIterator[str | BaseMessage]) -> AsyncIterator[Any]:
        seen: list[str] = []

        async def tee() -> AsyncIterator[str | BaseMessage]:
            async for chunk in input:
                seen.append(_text(chunk))
                yield chunk

        last: Any = None
        async for last in super()._atransform(tee()):
            yield last
        final = self.parse("".join(seen))
        if final != last:
            yield final


def structured_runnable(
    model: BaseChatModel,
    schema: dict[str, Any] | type | None,
    *,
    method: StructuredMethod,
    include_raw: bool,
    strict: bool | None,
) -> Runnable[LanguageModelInput, Any]:
    """``model`` bound to ask for ``schema`` and piped into the parser (see the module doc)."""
    if method not in ("json_schema", "json_mode", "function_calling"):
        msg = f"method must be 'json_schema', 'json_mode' or 'function_calling', not {method!r}."
        raise DifyConfigError(msg)
    if schema is None and method != "json_mode":
        msg = f"with_structured_output(method={method!r}) needs a schema (or use 'json_mode')."
        raise DifyConfigError(msg)
    is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
    json_schema = convert_to_json_schema(schema) if schema is not None else None
    bound = model.bind(
        answer_format=answer_format(json_schema),
        ls_structured_output_format={
            "kwargs": {"method": method, "strict": strict},
            "schema": schema if schema is not None else {"type": "object"},
        },
    )
    parser = DifyStructuredOutputParser(
        pydantic_object=schema if is_pydantic else None,
        json_schema=json_schema,
    )
    if not include_raw:
        return bound | parser
    parsed = RunnablePassthrough.assign(
        parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
    )
    failed = RunnablePassthrough.assign(parsed=lambda _: None)
    return RunnableMap(raw=bound) | parsed.with_fallbacks([failed], exception_key="parsing_error")
