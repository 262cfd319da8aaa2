"""Batching: accepted requests are logged (``spanlog``), acknowledged, and written in large INSERTs.

A batch is the open log segment: it is sealed when it holds ``batch_spans`` spans or its first request
is ``linger`` seconds old, then inserted by a writer thread. Its segment is deleted only once every
span in it is verifiably in the store or in the dead-letter file. The queue is bounded in spans:
when a request does not fit, ``reserve`` raises ``Overloaded`` and the receiver answers
RESOURCE_EXHAUSTED (the OTLP exporter retries).

When the store refuses a batch (stores verify their inserts: chDB can refuse silently), the writer
re-reads the batch's segment and inserts it again in smaller pieces (``_salvage``): request by
request, a request spread over more days than one insert may touch cut by days, a refused piece
cut in halves down to single spans (at most ``salvage_inserts`` inserts per attempt). Pieces the
store still refuses go to the dead-letter file (``deadletter``), counted and logged — but only when
the store is seen taking other rows (in this attempt, or another batch since this one last failed):
when it takes nothing at all (server down, disk full, read-only table), the refusal says nothing
about the spans, so the batch keeps its segment and is retried with backoff while other batches go
on; at shutdown it stays in the log for the next start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

from arc_agent.collector import split
from arc_agent.collector.deadletter import DeadLetter
from arc_agent.collector.spanlog import SpanLog
from arc_agent.collector.store import Prepared, Store

log = logging.getLogger("arc.collector")


class Overloaded(Exception):
    pass


class WriterClosed(Exception):
    pass


@dataclass
class Batch:
    opened_at: float = field(default_factory=time.monotonic)
    prepared: list = field(default_factory=list)
    spans: int = 0
    raw_bytes: int = 0  # of the requests' protobuf: what ``max_queue_bytes`` counts
    segment: Path | None = None
    attempts: int = 0  # failed insert attempts with nothing stored
    failed_at: float = float("inf")  # when the last one ended (stores seen after it are evidence)
    not_before: float = 0.0  # retry time while deferred


@dataclass
class WriterStats:
    spans_written: int = 0
    inserts: int = 0
    insert_failures: int = 0
    rejected_overload: int = 0
    replayed_spans: int = 0
    salvaged_spans: int = 0  # stored by re-inserting a refused batch in pieces
    dead_lettered_spans: int = 0
    dead_letter_discarded_spans: int = 0
    deferred_batches: int = 0  # batches waiting for a store that takes nothing
    last_insert_seconds: float = 0.0
    insert_seconds: float = 0.0


def _brief(exc: BaseException) -> str:
    """An error's first line, cut short: engine messages may quote row values (span content)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _parse_request(data: bytes):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    return ExportTraceServiceRequest.FromString(data)


class BatchWriter:
    def __init__(self, store: Store, spanlog: SpanLog, *, max_queue_spans: int = 200_000,
                 max_queue_bytes: int = 256 << 20, batch_spans: int = 20_000, linger: float = 0.5, writers: int = 1,
                 dead_letter: DeadLetter | None = None, parse=_parse_request, salvage_inserts: int = 256) -> None:
        self.store = store
        self.spanlog = spanlog
        self.max_queue_spans = max_queue_spans
        self.max_queue_bytes = max_queue_bytes
        self.batch_spans = batch_spans
        self.linger = linger
        self.dead_letter = dead_letter or DeadLetter(spanlog.directory.parent / "arc_dead_letter")
        self.parse = parse
        self.salvage_inserts = salvage_inserts
        self.stats = WriterStats()
        self._cond = threading.Condition()
        self._open: Batch | None = None
        self._sealed: deque = deque()
        self._deferred: list = []  # batches the store took nothing of: retried at their not_before
        self._queued_spans = 0  # reserved + open + sealed + deferred + being inserted
        self._queued_bytes = 0  # request bytes admitted (being parsed) + in the batches above
        self._closing = False
        self._last_stored = float("-inf")  # monotonic time of the last insert the store took
        self._left_in_log = 0  # spans not committed at shutdown: still in the log for the next start
        self._threads = [threading.Thread(target=self._run, name=f"arc-collector-writer-{i}", daemon=True)
                         for i in range(max(1, writers))]

    def replay(self, parse=None) -> int:
        """Insert what a previous run logged but did not commit (a batch the store refuses now is
        retried once the writer runs); ``parse(bytes)`` -> OTLP request. Call before serving.
        Returns the number of spans found."""
        parse = parse or self.parse
        replayed = 0
        for segment in self.spanlog.segments():
            batch = Batch(segment=segment)
            for record in SpanLog.read(segment):
                try:
                    prepared = self.store.prepare(parse(record))
                except Exception as exc:  # a record we cannot read any more: keep it for a person
                    log.warning("arc collector: an unreadable logged request in %s goes to the dead letters: %s",
                                segment, _brief(exc))
                    self._dead_letter(record, 0, f"unreadable logged request: {_brief(exc)}")
                    continue
                batch.prepared.append(prepared)
                batch.spans += prepared.spans
                batch.raw_bytes += len(record)
            with self._cond:
                self._queued_spans += batch.spans
                self._queued_bytes += batch.raw_bytes
            self._settle(batch, self._insert(batch))
            replayed += batch.spans
        self.stats.replayed_spans += replayed
        return replayed

    def start(self) -> BatchWriter:
        for thread in self._threads:
            thread.start()
        return self

    def status(self) -> dict:
        """Counters for ``/arc/status`` and the stop line."""
        with self._cond:
            return {"queued_spans": self._queued_spans, "max_queue_spans": self.max_queue_spans,
                    "queued_bytes": self._queued_bytes, "max_queue_bytes": self.max_queue_bytes,
                    "log_segments": len(self.spanlog.segments()), "dead_letter_file": str(self.dead_letter.path),
                    **asdict(self.stats)}

    # -- receiving side -------------------------------------------------------------------------
    def admit(self, nbytes: int) -> None:
        """Claim room for a request of ``nbytes`` before parsing it (parsed and converted, a request
        takes several times its size until it is stored); raises ``Overloaded`` or ``WriterClosed``.
        One request is always admitted when nothing else is held."""
        with self._cond:
            if self._closing:
                raise WriterClosed("collector is shutting down")
            if self._queued_bytes and self._queued_bytes + nbytes > self.max_queue_bytes:
                self.stats.rejected_overload += 1
                raise Overloaded(f"{self._queued_bytes >> 20} MiB of requests held (limit "
                                 f"{self.max_queue_bytes >> 20} MiB, --max-queue-mb)")
            self._queued_bytes += nbytes

    def reserve(self, spans: int) -> None:
        """Claim room for ``spans`` before converting them; raises ``Overloaded`` or ``WriterClosed``."""
        with self._cond:
            if self._closing:
                raise WriterClosed("collector is shutting down")
            if self._queued_spans and self._queued_spans + spans > self.max_queue_spans:
                self.stats.rejected_overload += 1
                raise Overloaded(f"{self._queued_spans} spans queued (limit {self.max_queue_spans})")
            self._queued_spans += spans

    def release(self, spans: int, nbytes: int = 0) -> None:
        """Give back a reservation (``reserve``) and admission (``admit``) of a refused request."""
        with self._cond:
            self._queued_spans -= spans
            self._queued_bytes -= nbytes
            self._cond.notify_all()

    def accept(self, raw: bytes, prepared: Prepared, reserved: int) -> None:
        """Log the request and queue it; once this returns the sender may be told OK.
        Raises ``OSError`` when the log cannot be written (the caller releases and refuses)."""
        with self._cond:
            self.spanlog.append(raw)
            self._queued_spans += prepared.spans - reserved
            if self._open is None:
                self._open = Batch()
            self._open.prepared.append(prepared)
            self._open.spans += prepared.spans
            self._open.raw_bytes += len(raw)  # admitted already: counted in _queued_bytes
            if self._open.spans >= self.batch_spans:
                self._seal()
            self._cond.notify_all()

    # -- writing side ---------------------------------------------------------------------------
    def _seal(self) -> None:
        batch, self._open = self._open, None
        batch.segment = self.spanlog.seal()
        self._sealed.append(batch)

    def _take(self) -> Batch | None:
        with self._cond:
            while True:
                now = time.monotonic()
                if self._sealed:
                    return self._sealed.popleft()
                if self._deferred:
                    due = min(self._deferred, key=lambda b: b.not_before)
                    if self._closing and due.attempts >= 3:  # give up for this run: it stays in the log
                        self._deferred.remove(due)
                        self._queued_spans -= due.spans
                        self._queued_bytes -= due.raw_bytes
                        self._left_in_log += due.spans
                        self.stats.deferred_batches = len(self._deferred)
                        self._cond.notify_all()
                        continue
                    if self._closing or due.not_before <= now:
                        self._deferred.remove(due)
                        return due
                waits = [due.not_before - now] if self._deferred else []
                if self._open is not None:
                    wait = self._open.opened_at + self.linger - now
                    if self._closing or wait <= 0:
                        self._seal()
                        continue
                    waits.append(wait)
                if not waits and self._closing and self._queued_spans == 0:
                    return None  # nothing queued and no reserved request still converting
                self._cond.wait(min(waits) if waits else None)

    def _stored(self, spans: int, elapsed: float, salvaged: bool = False) -> None:
        with self._cond:
            self._last_stored = time.monotonic()
            self.stats.inserts += 1
            self.stats.spans_written += spans
            if salvaged:
                self.stats.salvaged_spans += spans
            self.stats.last_insert_seconds = elapsed
            self.stats.insert_seconds += elapsed

    def _insert(self, batch: Batch) -> bool:
        """One attempt at a batch. True when all its spans are stored or dead-lettered (its segment
        is then deleted); False when the store took none of it (the segment stays, retry later)."""
        started = time.monotonic()
        try:
            if batch.prepared:
                self.store.write(batch.prepared)
        except Exception as exc:
            with self._cond:
                self.stats.insert_failures += 1
            log.warning("arc collector: insert of %d spans refused (kept in the log, retrying in pieces): %s",
                        batch.spans, _brief(exc))
            if not self._salvage(batch):
                return False
        else:
            self._stored(batch.spans, time.monotonic() - started)
        if batch.segment is not None:
            SpanLog.delete(batch.segment)
        return True

    def _salvage(self, batch: Batch) -> bool:
        """Insert a refused batch again in pieces (see the module docstring); True when done."""
        if batch.segment is None:
            return False
        try:
            records = SpanLog.read(batch.segment)
        except OSError as exc:
            log.error("arc collector: cannot read back %s: %s", batch.segment, exc)
            return False
        evidence = self._last_stored > batch.failed_at  # the store took other rows since this batch failed
        pending: deque = deque()
        for record in records:
            try:
                pending.append(self.parse(record))
            except Exception as exc:
                if not self._dead_letter(record, 0, f"unreadable logged request: {_brief(exc)}"):
                    return False
        stored, inserts, refused = 0, 0, []
        while pending:
            piece = pending.popleft()
            spans = split.span_count(piece)
            if not spans:
                continue
            if inserts >= self.salvage_inserts:
                refused.append((piece, spans, f"not retried: {self.salvage_inserts} inserts spent on this batch"))
                continue
            inserts += 1
            started = time.monotonic()
            try:
                self.store.write([self.store.prepare(piece)])
            except Exception as exc:
                if not stored and not evidence and inserts >= 3:
                    return False  # the store takes nothing: keep the batch as it is, retry later
                if spans > 1 and split.day_count(piece) > split.MAX_DAYS_PER_INSERT:
                    pending.extendleft(reversed(split.by_days(piece)))
                elif spans > 1:
                    pending.extendleft(reversed(split.halve(piece)))
                else:
                    refused.append((piece, spans, _brief(exc)))
                continue
            stored += spans
            self._stored(spans, time.monotonic() - started, salvaged=True)
        if refused and not stored and not evidence:
            return False
        for piece, spans, reason in refused:
            if not self._dead_letter(piece.SerializeToString(), spans, reason):
                return False  # cannot keep it anywhere else: the segment stays (may duplicate what was stored)
        return True

    def _dead_letter(self, data: bytes, spans: int, reason: str) -> bool:
        try:
            self.dead_letter.add(data, spans, reason)
        except OSError as exc:
            log.error("arc collector: cannot write the dead-letter file %s: %s", self.dead_letter.path, exc)
            return False
        with self._cond:
            self.stats.dead_lettered_spans += spans
            self.stats.dead_letter_discarded_spans = self.dead_letter.discarded_spans
        log.error("arc collector: the store refused %d spans even alone; kept in %s: %s",
                  spans, self.dead_letter.path, reason)
        return True

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            self._settle(batch, self._insert(batch))

    def _settle(self, batch: Batch, done: bool) -> None:
        """After an attempt: release a finished batch, or defer it with backoff."""
        with self._cond:
            if done:
                self._queued_spans -= batch.spans
                self._queued_bytes -= batch.raw_bytes
            else:
                batch.attempts += 1
                batch.failed_at = time.monotonic()
                batch.not_before = batch.failed_at + min(0.5 * 2 ** (batch.attempts - 1), 30.0)
                self._deferred.append(batch)
                log.warning("arc collector: the store takes nothing; %d spans stay in the span log "
                            "(retry %d in %.1f s)", batch.spans, batch.attempts, batch.not_before - batch.failed_at)
            self.stats.deferred_batches = len(self._deferred)
            self._cond.notify_all()

    def stop_accepting(self) -> None:
        """Refuse new requests (``WriterClosed``) and stop lingering: write what is queued now."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()

    def close(self, timeout: float | None = 60.0) -> bool:
        """Write everything accepted, then stop. True when drained in time (else it stays in the log)."""
        self.stop_accepting()
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads) and self._queued_spans == 0 and not self._left_in_log
