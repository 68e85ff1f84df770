"""Knowledge API metadata fields, built-in fields, document values, tags and model types.

Metadata routes exist on the 1.x wire only (Dify 1.1 added them). Wire oddities kept:
``GET /datasets/tags`` is a bare array, a tag's ``binding_count`` is a string,
metadata creation answers 201, and the model-types route takes the dataset key.
"""

from __future__ import annotations

from typing import Any, Final

from dify_emulator._context import Ctx, Route, not_found
from dify_emulator._http import Response
from dify_emulator._kb_bodies import BUILT_IN_FIELDS, check_str, get_dataset
from dify_emulator._wire import ApiError

__all__ = ["ROUTES"]

_TYPES: Final = ("string", "number", "time")


def _field(ctx: Ctx, did: str) -> dict[str, Any]:
    fid = ctx.params["metadata_id"]
    field = next((f for f in ctx.store.meta_fields(did) if f["id"] == fid), None)
    if field is None:
        raise not_found("Metadata not found.")
    return field


def _unique(ctx: Ctx, did: str, name: str) -> str:
    if any(f["name"] == name for f in ctx.store.meta_fields(did)):
        raise ApiError(400, "invalid_param", f"Metadata name {name} already exists.")
    if name in {n for n, _ in BUILT_IN_FIELDS}:
        raise ApiError(400, "invalid_param", f"Metadata name {name} is a built-in field name.")
    return name


def create_field(ctx: Ctx) -> Response:
    """``POST /datasets/{id}/metadata`` ``{type, name}`` -> 201."""
    ds = get_dataset(ctx)
    body = ctx.json()
    kind = body.get("type")
    if kind not in _TYPES:
        raise ApiError(400, "invalid_param", "type must be string, number or time")
    name = _unique(ctx, ds["id"], check_str(body.get("name"), "name"))
    return ctx.wire.json(ctx.store.add_meta_field(ds["id"], name, kind), 201)


def list_fields(ctx: Ctx) -> Response:
    """``GET /datasets/{id}/metadata``."""
    ds = get_dataset(ctx)
    fields = [{k: f[k] for k in ("id", "name", "type", "count")}
              for f in ctx.store.meta_fields(ds["id"])]  # fmt: skip
    enabled = bool(ctx.store.props(ds["id"]).get("built_in", False))
    return ctx.wire.json({"doc_metadata": fields, "built_in_field_enabled": enabled})


def rename_field(ctx: Ctx) -> Response:
    """``PATCH /datasets/{id}/metadata/{metadata_id}`` ``{name}``."""
    ds = get_dataset(ctx)
    field = _field(ctx, ds["id"])
    name = _unique(ctx, ds["id"], check_str(ctx.json().get("name"), "name"))
    ctx.store.set_meta_field(ds["id"], field["id"], name)
    return ctx.wire.json({"id": field["id"], "name": name, "type": field["type"]})


def delete_field(ctx: Ctx) -> Response:
    """``DELETE /datasets/{id}/metadata/{metadata_id}`` -> 204."""
    ds = get_dataset(ctx)
    ctx.store.set_meta_field(ds["id"], _field(ctx, ds["id"])["id"], None)
    return Response(204, ctx.wire.headers(), b"")


def built_in(ctx: Ctx) -> Response:
    """``GET /datasets/{id}/metadata/built-in``."""
    get_dataset(ctx)
    return ctx.wire.json({"fields": [{"name": n, "type": k} for n, k in BUILT_IN_FIELDS]})


def built_in_action(ctx: Ctx) -> Response:
    """``POST /datasets/{id}/metadata/built-in/{enable|disable}``."""
    ds = get_dataset(ctx)
    action = ctx.params["action"]
    if action not in ("enable", "disable"):
        raise ApiError(400, "invalid_action", f"Invalid action: {action}")
    ctx.store.set_props(ds["id"], built_in=action == "enable")
    return ctx.wire.json({"result": "success"})


def _typed(kind: str, name: str, value: Any) -> Any:
    if value is None or kind == "string":
        return value if value is None else str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ApiError(400, "invalid_param", f"Metadata {name} needs a {kind} value") from None
    return int(number) if kind == "time" or number.is_integer() else number


def document_values(ctx: Ctx) -> Response:
    """``POST /datasets/{id}/documents/metadata`` ``{operation_data: [...]}``."""
    ds = get_dataset(ctx)
    ops = ctx.json().get("operation_data")
    if not isinstance(ops, list):
        raise ApiError(400, "invalid_param", "operation_data is required")
    fields = {f["id"]: f for f in ctx.store.meta_fields(ds["id"])}
    for op in ops:
        if not isinstance(op, dict) or not isinstance(op.get("metadata_list"), list):
            raise ApiError(
                400, "invalid_param", "Each operation needs document_id and metadata_list"
            )
        doc_id = str(op.get("document_id"))
        if ctx.store.document(ds["id"], doc_id) is None:
            raise not_found("Document not found.")
        values = {}
        for item in op["metadata_list"]:
            field = fields.get(item.get("id")) if isinstance(item, dict) else None
            if field is None:
                raise not_found("Metadata not found.")
            values[field["id"]] = _typed(field["type"], field["name"], item.get("value"))
        ctx.store.set_doc_meta(doc_id, values, partial=bool(op.get("partial_update")))
    return ctx.wire.json({"result": "success"})


def _tag_body(tag: dict[str, Any]) -> dict[str, Any]:
    return {"id": tag["id"], "name": tag["name"], "type": "knowledge",
            "binding_count": str(tag["n"])}  # fmt: skip


def _tag_name(ctx: Ctx, body: dict[str, Any]) -> str:
    name = check_str(body.get("name"), "name")
    if len(name) > 50:
        raise ApiError(400, "invalid_param", "Tag name must be at most 50 characters.")
    if any(t["name"] == name for t in ctx.store.tags()):
        raise ApiError(400, "invalid_param", "Tag name already exists.")
    return name


def create_tag(ctx: Ctx) -> Response:
    """``POST /datasets/tags`` ``{name}``."""
    return ctx.wire.json(_tag_body(ctx.store.add_tag(_tag_name(ctx, ctx.json()))))


def list_tags(ctx: Ctx) -> Response:
    """``GET /datasets/tags`` -> a bare array."""
    return ctx.wire.json([_tag_body(t) for t in ctx.store.tags()])


def _tag(ctx: Ctx, body: dict[str, Any]) -> dict[str, Any]:
    tag = ctx.store.tag(str(body.get("tag_id")))
    if tag is None:
        raise not_found("Tag not found.")
    return tag


def update_tag(ctx: Ctx) -> Response:
    """``PATCH /datasets/tags`` ``{tag_id, name}``."""
    body = ctx.json()
    tag = _tag(ctx, body)
    ctx.store.set_tag(tag["id"], _tag_name(ctx, body))
    fresh = ctx.store.tag(tag["id"])
    assert fresh is not None
    return ctx.wire.json(_tag_body(fresh))


def delete_tag(ctx: Ctx) -> Response:
    """``DELETE /datasets/tags`` ``{tag_id}`` -> 204."""
    ctx.store.set_tag(_tag(ctx, ctx.json())["id"], None)
    return Response(204, ctx.wire.headers(), b"")


def _binding(ctx: Ctx, *, bound: bool) -> Response:
    body = ctx.json()
    target = str(body.get("target_id"))
    if ctx.store.dataset(target) is None:
        raise not_found("Dataset not found.")
    ids = body.get("tag_ids") or ([body["tag_id"]] if body.get("tag_id") else [])
    if not isinstance(ids, list) or not ids:
        raise ApiError(400, "invalid_param", "tag_ids is required")
    ctx.store.bind([str(t) for t in ids], target, bound=bound)
    return Response(204, ctx.wire.headers(), b"")


def bind(ctx: Ctx) -> Response:
    """``POST /datasets/tags/binding`` ``{tag_ids, target_id}`` -> 204."""
    return _binding(ctx, bound=True)


def unbind(ctx: Ctx) -> Response:
    """``POST /datasets/tags/unbinding`` ``{tag_ids | tag_id, target_id}`` -> 204."""
    return _binding(ctx, bound=False)


def dataset_tags(ctx: Ctx) -> Response:
    """``GET /datasets/{id}/tags``."""
    tags = ctx.store.dataset_tags(get_dataset(ctx)["id"])
    return ctx.wire.json({"data": tags, "total": len(tags)})


_MODELS: Final = {
    "text-embedding": ("emulator-embed", {"context_size": 8192}),
    "rerank": ("emulator-rerank", {"context_size": 8192}),
    "llm": ("emulator-chat", {"mode": "chat", "context_size": 32768}),
    "tts": ("emulator-tts", {}),
    "speech2text": ("emulator-stt", {}),
    "moderation": ("emulator-moderation", {}),
}


def model_types(ctx: Ctx) -> Response:
    """``GET /workspaces/current/models/model-types/{type}`` (dataset key)."""
    kind = ctx.params["model_type"]
    if kind not in _MODELS:
        raise ApiError(400, "invalid_param", f"Invalid model type: {kind}")
    name, props = _MODELS[kind]
    label = {"en_US": "Emulator", "zh_Hans": "Emulator"}
    model = {"model": name, "label": {"en_US": name, "zh_Hans": name}, "model_type": kind,
             "features": [], "fetch_from": "predefined-model", "model_properties": props,
             "deprecated": False, "status": "active", "load_balancing_enabled": False}  # fmt: skip
    return ctx.wire.json({"data": [{
        "tenant_id": "00000000-0000-0000-0000-000000000000", "provider": "emulator",
        "label": label, "icon_small": None, "icon_large": None, "status": "active",
        "models": [model]}]})  # fmt: skip


_DS: Final = "/datasets/{dataset_id:uuid}"

ROUTES: Final = [
    Route("POST", "/datasets/tags", create_tag, auth="dataset"),
    Route("GET", "/datasets/tags", list_tags, auth="dataset"),
    Route("PATCH", "/datasets/tags", update_tag, auth="dataset"),
    Route("DELETE", "/datasets/tags", delete_tag, auth="dataset"),
    Route("POST", "/datasets/tags/binding", bind, auth="dataset"),
    Route("POST", "/datasets/tags/unbinding", unbind, auth="dataset"),
    Route("GET", _DS + "/tags", dataset_tags, auth="dataset"),
    Route("POST", _DS + "/metadata", create_field, auth="dataset", wire="1.x"),
    Route("GET", _DS + "/metadata", list_fields, auth="dataset", wire="1.x"),
    Route("GET", _DS + "/metadata/built-in", built_in, auth="dataset", wire="1.x"),
    Route("POST", _DS + "/metadata/built-in/{action}", built_in_action, auth="dataset", wire="1.x"),
    Route("PATCH", _DS + "/metadata/{metadata_id:uuid}", rename_field, auth="dataset", wire="1.x"),
    Route("DELETE", _DS + "/metadata/{metadata_id:uuid}", delete_field, auth="dataset", wire="1.x"),
    Route("POST", _DS + "/documents/metadata", document_values, auth="dataset", wire="1.x"),
    Route("GET", "/workspaces/current/models/model-types/{model_type}", model_types,
          auth="dataset"),
]  # fmt: skip
