"""Arc's span processor counts the SDK batch processor's backlog and its overflow with public APIs
only (the same on every supported SDK version): spans given to it vs spans its exporter took."""

import threading

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from arc_agent.telemetry.processor import CountingSpanProcessor
from arc_agent.telemetry.stats import TelemetryStats


class GatedExporter(SpanExporter):
    """Counts what it is handed, as Arc's exporter does, and blocks in export until the gate opens."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.got: list = []
        self.taken_spans = 0

    def export(self, spans):
        self.taken_spans += len(spans)
        self.entered.set()
        self.gate.wait(10)
        self.got.extend(spans)
        return SpanExportResult.SUCCESS


def test_backlog_and_overflow_are_counted_and_the_rest_exported():
    exporter, stats = GatedExporter(), TelemetryStats()
    batch = BatchSpanProcessor(exporter, max_queue_size=8, schedule_delay_millis=60_000, max_export_batch_size=4)
    processor = CountingSpanProcessor(batch, exporter, 8, stats)
    provider = TracerProvider(resource=Resource.create({"service.name": "svc"}))
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("arc_agent")
    for i in range(4):  # the 4th completes a batch: the worker takes it and blocks in export
        tracer.start_span(f"s{i}").end()
    assert exporter.entered.wait(10) and exporter.taken_spans == 4
    assert processor.pending() == 0
    for i in range(4, 16):  # 8 fit in the queue, 4 are dropped and counted
        tracer.start_span(f"s{i}").end()
    assert processor.pending() == 8 and stats.dropped_spans == 4
    exporter.gate.set()
    assert provider.force_flush(10_000)
    assert sorted(s.name for s in exporter.got) == sorted(f"s{i}" for i in range(12))
    assert processor.pending() == 0
    provider.shutdown()


def test_unsampled_spans_are_not_counted():
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    exporter, stats = GatedExporter(), TelemetryStats()
    exporter.gate.set()
    processor = CountingSpanProcessor(BatchSpanProcessor(exporter, schedule_delay_millis=60_000), exporter, 8, stats)
    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(processor)
    for _ in range(20):
        provider.get_tracer("t").start_span("s").end()
    assert processor.pending() == 0 and stats.dropped_spans == 0
    provider.shutdown()
