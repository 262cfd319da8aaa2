"""``report_failure``: the app reports a failure only it can see (its own parse failed, a validator
rejected the answer), as an ``arc.report_failure`` span linked to its last LLM call's span.

Public OTel API only: the link is an ``opentelemetry.trace.Link`` to the ``SpanContext`` that
``lastcall.LAST_CALL`` holds. Fail open: with no last call in this context the span is still made,
without a link (counted, logged once); an error inside never reaches the app.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from .. import failopen
from ..telemetry import attributes as A
from .lastcall import LAST_CALL
from .outcome import APP_REPORTED

log = logging.getLogger("arc")

SPAN_NAME = "arc.report_failure"
MAX_TEXT = 256  # characters of ``kind`` / ``detail`` kept
_counts = {"reported": 0, "unlinked": 0, "inactive": 0}
_lock = threading.Lock()


def report_failure(kind: str, detail: str | None = None, arc_on: Callable[[], bool] | None = None) -> bool:
    """Record that the app found the last LLM call's answer unusable; True when a span was made.
    ``arc_on``: whether Arc runs in this process (``hook.arc_active``, asked by the public entry
    points, which sit above this module); None = it does."""
    try:
        return _report(kind, detail, arc_on)
    except Exception as exc:
        failopen.record("report_failure", exc)
        return False


def _report(kind: str, detail: str | None, arc_on: Callable[[], bool] | None) -> bool:
    from opentelemetry.trace import Link, SpanContext, SpanKind

    from ..telemetry import tracing

    if arc_on is not None and not arc_on():
        with _lock:
            _counts["inactive"] += 1
        return False
    attrs = {A.ARC_OUTCOME: APP_REPORTED, A.ARC_REPORT_KIND: str(kind)[:MAX_TEXT]}
    if detail is not None:
        attrs[A.ARC_REPORT_DETAIL] = str(detail)[:MAX_TEXT]
    last = LAST_CALL.get()
    if last is not None and not isinstance(last, SpanContext):  # a span made off the app's thread
        last = last.get_span_context()
    links = [Link(last)] if last is not None and last.is_valid else None
    with _lock:
        _counts["reported"] += 1
        first_unlinked = links is None and _counts["unlinked"] == 0
        if links is None:
            _counts["unlinked"] += 1
    if first_unlinked:
        log.info("arc: report_failure(%r) has no earlier LLM call in this context to link to; "
                 "reported without a link (logged once)", attrs[A.ARC_REPORT_KIND])
    span = tracing.get_tracer().start_span(SPAN_NAME, kind=SpanKind.INTERNAL, attributes=attrs, links=links)
    span.end()
    return True


def counts() -> dict:
    with _lock:
        return dict(_counts)
