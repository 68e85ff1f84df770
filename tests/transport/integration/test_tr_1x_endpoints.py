"""Dify 1.x app endpoints against the emulator's newest wire (sync and async)."""

from __future__ import annotations

import time
import uuid

import pytest

from dify_emulator import FAULT_HEADER, Emulator
from dify_transport import (
    AsyncDifyClient,
    DifyClient,
    EndUserNotFoundError,
    FileAccessDeniedError,
    HumanInputFormExpiredError,
    HumanInputFormSubmittedError,
    NotFoundError,
    PreconditionFailedError,
)


def _user() -> str:
    return f"x1-{uuid.uuid4().hex[:8]}"


def _client(emu: Emulator, app: str) -> DifyClient:
    return DifyClient(api_key=getattr(emu.keys, app), base_url=emu.base_url)


def test_conversation_variables_list_and_update(emulator: Emulator) -> None:
    user = _user()
    with _client(emulator, "chatflow") as client:
        cid = client.chat("Hello", user=user).conversation_id
        assert cid
        page = client.get_conversation_variables(cid, user=user)
        names = {v.name: v for v in page.data}
        assert {"user_name", "turn_count", "last_question"} <= set(names)
        updated = client.update_conversation_variable(
            cid, names["user_name"].id, user=user, value="Ada"
        )
        assert updated.value == "Ada"
        only = client.get_conversation_variables(cid, user=user, variable_name="user_name")
        assert [v.value for v in only.data] == ["Ada"]
        assert "Ada" in client.chat("Hi again", user=user, conversation_id=cid).answer


def test_end_user_and_file_preview(emulator: Emulator) -> None:
    user = _user()
    with _client(emulator, "chat") as client:
        uploaded = client.upload_file(b"hello preview", user=user, filename="p.txt")
        assert client.get_file_preview(uploaded.id, user=user) == b"hello preview"
        assert uploaded.created_by
        assert client.get_end_user(uploaded.created_by).session_id == user
        with pytest.raises(EndUserNotFoundError):
            client.get_end_user(str(uuid.uuid4()))
    with _client(emulator, "completion") as other, pytest.raises(FileAccessDeniedError):
        other.get_file_preview(uploaded.id)


def test_feedbacks_are_listed(emulator: Emulator) -> None:
    user = _user()
    with _client(emulator, "chat") as client:
        mid = client.chat("Rate me", user=user).message_id
        assert mid
        client.send_feedback(mid, user=user, rating="like", content="good")
        listed = [f for f in client.get_app_feedbacks(limit=100).data if f.message_id == mid]
        assert [(f.rating, f.content) for f in listed] == [("like", "good")]


def test_annotations_crud_and_reply_job(emulator: Emulator) -> None:
    with _client(emulator, "chat") as client:
        made = client.create_annotation("What is X?", "X is Y.")
        assert (made.question, made.answer) == ("What is X?", "X is Y.")
        assert made.id in {a.id for a in client.list_annotations(limit=100).data}
        changed = client.update_annotation(made.id, question="What is X?", answer="X is Z.")
        assert changed.answer == "X is Z."
        client.delete_annotation(made.id)
        assert made.id not in {a.id for a in client.list_annotations(limit=100).data}
        job = client.set_annotation_reply(
            "enable", embedding_provider_name="p", embedding_model_name="m", score_threshold=0.9
        )
        status = client.get_annotation_reply_status("enable", job.job_id)
        assert status.job_status == "completed"


def _paused(stream_events: list) -> dict:
    forms = [e.data["data"] for e in stream_events if e.event == "human_input_required"]
    assert forms, [e.event for e in stream_events]
    assert stream_events[-1].event == "workflow_paused"
    return forms[0]


def test_human_input_form_resume_through_events(emulator: Emulator) -> None:
    user = _user()
    with _client(emulator, "review_workflow") as client:
        with client.stream_workflow(user=user, inputs={"text": "Ship it?"}) as stream:
            events = list(stream)
        form = _paused(events)
        run_id = stream.workflow_run_id
        assert run_id
        shown = client.get_human_input_form(form["form_token"])
        actions = [a["id"] for a in shown.user_actions]
        assert "approve" in actions
        client.submit_human_input_form(
            form["form_token"], user=user, action="approve", inputs={"priority": "high"}
        )
        with client.stream_workflow_events(run_id, user=user) as rest:
            result = rest.final()
        assert result.status == "succeeded"
        assert result.outputs
        with pytest.raises(HumanInputFormSubmittedError) as info:
            client.submit_human_input_form(
                form["form_token"], user=user, action="approve", inputs={"priority": "high"}
            )
        assert isinstance(info.value, PreconditionFailedError)


async def test_async_human_input_resume(emulator: Emulator) -> None:
    user = _user()
    key = emulator.keys.review_workflow
    async with AsyncDifyClient(api_key=key, base_url=emulator.base_url) as client:
        stream = await client.stream_workflow(user=user, inputs={"text": "Ship it?"})
        async with stream:
            events = [e async for e in stream]
        form = _paused(events)
        await client.submit_human_input_form(
            form["form_token"], user=user, action="approve", inputs={"priority": "high"}
        )
        rest = await client.stream_workflow_events(stream.workflow_run_id or "", user=user)
        async with rest:
            result = await rest.final()
        assert result.status == "succeeded"


def test_1x_routes_on_an_older_dify_name_the_version(emulator_015: Emulator) -> None:
    with _client(emulator_015, "chat") as client:
        with pytest.raises(NotFoundError, match=r"needs Dify 1\.x or newer"):
            client.list_annotations()
        with pytest.raises(NotFoundError, match=r"needs Dify 1\.14 or newer"):
            client.get_human_input_form("token")
        with pytest.raises(NotFoundError) as info:  # a route every Dify has: unchanged
            client.get_messages(str(uuid.uuid4()), user="u")
        assert "needs Dify" not in str(info.value)


@pytest.mark.parametrize("app", ["reasoning", "think"])
def test_reasoning_never_in_the_answer(emulator: Emulator, app: str) -> None:
    user = _user()
    with _client(emulator, app) as client:
        with client.stream_chat("Why is the sky blue?", user=user) as stream:
            events = list(stream)
        result = stream.final()
        streamed = "".join(e.text or "" for e in events)
        assert result.reasoning
        assert result.reasoning not in result.answer
        assert "<think>" not in result.answer
        assert streamed == result.answer
        assert "".join(e.reasoning or "" for e in events) == result.reasoning
        blocking = client.chat("Why is the sky blue?", user=user)
        assert "<think>" not in blocking.answer
        if app == "think":  # inline reasoning is split off blocking answers too
            assert blocking.reasoning == result.reasoning


def test_paused_result_streamed_and_blocking(emulator: Emulator) -> None:
    user = _user()
    with _client(emulator, "review_workflow") as client:
        blocking = client.run_workflow(user=user, inputs={"text": "Ship it?"})
        assert (blocking.status, blocking.finish_reason) == ("paused", "paused")
        assert blocking.paused is not None
        assert blocking.paused.forms
        with client.stream_workflow(user=user, inputs={"text": "Ship it?"}) as stream:
            result = stream.final()
        assert result.paused is not None
        assert result.paused.user == user
        (form,) = result.paused.forms.values()
        assert form.form_token
        assert [a["id"] for a in form.actions][:1] == ["approve"]
        client.submit_human_input_form(
            form.form_token, user=user, action="approve", inputs={"priority": "high"}
        )
        with client.stream_workflow_events(result.paused.workflow_run_id or "", user=user) as rest:
            done = rest.final()
        assert done.status == "succeeded"
        run = client.get_workflow_run(result.paused.workflow_run_id or "")
        assert run.status == "succeeded"
        assert done.outputs == run.outputs


def test_expired_form_is_a_named_error(emulator: Emulator) -> None:
    user = _user()
    headers = {FAULT_HEADER: f"form_ttl=0.2; nonce={uuid.uuid4().hex}"}
    with _client(emulator, "review_workflow") as client:
        with client.stream_workflow(
            user=user, inputs={"text": "Ship it?"}, extra_headers=headers
        ) as stream:
            paused = stream.final().paused
        assert paused is not None
        (form,) = paused.forms.values()
        time.sleep(0.5)
        with pytest.raises(HumanInputFormExpiredError):
            client.submit_human_input_form(
                form.form_token or "", user=user, action="approve", inputs={"priority": "high"}
            )


def test_answer_form_follows_the_same_run(emulator: Emulator) -> None:
    user = _user()
    with _client(emulator, "review_workflow") as client:
        paused = client.run_workflow(user=user, inputs={"text": "Ship it?"}).paused
        assert paused is not None  # a blocking pause names no user: pass the run's
        done = client.answer_form(paused, action="approve", inputs={"priority": "high"}, user=user)
        assert (done.status, done.paused) == ("succeeded", None)
        assert done.workflow_run_id == paused.workflow_run_id
        with pytest.raises(HumanInputFormSubmittedError):  # the form worked once
            client.answer_form(paused, action="approve", inputs={"priority": "high"}, user=user)


async def test_async_answer_form(emulator: Emulator) -> None:
    user = _user()
    key = emulator.keys.review_workflow
    async with AsyncDifyClient(api_key=key, base_url=emulator.base_url) as client:
        stream = await client.stream_workflow(user=user, inputs={"text": "Ship it?"})
        async with stream:
            paused = (await stream.final()).paused
        assert paused is not None
        done = await client.answer_form(paused, action="approve", inputs={"priority": "high"})
        assert done.status == "succeeded"
        assert done.outputs == (await client.get_workflow_run(paused.workflow_run_id or "")).outputs
