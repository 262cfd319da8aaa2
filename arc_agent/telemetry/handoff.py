"""Lend the GIL to Arc's span export thread when it is due and a busy app would not let it run.

A Python thread that wants the GIL gets it when the running thread releases it long enough for the
waiter to wake up, or by forcing a switch after the switch interval (5 ms) passes *without* any
release. An app thread that is busy and releases the GIL only for microseconds at a time (a system
call per request: ``os.urandom`` for an SDK's idempotency key, a socket that already has data) wakes
the waiting export thread at every release and takes the GIL back before that thread runs, and every
release restarts the 5 ms. The exporter then starves for as long as the app stays busy, spans pile
up, and each lost wake-up costs tens of µs of system time: in ``benchmarks/cpu_1k_qps.py`` (an app
thread calling the SDK back to back) the export thread spent 0.2-0.3 s of system time per 20 s run in
~330 futex wake-ups per second, exporting nothing until the run ended (strace).

So while the export thread needs the GIL (its schedule passed or a batch filled and it has not
started, or it is in an export cycle and not waiting on the network), the app thread that ends a
kept span sleeps ``LEND_S`` at a time, up to ``LEND_TRIES`` times, until the exporter shows progress
(it marks starting, sending, sent and finishing). While a send is on the network the exporter needs
no GIL: lends then only come after a doubling grace (the response should be back; a slow or dead
collector gets a few lends per timeout). A lend that saw no progress backs off too, so an exporter
that cannot be scheduled costs the app at most ``LEND_TRIES * LEND_S`` per backoff step.
"""

from __future__ import annotations

from time import monotonic, sleep
from typing import Callable

LEND_S = 0.0002  # long enough for a thread woken on another core to take the GIL
LEND_TRIES = 5
FIRST_BACKOFF_S = 0.002
MAX_BACKOFF_S = 1.0


class Handoff:
    """The export thread's state as app threads need it; ``lend`` is called by app threads ending
    kept spans (``queue.CountingBatchSpanProcessor.sink``), the rest by the export thread."""

    __slots__ = ("delay_s", "due", "busy", "in_io", "io_grace_at", "io_grace", "progress", "next_lend",
                 "backoff", "lends", "_clock", "_sleep")

    def __init__(self, delay_s: float, clock: Callable[[], float] = monotonic,
                 pause: Callable[[float], None] = sleep) -> None:
        self.delay_s = delay_s
        self._clock = clock
        self._sleep = pause
        self.due = clock() + delay_s  # the export thread waits ``delay_s`` from its start
        self.busy = False  # an export cycle is under way
        self.in_io = False  # ... and its send is on the network (no GIL needed until it returns)
        self.io_grace_at = 0.0
        self.io_grace = FIRST_BACKOFF_S
        self.progress = 0  # bumped by the export thread at each step: a lend that worked sees it move
        self.next_lend = 0.0
        self.backoff = FIRST_BACKOFF_S
        self.lends = 0

    # -- export thread ---------------------------------------------------------------------------
    def batch_full(self) -> None:
        """A span completed a batch: the export thread has been woken."""
        self.due = 0.0

    def started(self) -> None:
        self.busy = True
        self.progress += 1

    def sending(self) -> None:
        self.in_io = True
        self.io_grace = FIRST_BACKOFF_S
        self.io_grace_at = self._clock() + FIRST_BACKOFF_S
        self.progress += 1

    def sent(self) -> None:
        self.in_io = False
        self.progress += 1

    def finished(self) -> None:
        """An export cycle ended: the thread waits ``delay_s`` again (or a full batch)."""
        self.busy = self.in_io = False
        self.due = self._clock() + self.delay_s
        self.backoff = FIRST_BACKOFF_S
        self.next_lend = 0.0
        self.progress += 1

    # -- app threads -----------------------------------------------------------------------------
    def wanted(self, now: float) -> bool:
        """Whether the export thread (probably) waits for the GIL now. Cheap: checked per kept span."""
        if not self.busy:
            return now >= self.due
        return not self.in_io or now >= self.io_grace_at

    def lend(self) -> None:
        now = self._clock()
        if now < self.next_lend or not self.wanted(now):
            return
        self.lends += 1
        if self.in_io:  # the response is probably back and waits for the GIL; if not, wait longer
            self.io_grace = min(self.io_grace * 2, MAX_BACKOFF_S)
            self.io_grace_at = now + self.io_grace
        mark = self.progress
        for _ in range(LEND_TRIES):
            self._sleep(LEND_S)
            if self.progress != mark:
                self.backoff = FIRST_BACKOFF_S
                return
        self.next_lend = self._clock() + self.backoff  # not scheduled (a busy machine): back off
        self.backoff = min(self.backoff * 2, MAX_BACKOFF_S)


def track(batch_processor, handoff: Handoff) -> bool:
    """Have the SDK batch processor's export cycles (worker and force_flush alike) mark ``handoff``
    busy and then finished, and its exporter mark its sends (``ArcSpanExporter.handoff``); False if
    this SDK has no ``_export`` to follow."""
    export = getattr(batch_processor, "_export", None)
    if not callable(export):
        return False

    def tracked_export(*args, **kwargs):
        handoff.started()
        try:
            return export(*args, **kwargs)
        finally:
            handoff.finished()

    batch_processor._export = tracked_export
    exporter = getattr(batch_processor, "_exporter", None)
    if hasattr(exporter, "handoff"):
        exporter.handoff = handoff
    return True
