"""Optional dependencies imported where they are used, failing with the extra to install.

``langgraph`` is not needed by ``langchain_dify``'s own classes; features built on it
import it through :func:`require_langgraph`, so ``pip install
'dify-integrations[langchain]'`` stays enough for everything else.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["LANGGRAPH_HINT", "require_langgraph"]

LANGGRAPH_HINT = "this feature needs langgraph: pip install 'dify-integrations[langgraph]'"


def require_langgraph(module: str = "langgraph") -> ModuleType:
    """Import ``module`` (``langgraph`` or one of its submodules) or raise a one-line error.

    Args:
        module: The dotted name to import, e.g. ``"langgraph.checkpoint.memory"``.

    Returns:
        The imported module.

    Raises:
        ImportError: langgraph is not installed; the message names the extra to install.
    """
    if module != "langgraph" and not module.startswith("langgraph."):
        msg = f"require_langgraph imports langgraph modules only, not {module!r}"
        raise ValueError(msg)
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != "langgraph":
            raise
        raise ImportError(LANGGRAPH_HINT) from exc
