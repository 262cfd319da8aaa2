"""The app's last LLM call in the current context, for ``report_failure`` to link to.

A ``ContextVar`` set when a call's span ends: each thread and each asyncio task sees its own last
call (a task runs in a copy of its creator's context), so a report links to the call the same flow
made. Holds only the span's public ``SpanContext`` (trace and span ids).
"""

from __future__ import annotations

from contextvars import ContextVar

LAST_CALL: ContextVar = ContextVar("arc_last_llm_call", default=None)
