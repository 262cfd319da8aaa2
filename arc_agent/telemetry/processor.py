"""Arc's span processor: the SDK's ``BatchSpanProcessor``, behind a count of the spans it holds.

The SDK keeps its queue to itself (and drops on overflow with a log line, differently from version
to version). Arc needs the backlog for its circuit breaker and metrics, and every lost span counted,
on every SDK version it supports, through public APIs only. So this wrapper counts the sampled spans
it hands to the batch processor, and Arc's exporter counts the spans the batch processor hands to it
(``ArcSpanExporter.taken_spans``): the difference is what waits in the SDK's queue. A span that
would overflow the queue is dropped here, counted (``arc_telemetry_dropped_total``) and logged once,
so the SDK's own queue never overflows.
"""

from __future__ import annotations

import itertools
import logging
import os
import weakref

from opentelemetry.sdk.trace import SpanProcessor

from .stats import STATS, TelemetryStats

log = logging.getLogger("arc")


class CountingSpanProcessor(SpanProcessor):
    def __init__(self, batch: SpanProcessor, exporter, max_queue_size: int, stats: TelemetryStats = STATS) -> None:
        self.batch = batch
        self.exporter = exporter  # has ``taken_spans`` (export.ArcSpanExporter)
        self.max_queue_size = max_queue_size
        self.stats = stats
        self._given = itertools.count(1)  # next() is atomic: app threads end spans concurrently
        self.given = 0  # spans handed to the batch processor (the last value drawn from _given)
        self._stopped = False
        self._logged = False
        if hasattr(os, "register_at_fork"):
            ref = weakref.WeakMethod(self._after_fork_in_child)
            os.register_at_fork(after_in_child=lambda: ref() and ref()())

    def _after_fork_in_child(self) -> None:
        """The SDK empties its queue in a forked child: so do the counts."""
        self._given = itertools.count(1)
        self.given = 0

    def pending(self) -> int:
        """Spans handed to the batch processor and not yet to the exporter."""
        return max(0, self.given - self.exporter.taken_spans)

    def on_start(self, span, parent_context=None) -> None:
        self.batch.on_start(span, parent_context=parent_context)

    def on_end(self, span) -> None:
        if self._stopped or not span.context.trace_flags.sampled:
            return  # the batch processor would ignore it too
        if self.given - self.exporter.taken_spans >= self.max_queue_size:
            self.stats.dropped_spans += 1
            if not self._logged:
                self._logged = True
                log.error("arc: span queue full (%d spans, ARC_QUEUE_SIZE / OTEL_BSP_MAX_QUEUE_SIZE); dropping "
                          "spans; counted in arc_telemetry_dropped_total", self.max_queue_size)
            return
        self.given = next(self._given)
        self.batch.on_end(span)

    def shutdown(self) -> None:
        self._stopped = True
        self.batch.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.batch.force_flush(timeout_millis)
