"""Batching: accepted requests are logged (``spanlog``), acknowledged, and written in large INSERTs.

A batch is the open log segment: it is sealed when it holds ``batch_spans`` spans or its first request
is ``linger`` seconds old, then inserted by a writer thread and its segment deleted. A failed insert
is retried with backoff (the spans were already acknowledged, so they are never given up; they stay
in the log across restarts). The queue is bounded in spans: when a request does not fit, ``reserve``
raises ``Overloaded`` and the receiver answers RESOURCE_EXHAUSTED (the OTLP exporter retries).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

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
    segment: Path | None = None


@dataclass
class WriterStats:
    spans_written: int = 0
    inserts: int = 0
    insert_failures: int = 0
    rejected_overload: int = 0
    replayed_spans: int = 0
    last_insert_seconds: float = 0.0
    insert_seconds: float = 0.0


class BatchWriter:
    def __init__(self, store: Store, spanlog: SpanLog, *, max_queue_spans: int = 200_000,
                 batch_spans: int = 20_000, linger: float = 0.5, writers: int = 1) -> None:
        self.store = store
        self.spanlog = spanlog
        self.max_queue_spans = max_queue_spans
        self.batch_spans = batch_spans
        self.linger = linger
        self.stats = WriterStats()
        self._cond = threading.Condition()
        self._open: Batch | None = None
        self._sealed: deque = deque()
        self._queued_spans = 0  # reserved + open + sealed + being inserted
        self._closing = False
        self._left_in_log = 0  # spans not committed at shutdown: still in the log for the next start
        self._threads = [threading.Thread(target=self._run, name=f"arc-collector-writer-{i}", daemon=True)
                         for i in range(max(1, writers))]

    def replay(self, parse) -> int:
        """Insert what a previous run logged but did not commit; ``parse(bytes)`` -> OTLP request.
        Call before serving. Returns the number of spans replayed."""
        replayed = 0
        for segment in self.spanlog.segments():
            batch = Batch(segment=segment)
            for record in SpanLog.read(segment):
                try:
                    prepared = self.store.prepare(parse(record))
                except Exception as exc:  # a record we cannot read any more: keep the rest
                    log.warning("arc collector: skipping an unreadable logged request in %s: %s", segment, exc)
                    continue
                batch.prepared.append(prepared)
                batch.spans += prepared.spans
            self._insert(batch)
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
                    "log_segments": len(self.spanlog.segments()), **asdict(self.stats)}

    # -- receiving side -------------------------------------------------------------------------
    def reserve(self, spans: int) -> None:
        """Claim room for ``spans`` before converting them; raises ``Overloaded`` or ``WriterClosed``."""
        with self._cond:
            if self._closing:
                raise WriterClosed("collector is shutting down")
            if self._queued_spans and self._queued_spans + spans > self.max_queue_spans:
                self.stats.rejected_overload += 1
                raise Overloaded(f"{self._queued_spans} spans queued (limit {self.max_queue_spans})")
            self._queued_spans += spans

    def release(self, spans: int) -> None:
        """Give back a reservation whose request was refused after ``reserve``."""
        with self._cond:
            self._queued_spans -= spans
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
                if self._sealed:
                    return self._sealed.popleft()
                if self._open is not None:
                    wait = self._open.opened_at + self.linger - time.monotonic()
                    if self._closing or wait <= 0:
                        self._seal()
                        continue
                    self._cond.wait(wait)
                    continue
                if self._closing and self._queued_spans == 0:
                    return None  # nothing queued and no reserved request still converting
                self._cond.wait()

    def _insert(self, batch: Batch) -> bool:
        """Write one batch, retrying with backoff until committed. Gives up (False) only while shutting
        down; its segment then stays on disk and the next start inserts it."""
        delay, attempts = 0.5, 0
        while True:
            started = time.monotonic()
            try:
                if batch.prepared:
                    self.store.write(batch.prepared)
                break
            except Exception as exc:
                attempts += 1
                with self._cond:
                    self.stats.insert_failures += 1
                    closing = self._closing
                log.warning("arc collector: insert of %d spans failed (kept in the log, retrying in %.1f s): %s",
                            batch.spans, delay, exc)
                if closing and attempts >= 3:
                    return False
                time.sleep(delay)
                delay = min(delay * 2, 30.0)
        elapsed = time.monotonic() - started
        if batch.segment is not None:
            SpanLog.delete(batch.segment)
        with self._cond:
            self.stats.inserts += 1
            self.stats.spans_written += batch.spans
            self.stats.last_insert_seconds = elapsed
            self.stats.insert_seconds += elapsed
        return True

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            committed = self._insert(batch)
            with self._cond:
                self._queued_spans -= batch.spans
                if not committed:
                    self._left_in_log += batch.spans
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
