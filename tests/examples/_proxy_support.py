"""What the proxy fixture hands to the tests."""

from __future__ import annotations

from dataclasses import dataclass

from dify_emulator import Emulator


@dataclass
class Proxy:
    """A served proxy: its URL, the emulator behind it and the key it must keep."""

    url: str
    emulator: Emulator
    key: str
