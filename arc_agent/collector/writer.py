"""Group commit: many OTLP requests become one INSERT, and each request is acknowledged only after
the INSERT that holds its spans returned — so a crash never loses a span the sender saw accepted.

The queue is bounded in spans; when a request does not fit, ``reserve`` raises ``Overloaded`` and
the receiver answers RESOURCE_EXHAUSTED (the OTLP exporter retries) instead of dropping anything.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, field

from arc_agent.collector.store import Prepared, Store

log = logging.getLogger("arc.collector")


class Overloaded(Exception):
    pass


class WriterClosed(Exception):
    pass


@dataclass
class Ticket:
    """One request's place in a batch; ``wait`` returns once the batch is committed or failed."""

    prepared: Prepared
    queued_at: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def wait(self, timeout: float | None) -> bool:
        return self.done.wait(timeout)


@dataclass
class WriterStats:
    spans_written: int = 0
    inserts: int = 0
    insert_failures: int = 0
    rejected_overload: int = 0
    last_insert_seconds: float = 0.0
    insert_seconds: float = 0.0


class BatchWriter:
    """Collects prepared requests and writes them in batches of up to ``batch_spans`` spans; a request
    waits at most ``linger`` seconds (plus the insert in progress) for its batch to fill."""

    def __init__(self, store: Store, *, max_queue_spans: int = 100_000, batch_spans: int = 20_000,
                 linger: float = 0.05, writers: int = 1) -> None:
        self.store = store
        self.max_queue_spans = max_queue_spans
        self.batch_spans = batch_spans
        self.linger = linger
        self.stats = WriterStats()
        self._cond = threading.Condition()
        self._queue: list = []
        self._queued_spans = 0  # includes reservations not yet submitted
        self._closing = False
        self._threads = [threading.Thread(target=self._run, name=f"arc-collector-writer-{i}", daemon=True)
                         for i in range(max(1, writers))]
        for thread in self._threads:
            thread.start()

    @property
    def queued_spans(self) -> int:
        return self._queued_spans

    def status(self) -> dict:
        """Counters for ``/arc/status`` and the stop line."""
        with self._cond:
            return {"queued_spans": self._queued_spans, "max_queue_spans": self.max_queue_spans,
                    **asdict(self.stats)}

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

    def submit(self, prepared: Prepared, reserved: int) -> Ticket:
        ticket = Ticket(prepared)
        with self._cond:
            self._queued_spans += prepared.spans - reserved
            self._queue.append(ticket)
            self._cond.notify_all()
        return ticket

    def _take_batch(self) -> list:
        with self._cond:
            # closing: finish once nothing is queued AND no reserved request is still converting
            while not self._queue and not (self._closing and self._queued_spans == 0):
                self._cond.wait()
            if not self._queue:
                return []
            # linger counts from the oldest request's arrival: requests that piled up during the
            # previous insert go out at once, a lone request waits up to `linger` for company
            deadline = self._queue[0].queued_at + self.linger
            while not self._closing and sum(t.prepared.spans for t in self._queue) < self.batch_spans:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch, spans = [], 0
            while self._queue and (not batch or spans + self._queue[0].prepared.spans <= self.batch_spans):
                ticket = self._queue.pop(0)
                batch.append(ticket)
                spans += ticket.prepared.spans
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take_batch()
            if not batch:
                return  # closing and drained
            started = time.monotonic()
            error = None
            try:
                self.store.write([t.prepared for t in batch])
            except Exception as exc:  # the senders get UNAVAILABLE and retry
                error = exc
                log.warning("arc collector: insert of %d spans failed: %s", sum(t.prepared.spans for t in batch),
                            exc)
            spans = sum(t.prepared.spans for t in batch)
            with self._cond:
                self._queued_spans -= spans
                self.stats.inserts += 1
                self.stats.last_insert_seconds = time.monotonic() - started
                self.stats.insert_seconds += self.stats.last_insert_seconds
                if error is None:
                    self.stats.spans_written += spans
                else:
                    self.stats.insert_failures += 1
                self._cond.notify_all()
            for ticket in batch:
                ticket.error = error
                ticket.done.set()

    def stop_accepting(self) -> None:
        """Refuse new requests (``WriterClosed``) and stop lingering: write what is queued now."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()

    def close(self, timeout: float | None = 30.0) -> bool:
        """Write everything queued or reserved, then stop. True when drained in time."""
        self.stop_accepting()
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)
