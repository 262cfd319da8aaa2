"""Arc's direct span emitter behaves like the SDK path: parent/trace ids, ParentBased sampling,
error status, None attributes dropped, resource and scope of Arc's provider."""

import time

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, StatusCode, TraceFlags

from arc_agent.telemetry.emit import DirectEmitter


def _setup():
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "svc"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("arc_agent", "1.2.3")
    return exporter, DirectEmitter(provider, tracer._instrumentation_scope)


def _parent(sampled: bool):
    ctx = SpanContext(0xABC, 0xDEF, is_remote=False,
                      trace_flags=TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT))
    return trace.set_span_in_context(NonRecordingSpan(ctx))


def test_child_of_sampled_parent_and_root():
    exporter, emitter = _setup()
    emitter.emit("chat m", _parent(True), {"a": 1, "gone": None}, 1_000, error=False)
    emitter.emit("chat root", None, {"b": (1, 2)}, 2_000, error=True)
    child, root = exporter.get_finished_spans()
    assert child.context.trace_id == 0xABC and child.parent.span_id == 0xDEF
    assert child.kind is SpanKind.CLIENT and dict(child.attributes) == {"a": 1}
    assert child.start_time == 1_000 and child.end_time >= child.start_time
    assert child.resource.attributes["service.name"] == "svc"
    assert child.instrumentation_scope.name == "arc_agent" and child.instrumentation_scope.version == "1.2.3"
    assert child.status.status_code is StatusCode.UNSET
    assert root.parent is None and root.context.trace_id not in (0, 0xABC)
    assert root.status.status_code is StatusCode.ERROR and root.context.trace_flags.sampled


def test_unsampled_parent_means_no_span():
    exporter, emitter = _setup()
    emitter.emit("chat m", _parent(False), {"a": 1}, 1_000, error=True)
    assert exporter.get_finished_spans() == ()


def test_direct_sink_into_arcs_batch_processor_counts_overflow_and_follows_added_processors():
    """With Arc's own batch processor alone on the provider, spans go straight into its queue: a
    full queue drops and counts, flush exports the rest, and a processor added later gets spans."""
    import threading

    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    from arc_agent.telemetry.queue import CountingBatchSpanProcessor
    from arc_agent.telemetry.stats import STATS

    gate, got = threading.Event(), []

    class Gated(SpanExporter):
        def export(self, spans):
            gate.wait(10)
            got.extend(spans)
            return SpanExportResult.SUCCESS

    provider = TracerProvider(resource=Resource.create({"service.name": "svc"}))
    processor = CountingBatchSpanProcessor(Gated(), max_queue_size=8, schedule_delay_millis=60_000,
                                           max_export_batch_size=4)
    provider.add_span_processor(processor)
    emitter = DirectEmitter(provider, provider.get_tracer("arc_agent")._instrumentation_scope)
    dropped0 = STATS.dropped_spans
    for i in range(4):  # the 4th completes a batch: the worker takes it and blocks in export
        emitter.emit(f"s{i}", None, {"i": i}, 1_000, error=False)
    assert emitter._sink is not processor.on_end  # the direct sink is in use
    deadline = time.monotonic() + 10
    while processor._batch_processor._queue and time.monotonic() < deadline:
        time.sleep(0.01)  # wait for the worker to take the batch (poll, not a fixed sleep)
    for i in range(4, 16):  # 8 fit in the queue, 4 are dropped
        emitter.emit(f"s{i}", None, {"i": i}, 1_000, error=False)
    assert STATS.dropped_spans - dropped0 == 4
    late = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(late))
    emitter.emit("after", None, {}, 1_000, error=False)  # Arc's queue is still full: dropped there
    assert [s.name for s in late.get_finished_spans()] == ["after"]
    assert STATS.dropped_spans - dropped0 == 5
    gate.set()
    assert provider.force_flush(10_000)
    assert sorted(s.name for s in got) == sorted(f"s{i}" for i in range(12))
    provider.shutdown()


def test_span_records_only_when_arcs_encoder_alone_takes_the_spans():
    from arc_agent.telemetry.endpoint import resolve
    from arc_agent.telemetry.export import ArcSpanExporter
    from arc_agent.telemetry.queue import CountingBatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "svc"}))
    exporter = ArcSpanExporter(resolve("grpc://127.0.0.1:1", None))
    provider.add_span_processor(CountingBatchSpanProcessor(exporter, schedule_delay_millis=60_000))
    emitter = DirectEmitter(provider, provider.get_tracer("arc_agent")._instrumentation_scope)
    emitter.emit("s", None, {"a": 1}, 1_000, error=False)
    assert emitter.records is True
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))  # another processor sees the spans too
    emitter.emit("s", None, {"a": 1, "gone": None}, 1_000, error=False)
    assert emitter.records is False and dict(memory.get_finished_spans()[0].attributes) == {"a": 1}
    provider.shutdown()
