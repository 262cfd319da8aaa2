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

So while the export thread is due (its schedule passed, a batch filled, or an export is under way
and will need the GIL back after the network), the app thread that ends a kept span sleeps
``LEND_S`` once, which lets the waiter in; if it is still due, the next lend waits a doubling
backoff (a send to a slow collector holds the exporter in gRPC without the GIL: lending then helps
nobody). Measured: the export thread's system time fell to 0.03 s per run. The cost to the app is a
few 0.2 ms sleeps per export cycle (5 s by default), and none when the exporter gets the GIL by itself.
"""

from __future__ import annotations

from time import monotonic, sleep
from typing import Callable

LEND_S = 0.0002  # long enough for a thread woken on another core to take the GIL
FIRST_BACKOFF_S = 0.002
MAX_BACKOFF_S = 1.0


class Handoff:
    """When the export thread is due; ``lend`` is called by app threads ending kept spans."""

    __slots__ = ("delay_s", "due", "busy", "next_lend", "backoff", "lends", "_clock", "_sleep")

    def __init__(self, delay_s: float, clock: Callable[[], float] = monotonic,
                 pause: Callable[[float], None] = sleep) -> None:
        self.delay_s = delay_s
        self._clock = clock
        self._sleep = pause
        self.due = clock() + delay_s  # the export thread waits ``delay_s`` from its start
        self.busy = False  # an export cycle is under way
        self.next_lend = 0.0
        self.backoff = FIRST_BACKOFF_S
        self.lends = 0

    def batch_full(self) -> None:
        """A span completed a batch: the export thread has been woken."""
        self.due = 0.0

    def started(self) -> None:
        self.busy = True

    def finished(self) -> None:
        """An export cycle ended: the thread waits ``delay_s`` again (or a full batch)."""
        self.busy = False
        self.due = self._clock() + self.delay_s
        self.backoff = FIRST_BACKOFF_S
        self.next_lend = 0.0

    def lend(self) -> None:
        now = self._clock()
        if (self.busy or now >= self.due) and now >= self.next_lend:
            self.next_lend = now + self.backoff
            self.backoff = min(self.backoff * 2, MAX_BACKOFF_S)
            self.lends += 1
            self._sleep(LEND_S)


def track(batch_processor, handoff: Handoff) -> bool:
    """Have the SDK batch processor's export cycles (worker and force_flush alike) mark ``handoff``
    busy and then finished; False if this SDK has no ``_export`` to follow."""
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
    return True
