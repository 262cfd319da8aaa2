"""Attribute stringification exactly as pdata's ``Value.AsString`` (what the contrib exporter stores),
and the chDB fast path (RowBinary) agreeing with the reference row conversion."""

from __future__ import annotations

import os

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from arc_agent.collector.convert import COLUMNS, InvalidSpans, go_float, span_rows, value_string
from tests.helpers.collector import raw_export


@pytest.mark.parametrize("value, text", [
    (0.62, "0.62"), (1.0, "1"), (-0.0, "-0"), (0.0, "0"), (123456789.0, "123456789"), (1.5e-5, "0.000015"),
    (1e-6, "0.000001"), (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (2.5e-10, "2.5e-10"), (1e16, "10000000000000000"),
    (1e20, "100000000000000000000"), (1e21, "1e+21"), (1.2345e300, "1.2345e+300"), (-3.25, "-3.25"),
    (0.1 + 0.2, "0.30000000000000004"), (float("nan"), "json: unsupported value: NaN"),
    (float("inf"), "json: unsupported value: +Inf"), (float("-inf"), "json: unsupported value: -Inf"),
])
def test_doubles_print_like_go(value, text):
    assert go_float(value) == text


def kv(key: str, value: AnyValue) -> KeyValue:
    return KeyValue(key=key, value=value)


def arr(*values: AnyValue) -> AnyValue:
    return AnyValue(array_value=ArrayValue(values=list(values)))


@pytest.mark.parametrize("value, text", [
    (AnyValue(string_value="plain"), "plain"),
    (AnyValue(string_value=""), ""),
    (AnyValue(), ""),
    (AnyValue(int_value=-42), "-42"),
    (AnyValue(int_value=2**63 - 1), "9223372036854775807"),
    (AnyValue(bool_value=True), "true"),
    (AnyValue(bool_value=False), "false"),
    (AnyValue(double_value=2.0), "2"),
    (AnyValue(bytes_value=b"\x00\x01hi"), "AAFoaQ=="),
    (arr(AnyValue(int_value=1), AnyValue(int_value=2), AnyValue(int_value=3)), "[1,2,3]"),
    (arr(AnyValue(string_value="a"), AnyValue(string_value="b")), '["a","b"]'),
    (arr(AnyValue(int_value=1), AnyValue(string_value="two"), AnyValue(bool_value=True),
         AnyValue(double_value=2.5), AnyValue(double_value=3.0), AnyValue()), '[1,"two",true,2.5,3,null]'),
    (arr(), "[]"),
    (arr(AnyValue(string_value='x<y>&"q"\n')), '["x\\u003cy\\u003e\\u0026\\"q\\"\\n"]'),
    (arr(AnyValue(string_value="grüße")), '["grüße"]'),
    (arr(AnyValue(bytes_value=b"hi")), '["aGk="]'),
    (arr(AnyValue(double_value=float("nan"))), ""),  # Go's json.Marshal fails; the exporter keeps ""
    (AnyValue(kvlist_value=KeyValueList(values=[kv("b", AnyValue(int_value=1)), kv("a", AnyValue(string_value="x")),
                                                kv("c", arr(AnyValue(bool_value=False)))])),
     '{"a":"x","b":1,"c":[false]}'),
])
def test_any_value_as_string(value, text):
    assert value_string(value) == text


def span(name: str, **fields) -> Span:
    base = dict(trace_id=os.urandom(16), span_id=os.urandom(8), name=name,
                start_time_unix_nano=1_700_000_000_123_456_789, end_time_unix_nano=1_700_000_000_123_999_999)
    base.update(fields)
    return Span(**base)


def test_invalid_ids_are_rejected_and_zero_ids_are_empty():
    bad = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(
        spans=[span("x", span_id=b"12345")])])])
    with pytest.raises(InvalidSpans, match="span_id must be 8 bytes"):
        span_rows(bad)
    zero = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(
        spans=[span("z", parent_span_id=bytes(8), trace_id=bytes(16))])])])
    (row,) = span_rows(zero)
    assert row[COLUMNS.index("TraceId")] == "" and row[COLUMNS.index("ParentSpanId")] == ""


def test_chdb_rows_equal_the_reference_conversion(collector):
    """A request with every value type goes through gRPC + RowBinary into chDB; what comes back equals
    ``span_rows`` (the conversion the ClickHouse-server store sends through clickhouse-driver)."""
    attrs = [kv("s", AnyValue(string_value="v")), kv("i", AnyValue(int_value=7)), kv("d", AnyValue(double_value=0.5)),
             kv("b", AnyValue(bool_value=True)), kv("raw", AnyValue(bytes_value=b"\xff")),
             kv("list", arr(AnyValue(int_value=1), AnyValue(string_value="é"))),
             kv("map", AnyValue(kvlist_value=KeyValueList(values=[kv("z", AnyValue(int_value=1))]))),
             kv("empty", AnyValue())]
    request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource=Resource(attributes=[kv("service.name", AnyValue(string_value="svc")),
                                      kv("host.cpus", AnyValue(int_value=2))]),
        scope_spans=[ScopeSpans(scope=InstrumentationScope(name="scope", version="9"), spans=[
            span("everything", kind=Span.SPAN_KIND_PRODUCER, attributes=attrs, trace_state="k=v",
                 status=Status(code=Status.STATUS_CODE_ERROR, message="bad"),
                 events=[Span.Event(time_unix_nano=1_700_000_000_200_000_000, name="e1", attributes=attrs[:2]),
                         Span.Event(time_unix_nano=1_700_000_000_300_000_000, name="e2")],
                 links=[Span.Link(trace_id=os.urandom(16), span_id=os.urandom(8), trace_state="a=b",
                                  attributes=attrs[2:4])]),
            span("plain", parent_span_id=os.urandom(8), kind=7),  # unknown kind -> ""
        ])])])
    assert raw_export(collector.otlp_target, request.SerializeToString())[0] == grpc.StatusCode.OK
    assert collector.wait_for_count("SELECT count() FROM otel_traces", 2) == 2
    expected = {r[COLUMNS.index("SpanName")]: r for r in span_rows(request)}
    select = ", ".join(f"`{c}`" for c in COLUMNS).replace("`Timestamp`", "toUnixTimestamp64Nano(Timestamp)")
    select = select.replace("`Events.Timestamp`", "arrayMap(t -> toUnixTimestamp64Nano(t), `Events.Timestamp`)")
    rows = collector.query(f"SELECT {select} FROM otel_traces")
    assert len(rows) == 2
    for got in rows:
        values = tuple(got.values())
        want = expected[values[COLUMNS.index("SpanName")]]
        assert values == tuple(list(v) if isinstance(v, list) else v for v in want)
