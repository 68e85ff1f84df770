"""langchain-tests ``ChatModelUnitTests`` for ``ChatDify`` (no network)."""

from __future__ import annotations

from typing import Any

from langchain_tests.unit_tests import ChatModelUnitTests

from langchain_dify import ChatDify


class TestChatDifyUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ChatDify]:
        return ChatDify

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "dify-unit", "base_url": "http://127.0.0.1:9/v1"}

    @property
    def supports_model_override(self) -> bool:
        return False

    @property
    def has_tool_calling(self) -> bool:  # bind_tools raises DifyToolCallingError
        return False

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {
                "DIFY_API_KEY": "app-from-env",
                "DIFY_BASE_URL": "http://dify.example/v1",
                "DIFY_USER": "env-user",
            },
            {},
            {"api_key": "app-from-env", "base_url": "http://dify.example/v1", "user": "env-user"},
        )
