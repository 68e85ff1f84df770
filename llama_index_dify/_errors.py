"""Errors raised by llama_index_dify itself (transport errors pass through as they are)."""

from __future__ import annotations

__all__ = ["DifyReadOnlyHistoryError"]


class DifyReadOnlyHistoryError(NotImplementedError):
    """A chat-store write that Dify cannot do (the message says why, and what to do instead).

    Attributes:
        operation: The chat-store method that was called.
    """

    def __init__(self, operation: str) -> None:
        self.operation = operation
        super().__init__(
            f"DifyChatStore.{operation}() is not possible: Dify records each turn itself "
            "when the app answers it and has no endpoint to append, replace or delete "
            "single messages. Send turns through DifyLLM or DifyChatEngine; use "
            "delete_messages(key) to delete a whole conversation."
        )
