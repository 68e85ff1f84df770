"""``build_turn``: the message list → one Dify turn, as README.md's Conversations says."""

from __future__ import annotations

import base64

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from langchain_dify import DifyInputError
from langchain_dify._messages import StopScanner, build_turn, find_conversation


def dify_ai(text: str, conversation_id: str) -> AIMessage:
    return AIMessage(text, response_metadata={"conversation_id": conversation_id})


def test_single_human_message_is_the_query() -> None:
    turn = build_turn([HumanMessage("hello")])
    assert turn.query == "hello"
    assert turn.conversation_id is None
    assert turn.files == []
    assert turn.uploads == []


def test_continues_newest_dify_answer_and_sends_only_later_turns() -> None:
    messages = [
        HumanMessage("a"),
        dify_ai("old", "c1"),
        HumanMessage("b"),
        dify_ai("newer", "c2"),
        HumanMessage("c"),
    ]
    turn = build_turn(messages)
    assert turn.conversation_id == "c2"
    assert turn.query == "c"


def test_explicit_conversation_wins_and_finds_its_own_boundary() -> None:
    messages = [HumanMessage("a"), dify_ai("x", "c1"), HumanMessage("b"), dify_ai("y", "c2")]
    messages.append(HumanMessage("z"))
    turn = build_turn(messages, conversation_id="c1")
    assert turn.conversation_id == "c1"
    # Everything after c1's answer is new to c1: carried as a transcript.
    assert turn.query == "Human: b\nAI: y\nHuman: z"


def test_explicit_conversation_without_boundary_sends_plain_human_turns() -> None:
    turn = build_turn([HumanMessage("only")], conversation_id="c9")
    assert (turn.conversation_id, turn.query) == ("c9", "only")


def test_no_conversation_carries_earlier_turns_as_transcript() -> None:
    messages = [
        SystemMessage("be brief"),
        HumanMessage("hi"),
        AIMessage("hello"),
        HumanMessage("how are you?"),
    ]
    turn = build_turn(messages)
    assert turn.conversation_id is None
    assert turn.query == "System: be brief\nHuman: hi\nAI: hello\nHuman: how are you?"


def test_double_human_messages_are_joined() -> None:
    turn = build_turn([HumanMessage("one"), HumanMessage("two")])
    assert turn.query == "one\n\ntwo"


def test_system_input_moves_system_text_to_inputs() -> None:
    messages = [SystemMessage("be brief"), HumanMessage("hi")]
    turn = build_turn(messages, system_input="instructions", inputs={"lang": "en"})
    assert turn.query == "hi"
    assert turn.inputs == {"lang": "en", "instructions": "be brief"}


def test_system_input_continuing_carries_the_system_messages_in_the_transcript() -> None:
    # Dify ignores ``inputs`` for an existing conversation and stores no system
    # messages: every system message in the list travels in the query.
    messages = [
        SystemMessage("Bob"),
        HumanMessage("Hi"),
        dify_ai("Hello", "c1"),
        SystemMessage("Answer in French"),
        HumanMessage("Next"),
    ]
    turn = build_turn(messages, system_input="name", inputs={"lang": "en"})
    assert turn.conversation_id == "c1"
    assert turn.query == "System: Bob\nSystem: Answer in French\nHuman: Next"
    assert turn.inputs == {"lang": "en"}


def test_system_input_continuing_resends_an_earlier_system_message() -> None:
    # The system text reached the input variable on the first turn only; a prompt's
    # system message may change every turn, so it travels in the query.
    messages = [SystemMessage("Bob"), HumanMessage("Hi"), dify_ai("Hello", "c1")]
    turn = build_turn([*messages, HumanMessage("Next")], system_input="name")
    assert (turn.query, turn.inputs) == ("System: Bob\nHuman: Next", {})


def test_continuing_carries_a_system_message_placed_before_the_history() -> None:
    # ``[("system", "context: {context}"), MessagesPlaceholder("history"), ("human", ...)]``
    messages = [
        SystemMessage("context: v2"),
        HumanMessage("a"),
        dify_ai("b", "c1"),
        HumanMessage("c"),
        dify_ai("d", "c1"),
        HumanMessage("e"),
    ]
    turn = build_turn(messages)
    assert turn.conversation_id == "c1"
    assert turn.query == "System: context: v2\nHuman: e"


def test_continuing_keeps_system_messages_in_order_before_the_new_turns() -> None:
    messages = [
        SystemMessage("one"),
        HumanMessage("a"),
        SystemMessage("two"),
        dify_ai("b", "c1"),
        SystemMessage("three"),
        HumanMessage("c"),
    ]
    assert build_turn(messages).query == "System: one\nSystem: two\nSystem: three\nHuman: c"


def test_continuing_without_system_messages_sends_only_the_new_human_text() -> None:
    messages = [HumanMessage("a"), dify_ai("b", "c1"), HumanMessage("b?")]
    assert build_turn(messages).query == "b?"


def test_prior_turns_drop_opts_out_of_system_messages_when_continuing() -> None:
    messages = [
        SystemMessage("context: v2"),
        HumanMessage("a"),
        dify_ai("b", "c1"),
        SystemMessage("late"),
        HumanMessage("c"),
    ]
    for system_input in (None, "name"):
        turn = build_turn(messages, prior_turns="drop", system_input=system_input)
        assert (turn.conversation_id, turn.query, turn.inputs) == ("c1", "c", {})


def test_system_input_with_an_explicit_conversation_goes_in_the_transcript() -> None:
    messages = [SystemMessage("be brief"), HumanMessage("hi")]
    turn = build_turn(messages, conversation_id="c9", system_input="name")
    assert turn.conversation_id == "c9"
    assert turn.query == "System: be brief\nHuman: hi"
    assert turn.inputs == {}


def test_prior_turns_drop_is_an_explicit_policy() -> None:
    messages = [HumanMessage("hi"), AIMessage("hello"), HumanMessage("next")]
    turn = build_turn(messages, prior_turns="drop")
    assert turn.query == "next"


def test_nothing_new_to_send_is_a_named_error() -> None:
    with pytest.raises(DifyInputError, match="No new human message"):
        build_turn([HumanMessage("a"), dify_ai("b", "c1")])


def test_find_conversation_without_any() -> None:
    assert find_conversation([HumanMessage("a"), AIMessage("b")]) == (None, -1)


def test_image_blocks_become_dify_files() -> None:
    png = base64.b64encode(b"\x89PNG-bytes").decode()
    message = HumanMessage(
        content=[
            {"type": "text", "text": "describe"},
            {"type": "image", "url": "https://example.com/cat.png"},
            {"type": "image", "base64": png, "mime_type": "image/png"},
            {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{png}"}},
            {"type": "image_url", "image_url": "https://example.com/dog.jpg"},
            {"type": "image", "file_id": "upload-1"},
            {"type": "file", "base64": png, "mime_type": "application/pdf"},
        ]
    )
    turn = build_turn([message])
    assert turn.query == "describe"
    assert turn.files == [
        {"type": "image", "transfer_method": "remote_url", "url": "https://example.com/cat.png"},
        {"type": "image", "transfer_method": "remote_url", "url": "https://example.com/dog.jpg"},
        {"type": "image", "transfer_method": "local_file", "upload_file_id": "upload-1"},
    ]
    assert [(u.file_type, u.mime_type, u.data) for u in turn.uploads] == [
        ("image", "image/png", b"\x89PNG-bytes"),
        ("image", "image/jpeg", b"\x89PNG-bytes"),
        ("document", "application/pdf", b"\x89PNG-bytes"),
    ]
    assert turn.uploads[0].filename.endswith(".png")
    assert turn.uploads[0].as_file_input("f1") == {
        "type": "image",
        "transfer_method": "local_file",
        "upload_file_id": "f1",
    }


def test_files_of_already_sent_turns_are_not_resent() -> None:
    old = HumanMessage(content=[{"type": "text", "text": "a"}, {"type": "image", "url": "u"}])
    turn = build_turn([old, dify_ai("b", "c1"), HumanMessage("c")])
    assert turn.files == []


def test_unknown_block_type_is_refused_not_dropped() -> None:
    message = HumanMessage(content=[{"type": "text", "text": "x"}, {"type": "mystery"}])
    with pytest.raises(DifyInputError, match="mystery"):
        build_turn([message])


@pytest.mark.parametrize(
    ("pieces", "stops", "expected"),
    [
        (["Hello ", "wor", "ld"], ["world"], "Hello "),
        (["Hello ", "wo", "rk"], ["world"], "Hello work"),
        (["abc"], ["zz"], "abc"),
        (["stop here"], ["stop"], ""),
        (["a", "b", "c"], ["bc", "c"], "a"),
    ],
)
def test_stop_scanner(pieces: list[str], stops: list[str], expected: str) -> None:
    scanner = StopScanner(stops)
    out = ""
    for piece in pieces:
        out += scanner.feed(piece)
        if scanner.hit:
            break
    else:
        out += scanner.flush()
    assert out == expected
