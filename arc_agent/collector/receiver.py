"""OTLP/gRPC TraceService receiver: validate, convert, log, acknowledge; the batch writer inserts.

Status codes follow the OTLP spec: malformed protobuf or invalid ids -> INVALID_ARGUMENT (not
retried, nothing written); queue full -> RESOURCE_EXHAUSTED with a RetryInfo delay (the SDK
retries); more spans in one request than ``max_request_spans`` -> RESOURCE_EXHAUSTED naming the
limit, without RetryInfo (the same request would be refused again); missing or wrong token (when
one is set) -> UNAUTHENTICATED; span log not writable / shutting down -> UNAVAILABLE (retried).
OK means the spans are in the collector's log (``spanlog``) and will reach the store (or, when the
store refuses them even alone, the dead-letter file), across restarts.

Bounds on one request: ``max_request_bytes`` (gRPC refuses a larger message, compressed or not,
with RESOURCE_EXHAUSTED), ``max_request_spans``, and protobuf's own nesting limit (100 levels;
deeper AnyValue nesting is malformed: INVALID_ARGUMENT). Across requests: the bytes held (being
parsed, or queued until stored) are bounded by the writer's ``max_queue_bytes`` (RESOURCE_EXHAUSTED
with RetryInfo above it).
"""

from __future__ import annotations

import hmac
import logging
from concurrent import futures

import grpc
from google.protobuf.message import DecodeError
from google.rpc.error_details_pb2 import RetryInfo
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from arc_agent.collector.convert import InvalidSpans
from arc_agent.collector.writer import BatchWriter, Overloaded, WriterClosed

log = logging.getLogger("arc.collector")

SERVICE_NAME = "opentelemetry.proto.collector.trace.v1.TraceService"
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_REQUEST_SPANS = 50_000  # an SDK sends 512 per export by default; a forwarding collector a few thousand


def _retry_after(seconds: float) -> tuple:
    info = RetryInfo()
    info.retry_delay.FromMilliseconds(int(seconds * 1000))
    return (("google.rpc.retryinfo-bin", info.SerializeToString()),)


class TraceReceiver(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, writer: BatchWriter, *, retry_after: float = 1.0, max_request_spans: int = MAX_REQUEST_SPANS,
                 auth_token: str | None = None) -> None:
        self.writer = writer
        self.retry_after = retry_after
        self.max_request_spans = max_request_spans
        self._expected_auth = f"Bearer {auth_token}".encode() if auth_token else None

    def _authenticate(self, context: grpc.ServicerContext) -> None:
        """With a token set, the ``authorization`` metadata must be ``Bearer <token>`` (constant-time check)."""
        if self._expected_auth is None:
            return
        given = b""
        for key, value in context.invocation_metadata() or ():
            if key == "authorization":
                given = value.encode() if isinstance(value, str) else value
        if not hmac.compare_digest(given, self._expected_auth):
            context.abort(grpc.StatusCode.UNAUTHENTICATED,
                          "missing or wrong 'authorization: Bearer <token>' metadata (see --auth-token-file)")

    def export_bytes(self, data: bytes, context: grpc.ServicerContext):
        """Entry point registered with gRPC: we parse ourselves so bad bytes get INVALID_ARGUMENT."""
        self._authenticate(context)
        self._admit(len(data), context)
        logged = False
        try:
            try:
                request = trace_service_pb2.ExportTraceServiceRequest.FromString(data)
            except (DecodeError, ValueError, RecursionError) as exc:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"malformed ExportTraceServiceRequest: {exc}")
            logged = self._accept(request, data, context)
        finally:
            if not logged:
                self.writer.release(0, len(data))
        return trace_service_pb2.ExportTraceServiceResponse()

    def Export(self, request, context):  # noqa: N802 — name fixed by the generated servicer
        return self.export_bytes(request.SerializeToString(), context)

    def _admit(self, nbytes: int, context) -> None:
        """Bytes held (requests parsing, spans not yet stored) are bounded: a parsed and converted
        request takes several times its size, so concurrent big requests could exhaust memory."""
        self._take(self.writer.admit, nbytes, context)

    def _take(self, take, amount: int, context) -> None:
        """``take(amount)`` of the writer's bounds, or end the call: RESOURCE_EXHAUSTED with a retry
        hint when they are full, UNAVAILABLE when the writer is closing."""
        try:
            take(amount)
        except Overloaded as exc:
            context.set_trailing_metadata(_retry_after(self.retry_after))
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, f"collector overloaded, retry later: {exc}")
        except WriterClosed as exc:
            context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))

    def _accept(self, request, data: bytes, context) -> bool:
        """Convert, log and queue ``request``; True once it is logged (the writer holds its bytes)."""
        spans = sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
        if spans == 0:
            return False
        if spans > self.max_request_spans:
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED,
                          f"request has {spans} spans, more than the collector's --max-request-spans "
                          f"({self.max_request_spans}): send smaller batches")
        self._take(self.writer.reserve, spans, context)
        try:
            prepared = self.writer.store.prepare(request)
        except InvalidSpans as exc:
            self.writer.release(spans)
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"invalid spans: {exc}")
        except Exception as exc:
            self.writer.release(spans)
            log.exception("arc collector: could not convert a request")
            context.abort(grpc.StatusCode.INTERNAL, f"could not convert spans: {exc}")
        try:
            self.writer.accept(data, prepared, reserved=spans)
        except OSError as exc:  # the log cannot be written (disk full?): not accepted, the sender retries
            self.writer.release(spans)
            log.error("arc collector: cannot write the span log: %s", exc)
            context.abort(grpc.StatusCode.UNAVAILABLE, f"collector cannot log spans: {exc}")
        return True


def _handler(receiver: TraceReceiver) -> grpc.GenericRpcHandler:
    export = grpc.unary_unary_rpc_method_handler(
        receiver.export_bytes,
        request_deserializer=None,  # raw bytes: parse errors become INVALID_ARGUMENT, not INTERNAL
        response_serializer=trace_service_pb2.ExportTraceServiceResponse.SerializeToString,
    )
    return grpc.method_handlers_generic_handler(SERVICE_NAME, {"Export": export})


def start_server(receiver: TraceReceiver, listen: str, *, tls_cert: str | None = None,
                 tls_key: str | None = None, workers: int = 32, max_message_bytes: int = MAX_MESSAGE_BYTES) -> tuple:
    """Start the gRPC server on ``listen`` (``host:port``, port 0 = any). Returns ``(server, port)``."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="arc-otlp"),
        options=[
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.so_reuseport", 0),  # a second collector on the same port must fail, not share it
        ],
    )
    server.add_generic_rpc_handlers((_handler(receiver),))
    if tls_cert or tls_key:
        if not (tls_cert and tls_key):
            raise ValueError("TLS needs both --tls-cert and --tls-key")
        with open(tls_key, "rb") as f:
            key = f.read()
        with open(tls_cert, "rb") as f:
            cert = f.read()
        port = server.add_secure_port(listen, grpc.ssl_server_credentials([(key, cert)]))
    else:
        port = server.add_insecure_port(listen)
    if not port:
        raise OSError(f"cannot listen on {listen}")
    server.start()
    return server, port
