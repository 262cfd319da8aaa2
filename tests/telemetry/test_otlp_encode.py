"""Arc's direct OTLP encoder builds exactly the message the SDK's encoder builds."""

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from arc_agent.telemetry.otlp_encode import encode


class Keep(SpanExporter):
    def __init__(self) -> None:
        self.spans: list = []

    def export(self, spans):
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def make_spans() -> list:
    keep = Keep()
    provider = TracerProvider(resource=Resource.create({"service.name": "enc", "n": 3, "deployment.ok": True}))
    provider.add_span_processor(SimpleSpanProcessor(keep))
    tracer = provider.get_tracer("arc_agent", "1.2.3")
    other = provider.get_tracer("other-scope")
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4ö", "empty": "", "t": True, "f": False,
             "zero": 0, "neg": -42, "big": 2**62, "pi": 3.25, "negf": -0.0, "seq": ("a", "b"), "bools": (True, False),
             "ints": (1, -2), "floats": (0.5,), "none_seq": ()}
    with tracer.start_as_current_span("parent", kind=SpanKind.SERVER):
        span = tracer.start_span("chat gpt-4", kind=SpanKind.CLIENT, attributes=attrs)
        span.set_status(Status(StatusCode.ERROR, "boom"))
        span.end()
        tracer.start_span("ok", attributes={"gen_ai.request.model": "gpt-4ö"}).end()  # cached pair reused
    remote = SpanContext(trace_id=7, span_id=9, is_remote=True, trace_flags=TraceFlags(1))
    other.start_span("from remote", context=trace.set_span_in_context(NonRecordingSpan(remote)),
                     kind=SpanKind.CONSUMER).end()
    tracer.start_span("status ok").end()
    with_event = tracer.start_span("with event")
    with_event.add_event("e", {"k": 1})  # the SDK encoder's job
    with_event.end()
    tracer.start_span("bytes", attributes={"b": b"\x00\x01"}).end()  # ditto
    return keep.spans


def test_same_message_as_the_sdk_encoder():
    spans = make_spans()
    plain = [s for s in spans if s.name not in ("with event", "bytes")]
    for batch in (plain, plain[:1], spans, spans[-1:]):
        ours = ExportTraceServiceRequest.FromString(encode(batch))
        sdk = encode_spans(batch)
        assert ours == sdk, (ours, sdk)
    assert encode([]) == encode_spans([]).SerializeToString() == b""


def test_cached_pairs_do_not_mix_bool_and_int_or_resource_and_span_fields():
    keep = Keep()
    provider = TracerProvider(resource=Resource.create({"x": True}))
    provider.add_span_processor(SimpleSpanProcessor(keep))
    t = provider.get_tracer("t")
    t.start_span("a", attributes={"x": True}).end()
    t.start_span("b", attributes={"x": 1}).end()
    t.start_span("c", attributes={"x": "1"}).end()
    assert ExportTraceServiceRequest.FromString(encode(keep.spans)) == encode_spans(keep.spans)


def test_arc_emitter_spans_and_the_per_key_cache_encode_like_the_sdk():
    """Arc's own spans (DirectEmitter: plain-dict attributes, template-built ReadableSpan), with a
    volatile key (more values than the per-key cache keeps), bool/int/float values that compare
    equal, and tuples of strings and of numbers."""
    from arc_agent.telemetry.emit import DirectEmitter

    keep = Keep()
    provider = TracerProvider(resource=Resource.create({"service.name": "enc"}))
    provider.add_span_processor(SimpleSpanProcessor(keep))
    tracer = provider.get_tracer("arc_agent", "1.0")
    emitter = DirectEmitter(provider, tracer._instrumentation_scope)
    assert emitter._template is not None  # the fast construction is in use with this SDK
    parent = trace.set_span_in_context(NonRecordingSpan(
        SpanContext(trace_id=5, span_id=6, is_remote=True, trace_flags=TraceFlags(1))))
    for i in range(150):
        flag = (True, 1, 1.0)[i % 3]
        attrs = {"gen_ai.operation.name": "chat", "gen_ai.response.id": f"id-{i}", "x": flag,
                 "reasons": ("stop",) if i % 2 else (1, True), "arc.interception.latency_us": i % 70}
        emitter.emit(f"chat m{i % 3}", parent if i % 4 == 0 else None, attrs, 1_000 + i, error=i % 5 == 0)
    spans = keep.spans
    assert len(spans) == 150
    for batch in (spans[:1], spans[:70], spans):
        assert ExportTraceServiceRequest.FromString(encode(batch)) == encode_spans(batch)


def test_span_records_encode_like_the_sdk_spans_they_stand_for():
    """Arc's DirectEmitter queues plain tuples when this encoder alone takes its spans: they encode
    to the message the SDK encoder builds for the equivalent spans (ids drawn by the encoder), None
    attributes dropped; and a batch the direct encoder cannot write still goes through the SDK's."""
    from opentelemetry.sdk.trace import ReadableSpan

    from arc_agent.telemetry.emit import DirectEmitter
    from arc_agent.telemetry.otlp_encode import readable

    keep = Keep()
    provider = TracerProvider(resource=Resource.create({"service.name": "enc"}))
    provider.add_span_processor(SimpleSpanProcessor(keep))
    emitter = DirectEmitter(provider, provider.get_tracer("arc_agent", "1.0")._instrumentation_scope)
    records: list = []
    emitter.records, emitter._sink, emitter._multi = True, records.append, None  # as with Arc's own pipeline
    local = trace.set_span_in_context(NonRecordingSpan(SpanContext(5, 6, False, TraceFlags(1))))
    remote = trace.set_span_in_context(NonRecordingSpan(SpanContext(7, 9, True, TraceFlags(1))))
    unsampled = trace.set_span_in_context(NonRecordingSpan(SpanContext(7, 9, True, TraceFlags(0))))
    emitter.emit("chat root", None, {"a": 1, "gone": None, "b": "x"}, 1_000, error=False)
    emitter.emit("chat local", local, {"a": 2}, 2_000, error=True)
    emitter.emit("chat remote", remote, {}, 3_000, error=False)
    emitter.emit("chat unsampled", unsampled, {}, 4_000, error=False)
    assert [r[0] for r in records] == ["chat root", "chat local", "chat remote"] and not keep.spans
    ours = ExportTraceServiceRequest.FromString(encode(records))
    drawn = ours.resource_spans[0].scope_spans[0].spans
    assert [kv.key for kv in drawn[0].attributes] == ["a", "b"]
    assert drawn[1].trace_id == (5).to_bytes(16, "big") and drawn[2].trace_id == (7).to_bytes(16, "big")
    sdk_spans = []
    for record, span in zip(records, drawn):
        proto = readable(record)
        fields = dict(vars(proto))
        ctx = fields["_context"]
        fields["_context"] = SpanContext(int.from_bytes(span.trace_id, "big"), int.from_bytes(span.span_id, "big"),
                                         False, ctx.trace_flags)
        if fields["_parent"] is not None:
            p = fields["_parent"]
            fields["_parent"] = SpanContext(int.from_bytes(span.trace_id, "big"), p.span_id, p.is_remote,
                                            p.trace_flags)
        same = object.__new__(ReadableSpan)
        same.__dict__ = fields
        sdk_spans.append(same)
    assert ours == encode_spans(sdk_spans)
    odd = (*records[0][:4], {"bytes": b"\x00"}, *records[0][5:])  # a value only the SDK encoder writes
    message = ExportTraceServiceRequest.FromString(encode([odd]))
    assert message.resource_spans[0].scope_spans[0].spans[0].name == "chat root"


def test_record_attributes_built_by_the_encoder_and_a_failing_builder_keeps_the_span():
    from arc_agent import failopen

    def build(model, own):
        return {"gen_ai.request.model": model, **own}

    def broken(own):
        raise RuntimeError("boom")

    resource = Resource.create({"service.name": "enc"})
    base = ("chat m", 0, 0, False, None, 1_000, 2_000, False, resource, None)
    built = (*base[:4], (build, "m", {"latency": 3}), *base[5:])
    failing = (*base[:4], (broken, {"latency": 4}), *base[5:])
    errors0 = failopen.counts().get("span attributes", 0)
    spans = ExportTraceServiceRequest.FromString(encode([built, failing])).resource_spans[0].scope_spans[0].spans
    assert [kv.key for kv in spans[0].attributes] == ["gen_ai.request.model", "latency"]
    assert [kv.key for kv in spans[1].attributes] == ["latency"]  # the call's own attributes survive
    assert failopen.counts()["span attributes"] == errors0 + 1
