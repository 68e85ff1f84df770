"""The cell builders (``md``, ``code``) and the cells every notebook shares."""

from __future__ import annotations

import textwrap

__all__ = ["CLEANUP", "PAUSE", "SETUP", "SETUP_MD", "Cell", "code", "md"]

Cell = tuple[str, str]


def md(text: str) -> Cell:
    return ("markdown", textwrap.dedent(text).strip())


def code(text: str) -> Cell:
    return ("code", textwrap.dedent(text).strip())


SETUP_MD = md(
    """
    ## Setup: your Dify, or the offline emulator

    If `DIFY_BASE_URL` and `DIFY_API_KEY` are set (a chat app's key; the Service API
    root ending in `/v1`), this notebook talks to your Dify. Otherwise it starts
    the emulator that ships with the package: a Dify-compatible Service API on
    127.0.0.1 with a small knowledge base, so no account is needed. The cell then
    sets the same variables a real user would, and every cell below reads them.
    """
)

SETUP = code(
    """
    import os

    from dify_emulator import start_emulator

    emu = None
    if os.environ.get("DIFY_BASE_URL") and os.environ.get("DIFY_API_KEY"):
        print("Using your Dify at", os.environ["DIFY_BASE_URL"])
    else:
        emu = start_emulator()  # stopped in the last cell
        os.environ.update(
            DIFY_BASE_URL=emu.base_url,
            DIFY_API_KEY=emu.keys.chat,
            DIFY_DATASET_API_KEY=emu.keys.dataset,
            DIFY_DATASET_ID=emu.dataset_id,
        )
        print("Using the offline Dify emulator at", emu.base_url)
    """
)

PAUSE = code(
    """
    import time


    def pause():
        \"\"\"Wait between turns on a real Dify: it stores message times to the second.\"\"\"
        if emu is None:  # a real Dify; the emulator keeps turns in order without waiting
            time.sleep(1.1)
    """
)

CLEANUP = code(
    """
    if emu is not None:
        emu.stop()
    """
)
