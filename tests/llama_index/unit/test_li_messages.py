"""Pure translation: messages -> Dify turn, Dify events/results -> ChatResponse, nodes."""

from __future__ import annotations

import base64
from decimal import Decimal
from pathlib import Path

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
)
from llama_index.core.schema import MetadataMode

from dify_transport import StreamEvent
from dify_transport.types import Message, Result, RetrieveRecord
from llama_index_dify._messages import (
    FileUpload,
    build_turn,
    conversation_anchor,
    messages_from_history,
    response_from_event,
    response_from_result,
)
from llama_index_dify._nodes import node_from_record, node_from_resource

TINY_PNG = (Path(__file__).parent.parent / "assets" / "tiny.png").read_bytes()


def user(text: str, *blocks: object) -> ChatMessage:
    return ChatMessage(role=MessageRole.USER, blocks=[TextBlock(text=text), *blocks])


def dify_reply(text: str, conversation_id: str = "c1") -> ChatMessage:
    return ChatMessage(
        role=MessageRole.ASSISTANT,
        content=text,
        additional_kwargs={"conversation_id": conversation_id, "message_id": "m-" + text},
    )


def system(text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.SYSTEM, content=text)


def assistant(text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.ASSISTANT, content=text)


# -- conversation resolution -------------------------------------------------------


def test_single_user_message_is_the_query_of_a_new_conversation() -> None:
    turn = build_turn([user("hello")], conversation_id=None)
    assert turn.query == "hello"
    assert turn.conversation_id is None
    assert turn.files == ()
    assert turn.inputs == {}


def test_history_without_a_dify_reply_goes_as_a_transcript() -> None:
    turn = build_turn(
        [system("Be terse."), user("I am Bob."), assistant("Hi Bob."), user("My name?")],
        conversation_id=None,
    )
    assert turn.conversation_id is None
    assert turn.query == ("system: Be terse.\nuser: I am Bob.\nassistant: Hi Bob.\nuser: My name?")


def test_a_dify_reply_continues_its_conversation_with_only_the_new_turns() -> None:
    messages = [user("one"), dify_reply("r1", "c1"), user("two"), user("three")]
    turn = build_turn(messages, conversation_id=None)
    assert turn.conversation_id == "c1"
    assert turn.query == "two\n\nthree"


def test_the_newest_dify_reply_wins() -> None:
    messages = [user("a"), dify_reply("r1", "old"), user("b"), dify_reply("r2", "new"), user("c")]
    assert conversation_anchor(messages) == (3, "new")
    assert build_turn(messages, conversation_id=None).conversation_id == "new"


def test_explicit_conversation_beats_the_history() -> None:
    messages = [user("a"), dify_reply("r1", "c1"), user("b")]
    turn = build_turn(messages, conversation_id="c9")
    assert turn.conversation_id == "c9"
    # No reply of c9 in the list: nothing may be dropped, so everything goes.
    assert turn.query == "user: a\nassistant: r1\nuser: b"


def test_explicit_conversation_trims_at_its_own_reply() -> None:
    messages = [user("a"), dify_reply("r1", "c1"), user("b")]
    turn = build_turn(messages, conversation_id="c1")
    assert turn.query == "b"


def test_forced_new_conversation_ignores_the_history_ids() -> None:
    messages = [user("a"), dify_reply("r1", "c1"), user("b")]
    turn = build_turn(messages, conversation_id=None, use_history_id=False)
    assert turn.conversation_id is None
    assert turn.query == "user: a\nassistant: r1\nuser: b"


def test_system_messages_can_go_to_an_app_input() -> None:
    messages = [system("Be terse."), user("hi")]
    turn = build_turn(messages, conversation_id=None, system_variable="persona")
    assert turn.inputs == {"persona": "Be terse."}
    assert turn.query == "hi"


def test_system_variable_continuing_carries_the_system_messages_in_the_transcript() -> None:
    # Dify ignores ``inputs`` for an existing conversation and stores no system
    # messages: every system message in the list travels in the query.
    messages = [
        system("Bob"),
        user("Hi"),
        dify_reply("Hello", "c1"),
        system("Answer in French"),
        user("Next"),
    ]
    turn = build_turn(messages, conversation_id=None, system_variable="name")
    assert turn.conversation_id == "c1"
    assert turn.query == "system: Bob\nsystem: Answer in French\nuser: Next"
    assert turn.inputs == {}


def test_system_variable_continuing_resends_an_earlier_system_message() -> None:
    # The system text reached the input variable on the first turn only; a prompt's
    # system message may change every turn, so it travels in the query.
    messages = [system("Bob"), user("Hi"), dify_reply("Hello", "c1"), user("Next")]
    turn = build_turn(messages, conversation_id=None, system_variable="name")
    assert (turn.query, turn.inputs) == ("system: Bob\nuser: Next", {})


def test_continuing_carries_a_system_message_placed_before_the_history() -> None:
    messages = [
        system("context: v2"),
        user("a"),
        dify_reply("b", "c1"),
        user("c"),
        dify_reply("d", "c1"),
        user("e"),
    ]
    turn = build_turn(messages, conversation_id=None)
    assert turn.conversation_id == "c1"
    assert turn.query == "system: context: v2\nuser: e"


def test_continuing_keeps_system_messages_in_order_before_the_new_turns() -> None:
    messages = [
        system("one"),
        user("a"),
        system("two"),
        dify_reply("b", "c1"),
        system("three"),
        user("c"),
    ]
    turn = build_turn(messages, conversation_id=None)
    assert turn.query == "system: one\nsystem: two\nsystem: three\nuser: c"


def test_continuing_without_system_messages_sends_only_the_new_user_text() -> None:
    messages = [user("a"), dify_reply("b", "c1"), user("b?")]
    assert build_turn(messages, conversation_id=None).query == "b?"


def test_prior_turns_drop_is_the_opt_out() -> None:
    messages = [
        system("context: v2"),
        user("a"),
        dify_reply("b", "c1"),
        system("late"),
        user("c"),
    ]
    for system_variable in (None, "name"):
        turn = build_turn(
            messages, conversation_id=None, system_variable=system_variable, prior_turns="drop"
        )
        assert (turn.conversation_id, turn.query, turn.inputs) == ("c1", "c", {})
    fresh = [user("hi"), assistant("hello"), user("next")]
    assert build_turn(fresh, conversation_id=None, prior_turns="drop").query == "next"


def test_system_variable_with_an_explicit_conversation_goes_in_the_transcript() -> None:
    messages = [system("Be terse."), user("hi")]
    turn = build_turn(messages, conversation_id="c9", system_variable="persona")
    assert turn.conversation_id == "c9"
    assert turn.query == "system: Be terse.\nuser: hi"
    assert turn.inputs == {}


def test_a_system_message_after_the_reply_is_not_dropped() -> None:
    messages = [user("a"), dify_reply("r1"), system("Now answer in French."), user("b")]
    turn = build_turn(messages, conversation_id=None)
    assert turn.conversation_id == "c1"
    assert turn.query == "system: Now answer in French.\nuser: b"


@pytest.mark.parametrize(
    "messages",
    [
        [],
        [user("a"), dify_reply("r1")],
        [system("only a system message")],
        [user("   ")],
    ],
)
def test_nothing_to_send_is_an_error(messages: list[ChatMessage]) -> None:
    with pytest.raises(ValueError, match="Dify"):
        build_turn(messages, conversation_id=None)


# -- files ---------------------------------------------------------------------------


def test_image_url_becomes_a_remote_url_file() -> None:
    turn = build_turn([user("see", ImageBlock(url="https://x.test/cat.png"))], conversation_id=None)
    assert turn.files == (
        {"type": "image", "transfer_method": "remote_url", "url": "https://x.test/cat.png"},
    )


def test_image_bytes_become_an_upload() -> None:
    turn = build_turn([user("see", ImageBlock(image=TINY_PNG))], conversation_id=None)
    (upload,) = turn.files
    assert isinstance(upload, FileUpload)
    assert upload.file_type == "image"
    assert upload.data == TINY_PNG
    assert upload.mime_type == "image/png"
    assert upload.filename == "image.png"


def test_image_data_url_and_path_become_uploads(tmp_path: Path) -> None:
    path = tmp_path / "pic.png"
    path.write_bytes(TINY_PNG)
    data_url = "data:image/png;base64," + base64.b64encode(TINY_PNG).decode()
    turn = build_turn(
        [user("see", ImageBlock(url=data_url), ImageBlock(path=path))], conversation_id=None
    )
    first, second = turn.files
    assert isinstance(first, FileUpload)
    assert isinstance(second, FileUpload)
    assert first.data == second.data == TINY_PNG
    assert second.filename == "pic.png"
    assert second.mime_type == "image/png"


def test_document_bytes_become_a_document_upload() -> None:
    block = DocumentBlock(data=b"hello", title="notes.txt", document_mimetype="text/plain")
    (upload,) = build_turn([user("read", block)], conversation_id=None).files
    assert isinstance(upload, FileUpload)
    assert (upload.file_type, upload.filename, upload.data) == ("document", "notes.txt", b"hello")


def test_only_files_of_sent_user_turns_are_attached() -> None:
    old = user("old", ImageBlock(url="https://x.test/old.png"))
    new = user("new", ImageBlock(url="https://x.test/new.png"))
    turn = build_turn([old, dify_reply("r1"), new], conversation_id=None)
    assert [f["url"] for f in turn.files if isinstance(f, dict)] == ["https://x.test/new.png"]


# -- responses ---------------------------------------------------------------------------


def _event(**data: object) -> StreamEvent:
    payload = {"conversation_id": "c1", "message_id": "m1", "task_id": "t1", **data}
    answer = payload.get("answer")
    return StreamEvent(payload, text=answer if isinstance(answer, str) else None)


def test_text_event_gives_cumulative_message_and_delta() -> None:
    response = response_from_event(_event(event="message", answer="lo"), "Hel")
    assert response is not None
    assert response.delta == "lo"
    assert response.message.content == "Hello"
    assert response.message.role == MessageRole.ASSISTANT
    assert response.message.additional_kwargs == {
        "conversation_id": "c1",
        "message_id": "m1",
        "task_id": "t1",
    }
    assert response.raw["answer"] == "lo"


@pytest.mark.parametrize(
    "data",
    [{"event": "message", "answer": ""}, {"event": "message_end"}, {"event": "agent_thought"}],
)
def test_events_without_text_give_nothing(data: dict[str, object]) -> None:
    assert response_from_event(_event(**data), "x") is None


def test_final_response_holds_ids_usage_resources_and_the_replacement() -> None:
    result = Result(
        answer="[redacted]",
        message_replace="[redacted]",
        conversation_id="c1",
        message_id="m1",
        task_id="t1",
        finish_reason="stop",
        usage={
            "prompt_tokens": 3,
            "completion_tokens": 2,
            "total_tokens": 5,
            "total_price": "0.001",
        },
        retriever_resources=[{"segment_id": "s1", "content": "passage", "score": 0.5}],
    )
    response = response_from_result(result, model="my-app", delta="")
    assert response.delta == ""
    assert response.message.content == "[redacted]"
    assert response.message.additional_kwargs == {
        "conversation_id": "c1",
        "message_id": "m1",
        "task_id": "t1",
    }
    extra = response.additional_kwargs
    assert extra["model_name"] == "my-app"
    assert extra["model_provider"] == "dify"
    assert extra["message_replace"] == "[redacted]"
    assert extra["finish_reason"] == "stop"
    assert extra["usage"]["total_tokens"] == 5
    assert Decimal(extra["usage"]["total_price"]) == Decimal("0.001")
    assert extra["retriever_resources"][0]["segment_id"] == "s1"
    assert response.raw["usage"]["prompt_tokens"] == 3  # what TokenCountingHandler reads


def test_history_item_gives_user_and_assistant_messages() -> None:
    item = Message(
        id="m1",
        conversation_id="c1",
        query="hi",
        answer="hello",
        status="normal",
        message_files=[
            {"type": "image", "url": "https://x.test/a.png", "belongs_to": "user"},
        ],
    )
    human, reply = messages_from_history(item)
    assert human.role == MessageRole.USER
    assert human.content == "hi"
    assert any(isinstance(b, ImageBlock) for b in human.blocks)
    assert reply.role == MessageRole.ASSISTANT
    assert reply.content == "hello"
    assert reply.additional_kwargs["conversation_id"] == "c1"
    # Put back in a list, the reply continues its conversation.
    assert build_turn([human, reply, user("next")], conversation_id=None).conversation_id == "c1"


# -- nodes -------------------------------------------------------------------------------


def test_node_from_resource() -> None:
    hit = node_from_resource(
        {
            "segment_id": "s1",
            "content": "Dify is an LLM app platform.",
            "score": 0.87,
            "document_name": "dify.txt",
            "document_id": "d1",
            "dataset_id": "ds",
            "position": 1,
            "hit_count": None,
        }
    )
    assert hit.node.node_id == "s1"
    assert hit.node.get_content() == "Dify is an LLM app platform."
    assert hit.score == pytest.approx(0.87)
    assert hit.node.metadata == {
        "position": 1,
        "dataset_id": "ds",
        "document_id": "d1",
        "document_name": "dify.txt",
    }
    shown = hit.node.get_content(metadata_mode=MetadataMode.LLM)
    assert "dify.txt" in shown
    assert "d1" not in shown


def test_node_from_record() -> None:
    record = RetrieveRecord.model_validate(
        {
            "segment": {
                "id": "s2",
                "content": "What is Dify?",
                "answer": "A platform.",
                "position": 3,
                "document_id": "d2",
                "document": {"id": "d2", "name": "faq.txt", "data_source_type": "upload_file"},
            },
            "score": 0.5,
        }
    )
    hit = node_from_record(record, "ds")
    assert hit.node.node_id == "s2"
    assert hit.node.get_content() == "question: What is Dify?\nanswer: A platform."
    assert hit.score == 0.5
    assert hit.node.metadata["document_name"] == "faq.txt"
    assert hit.node.metadata["dataset_id"] == "ds"
