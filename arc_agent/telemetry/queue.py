"""The telemetry queue: spans waiting in the span processor plus spans waiting in the exporter backlog.

Read by the circuit breaker (at most every 100 ms) and the metrics endpoint (per scrape), never per
call. ``CountingBatchSpanProcessor`` makes a full processor queue visible: the SDK drops silently
(with a log line per span); this one counts each drop in ``STATS.dropped_spans`` and logs once.
"""

from __future__ import annotations

import logging
import os
from time import monotonic

from opentelemetry.sdk.trace.export import BatchSpanProcessor

from . import tracing
from .handoff import Handoff, track
from .stats import STATS

log = logging.getLogger("arc")

_cache: tuple = (None, ())  # (provider, deques of its batch processors)


def _processor_queues(provider) -> tuple:
    """The deques of every BatchSpanProcessor on ``provider`` (SDK internals, read only)."""
    queues = []
    for proc in getattr(getattr(provider, "_active_span_processor", None), "_span_processors", ()):
        q = getattr(getattr(proc, "_batch_processor", None), "_queue", None)
        if q is not None:
            queues.append(q)
    return tuple(queues)


def processor_depth() -> int:
    """Spans queued in the span processor(s) of the provider Arc's spans go to."""
    global _cache
    provider = tracing._provider
    if provider is None:
        return 0
    cached, queues = _cache
    if cached is not provider:
        queues = _processor_queues(provider)
        _cache = (provider, queues)
    return sum(len(q) for q in queues)


def depth() -> int:
    """Everything not yet accepted by the collector: processor queue + exporter backlog."""
    return processor_depth() + STATS.buffered_spans


class CountingBatchSpanProcessor(BatchSpanProcessor):
    """BatchSpanProcessor whose queue overflow is counted (``arc_telemetry_dropped_total``) and logged once.

    A full queue drops the new span (the SDK would drop the oldest and log per span)."""

    _logged = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        bp = getattr(self, "_batch_processor", None)
        delay = getattr(bp, "_schedule_delay", None)
        self.handoff: Handoff | None = None  # handoff.py: lend the GIL to a starved export thread
        if isinstance(delay, (int, float)):
            handoff = Handoff(float(delay))
            if track(bp, handoff):
                self.handoff = handoff

    def on_end(self, span) -> None:
        bp = getattr(self, "_batch_processor", None)
        q = getattr(bp, "_queue", None)
        if q is not None and q.maxlen is not None and len(q) >= q.maxlen and span.context.trace_flags.sampled:
            self._drop()
            return
        super().on_end(span)

    def _drop(self) -> None:
        STATS.dropped_spans += 1
        if not CountingBatchSpanProcessor._logged:
            CountingBatchSpanProcessor._logged = True
            log.error("arc: span queue full (%d spans, ARC_QUEUE_SIZE); dropping spans; counted in "
                      "arc_telemetry_dropped_total", self._batch_processor._queue.maxlen)

    def sink_encodes_directly(self) -> bool:
        """Whether this processor's spans reach only Arc's encoder (``otlp_encode``): then Arc's
        emitter may queue span records (``otlp_encode.RECORD``) and leave dropping None-valued
        attributes to the encoder, as the SDK's span would drop them."""
        from .export import ArcSpanExporter

        exporter = getattr(getattr(self, "_batch_processor", None), "_exporter", None)
        return isinstance(exporter, ArcSpanExporter)

    def sink(self):
        """``on_end`` for spans known to be sampled (Arc's ``DirectEmitter``): a full queue drops
        and counts, a span that completes a batch or meets a shut-down processor goes through the
        SDK's ``emit``, any other is appended to the SDK's queue directly. That skips three call
        layers and a ``getpid`` syscall per span; the SDK resets its queue at fork by itself
        (``register_at_fork``), which is why its per-span pid check can go. Falls back to
        ``on_end`` when this SDK's internals are not the expected ones."""
        bp = getattr(self, "_batch_processor", None)
        q = getattr(bp, "_queue", None)
        if q is None or q.maxlen is None or not hasattr(os, "register_at_fork") or \
                not isinstance(getattr(bp, "_max_export_batch_size", None), int) or \
                not hasattr(bp, "_shutdown") or not callable(getattr(bp, "emit", None)):
            return self.on_end
        maxlen, batch, emit, append, drop = q.maxlen, bp._max_export_batch_size, bp.emit, q.appendleft, self._drop
        handoff = self.handoff

        def sink(span) -> None:
            n = len(q)
            if n >= maxlen:
                drop()
            elif n + 1 >= batch or bp._shutdown:
                if handoff is not None:
                    handoff.batch_full()
                emit(span)
            else:
                append(span)
            if handoff is not None and (handoff.busy or monotonic() >= handoff.due):
                handoff.lend()  # the export thread is due: let it have the GIL (handoff.py)

        return sink
