"""Pydantic models of Dify responses.

Every model keeps unknown fields (``extra="allow"``: Dify adds fields every release)
and accepts both the 0.15.x and the 1.x wire: sparse metadata, prices as decimal
strings (``"0.0010330"``, ``"0E-7"``), timestamps as ints or RFC-822 strings, and
JSON-encoded ``inputs``/``outputs`` strings.

The models live in modules named for what they hold: ``_common`` (the base model and
wire helpers), ``_generation`` (a generation's result, usage, citations, agent steps),
``_conversations`` (history), ``_workflows`` (run detail, logs), ``_app`` (app
parameters, info, uploads) and ``_knowledge`` (datasets, documents, segments,
retrieve), ``_knowledge_admin`` (chunks, metadata, tags, models), ``_app_extras`` (1.x
app answers) and ``_stream_events`` (typed run events). Import them from here: this
package re-exports each module's ``__all__``.
"""

from __future__ import annotations

from dify_transport.types import (
    _app,
    _app_extras,
    _common,
    _conversations,
    _generation,
    _knowledge,
    _knowledge_admin,
    _stream_events,
    _workflows,
)
from dify_transport.types._app import *  # noqa: F403
from dify_transport.types._app_extras import *  # noqa: F403
from dify_transport.types._common import *  # noqa: F403
from dify_transport.types._conversations import *  # noqa: F403
from dify_transport.types._generation import *  # noqa: F403
from dify_transport.types._knowledge import *  # noqa: F403
from dify_transport.types._knowledge_admin import *  # noqa: F403
from dify_transport.types._stream_events import *  # noqa: F403
from dify_transport.types._workflows import *  # noqa: F403

__all__ = (
    _app.__all__
    + _app_extras.__all__
    + _common.__all__
    + _conversations.__all__
    + _generation.__all__
    + _knowledge.__all__
    + _knowledge_admin.__all__
    + _stream_events.__all__
    + _workflows.__all__
)
