"""Every dataset-key (Knowledge API) endpoint, defined once (pure: no I/O).

Also the rules of ``retrieve``'s options: Dify needs a complete ``retrieval_model``
once any is sent, so the options given are overlaid on the knowledge base's own
``retrieval_model_dict`` (see `merge_retrieval_model`).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Final, Literal

from dify_transport._app_api import drop_none, model_parser, no_content
from dify_transport._base_client import Call, seg
from dify_transport._constants import LOGGER_NAME
from dify_transport._errors import APIResponseValidationError, APIStatusError
from dify_transport.types import (
    Dataset,
    DatasetPage,
    RetrieveResponse,
)

__all__ = [
    "LIST_PAGE_SIZE",
    "Overrides",
    "RetrievalSettings",
    "SearchMethod",
    "create_dataset",
    "delete_dataset",
    "get_dataset",
    "last_page",
    "list_datasets",
    "listing_failed",
    "merge_retrieval_model",
    "not_listed",
    "retrieve",
    "scan",
    "update_dataset",
]


_log = logging.getLogger(LOGGER_NAME)

_FALLBACK_RETRIEVAL_MODEL: Final[Mapping[str, Any]] = {
    "search_method": "semantic_search",
    "reranking_enable": False,
    "score_threshold_enabled": False,
    "score_threshold": None,
    "top_k": 4,
}
"""Base for overrides when the knowledge base's own settings are unknown (Dify's defaults)."""

LIST_PAGE_SIZE: Final = 100
_MAX_LIST_PAGES: Final = 100
_TRANSIENT_STATUSES: Final = frozenset({408, 429})

SearchMethod = Literal["semantic_search", "keyword_search", "full_text_search", "hybrid_search"]
"""Dify's knowledge search methods (a ``retrieval_model``'s ``search_method``)."""

RetrievalSettings = dict[str, Any] | None
"""A knowledge base's ``retrieval_model_dict`` (None: unknown, use the fallback)."""


@dataclass(frozen=True, slots=True)
class Overrides:
    """The retrieve options the caller gave (None: keep the knowledge base's setting)."""

    top_k: int | None = None
    search_method: str | None = None
    score_threshold: float | None = None
    reranking_enable: bool | None = None
    metadata_filtering_conditions: Mapping[str, Any] | None = None

    @property
    def given(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))


def merge_retrieval_model(base: Mapping[str, Any] | None, overrides: Overrides) -> dict[str, Any]:
    """Overlay the given options on a knowledge base's retrieval settings.

    Args:
        base: The dataset's ``retrieval_model_dict``, or None for the fallback defaults.
        overrides: The options the caller gave.

    Returns:
        A complete ``retrieval_model`` (the keys Dify requires are always present).
    """
    model = copy.deepcopy(dict(base)) if base is not None else dict(_FALLBACK_RETRIEVAL_MODEL)
    for key, value in _FALLBACK_RETRIEVAL_MODEL.items():
        if model.get(key) is None:  # Dify needs these keys (a missing one is a 500)
            model[key] = value
    if overrides.search_method is not None:
        model["search_method"] = overrides.search_method
    if overrides.reranking_enable is not None:
        model["reranking_enable"] = overrides.reranking_enable
    if overrides.score_threshold is not None:
        model["score_threshold_enabled"] = True
        model["score_threshold"] = overrides.score_threshold
    if overrides.top_k is not None:
        model["top_k"] = overrides.top_k
    if overrides.metadata_filtering_conditions is not None:
        model["metadata_filtering_conditions"] = dict(overrides.metadata_filtering_conditions)
    return model


def _dataset_settings(ds: Dataset) -> RetrievalSettings:
    extra = ds.model_extra or {}
    if extra.get("provider") == "external":
        return None  # external knowledge: Dify uses external_retrieval_model instead
    settings = extra.get("retrieval_model_dict")
    if isinstance(settings, Mapping) and settings.get("search_method"):
        return dict(settings)
    return None


def scan(listing: DatasetPage, dataset_id: str) -> tuple[bool, RetrievalSettings]:
    """``(found, settings)`` of one page of ``GET /datasets``."""
    for ds in listing.data:
        if ds.id == dataset_id:
            return True, _dataset_settings(ds)
    return False, None


def last_page(listing: DatasetPage, page: int) -> bool:
    return not listing.has_more or not listing.data or page >= _MAX_LIST_PAGES


def listing_failed(exc: APIStatusError | APIResponseValidationError, dataset_id: str) -> bool:
    """Log a failed listing; return True when the fallback may be cached (not transient)."""
    _log.debug(
        "could not read the retrieval settings of dataset %s (%s); overriding Dify's defaults",
        dataset_id,
        type(exc).__name__,
    )
    status = getattr(exc, "status_code", None)
    return status is None or (status < 500 and status not in _TRANSIENT_STATUSES)


def not_listed(settings: RetrievalSettings, dataset_id: str) -> None:
    if settings is None:
        _log.debug(
            "dataset %s not found in GET /datasets (or has no retrieval_model_dict); "
            "overriding Dify's defaults (semantic_search, no reranking, no threshold)",
            dataset_id,
        )


def retrieve(
    dataset_id: str, query: str, retrieval_model: Mapping[str, Any] | None
) -> Call[RetrieveResponse]:
    """``POST /datasets/{id}/retrieve`` (a search: safe to repeat)."""
    body: dict[str, Any] = {"query": query}
    if retrieval_model is not None:
        body["retrieval_model"] = dict(retrieval_model)
    return Call(
        "POST",
        f"/datasets/{seg(dataset_id)}/retrieve",
        parse=model_parser(RetrieveResponse),
        json=body,
        creates_work=False,
    )


def list_datasets(
    *,
    page: int,
    limit: int,
    keyword: str | None = None,
    include_all: bool | None = None,
    tag_ids: Sequence[str] | None = None,
) -> Call[DatasetPage]:
    """``GET /datasets`` (page-number paging; ``tag_ids`` repeats the parameter)."""
    params: dict[str, Any] = {"page": page, "limit": limit, "keyword": keyword}
    if include_all is not None:
        params["include_all"] = "true" if include_all else "false"
    if tag_ids:
        params["tag_ids"] = list(tag_ids)
    return Call("GET", "/datasets", parse=model_parser(DatasetPage), params=params)


def create_dataset(name: str, settings: Mapping[str, Any]) -> Call[Dataset]:
    """``POST /datasets``: an empty knowledge base (``settings``: None values dropped)."""
    body = {"name": name, **drop_none(settings)}
    return Call("POST", "/datasets", parse=model_parser(Dataset), json=body)


def get_dataset(dataset_id: str) -> Call[Dataset]:
    """``GET /datasets/{id}``."""
    return Call("GET", f"/datasets/{seg(dataset_id)}", parse=model_parser(Dataset))


def update_dataset(dataset_id: str, settings: Mapping[str, Any]) -> Call[Dataset]:
    """``PATCH /datasets/{id}`` (only the settings given; None values dropped)."""
    body = drop_none(settings)
    return Call("PATCH", f"/datasets/{seg(dataset_id)}", parse=model_parser(Dataset), json=body)


def delete_dataset(dataset_id: str) -> Call[None]:
    """``DELETE /datasets/{id}`` (204)."""
    return Call("DELETE", f"/datasets/{seg(dataset_id)}", parse=no_content)
