"""Hostile OTLP requests are bounded: spans per request, message size, nesting, cache memory;
the store is private; with a token the receiver authenticates; beyond loopback it needs TLS + token."""

from __future__ import annotations

import os
import stat
import subprocess

import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from arc_agent.collector import rowbinary
from tests.helpers.certs import make_cert
from tests.helpers.collector import (
    EXPORT_METHOD,
    CollectorProcess,
    arc_command,
    raw_export,
    sdk_tracer_provider,
    status,
    wait_until,
)


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def empty_spans_request(count: int) -> bytes:
    """``count`` empty spans (2 bytes each on the wire): 1M of them is a 2 MB request."""
    spans = b"\x12\x00" * count  # ScopeSpans.spans, empty
    scope = b"\x12" + _varint(len(spans)) + spans  # ResourceSpans.scope_spans
    return b"\x0a" + _varint(len(scope)) + scope  # ExportTraceServiceRequest.resource_spans


def one_span(name: str = "s", attributes=()) -> ExportTraceServiceRequest:
    span = Span(trace_id=os.urandom(16), span_id=os.urandom(8), name=name, attributes=list(attributes),
                start_time_unix_nano=1_700_000_000 * 10**9, end_time_unix_nano=1_700_000_000 * 10**9 + 1)
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])])


def nested_value(depth: int) -> AnyValue:
    """A kvlist in a kvlist ... ``depth`` levels deep."""
    value = AnyValue(string_value="leaf")
    for _ in range(depth):
        value = AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key="k", value=value)]))
    return value


def _field(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _varint(len(body)) + body


def deep_attribute_request(depth: int) -> bytes:
    """One span whose attribute nests ``depth`` kvlists, built on the wire (protobuf itself refuses
    to build what it cannot parse back)."""
    value = _field(0x0A, b"leaf")  # AnyValue.string_value
    for _ in range(depth):
        pair = _field(0x0A, b"k") + _field(0x12, value)  # KeyValue.key, .value
        value = _field(0x32, _field(0x0A, pair))  # AnyValue.kvlist_value -> KeyValueList.values
    span = one_span("deep").resource_spans[0].scope_spans[0].spans[0].SerializeToString()
    span += _field(0x4A, _field(0x0A, b"a") + _field(0x12, value))  # Span.attributes
    return _field(0x0A, _field(0x12, _field(0x12, span)))  # request.resource_spans.scope_spans.spans


def export_with(target: str, payload: bytes, *, metadata=(), compression=None):
    channel = grpc.insecure_channel(target, compression=compression)
    try:
        channel.unary_unary(EXPORT_METHOD, request_serializer=None, response_deserializer=None)(
            payload, timeout=30, metadata=metadata)
        return grpc.StatusCode.OK, ""
    except grpc.RpcError as err:
        return err.code(), err.details()
    finally:
        channel.close()


def test_too_many_spans_in_one_request_is_refused_naming_the_limit(tmp_path):
    with CollectorProcess(tmp_path / "store", args=("--max-request-spans", "1000")) as col:
        code, details, trailers = raw_export(col.otlp_target, empty_spans_request(1_000_000))
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "1000000 spans" in details and "--max-request-spans (1000)" in details
        assert "google.rpc.retryinfo-bin" not in dict(trailers)  # retrying the same request cannot help
        assert status(col)["queued_spans"] == 0
        assert raw_export(col.otlp_target, empty_spans_request(1000))[0] == grpc.StatusCode.OK
        assert col.wait_for_count("SELECT count() FROM otel_traces", 1000) == 1000


def test_message_size_is_bounded_after_decompression(tmp_path):
    with CollectorProcess(tmp_path / "store", args=("--max-request-mb", "1")) as col:
        big = one_span("x" * (2 * 1024 * 1024)).SerializeToString()
        assert raw_export(col.otlp_target, big)[0] == grpc.StatusCode.RESOURCE_EXHAUSTED
        # 2 MB of one letter gzips to a few KB: the limit applies to what it inflates to
        code, _ = export_with(col.otlp_target, big, compression=grpc.Compression.Gzip)
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert raw_export(col.otlp_target, one_span("small").SerializeToString())[0] == grpc.StatusCode.OK


def test_deep_attribute_nesting_is_refused_shallow_nesting_stored(tmp_path):
    with CollectorProcess(tmp_path / "store") as col:
        code, details, _ = raw_export(col.otlp_target, deep_attribute_request(300))
        assert code == grpc.StatusCode.INVALID_ARGUMENT, details
        assert ExportTraceServiceRequest.FromString(deep_attribute_request(20))  # the encoding is right
        shallow = one_span("shallow", [KeyValue(key="a", value=nested_value(20))]).SerializeToString()
        assert raw_export(col.otlp_target, shallow)[0] == grpc.StatusCode.OK
        assert col.wait_for_count("SELECT count() FROM otel_traces WHERE SpanName = 'shallow'", 1) == 1
        assert col.scalar("SELECT SpanAttributes['a'] FROM otel_traces WHERE SpanName = 'shallow'").count('"k"') == 20


def test_string_cache_is_bounded_by_bytes_and_skips_long_strings():
    rowbinary._key_cache.clear()
    rowbinary._key_cache_bytes = 0
    for i in range(100):  # 100 requests with unique 4 MB span names: none is kept
        rowbinary.encode_request(one_span(f"{i:03d}" + "n" * (4 * 1024 * 1024)))
    assert rowbinary.key_cache_bytes() < 1024
    for i in range(300_000):  # many unique short names: the cache stays under its byte bound
        rowbinary._key(f"name-{i:012d}")
        assert rowbinary.key_cache_bytes() <= rowbinary._KEY_CACHE_MAX_BYTES
    assert sum(len(v) for v in rowbinary._key_cache.values()) == rowbinary.key_cache_bytes()


def test_the_collector_store_is_private(tmp_path):
    with CollectorProcess(tmp_path / "store") as col:
        assert raw_export(col.otlp_target, one_span("private").SerializeToString())[0] == grpc.StatusCode.OK
        assert col.wait_for_count("SELECT count() FROM otel_traces", 1) == 1
    assert stat.S_IMODE(col.store.stat().st_mode) == 0o700
    shared = [str(p) for p in col.store.rglob("*") if not p.is_symlink() and p.stat().st_mode & 0o077]
    assert not shared, shared[:5]


def test_with_a_token_only_authenticated_senders_are_served(tmp_path, monkeypatch):
    token = "t0ken-" + os.urandom(12).hex()
    token_file = tmp_path / "otlp.token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    with CollectorProcess(tmp_path / "store", args=("--auth-token-file", str(token_file))) as col:
        payload = one_span("anonymous").SerializeToString()
        assert export_with(col.otlp_target, payload)[0] == grpc.StatusCode.UNAUTHENTICATED
        wrong = (("authorization", "Bearer wrong-token-123456"),)
        assert export_with(col.otlp_target, payload, metadata=wrong)[0] == grpc.StatusCode.UNAUTHENTICATED
        # the agent's exporter passes it through the standard variable
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"authorization=Bearer%20{token}")
        provider = sdk_tracer_provider(col.otlp_target)
        with provider.get_tracer("auth").start_as_current_span("authenticated"):
            pass
        assert provider.force_flush(timeout_millis=30_000)
        provider.shutdown()
        assert col.wait_for_count("SELECT count() FROM otel_traces WHERE SpanName = 'authenticated'", 1) == 1
        assert col.scalar("SELECT count() FROM otel_traces WHERE SpanName = 'anonymous'") == 0


def test_a_token_file_others_can_read_is_refused(tmp_path):
    token_file = tmp_path / "otlp.token"
    token_file.write_text("a-long-enough-token-value\n")
    token_file.chmod(0o644)
    out = subprocess.run(arc_command("collector", "--listen", "127.0.0.1:0", "--query-listen", "off",
                                     "--store", str(tmp_path / "store"), "--auth-token-file", str(token_file)),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "readable by others" in out.stderr


def test_listening_beyond_loopback_needs_tls_and_a_token(tmp_path):
    out = subprocess.run(arc_command("collector", "--listen", "0.0.0.0:0", "--query-listen", "off",
                                     "--store", str(tmp_path / "store")), capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "--tls-cert" in out.stderr and "--auth-token-file" in out.stderr
    cert, key = make_cert(tmp_path)
    token_file = tmp_path / "otlp.token"
    token_file.write_text("another-long-enough-token\n")
    token_file.chmod(0o600)
    col = CollectorProcess(tmp_path / "store2", tls_cert=cert, tls_key=key,
                           args=("--listen", "0.0.0.0:0", "--auth-token-file", str(token_file)))
    with col:
        assert col.otlp_endpoint.startswith("grpcs://0.0.0.0:")


def test_bytes_held_across_requests_are_bounded_and_every_refusal_gives_them_back(tmp_path):
    """Parsed and converted, a request takes several times its size until stored (8 concurrent 60 MB
    requests took the collector to 3.2 GB): past --max-queue-mb a request is refused with RetryInfo,
    and accepted once the held requests are stored; refused, empty and malformed requests hold nothing."""
    args = ("--max-queue-mb", "8", "--linger-ms", "5000", "--max-request-spans", "10")
    with CollectorProcess(tmp_path / "store", args=args) as col:
        big = one_span("first", [KeyValue(key="blob", value=AnyValue(string_value="a" * (6 << 20)))])
        second = one_span("second", [KeyValue(key="blob", value=AnyValue(string_value="b" * (6 << 20)))])
        assert raw_export(col.otlp_target, big.SerializeToString())[0] == grpc.StatusCode.OK
        code, details, trailers = raw_export(col.otlp_target, second.SerializeToString())
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and "--max-queue-mb" in details, details
        assert "google.rpc.retryinfo-bin" in dict(trailers)
        assert col.wait_for_count("SELECT count() FROM otel_traces", 1) == 1  # the held one is stored
        assert raw_export(col.otlp_target, second.SerializeToString())[0] == grpc.StatusCode.OK
        for refused in (b"\xff\xff not protobuf", ExportTraceServiceRequest().SerializeToString(),
                        empty_spans_request(11)):
            assert raw_export(col.otlp_target, refused)[0] != grpc.StatusCode.UNKNOWN
        assert col.wait_for_count("SELECT count() FROM otel_traces", 2) == 2
        assert wait_until(lambda: status(col)["queued_bytes"] == 0, 30), status(col)
