"""OTLP/gRPC span exporter that never loses a batch to a collector outage.

The SDK's OTLP exporter retries a batch and then drops it. This one encodes a batch with the SDK's
own OTLP encoder (``opentelemetry.exporter.otlp.proto.common``), sends it once (short timeout); on a
retryable failure the batch waits, in order, in a bounded memory buffer or in the disk WAL
(``ARC_WAL_PATH``) and a background thread re-sends it with backoff. Batches keep their order: while
anything waits, new batches queue behind it. Overflow is counted and logged. ``taken_spans`` counts
the spans the span processor handed over (``telemetry/processor.py`` compares it with the spans it
was given, which is how Arc knows its processor's backlog without reading SDK internals).
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
import weakref
from typing import Sequence

import grpc
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from . import encodable
from .endpoint import Endpoint
from .stats import STATS, TelemetryStats
from .wal import WriteAheadLog

log = logging.getLogger("arc")

_EXPORT_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
_COMPRESSION = {"gzip": grpc.Compression.Gzip}  # OTEL_EXPORTER_OTLP[_TRACES]_COMPRESSION
_RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
              grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.ABORTED, grpc.StatusCode.CANCELLED,
              grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNAUTHENTICATED}

_STOP_CODES = (grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED)


ENCODE_CHUNK = 8  # spans encoded between two GIL releases
# a fork lets a send in progress finish this long (a healthy export to a remote collector does); one
# that takes longer is ended and sent again after the fork (the collector may then see it twice)
FORK_SEND_WAIT_S = 0.25


def encode(spans: Sequence) -> bytes:
    """Serialized ``ExportTraceServiceRequest`` for ``spans``: the SDK's OTLP encoding, in chunks.

    Encoding is pure Python (see benchmarks/RESULTS.md) and runs on the export thread: one batch in one
    go would hold the GIL until the interpreter's switch interval (5 ms) forces it off, every time
    an app thread (an asyncio loop between two socket calls) asks for it back. So the batch is
    encoded a few spans at a time and the GIL handed over in between (``sleep(0)`` on this thread,
    never the app's); serialized requests concatenate into one (protobuf merges repeated fields)."""
    if len(spans) <= ENCODE_CHUNK:
        return encode_spans(spans).SerializeToString()
    parts = []
    for i in range(0, len(spans), ENCODE_CHUNK):
        if i:
            time.sleep(0)
        parts.append(encode_spans(spans[i:i + ENCODE_CHUNK]).SerializeToString())
    return b"".join(parts)


class _Failed(Exception):
    def __init__(self, retryable: bool, reason: str) -> None:
        super().__init__(reason)
        self.retryable = retryable


class ArcSpanExporter(SpanExporter):
    def __init__(self, endpoint: Endpoint, *, timeout_s: float = 2.0, max_buffer_bytes: int = 64 << 20,
                 wal: WriteAheadLog | None = None, stats: TelemetryStats = STATS) -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self.max_buffer_bytes = max_buffer_bytes
        self.wal = wal
        self.stats = stats
        self._memory: collections.deque = collections.deque()  # (payload, spans)
        self._memory_bytes = 0
        self._lock = threading.Lock()  # serializes sends, keeps order
        self._wake = threading.Event()
        self._stopped = False
        self._drainer: threading.Thread | None = None
        self._pid = -1
        self._channel = None
        self._call = None
        self._logged_outage = False
        self._logged_overflow = False
        self._logged_encoding = False
        self.taken_spans = 0  # spans handed to ``export`` (one thread calls it: the processor's worker)
        self._send_deadline: float | None = None  # stop.py: sends end by then (monotonic)
        self._offline = False  # stop.py cancelled the sends: batches go to the WAL/memory only
        self.inflight_spans = 0
        self.cut_off = False  # a send was cut short by the stop bound (stop.py then only spills)
        self._ended_for_fork = False
        if wal is not None:
            stats.buffered_spans = wal.pending_spans()
            if stats.buffered_spans:
                self._start_drainer()
        if hasattr(os, "register_at_fork"):
            before, parent, child = (weakref.WeakMethod(m) for m in (
                self._before_fork, self._after_fork_in_parent, self._after_fork_in_child))
            os.register_at_fork(before=lambda: before() and before()(),
                                after_in_parent=lambda: parent() and parent()(),
                                after_in_child=lambda: child() and child()())

    def _before_fork(self) -> None:
        """Hold the send lock across fork, so no Arc thread is inside a gRPC call when the process forks:
        gRPC then runs its fork handlers and the child's channel works. A send in progress is not waited
        for (to a silent collector it lasts ``ARC_EXPORT_TIMEOUT``, inside the app's ``os.fork``): its
        channel is closed, which ends the call at once, and its batch goes back to the backlog, sent
        again after the fork."""
        locked = self._lock.acquire(timeout=FORK_SEND_WAIT_S)
        if not locked:
            self._ended_for_fork = True  # not an outage: nothing logged, the backlog resends it
            channel, self._channel, self._call = self._channel, None, None
            if channel is not None:
                channel.close()
            locked = self._lock.acquire(timeout=self.timeout_s + 0.5)  # bounded if closing did not end it
            if locked:  # the send has ended (its failure, if any, was noted quietly under the lock)
                self._ended_for_fork = False
        self._fork_locked = locked

    def _after_fork_in_parent(self) -> None:
        if getattr(self, "_fork_locked", False):
            self._fork_locked = False
            self._lock.release()

    def _after_fork_in_child(self) -> None:
        """A forked child (gunicorn, multiprocessing) exports its own spans: fresh locks (another
        thread may have held them at fork), its own gRPC channel and WAL connection, and none of
        the parent's memory backlog (the parent still sends that)."""
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._ended_for_fork = False
        self._drainer = None
        self._channel = self._call = None
        self._pid = -1
        self._memory.clear()
        self._memory_bytes = 0
        self.taken_spans = 0
        self.stats.__init__()
        if self.wal is not None:
            self.wal.after_fork()
            self.stats.buffered_spans = self.wal.pending_spans()
            if self.stats.buffered_spans:
                self._start_drainer()

    # -- gRPC plumbing -------------------------------------------------------------------------
    def _stub(self):
        if self._call is None or self._pid != os.getpid():  # a forked child needs its own channel
            # gRPC's own reconnect backoff grows to 120 s and fails calls fast meanwhile: capped at
            # 0.5 s so a collector that is back is seen within half a second (our drainer paces retries)
            options = [("grpc.enable_retries", 0), ("grpc.initial_reconnect_backoff_ms", 100),
                       ("grpc.min_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 500)]
            if self.endpoint.secure:
                root = None
                if self.endpoint.ca_file:
                    with open(self.endpoint.ca_file, "rb") as fh:
                        root = fh.read()
                creds = grpc.ssl_channel_credentials(root_certificates=root)
                self._channel = grpc.secure_channel(self.endpoint.target, creds, options=options,
                                                    compression=_COMPRESSION.get(self.endpoint.compression))
            else:
                self._channel = grpc.insecure_channel(self.endpoint.target, options=options,
                                                      compression=_COMPRESSION.get(self.endpoint.compression))
            self._call = self._channel.unary_unary(_EXPORT_METHOD, request_serializer=None,
                                                   response_deserializer=ExportTraceServiceResponse.FromString)
            self._pid = os.getpid()
        return self._call

    def _send(self, payload: bytes, timeout_s: float | None = None, wait: bool = False) -> None:
        """``wait``: use the timeout to (re)connect instead of failing fast while gRPC's reconnect
        backoff runs; flush and exit pass it, so a collector that just came back still gets the spans."""
        timeout_s = timeout_s or self.timeout_s
        if self._send_deadline is not None:  # stopping: never past the stop bound
            timeout_s = min(timeout_s, self._send_deadline - time.monotonic())
            if self._offline or timeout_s <= 0.005:
                self.cut_off = True
                raise _Failed(True, "no time left within ARC_SHUTDOWN_FLUSH_MS")
        try:
            self._stub()(payload, timeout=timeout_s,
                         metadata=self.endpoint.headers or None, wait_for_ready=wait or None)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            if self._send_deadline is not None and code in _STOP_CODES:  # cut off by stop.py's bound
                self.cut_off = True
                raise _Failed(True, f"no answer within ARC_SHUTDOWN_FLUSH_MS ({code})") from None
            raise _Failed(code in _RETRYABLE, str(code)) from None
        except OSError as exc:  # unreadable CA file and the like: say which file
            raise _Failed(True, f"{exc.strerror or exc}: {exc.filename}" if exc.filename else repr(exc)) from None
        except ValueError as exc:  # the channel was closed by cancel_sends meanwhile
            raise _Failed(True, str(exc)) from None

    # -- buffering -----------------------------------------------------------------------------
    def _pending(self) -> bool:
        return bool(self._memory) or (self.wal is not None and self.stats.buffered_spans > 0)

    def _enqueue(self, payload: bytes, spans: int) -> None:
        if self.wal is not None:
            stored = self.wal.append(payload, spans)
        else:
            stored = self._memory_bytes + len(payload) <= self.max_buffer_bytes
            if stored:
                self._memory.append((payload, spans))
                self._memory_bytes += len(payload)
        if stored:
            self.stats.buffered_spans += spans
        else:
            self.stats.dropped_spans += spans
            if self._send_deadline is not None:
                self.stats.dropped_at_exit += spans
            if not self._logged_overflow:
                self._logged_overflow = True
                log.error("arc: span buffer full (%s), dropping spans; counted in "
                          "arc_telemetry_dropped_total", "ARC_WAL_PATH" if self.wal else "ARC_BUFFER_MAX_BYTES")
        self._start_drainer()

    def _head(self):
        if self.wal is not None:
            rows = self.wal.peek(1)
            return (rows[0][0], rows[0][1], rows[0][2]) if rows else None
        return (None, self._memory[0][1], self._memory[0][0]) if self._memory else None

    def _pop(self, row_id, spans: int, payload: bytes) -> None:
        if self.wal is not None:
            self.wal.remove(row_id)
        else:
            self._memory.popleft()
            self._memory_bytes -= len(payload)
        self.stats.buffered_spans = max(0, self.stats.buffered_spans - spans)

    def _drain_once(self, timeout_s: float | None = None, wait: bool = False) -> bool:
        """Send waiting batches in order; True when nothing is left waiting."""
        with self._lock:
            if self._stopped:
                return False  # shut down: the channel is closed, what waits stays buffered (or in the WAL)
            if self.wal is not None and not self.wal.lease():
                return False  # another process sharing ARC_WAL_PATH drains it; retry later
            while True:
                head = self._head()
                if head is None:
                    return True
                row_id, spans, payload = head
                try:
                    self._send(payload, timeout_s, wait)
                except _Failed as failed:
                    if failed.retryable:
                        self._note_failure(failed)
                        return False
                    self.stats.dropped_spans += spans  # the collector will never accept it
                    log.error("arc: collector rejected a batch of %d spans (%s); dropped", spans, failed)
                    self._pop(row_id, 0, payload)
                    self.stats.buffered_spans = max(0, self.stats.buffered_spans - spans)
                    continue
                self._pop(row_id, spans, payload)
                self._note_success(spans)

    def _start_drainer(self) -> None:
        if self._drainer is not None and self._drainer.is_alive() and self._pid == os.getpid():
            self._wake.set()
            return
        self._drainer = threading.Thread(target=self._drain_loop, name="arc-span-drainer", daemon=True)
        self._drainer.start()

    def _drain_loop(self) -> None:
        backoff = 0.2
        while not self._stopped:
            try:
                if self._drain_once():
                    backoff = 0.2
                    self._wake.wait()
                    self._wake.clear()
                    continue
            except Exception as exc:  # never let the thread die silently
                log.warning("arc: span drainer error: %r", exc)
            self._wake.wait(backoff)
            self._wake.clear()
            backoff = min(backoff * 2, 5.0)

    def _note_failure(self, failed: _Failed) -> None:
        if self._ended_for_fork:  # the send a fork ended (``_before_fork``)
            self._ended_for_fork = False
            return
        self.stats.export_state = "failing"
        self.stats.last_error = str(failed)
        if not self._logged_outage:
            self._logged_outage = True
            log.warning("arc: collector %s unreachable (%s); buffering spans until it is back%s",
                        self.endpoint.describe(), failed, " (WAL)" if self.wal else "")

    def _note_success(self, spans: int) -> None:
        self.stats.exported_spans += spans
        self.stats.last_flush_ts = time.time()
        self.stats.export_state = "ok"
        if self._logged_outage:
            self._logged_outage = False
            log.warning("arc: collector %s reachable again", self.endpoint.describe())

    # -- SpanExporter --------------------------------------------------------------------------
    def export(self, spans: Sequence) -> SpanExportResult:
        self.taken_spans += len(spans)
        try:
            payload = encode(spans)
        except Exception as exc:  # one bad value must not cost the batch: span by span
            payload, spans = self._encode_each(spans, exc)
            if payload is None:
                return SpanExportResult.FAILURE
        n = len(spans)
        if self._pending():
            self._enqueue(payload, n)
            return SpanExportResult.SUCCESS
        with self._lock:
            self.inflight_spans = n
            try:
                self._send(payload)
            except _Failed as failed:
                if not failed.retryable:
                    self.stats.dropped_spans += n
                    log.error("arc: collector rejected %d spans (%s); dropped", n, failed)
                    return SpanExportResult.FAILURE
                self._note_failure(failed)
            else:
                self._note_success(n)
                return SpanExportResult.SUCCESS
            finally:
                self.inflight_spans = 0
        self._enqueue(payload, n)
        return SpanExportResult.SUCCESS

    def _encode_each(self, spans: Sequence, exc: Exception) -> tuple:
        """(payload, spans kept) of a batch that did not encode: each span is encoded alone; one
        that fails is replaced by a copy with encodable text (``encodable.span``), or dropped and
        counted. Logged once per process, with the error's type only: a message or a value could
        hold captured content."""
        kept, repaired = [], 0
        for span in spans:
            for candidate in (span, encodable.span(span)):
                if candidate is None:
                    break
                try:
                    encode([candidate])
                except Exception:
                    continue
                kept.append(candidate)
                repaired += candidate is not span
                break
        dropped = len(spans) - len(kept)
        self.stats.dropped_spans += dropped
        self.stats.repaired_spans += repaired
        if not self._logged_encoding:
            self._logged_encoding = True
            log.error("arc: %d of %d spans could not be encoded (%s): %d sent with their text repaired "
                      "(U+FFFD), %d dropped; counted in arc_telemetry_dropped_total (logged once)",
                      dropped + repaired, len(spans), type(exc).__name__, repaired, dropped)
        if not kept:
            return None, kept
        try:
            return encode(kept), kept
        except Exception as again:  # not expected: each span encoded alone
            self.stats.dropped_spans += len(kept)
            log.error("arc: could not encode %d spans (%s); dropped", len(kept), type(again).__name__)
            return None, kept

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._drain_once(timeout_s=min(self.timeout_s, timeout_millis / 1000), wait=True)

    # -- stop (stop.py) --------------------------------------------------------------------------
    def begin_stop(self, send_deadline: float) -> None:
        """The process is stopping: every send ends by ``send_deadline`` (monotonic)."""
        self._send_deadline = send_deadline

    def cancel_sends(self, final: bool) -> None:
        """Fail the sends still open (closing the channel ends its calls at once), so their batches go
        to the WAL or memory; ``final``: no new sends either, the process is ending."""
        self._offline = True
        channel, self._channel, self._call = self._channel, None, None
        if channel is not None:
            channel.close()
        if not final:
            self._offline = False  # a later send opens a new channel

    def end_stop(self) -> None:
        self._send_deadline = None

    def shutdown(self) -> None:
        self._drain_once(timeout_s=min(self.timeout_s, 1.0), wait=True)
        with self._lock:  # the drainer thread is not mid-send when the channel closes below
            self._stopped = True
        self._wake.set()
        if self.stats.buffered_spans and self.wal is None:
            self.stats.dropped_at_exit += self.stats.buffered_spans
            log.warning("arc: %d spans could not reach %s before exit and are lost (%s; set ARC_WAL_PATH "
                        "to keep them across restarts)", self.stats.buffered_spans, self.endpoint.describe(),
                        self.stats.last_error or "not answered in time")
        if self.wal is not None:
            self.wal.close()
        if self._channel is not None:
            self._channel.close()
