"""A real OTLP/gRPC trace receiver for tests (opentelemetry-proto's servicer on a free port).

Keeps every received request (raw bytes too, so tests can scan all exported bytes for secrets)."""

from __future__ import annotations

import threading
import time
from concurrent import futures

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


def _value(v):
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return tuple(_value(x) for x in v.array_value.values)
    return getattr(v, kind) if kind else None


class ReceivedSpan:
    def __init__(self, span, resource: dict, scope: str) -> None:
        self.name = span.name
        self.kind = span.kind
        self.trace_id = span.trace_id.hex()
        self.span_id = span.span_id.hex()
        self.parent_span_id = span.parent_span_id.hex()
        self.attributes = {kv.key: _value(kv.value) for kv in span.attributes}
        self.status_code = span.status.code
        self.resource = resource
        self.scope = scope
        self.start_ns = span.start_time_unix_nano
        self.end_ns = span.end_time_unix_nano
        self.links = [(link.trace_id.hex(), link.span_id.hex()) for link in span.links]

    def __repr__(self) -> str:
        return f"ReceivedSpan({self.name!r}, {self.attributes!r})"


class _Servicer(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, owner: OTLPReceiver) -> None:
        self.owner = owner

    def Export(self, request, context):  # noqa: N802 - gRPC method name
        if self.owner.hold_first and not self.owner.held.is_set():  # this call never answers until released
            self.owner.held.set()
            self.owner.release.wait(120)
            return trace_service_pb2.ExportTraceServiceResponse()
        self.owner.metadata.append(dict(context.invocation_metadata()))
        self.owner._add(request)
        return trace_service_pb2.ExportTraceServiceResponse()


class OTLPReceiver:
    def __init__(self, port: int = 0, hold_first: bool = False) -> None:
        """``hold_first``: the first export call gets no answer until ``release`` is set (a collector
        hanging mid-call); ``held`` is set once that call arrived."""
        self.hold_first, self.held, self.release = hold_first, threading.Event(), threading.Event()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self.spans: list = []
        self.raw: list = []
        self.metadata: list = []
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_Servicer(self), self.server)
        self.port = self.server.add_insecure_port(f"127.0.0.1:{port}")

    @property
    def endpoint(self) -> str:
        return f"grpc://127.0.0.1:{self.port}"

    def _add(self, request) -> None:
        spans = []
        for rs in request.resource_spans:
            resource = {kv.key: _value(kv.value) for kv in rs.resource.attributes}
            for ss in rs.scope_spans:
                spans.extend(ReceivedSpan(s, resource, ss.scope.name) for s in ss.spans)
        with self._cond:
            self.raw.append(request.SerializeToString())
            self.spans.extend(spans)
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = 15.0) -> list:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.spans) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} spans, got {len(self.spans)}: {self.spans!r}")
                self._cond.wait(left)
            return list(self.spans)

    def __enter__(self) -> OTLPReceiver:
        self.server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.stop(0)
