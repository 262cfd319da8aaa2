"""The app's last LLM call in the current context, for ``report_failure`` to link to.

A ``ContextVar`` set when a call's span ends: each thread and each asyncio task sees its own last
call (a task runs in a copy of its creator's context), so a report links to the call the same flow
made. Holds the span's public ``SpanContext`` (trace and span ids), or a span still to be made off the
app's thread (``telemetry.ending.PendingSpan``: its ``get_span_context()``, built only when a report asks).
"""

from __future__ import annotations

from contextvars import ContextVar

LAST_CALL: ContextVar = ContextVar("arc_last_llm_call", default=None)
