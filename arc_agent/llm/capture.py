"""``ARC_CAPTURE``: offer each finished call to the cassette (``cassette.py``), at a rate by outcome.

Opt-in. Failures are kept at ``ARC_CAPTURE_FAILURE_RATE`` (1.0), successes at ``ARC_CAPTURE_RATE``
(0.05; 1 = every call). The decision comes first, so a call that is not kept costs one random
draw; a kept one is copied (redacted) on the app's thread and written by the cassette's thread.
"""

from __future__ import annotations

import logging
import os
import random
from typing import Any, Mapping, Optional

from .. import settings
from ..telemetry import attributes as A
from . import cassette
from .outcome import OK, error_facts

log = logging.getLogger("arc")


class Capture:
    __slots__ = ("writer", "failure_rate", "success_rate", "random")

    def __init__(self, writer: cassette.CassetteWriter, failure_rate: float = 1.0, success_rate: float = 0.05) -> None:
        self.writer = writer
        self.failure_rate = failure_rate
        self.success_rate = success_rate
        self.random = random.Random().random

    def offer(self, call: Any, exc: Optional[BaseException], span_context: Any) -> None:
        """Record ``call`` (an ``LLMCall`` that has ended) if its outcome's rate draws it."""
        operation = call.spec.api
        if operation not in cassette.OPERATIONS:
            return
        outcome = call.outcome or OK
        rate = self.success_rate if outcome == OK and exc is None else self.failure_rate
        if rate < 1.0 and self.random() >= rate:
            return
        fix_attrs = call.attrs
        if call.deferred is not None and call.deferred[1]:
            fix_attrs = call.deferred[1]
        error = None
        if exc is not None:
            status, code, param, etype = error_facts(exc, call.kwargs)
            error = {"status": status, "code": code, "param": param, "type": etype}
        trace_id = span_id = None
        if span_context is not None:
            trace_id, span_id = format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")
        record = cassette.make_record(
            call.spec.provider, operation, call.app_kwargs, call.kwargs, time_s=call.start_ns / 1e9,
            outcome=outcome, fix_applied=call.fix_applied, pattern_ids=fix_attrs.get(A.ARC_FIX_PATTERN_IDS, ()),
            error=error, trace_id=trace_id, span_id=span_id)
        self.writer.submit(record)


def from_env(environ: Optional[Mapping[str, str]] = None) -> Optional[Capture]:
    """The capture ``ARC_CAPTURE`` asks for, or None (unset, or the path cannot be used: logged)."""
    path = settings.value("ARC_CAPTURE", environ)
    if not path:
        return None
    path = os.path.expanduser(path)
    writer = cassette.CassetteWriter(path, max_bytes=int(settings.value("ARC_CAPTURE_MAX_BYTES", environ)))
    log.info("arc: capturing LLM calls to %s (ARC_CAPTURE)", path)
    return Capture(writer, settings.value("ARC_CAPTURE_FAILURE_RATE", environ),
                   settings.value("ARC_CAPTURE_RATE", environ))
