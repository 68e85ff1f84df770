"""Human input (1.x, docs 1.14+): runs that pause at a form, the form and events endpoints.

Stream of a pausing run: ``workflow_started`` (``reason: "initial"``), start and LLM nodes
with their text, ``node_started`` of the Human Input node, ``human_input_required``,
``workflow_paused``, end of stream. ``POST /form/human_input/{form_token}`` resumes the run
server-side; ``GET /workflow/{workflow_run_id}/events`` streams the rest:
``human_input_form_filled`` (or ``human_input_form_timeout``), the remaining nodes (chatflow:
more ``message`` text, ``message_end``) and ``workflow_finished``.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Generator
from typing import Any, Final

from dify_emulator._context import MODE_MESSAGE, Ctx, Events, Route, not_found
from dify_emulator._faults import EventItem
from dify_emulator._generate import Gen, make_plan, metadata, usage
from dify_emulator._http import Response
from dify_emulator._wire import ApiError, ParamError
from dify_emulator._workflow import Node, Run

__all__ = ["ROUTES", "review_events"]

FORM_TTL: Final = 3 * 24 * 3600.0
_NODES: Final = (("1760000000001", "start", "Start"), ("1760000000002", "llm", "Draft"),
                 ("1760000000003", "human-input", "Review"))  # fmt: skip
_WF_END: Final = ("1760000000004", "end", "End")
_CF_ANSWER: Final = ("1760000000004", "answer", "Answer")
_OPTIONS: Final = ["low", "normal", "high"]
_ACTIONS: Final = [{"id": "approve", "title": "Approve", "button_style": "primary"},
                   {"id": "reject", "title": "Reject", "button_style": "default"}]  # fmt: skip


def _form(draft: str) -> dict[str, Any]:
    content = f"Please review the draft answer:\n\n> {draft}\n\n{{{{#$output.comment#}}}}"
    return {
        "form_content": content,
        "inputs": [
            {
                "type": "paragraph",
                "output_variable_name": "comment",
                "default": {"type": "constant", "selector": [], "value": "Looks good."},
            },
            {
                "type": "select",
                "output_variable_name": "priority",
                "option_source": {"type": "constant", "selector": [], "value": _OPTIONS},
            },
        ],
        "resolved_default_values": {"comment": "Looks good."},
        "actions": _ACTIONS,
    }


def _event_inputs(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """The stream's view of the inputs: no options, ``default`` null when absent."""
    return [{"type": i["type"], "output_variable_name": i["output_variable_name"],
             "default": i.get("default")} for i in definition["inputs"]]  # fmt: skip


def review_events(g: Gen, ctx: Ctx) -> Generator[EventItem, None, None]:
    """A run of a review app up to its pause (the rest is parked in the run hub)."""
    chat = g.spec.mode == "advanced-chat"
    t0 = time.perf_counter()
    plan = make_plan(g, use_retrieval=False)
    text_in = str(g.inputs.get("text", "")) if not chat else g.query
    run = Run(g, {} if chat else {"text": text_in})
    tid, mid, wire = g.task.task_id, g.message_id, g.wire
    env: dict[str, Any] = ({"event": "", "conversation_id": g.conversation_id, "message_id": mid,
                            "created_at": g.created_at} if chat else {"event": ""})  # fmt: skip
    wenv = {**env, "task_id": tid, "workflow_run_id": run.id}
    hub, store = ctx.core.runs, ctx.store
    ttl = g.opts.form_ttl if g.opts.form_ttl is not None else FORM_TTL
    words: list[str] = []

    def delta(w: str) -> dict[str, Any]:
        if chat:
            return {**env, "event": "message", "task_id": tid, "id": mid, "answer": w,
                    "from_variable_selector": [_NODES[1][0], "text"]}  # fmt: skip
        return {**wenv, "event": "text_chunk",
                "data": {"text": w, "from_variable_selector": [_NODES[1][0], "text"]}}  # fmt: skip

    try:
        yield {**wenv, "event": "workflow_started", "data": run.started()}
        start = Node(wire, 1, _NODES[0], None)
        yield {**wenv, "event": "node_started", "data": start.started()}
        yield {**wenv, "event": "node_finished", "data": start.finished(run.inputs, run.inputs)}
        llm = Node(wire, 2, _NODES[1], start.node_id)
        yield {**wenv, "event": "node_started", "data": llm.started()}
        for w in plan.words:
            words.append(w)
            yield delta(w)
        draft = "".join(words)
        use = usage(wire, plan.prompt_tokens, len(words), time.perf_counter() - t0, None)
        yield {**wenv, "event": "node_finished", "data": llm.finished(
            None, {"text": draft, "usage": use, "finish_reason": "stop"})}  # fmt: skip
        node = Node(wire, 3, _NODES[2], llm.node_id)
        yield {**wenv, "event": "node_started", "data": node.started()}
        token, form_id = secrets.token_urlsafe(16), str(uuid.uuid4())
        definition = _form(draft)
        expires = time.time() + ttl
        store.add_form(token, form_id, run.id, g.spec.name, definition, expires)
        form = {"form_id": form_id, "node_id": node.node_id, "node_title": node.title,
                "form_content": definition["form_content"],
                "inputs": _event_inputs(definition), "actions": definition["actions"],
                "display_in_ui": True, "form_token": token,
                "resolved_default_values": definition["resolved_default_values"],
                "expiration_time": int(expires)}  # fmt: skip
        yield {**wenv, "event": "human_input_required", "data": form}
        tokens = use["total_tokens"]
        run.save(status="paused", outputs={}, error=None, tokens=tokens, steps=3,
                 elapsed=time.perf_counter() - run.t0)  # fmt: skip
        if chat:
            store.finish_message(mid, answer=draft, resources=[], thoughts=[])
        hub.park(run.id, lambda action, data, timed_out: _rest(
            g, run, node, env, wenv, draft, use, action, data, timed_out=timed_out))  # fmt: skip
        yield {**wenv, "event": "workflow_paused", "data": {
            "workflow_run_id": run.id, "paused_nodes": [node.node_id], "outputs": {},
            "reasons": [{"TYPE": "human_input_required", **form}], "status": "paused",
            "created_at": int(run.created), "elapsed_time": time.perf_counter() - run.t0,
            "total_tokens": tokens, "total_steps": 3}}  # fmt: skip
    finally:
        g.store.end_task(g.task)


def _rest(g: Gen, run: Run, node: Node, env: dict[str, Any], wenv: dict[str, Any],  # noqa: PLR0917
          draft: str, use: dict[str, Any], action: str, data: dict[str, Any],
          *, timed_out: bool) -> Generator[EventItem, None, None]:  # fmt: skip
    """The resumed segment of a review run."""
    wire, chat = g.wire, g.spec.mode == "advanced-chat"
    title = next((a["title"] for a in _ACTIONS if a["id"] == action), "Timeout")
    comment = str(data.get("comment") or "")
    rendered = f"Please review the draft answer:\n\n> {draft}\n\n{comment}"
    if timed_out:
        yield {**wenv, "event": "human_input_form_timeout", "data": {
            "node_id": node.node_id, "node_title": node.title,
            "expiration_time": int(time.time())}}  # fmt: skip
    else:
        yield {**wenv, "event": "human_input_form_filled", "data": {
            "node_id": node.node_id, "node_title": node.title, "rendered_content": rendered,
            "action_id": action, "action_text": title, "submitted_data": data}}  # fmt: skip
    outs = {**data, "__action_id": action, "__action_value": title,
            "__rendered_content": rendered}  # fmt: skip
    yield {**wenv, "event": "node_finished", "data": node.finished(None, outs)}
    verdict = "timed out" if timed_out else f"{title.lower()}d" if action else ""
    note = f" (Review {verdict}{': ' + comment if comment else ''}.)"
    tokens = use["total_tokens"]
    if chat:
        ans = Node(wire, 4, _CF_ANSWER, node.node_id)
        mid = g.message_id
        yield {**wenv, "event": "node_started", "data": ans.started()}
        for w in note.split(" ")[1:]:
            yield {**env, "event": "message", "task_id": g.task.task_id, "id": mid,
                   "answer": " " + w,
                   "from_variable_selector": [ans.node_id, "answer"]}  # fmt: skip
        text = draft + note
        yield {**wenv, "event": "node_finished",
               "data": ans.finished(None, {"answer": text, "files": []})}  # fmt: skip
        g.store.finish_message(mid, answer=text, resources=[], thoughts=[])
        yield {**env, "event": "message_end", "task_id": g.task.task_id, "id": mid,
               "metadata": metadata(wire, [], use, citation=False), "files": []}  # fmt: skip
        outputs: dict[str, Any] = {"answer": text}
    else:
        end = Node(wire, 4, _WF_END, node.node_id)
        outputs = {"result": draft, "decision": action or "timeout", "comment": comment,
                   "priority": data.get("priority")}  # fmt: skip
        yield {**wenv, "event": "node_started", "data": end.started()}
        yield {**wenv, "event": "node_finished", "data": end.finished(outputs, outputs)}
    yield {**wenv, "event": "workflow_finished",
           "data": run.finished("succeeded", outputs, None, tokens, 4)}  # fmt: skip


# -- endpoints -----------------------------------------------------------------------------
def _live_form(ctx: Ctx) -> dict[str, Any]:
    form = ctx.store.form(ctx.params["form_token"])
    if form is None or form["app"] != ctx.app.name:
        raise not_found("Form not found")
    if form["status"] == "waiting" and time.time() >= form["expires"]:
        if ctx.store.settle_form(form["token"], "timeout", None, None):
            ctx.core.runs.resume(form["run_id"], "", {}, timed_out=True, delay=ctx.core.delay)
        form["status"] = "timeout"
    if form["status"] == "submitted":
        raise ApiError(412, "human_input_form_submitted", "This form has already been "
                       f"submitted by another user, form_id={form['form_id']}")  # fmt: skip
    if form["status"] == "timeout":
        raise ApiError(412, "human_input_form_expired",
                       f"This form has expired, form_id={form['form_id']}")  # fmt: skip
    return form


def get_form(ctx: Ctx) -> Response:
    """``GET /form/human_input/{form_token}``."""
    form = _live_form(ctx)
    d = form["definition"]
    return ctx.wire.json({"form_content": d["form_content"], "inputs": d["inputs"],
                          "resolved_default_values": d["resolved_default_values"],
                          "user_actions": d["actions"],
                          "expiration_time": int(form["expires"])})  # fmt: skip


def submit_form(ctx: Ctx) -> Response:
    """``POST /form/human_input/{form_token}``: ``{inputs, action, user}`` -> ``{}``."""
    body = ctx.json()
    for name in ("inputs", "action", "user"):
        if body.get(name) is None:
            raise ctx.missing(name)
    inputs, action = body["inputs"], body["action"]
    if not isinstance(inputs, dict):
        raise ParamError("inputs", "Input should be a valid dictionary")
    form = _live_form(ctx)
    if action not in [a["id"] for a in form["definition"]["actions"]]:
        raise ApiError(400, "invalid_form_data", f"Invalid action: {action}")
    if inputs.get("priority") in (None, ""):
        raise ApiError(400, "invalid_form_data", "Missing required inputs: priority")
    if inputs["priority"] not in _OPTIONS:
        raise ApiError(
            400, "invalid_form_data", f"Invalid value for priority: {inputs['priority']}"
        )
    data = {"comment": str(inputs.get("comment") or ""), "priority": inputs["priority"]}
    if not ctx.store.settle_form(form["token"], "submitted", str(action), data):
        raise ApiError(412, "human_input_form_submitted", "This form has already been "
                       f"submitted by another user, form_id={form['form_id']}")  # fmt: skip
    ctx.core.runs.resume(form["run_id"], str(action), data, timed_out=False, delay=ctx.core.delay)
    return ctx.wire.json({})


def run_events(ctx: Ctx) -> Response | Events:
    """``GET /workflow/{workflow_run_id}/events?user=`` (workflow and chatflow apps)."""
    if ctx.app.mode not in ("workflow", "advanced-chat"):
        raise ApiError(400, "not_workflow_app", MODE_MESSAGE)
    user = ctx.query_user(required=True)
    run_id = ctx.params["workflow_run_id"]
    run = ctx.store.run(run_id)
    ch = ctx.core.runs.channel(run_id)
    if run is None or ch is None or run["app"] != ctx.app.name or run["session_id"] != user:
        raise not_found("Workflow run not found")
    waiting = ctx.store.form_of_run(run_id)
    if (
        waiting is not None
        and time.time() >= waiting["expires"]
        and ctx.store.settle_form(waiting["token"], "timeout", None, None)
    ):
        ctx.core.runs.resume(run_id, "", {}, timed_out=True, delay=ctx.core.delay)
    return Events(ch.follow(snapshot=bool(ctx.faults and ctx.faults.replay)), own_errors=True)


ROUTES: Final = [
    Route("GET", "/form/human_input/{form_token}", get_form, wire="1.x"),
    Route("POST", "/form/human_input/{form_token}", submit_form, wire="1.x"),
    Route("GET", "/workflow/{workflow_run_id}/events", run_events, wire="1.x"),
]
