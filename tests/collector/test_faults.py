"""Crash, shutdown, overload, bad input and TLS: the store keeps every accepted span and nothing else."""

from __future__ import annotations

import os
import subprocess
import threading

import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from tests.helpers.certs import make_cert
from tests.helpers.collector import (
    CollectorProcess,
    arc_command,
    raw_export,
    sdk_tracer_provider,
    status,
    wait_until,
)


def request_bytes(count: int, name: str = "raw", span_id_size: int = 8) -> bytes:
    spans = [Span(trace_id=os.urandom(16), span_id=os.urandom(span_id_size), name=name,
                  start_time_unix_nano=1_700_000_000_000_000_000 + i, end_time_unix_nano=1_700_000_000_000_001_000 + i)
             for i in range(count)]
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])]
                                     ).SerializeToString()


def count(col, where: str = "1") -> int:
    return col.scalar(f"SELECT uniqExact(SpanId) FROM otel_traces WHERE {where}")


def test_sigkill_mid_run_then_restart_loses_nothing(tmp_path):
    total, half = 3000, 1500
    col = CollectorProcess(tmp_path / "store").start()
    provider = sdk_tracer_provider(col.otlp_target, batch=100, timeout=60)
    tracer = provider.get_tracer("fault")
    try:
        for _ in range(half):
            with tracer.start_as_current_span("before"):
                pass
        assert wait_until(lambda: count(col) > 0)  # part of it committed, part still queued in the SDK
        col.kill()
        for _ in range(total - half):  # spans keep coming while the collector is down
            with tracer.start_as_current_span("after"):
                pass
        col.start()  # same port, same store
        assert provider.force_flush(timeout_millis=90_000)
        assert col.wait_for_count("SELECT uniqExact(SpanId) FROM otel_traces", total, timeout=60) == total
        assert col.scalar("SELECT count() FROM otel_traces") >= total  # duplicates allowed, losses not
    finally:
        provider.shutdown()
        col.terminate()


def test_acknowledged_spans_survive_sigkill_in_the_span_log(tmp_path):
    col = CollectorProcess(tmp_path / "store", args=("--linger-ms", "60000")).start()
    assert raw_export(col.otlp_target, request_bytes(50, "logged"))[0] == grpc.StatusCode.OK  # acked...
    assert status(col)["queued_spans"] == 50 and count(col) == 0  # ...but not inserted yet
    col.kill()
    assert list((col.store / "arc_wal").glob("*.seg"))  # the crash left it in the log
    col.args = ()
    col.start()  # replays the log before serving
    assert count(col, "SpanName = 'logged'") == 50
    assert status(col)["replayed_spans"] == 50 and status(col)["log_segments"] == 0
    col.terminate()


def test_sigterm_inserts_everything_accepted_then_exits_cleanly(tmp_path):
    col = CollectorProcess(tmp_path / "store", args=("--linger-ms", "60000")).start()
    assert raw_export(col.otlp_target, request_bytes(50, "pending"))[0] == grpc.StatusCode.OK
    assert status(col)["queued_spans"] == 50
    assert col.terminate() == 0
    assert "stopped; 50 spans written" in "".join(col.output)
    assert not list((col.store / "arc_wal").glob("*.seg"))
    out = subprocess.run(arc_command("query", "SELECT count() FROM otel_traces WHERE SpanName = 'pending'",
                                     "--store", str(col.store)), capture_output=True, text=True, timeout=120)
    assert (out.returncode, out.stdout) == (0, "50\n"), out.stderr  # no collector: the store opened directly


def test_full_queue_answers_resource_exhausted_with_retry_info(tmp_path):
    col = CollectorProcess(tmp_path / "store", args=("--max-queue-spans", "150", "--linger-ms", "60000")).start()
    assert raw_export(col.otlp_target, request_bytes(100, "first"))[0] == grpc.StatusCode.OK
    code, details, trailers = raw_export(col.otlp_target, request_bytes(100, "second"))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED, details
    assert "google.rpc.retryinfo-bin" in dict(trailers)
    assert status(col)["rejected_overload"] == 1
    assert col.terminate() == 0
    assert "stopped; 100 spans written" in "".join(col.output)


def test_under_overload_sdk_retries_deliver_everything(tmp_path):
    args = ("--max-queue-spans", "250", "--linger-ms", "200", "--retry-after-ms", "3000")
    with CollectorProcess(tmp_path / "store", args=args) as col:
        # two 100-span requests fit until their batch is inserted (200 ms later), a third does not; the
        # SDK retries a refused batch 5 times, RetryInfo-spaced: 15 s of patience, ample here

        def send(n: int) -> None:
            provider = sdk_tracer_provider(col.otlp_target, batch=100, timeout=60)
            tracer = provider.get_tracer("burst")
            for _ in range(n):
                with tracer.start_as_current_span("burst"):
                    pass
            provider.shutdown()

        threads = [threading.Thread(target=send, args=(400,)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert status(col)["rejected_overload"] >= 1
        assert col.wait_for_count("SELECT uniqExact(SpanId) FROM otel_traces WHERE SpanName = 'burst'", 1200) == 1200


def test_malformed_payloads_are_refused_and_the_store_is_unharmed(collector):
    assert raw_export(collector.otlp_target, request_bytes(10, "good"))[0] == grpc.StatusCode.OK
    for payload in (b"\xff\xff\xff\xff", b"\x0a\x05\x12\x03abc", request_bytes(3, "bad-id", span_id_size=5)):
        code, details, _ = raw_export(collector.otlp_target, payload)
        assert code == grpc.StatusCode.INVALID_ARGUMENT, (payload, code, details)
    assert raw_export(collector.otlp_target, request_bytes(10, "good-after"))[0] == grpc.StatusCode.OK
    assert collector.wait_for_count("SELECT uniqExact(SpanId) FROM otel_traces", 20) == 20
    assert collector.scalar("SELECT count() FROM otel_traces WHERE SpanName = 'bad-id'") == 0


def test_tls_only_when_certificate_given(tmp_path):
    cert, key = make_cert(tmp_path)
    with CollectorProcess(tmp_path / "store", tls_cert=cert, tls_key=key) as col:
        assert col.otlp_endpoint.startswith("grpcs://")
        with open(cert, "rb") as f:
            credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
        target = f"localhost:{col.otlp_port}"
        provider = sdk_tracer_provider(target, credentials=credentials)
        with provider.get_tracer("tls").start_as_current_span("over-tls"):
            pass
        assert provider.force_flush(timeout_millis=30_000)
        provider.shutdown()
        assert col.wait_for_count("SELECT count() FROM otel_traces WHERE SpanName = 'over-tls'", 1) == 1
        code, _, _ = raw_export(col.otlp_target, request_bytes(1, "plaintext"), timeout=5)
        assert code == grpc.StatusCode.UNAVAILABLE
        assert raw_export(target, request_bytes(1, "raw-tls"), credentials=credentials)[0] == grpc.StatusCode.OK
        assert col.scalar("SELECT count() FROM otel_traces WHERE SpanName = 'plaintext'") == 0


def test_a_second_collector_on_the_same_store_is_refused(collector):
    other = subprocess.run(arc_command("collector", "--listen", "127.0.0.1:0", "--query-listen", "off",
                                       "--store", str(collector.store)),
                           capture_output=True, text=True, timeout=120)
    assert other.returncode == 2 and "cannot open store" in other.stderr
    assert raw_export(collector.otlp_target, request_bytes(1, "still-fine"))[0] == grpc.StatusCode.OK


def test_gzip_compressed_exports_are_accepted(collector):
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(
        endpoint=collector.otlp_target, insecure=True, compression=grpc.Compression.Gzip)))
    with provider.get_tracer("gz").start_as_current_span("gzipped"):
        pass
    provider.shutdown()
    assert collector.wait_for_count("SELECT count() FROM otel_traces WHERE SpanName = 'gzipped'", 1) == 1
