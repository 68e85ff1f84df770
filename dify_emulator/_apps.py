"""The emulator's apps: keys, modes, input forms and the static /parameters, /info bodies."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "APPS",
    "APPS_BY_KEY",
    "DATASET_KEY",
    "InputField",
    "AppSpec",
    "Keys",
    "KEYS",
    "app_parameters",
    "app_info",
    "app_site",
    "app_meta",
]

_NS: Final = uuid.UUID("6c1f3a52-9d0e-4b7a-8f21-5e4d3c2b1a00")


def stable_id(name: str) -> str:
    """A deterministic UUID for a fixed emulator object."""
    return str(uuid.uuid5(_NS, name))


@dataclass(frozen=True, slots=True)
class InputField:
    """One variable of an app's input form."""

    kind: str  # "text-input" | "paragraph" | "number" | "select"
    variable: str
    label: str
    required: bool
    max_length: int | None = None
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AppSpec:
    """One emulated app."""

    name: str
    key: str
    mode: str
    title: str
    description: str
    inputs: tuple[InputField, ...] = ()
    opening_statement: str | None = None
    suggested_questions: tuple[str, ...] = ()
    suggested_after_answer: bool = False
    citation: bool = False
    tts: bool = False
    stt: bool = False
    app_id: str = field(default="")
    workflow_id: str | None = None
    wire: str | None = None  # only served on this wire generation
    human_input: bool = False  # pauses at a Human Input node
    reasoning: str | None = None  # "separated" (reasoning_chunk) or "tags" (<think> answer)
    variables: bool = False  # has conversation variables

    @property
    def chat_family(self) -> bool:
        """Whether the app takes ``/chat-messages`` (chat, agent-chat, advanced-chat)."""
        return self.mode in ("chat", "agent-chat", "advanced-chat")


@dataclass(frozen=True, slots=True)
class Keys:
    """The fixed API keys of the emulator's apps and knowledge base."""

    chat: str = "app-emulator-chat"
    chatflow: str = "app-emulator-chatflow"
    agent: str = "app-emulator-agent"
    completion: str = "app-emulator-completion"
    workflow: str = "app-emulator-workflow"
    dataset: str = "dataset-emulator"
    review_workflow: str = "app-emulator-review-workflow"
    review_chatflow: str = "app-emulator-review-chatflow"
    reasoning: str = "app-emulator-reasoning"
    think: str = "app-emulator-think"


KEYS: Final = Keys()
DATASET_KEY: Final = KEYS.dataset


def _app(name: str, mode: str, **kw: Any) -> AppSpec:
    wf = stable_id(f"workflow:{name}") if mode in ("advanced-chat", "workflow") else None
    return AppSpec(
        name=name,
        key=getattr(KEYS, name),
        mode=mode,
        app_id=stable_id(f"app:{name}"),
        workflow_id=wf,
        **kw,
    )


APPS: Final[dict[str, AppSpec]] = {
    "chat": _app(
        "chat",
        "chat",
        title="emulator-chat",
        description="chat app with a knowledge base (Dify emulator)",
        inputs=(InputField("text-input", "name", "Name", required=False, max_length=48),),
        opening_statement="Hello, I am the emulator chat app.",
        suggested_questions=("What is Dify?", "What colour is the sky?"),
        suggested_after_answer=True,
        citation=True,
        tts=True,
        stt=True,
    ),
    "chatflow": _app(
        "chatflow",
        "advanced-chat",
        title="emulator-chatflow",
        description="chatflow: start -> llm -> answer (Dify emulator)",
        opening_statement="Hi from the chatflow.",
        suggested_questions=("What can you do?",),
        suggested_after_answer=True,
        variables=True,
    ),
    "agent": _app(
        "agent",
        "agent-chat",
        title="emulator-agent",
        description="agent with the current_time tool (Dify emulator)",
        opening_statement="",
        suggested_after_answer=True,
    ),
    "completion": _app(
        "completion",
        "completion",
        title="emulator-completion",
        description="completion app: Answer briefly (Dify emulator)",
        inputs=(
            InputField("paragraph", "query", "Query", required=True, max_length=20000),
            InputField(
                "select",
                "language",
                "Answer language",
                required=False,
                options=("English", "French", "German"),
            ),
            InputField("number", "max_words", "Maximum words", required=False),
            InputField("text-input", "audience", "Audience", required=False, max_length=48),
        ),
    ),
    "workflow": _app(
        "workflow",
        "workflow",
        title="emulator-workflow",
        description="workflow: start(text) -> llm -> end(result) (Dify emulator)",
        inputs=(
            InputField("text-input", "text", "text", required=True, max_length=256),
            InputField("number", "count", "count", required=False),
            InputField(
                "select",
                "style",
                "Answer style",
                required=False,
                options=("plain", "bullet points", "formal"),
            ),
            InputField(
                "paragraph", "notes", "Notes for the model", required=False, max_length=2000
            ),
        ),
    ),
    # 1.x only: the newest documented features.
    "review_workflow": _app(
        "review_workflow",
        "workflow",
        title="emulator-review-workflow",
        description="workflow: start(text) -> llm -> human input (review) -> end (Dify emulator)",
        inputs=(InputField("text-input", "text", "text", required=True, max_length=256),),
        wire="1.x",
        human_input=True,
    ),
    "review_chatflow": _app(
        "review_chatflow",
        "advanced-chat",
        title="emulator-review-chatflow",
        description="chatflow: start -> llm -> human input (review) -> answer (Dify emulator)",
        opening_statement="Every answer is reviewed by a human before it is final.",
        wire="1.x",
        human_input=True,
    ),
    "reasoning": _app(
        "reasoning",
        "advanced-chat",
        title="emulator-reasoning",
        description="chatflow with a reasoning LLM, reasoning separated (Dify emulator)",
        wire="1.x",
        reasoning="separated",
    ),
    "think": _app(
        "think",
        "chat",
        title="emulator-think",
        description="chat app on a reasoning model that thinks inline (Dify emulator)",
        wire="1.x",
        reasoning="tags",
    ),
}
APPS_BY_KEY: Final = {spec.key: spec for spec in APPS.values()}

_SYSTEM_PARAMETERS: Final = {
    "image_file_size_limit": 10,
    "video_file_size_limit": 100,
    "audio_file_size_limit": 50,
    "file_size_limit": 15,
    "workflow_file_upload_limit": 10,
}
_FILE_UPLOAD_EASY: Final = {
    "enabled": True,
    "allowed_file_types": ["image", "document"],
    "allowed_file_extensions": [".png", ".jpg", ".txt", ".md"],
    "allowed_file_upload_methods": ["local_file", "remote_url"],
    "number_limits": 3,
    "image": {
        "enabled": True,
        "number_limits": 3,
        "detail": "high",
        "transfer_methods": ["local_file", "remote_url"],
    },
}
_FILE_UPLOAD_WORKFLOW: Final = {
    "enabled": True,
    "allowed_file_types": ["image"],
    "allowed_file_extensions": [],
    "allowed_file_upload_methods": ["local_file", "remote_url"],
    "number_limits": 3,
}


def _form(spec: AppSpec) -> list[dict[str, Any]]:
    form: list[dict[str, Any]] = []
    workflowish = spec.mode in ("workflow", "advanced-chat")
    for f in spec.inputs:
        if workflowish:
            item: dict[str, Any] = {
                "variable": f.variable,
                "label": f.label,
                "type": f.kind,
                "required": f.required,
            }
            if f.max_length is not None:
                item["max_length"] = f.max_length
            item["options"] = list(f.options)
        else:
            item = {"label": f.label, "variable": f.variable, "required": f.required}
            if f.max_length is not None:
                item["max_length"] = f.max_length
            item["default"] = ""
            if f.kind == "select":
                item["options"] = list(f.options)
        form.append({f.kind: item})
    return form


def app_parameters(spec: AppSpec) -> dict[str, Any]:
    """The ``GET /parameters`` body."""
    workflowish = spec.mode in ("workflow", "advanced-chat")
    return {
        "opening_statement": spec.opening_statement,
        "suggested_questions": list(spec.suggested_questions),
        "suggested_questions_after_answer": {"enabled": spec.suggested_after_answer},
        "speech_to_text": {"enabled": spec.stt},
        "text_to_speech": (
            {"enabled": True, "voice": "alloy", "language": "en-US", "autoPlay": "disabled"}
            if spec.tts
            else {"enabled": False, "voice": "", "language": ""}
        ),
        "retriever_resource": {"enabled": spec.citation or spec.mode != "workflow"},
        "annotation_reply": {"enabled": False},
        "more_like_this": {"enabled": spec.mode == "completion"},
        "user_input_form": _form(spec),
        "sensitive_word_avoidance": (
            {"enabled": False} if workflowish else {"enabled": False, "type": "", "configs": []}
        ),
        "file_upload": copy.deepcopy(_FILE_UPLOAD_WORKFLOW if workflowish else _FILE_UPLOAD_EASY),
        "system_parameters": dict(_SYSTEM_PARAMETERS),
    }


def app_info(spec: AppSpec, *, v015: bool) -> dict[str, Any]:
    """The ``GET /info`` body."""
    info: dict[str, Any] = {"name": spec.title, "description": spec.description, "tags": []}
    if not v015:
        info["mode"] = spec.mode
        info["author_name"] = "Dify Emulator"
    return info


def app_meta(spec: AppSpec, base_url: str) -> dict[str, Any]:
    """The ``GET /meta`` body."""
    if spec.mode == "agent-chat":
        root = base_url.removesuffix("/v1")
        icon = f"{root}/console/api/workspaces/current/tool-provider/builtin/time/icon"
        return {"tool_icons": {"current_time": icon}}
    return {"tool_icons": {}}


def app_site(spec: AppSpec) -> dict[str, Any]:
    """The ``GET /site`` body (1.x only)."""
    return {
        "title": spec.title,
        "chat_color_theme": None,
        "chat_color_theme_inverted": False,
        "icon_type": "emoji",
        "icon": "🤖",
        "icon_background": "#FFEAD5",
        "icon_url": None,
        "description": spec.description,
        "copyright": None,
        "privacy_policy": None,
        "custom_disclaimer": "",
        "default_language": "en-US",
        "show_workflow_steps": True,
        "use_icon_as_answer_icon": False,
    }
