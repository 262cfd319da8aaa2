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


def test_lends_while_the_exporter_needs_the_gil_until_it_shows_progress():
    clock, pauses = Clock(), []
    h = H.Handoff(5.0, clock=clock, pause=pauses.append)
    h.lend()
    assert pauses == []  # not due before its schedule
    clock.now += 5.0
    h.lend()  # due, but the exporter never runs (a busy machine): LEND_TRIES sleeps, then a backoff
    assert pauses == [H.LEND_S] * H.LEND_TRIES and h.next_lend > clock.now
    h.lend()
    assert len(pauses) == H.LEND_TRIES  # inside the backoff
    clock.now = h.next_lend

    def runs_on_first_sleep(seconds):
        pauses.append(seconds)
        h.started()  # the export thread took the GIL while the app slept

    h._sleep = runs_on_first_sleep
    h.lend()
    assert len(pauses) == H.LEND_TRIES + 1 and h.backoff == H.FIRST_BACKOFF_S and h.busy
    h.sending()  # on the network: no GIL needed
    h.lend()
    assert len(pauses) == H.LEND_TRIES + 1
    clock.now += H.FIRST_BACKOFF_S  # the response should be back by now: lend once, then a longer grace
    h.lend()
    h.lend()
    assert len(pauses) == H.LEND_TRIES + 2 and h.io_grace == 2 * H.FIRST_BACKOFF_S
    h.sent()
    h.finished()  # an export cycle ended: due again only after the delay
    clock.now += 1.0
    n = len(pauses)
    h.lend()
    assert len(pauses) == n and not h.wanted(clock.now)
    h.batch_full()
    assert h.wanted(clock.now)


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
