"""Kept spans ended off the app's thread (``telemetry/ending.py``): the exported span is the one the
caller's thread would have ended (attributes, status, end time), nothing queued is lost at a flush,
and past the bound the caller's thread ends its own span."""

import threading
import time

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status, StatusCode

from arc_agent.telemetry.ending import SpanEnder


class Keep(SpanExporter):
    """Keeps each ended span with the thread that ended it (a simple processor exports in ``end``)."""

    def __init__(self, want: int = 0) -> None:
        self.spans: list = []
        self.threads: set = set()
        self.want = want
        self.enough = threading.Event()

    def export(self, spans):
        self.spans.extend(spans)
        self.threads.add(threading.get_ident())
        if self.want and len(self.spans) >= self.want:
            self.enough.set()
        return SpanExportResult.SUCCESS


def pipeline(want: int = 0):
    keep = Keep(want)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(keep))
    return provider.get_tracer("arc_agent"), keep


def test_spans_end_in_the_worker_with_the_callers_attributes_status_and_end_time():
    tracer, keep = pipeline(want=10)
    ender = SpanEnder(batch_s=0.01, batch=4)
    ender.start()
    window = []
    for i in range(10):
        span = tracer.start_span(f"s{i}", attributes={"gen_ai.operation.name": "chat"})
        before = time.time_ns()
        ender.end(span, {"arc.outcome": "ok", "n": i}, Status(StatusCode.ERROR) if i == 3 else None)
        window.append((before, time.time_ns()))
    assert keep.enough.wait(10), f"{len(keep.spans)} of 10 spans ended"
    assert keep.threads and threading.get_ident() not in keep.threads  # none ended on the caller's thread
    by_name = {s.name: s for s in keep.spans}
    for i, (before, after) in enumerate(window):
        span = by_name[f"s{i}"]
        assert dict(span.attributes) == {"gen_ai.operation.name": "chat", "arc.outcome": "ok", "n": i}
        assert before <= span.end_time <= after  # the call's end, not the worker's
        assert span.status.status_code is (StatusCode.ERROR if i == 3 else StatusCode.UNSET)
    ender.stop()


def test_drain_ends_everything_queued_before_it_returns():
    tracer, keep = pipeline()
    ender = SpanEnder(batch_s=60, idle_s=60, batch=10_000)  # the worker would wait a minute
    ender.start()
    for i in range(200):
        ender.end(tracer.start_span(f"s{i}"), {"i": i})
    ender.drain()
    assert sorted(s.attributes["i"] for s in keep.spans) == list(range(200))
    assert ender.pending() == 0
    ender.stop()


def test_past_the_bound_and_after_stop_the_caller_ends_its_own_span():
    tracer, keep = pipeline()
    ender = SpanEnder(batch_s=60, idle_s=60, batch=10_000, max_pending=5)
    ender.start()
    for i in range(8):
        ender.end(tracer.start_span(f"s{i}"), None)
    # the first span may already be in the worker's hands; at most 5 wait, the rest ended here
    assert len(keep.spans) >= 2 and threading.get_ident() in keep.threads
    ender.stop()
    assert len(keep.spans) == 8
    ender.end(tracer.start_span("late"), {"late": True})
    assert keep.spans[-1].name == "late" and keep.spans[-1].attributes["late"] is True


def test_a_failing_span_end_is_counted_and_the_others_still_end():
    from arc_agent import failopen

    class Broken:
        def set_attributes(self, attributes):
            raise RuntimeError("broken span")

    tracer, keep = pipeline()
    ender = SpanEnder(batch_s=60, idle_s=60, batch=10_000)
    ender.start()
    before = failopen.counts().get("span_end", 0)
    ender.end(Broken(), {"a": 1})
    ender.end(tracer.start_span("ok"), {"a": 1})
    ender.drain()
    assert [s.name for s in keep.spans] == ["ok"]
    assert failopen.counts().get("span_end", 0) == before + 1
    ender.stop()


def test_a_pending_span_is_made_with_the_decision_ids_and_times_of_the_apps_thread():
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON
    from opentelemetry.trace import SpanKind, TraceFlags, set_span_in_context

    from arc_agent.telemetry.ending import PendingSpan, preset_parts

    class Counting:  # the inner sampler is asked only for spans not decided on the app's thread
        def __init__(self):
            self.asked = 0

        def should_sample(self, *args, **kwargs):
            self.asked += 1
            return ALWAYS_ON.should_sample(*args, **kwargs)

        def get_description(self):
            return "Counting"

    preset_sampler, preset_ids = preset_parts()
    inner, keep = Counting(), Keep(want=1)
    provider = TracerProvider(sampler=preset_sampler(inner), id_generator=preset_ids())
    provider.add_span_processor(SimpleSpanProcessor(keep))
    tracer = provider.get_tracer("arc_agent")
    parent = tracer.start_span("app parent")  # an ordinary span: inner sampler, random ids
    assert inner.asked == 1
    ctx = set_span_in_context(parent)
    decided = ALWAYS_ON.should_sample(ctx, parent.get_span_context().trace_id, "chat m", SpanKind.CLIENT,
                                      {"gen_ai.operation.name": "chat"})
    pending = PendingSpan("chat m", ctx, SpanKind.CLIENT, {"gen_ai.operation.name": "chat"}, 1_000,
                          parent.get_span_context().trace_id, 0xABCDEF, decided, TraceFlags.SAMPLED)
    ender = SpanEnder(tracer, batch_s=60, idle_s=60, batch=10_000)
    ender.start()
    ender.end(pending, {"arc.outcome": "ok"})
    ender.drain()
    (span,) = keep.spans
    assert inner.asked == 1  # the app thread's decision was used
    assert span.context.span_id == 0xABCDEF == pending.get_span_context().span_id
    assert span.context.trace_id == parent.get_span_context().trace_id == pending.get_span_context().trace_id
    assert span.parent.span_id == parent.get_span_context().span_id
    assert span.start_time == 1_000 and span.end_time > span.start_time and span.kind is SpanKind.CLIENT
    assert dict(span.attributes) == {"gen_ai.operation.name": "chat", "arc.outcome": "ok"}
    other = tracer.start_span("after")  # the presets were for that one span only
    assert inner.asked == 2 and other.get_span_context().span_id != 0xABCDEF
    ender.stop()
