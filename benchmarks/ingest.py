"""Sustained OTLP/gRPC ingest into chDB through ``arc collector``, with a zero-loss check.

Several sender processes each pre-build their ExportTraceServiceRequests (real SDK spans shaped like
Arc's LLM spans: 11 attributes and one event, every span id unique), then all send at once with a
few RPCs in flight, retrying RESOURCE_EXHAUSTED/UNAVAILABLE like the OTLP exporter does. The clock
stops when the last span is inserted (not merely acknowledged). Reported: spans/s, the collector's
CPU per span and cores used, overload answers, and loss = sent − distinct SpanId in the store.
Baseline in the same run: the same spans converted and inserted straight into
a chDB store in one process (no gRPC), i.e. the store's own ceiling.

    python benchmarks/ingest.py [--senders 4] [--requests 40] [--spans 512] [--inflight 2]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXPORT_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def template_request(spans: int) -> bytes:
    """One request of ``spans`` real SDK spans (Arc LLM-call shape), serialized."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
    from opentelemetry.trace import SpanKind

    finished: list = []

    class Keep(SpanExporter):
        def export(self, batch):
            finished.extend(batch)
            return SpanExportResult.SUCCESS

    provider = TracerProvider(resource=Resource.create({"service.name": "ingest-bench"}))
    provider.add_span_processor(SimpleSpanProcessor(Keep()))
    tracer = provider.get_tracer("arc_agent", "0.1.0")
    for i in range(spans):
        with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT) as span:
            span.set_attributes({
                "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o-mini", "gen_ai.request.temperature": 0.7,
                "gen_ai.request.max_tokens": 256, "gen_ai.request.stream": False,
                "gen_ai.usage.input_tokens": 120 + i % 50, "gen_ai.usage.output_tokens": 40 + i % 20,
                "arc.fix.applied": i % 10 == 0, "arc.fix.pattern_ids": ["p-temp", "p-max"],
                "arc.interception.latency_us": 12.5,
            })
            span.add_event("arc.fix", {"pattern": "p-temp"})
    return encode_spans(finished).SerializeToString()


def build_requests(template: bytes, count: int) -> list:
    """``count`` copies of the template with fresh random trace/span ids."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    out = []
    for _ in range(count):
        request = ExportTraceServiceRequest.FromString(template)
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                for span in ss.spans:
                    span.trace_id = os.urandom(16)
                    span.span_id = os.urandom(8)
        out.append(request.SerializeToString())
    return out


def sender(target: str, requests: list, inflight: int, start, results) -> None:
    import grpc

    channel = grpc.insecure_channel(target, options=[("grpc.max_send_message_length", 64 << 20)])
    export = channel.unary_unary(EXPORT_METHOD, request_serializer=None, response_deserializer=None)
    grpc.channel_ready_future(channel).result(timeout=30)
    retried = 0
    pending = list(reversed(requests))
    start.wait()
    cpu0 = time.process_time()
    active: list = []
    while pending or active:
        while pending and len(active) < inflight:
            data = pending.pop()
            active.append((export.future(data, timeout=60), data))
        future, data = active.pop(0)
        try:
            future.result()
        except grpc.RpcError as err:
            if err.code() not in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE,
                                  grpc.StatusCode.DEADLINE_EXCEEDED):
                raise
            retried += 1
            time.sleep(0.05)
            pending.append(data)
    results.put({"retried": retried, "cpu": time.process_time() - cpu0, "done": time.monotonic()})
    channel.close()


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its threads, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def direct_baseline(payloads: list, store: str, results) -> None:
    """Convert + insert the same requests straight into chDB, batch by batch, in this process."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from arc_agent.collector.store import ChdbStore

    s = ChdbStore(store)
    batch = max(1, 20000 // 512)
    t0, c0 = time.monotonic(), time.process_time()
    for i in range(0, len(payloads), batch):
        s.write([s.prepare(ExportTraceServiceRequest.FromString(p)) for p in payloads[i:i + batch]])
    results.put((time.monotonic() - t0, time.process_time() - c0))
    s.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--requests", type=int, default=40, help="requests per sender")
    parser.add_argument("--spans", type=int, default=512, help="spans per request")
    parser.add_argument("--inflight", type=int, default=2, help="concurrent RPCs per sender")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--collector-args", default="", help="extra `arc collector` options, e.g. '--writers 2'")
    args = parser.parse_args()

    from tests.helpers.collector import CollectorProcess, status, wait_until

    ctx = mp.get_context("fork")
    template = template_request(args.spans)
    payloads = [build_requests(template, args.requests) for _ in range(args.senders)]
    total = args.senders * args.requests * args.spans
    print(f"ingest: {args.senders} senders x {args.requests} requests x {args.spans} spans = {total} spans "
          f"({len(template) / args.spans:.0f} B/span on the wire), {os.cpu_count()} CPUs")

    with tempfile.TemporaryDirectory(prefix="arc-ingest-") as tmp:
        with CollectorProcess(Path(tmp) / "store", args=tuple(args.collector_args.split())) as col:
            start, results = ctx.Event(), ctx.Queue()
            procs = [ctx.Process(target=sender, args=(col.otlp_target, p, args.inflight, start, results))
                     for p in payloads]
            for p in procs:
                p.start()
            time.sleep(1.0)  # let every sender connect
            cpu0 = proc_cpu_seconds(col.pid)
            t0 = time.monotonic()
            start.set()
            reports = [results.get(timeout=600) for _ in procs]
            acked = max(r["done"] for r in reports) - t0
            # acknowledged means logged; sustained ingest ends when the last span is inserted
            wait_until(lambda: status(col)["queued_spans"] == 0, timeout=300, interval=0.01)
            elapsed = time.monotonic() - t0
            cpu = proc_cpu_seconds(col.pid) - cpu0
            for p in procs:
                p.join()
            rows = col.query("SELECT count() AS n, uniqExact(SpanId) AS distinct_spans FROM otel_traces")[0]
            code = col.terminate()
            print("".join(line for line in col.output if "stopped" in line).strip())
        retried = sum(r["retried"] for r in reports)
        sender_cpu = sum(r["cpu"] for r in reports)
        lost = total - rows["distinct_spans"]
        rate = total / elapsed
        print(f"collector: {rate:,.0f} spans/s sustained ({elapsed:.2f} s to the last insert; all acknowledged "
              f"after {acked:.2f} s), {cpu / total * 1e6:.1f} µs CPU/span, {cpu / elapsed:.2f} cores; "
              f"senders {sender_cpu / elapsed:.2f} cores")
        print(f"delivery: {rows['n']} rows, {rows['distinct_spans']} distinct SpanId, lost {lost}, "
              f"duplicates {rows['n'] - rows['distinct_spans']}, retried requests {retried}, exit code {code}")
        if not args.no_baseline:
            q = ctx.Queue()
            flat = [p for chunk in payloads for p in chunk]
            b = ctx.Process(target=direct_baseline, args=(flat, str(Path(tmp) / "direct"), q))
            b.start()
            base_elapsed, base_cpu = q.get(timeout=600)
            b.join()
            base_rate = total / base_elapsed
            print(f"baseline (same spans, convert + insert in one process, no gRPC): {base_rate:,.0f} spans/s, "
                  f"{base_cpu / total * 1e6:.1f} µs CPU/span (main thread)")
            print(f"ratio collector/baseline: {rate / base_rate:.2f}")
    target = 20000
    print(f"target >= {target:,} spans/s with zero loss: {'MET' if rate >= target and lost == 0 else 'NOT MET'}")
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
