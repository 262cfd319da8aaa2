"""Lending the GIL to a starved export thread (``telemetry/handoff.py``)."""

from __future__ import annotations

import os
import time

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from arc_agent.telemetry import handoff as H
from arc_agent.telemetry.emit import DirectEmitter
from arc_agent.telemetry.queue import CountingBatchSpanProcessor


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lends_only_while_due_with_a_doubling_backoff_reset_by_each_export():
    clock, pauses = Clock(), []
    h = H.Handoff(5.0, clock=clock, pause=pauses.append)
    h.lend()
    assert pauses == []  # not due before its schedule
    clock.now += 5.0
    h.lend()
    h.lend()  # still due, but inside the backoff
    assert pauses == [H.LEND_S]
    clock.now += H.FIRST_BACKOFF_S
    h.lend()
    assert len(pauses) == 2 and h.backoff == 4 * H.FIRST_BACKOFF_S
    h.started()
    h.finished()  # an export cycle ended: due again only after the delay, backoff reset
    h.lend()
    assert len(pauses) == 2 and h.backoff == H.FIRST_BACKOFF_S
    h.batch_full()
    h.lend()
    assert len(pauses) == 3
    for _ in range(40):  # a send that never returns: lends thin out to one per MAX_BACKOFF_S
        clock.now += h.backoff
        h.lend()
    assert h.backoff == H.MAX_BACKOFF_S


def test_a_busy_app_thread_still_gets_its_spans_exported_on_schedule():
    """The app thread computes and releases the GIL only for a system call's microseconds, as a busy
    app does: without lending, CPython's export thread is woken at every release and never wins the
    GIL (on CPython 3.11 it exported nothing until the loop ended); with lending it exports on its
    50 ms schedule while the app is still busy."""
    exports = []

    class Recorder(SpanExporter):
        def export(self, spans):
            exports.append((time.monotonic(), len(spans)))
            return SpanExportResult.SUCCESS

    provider = TracerProvider(resource=Resource.create({"service.name": "svc"}))
    processor = CountingBatchSpanProcessor(Recorder(), max_queue_size=65536, schedule_delay_millis=50,
                                           max_export_batch_size=65536)
    provider.add_span_processor(processor)
    assert processor.handoff is not None
    emitter = DirectEmitter(provider, provider.get_tracer("arc_agent")._instrumentation_scope)
    end = time.monotonic() + 1.5
    n = 0
    while time.monotonic() < end:
        x = 0
        for i in range(3000):  # ~0.3 ms of Python
            x += i
        os.urandom(16)  # releases the GIL for microseconds, like an SDK's idempotency key
        n += 1
        if n % 3 == 0:
            emitter.emit("s", None, {"i": n}, time.time_ns(), error=False)
    during = [e for e in exports if e[0] < end]
    provider.shutdown()
    assert len(during) >= 3 and sum(count for _, count in during) >= 30, (during, processor.handoff.lends)
