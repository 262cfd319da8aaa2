"""Circuit breaker: when Arc itself gets slow, or telemetry piles up, stop fixing and trim spans.

Opens when the p99 of Arc's own time per call (``LLMCall.arc_ns``) over the last ``window`` calls
exceeds ``max_ms``, or when the telemetry queue (span processor queue + exporter backlog) holds
more than ``max_queue`` spans. Open = ``state.RUNTIME.breaker_open``: the call path passes calls
through unchanged with minimal spans. After ``cooldown_s`` it closes and measures afresh; opening
again soon after doubles the cooldown (up to 64×), so a persistently slow fixer cannot flap.

Hot-path cost: ``record`` stores one int in a ring, compares it and reads the clock; every
``check_interval_s`` (100 ms) the p99 is computed only if a call in the window exceeded ``max_ms``.
Calls that dynamic sampling drops on the call path's fast skip (no fix to look up, no span: a
small fixed cost) are not recorded, so the window holds the calls where Arc does work
and its p99 is, if anything, higher than over all calls: the breaker errs on the side of opening.
"""

from __future__ import annotations

import heapq
import logging
import threading
from time import monotonic
from typing import Callable, Optional

from .. import state

log = logging.getLogger("arc")

WINDOW = 1024  # calls in the sliding window (a power of two: the ring index is a mask)
MIN_SAMPLES = 100  # fewer samples than this never open the breaker on latency
MAX_BACKOFF = 64


class CircuitBreaker:
    def __init__(self, max_ms: float, max_queue: int, cooldown_s: float,
                 queue_depth: Callable[[], int], *, check_interval_s: float = 0.1,
                 clock: Callable[[], float] = monotonic, runtime=None) -> None:
        self.max_ns = int(max_ms * 1_000_000)
        self.max_queue = int(max_queue)
        self.base_cooldown_s = cooldown_s
        self.cooldown_s = cooldown_s
        self.check_interval_s = check_interval_s
        self._queue_depth = queue_depth
        self._clock = clock
        self._rt = runtime or state.RUNTIME
        self._ring = [0] * WINDOW
        self._n = 0  # calls recorded since start
        self._since = 0  # value of _n when the current measurement started
        self._next_check = 0.0
        self._checking = threading.Lock()
        self.is_open = False
        self.opened_at = 0.0
        self.closed_at = -1e18
        self.opens = 0
        self.reason = ""
        self._last_slow = -1  # index (_n) of the last call slower than max_ns
        self.last_queue = 0

    # -- hot path --------------------------------------------------------------------------------
    def record(self, arc_ns: int) -> None:
        """Remember one call's Arc time. Unlocked: a sample lost to a thread race is harmless."""
        n = self._n
        self._ring[n & (WINDOW - 1)] = arc_ns
        if arc_ns > self.max_ns:
            self._last_slow = n
        self._n = n + 1
        now = self._clock()
        if now >= self._next_check:
            self.check(now)

    def observe(self, call, error: bool) -> None:
        """The call path's observer signature (``state.RUNTIME.observers``)."""
        self.record(call.arc_ns)

    # -- evaluation --------------------------------------------------------------------------------
    def p99_ns(self) -> Optional[int]:
        """p99 of the samples since the last (re)start of measuring; None below MIN_SAMPLES."""
        end = self._n
        start = max(self._since, end - WINDOW)
        count = end - start
        if count < MIN_SAMPLES:
            return None
        ring = self._ring
        samples = [ring[i & (WINDOW - 1)] for i in range(start, end)]
        return heapq.nlargest(count // 100 + 1, samples)[-1]

    def check(self, now: Optional[float] = None) -> None:
        if not self._checking.acquire(False):
            return  # another thread is checking right now
        try:
            now = self._clock() if now is None else now
            self._next_check = now + self.check_interval_s
            depth = self._queue_depth() if self.max_queue else 0
            self.last_queue = depth
            if self.is_open:
                queue_ok = not self.max_queue or depth <= self.max_queue // 2
                if now - self.opened_at >= self.cooldown_s and queue_ok:
                    self._close(now)
                return
            # the p99 can only exceed max_ns if some call in the window did: usually none, no sort
            slow = self.max_ns and self._last_slow >= max(self._since, self._n - WINDOW)
            p99 = self.p99_ns() if slow else None
            if p99 is not None and p99 > self.max_ns:
                self._open(now, f"Arc's own time per call p99 {p99 / 1e6:.1f} ms > ARC_BREAKER_MS="
                                f"{self.max_ns / 1e6:g} over the last {min(WINDOW, self._n - self._since)} calls")
            elif self.max_queue and depth > self.max_queue:
                self._open(now, f"{depth} spans waiting for export > ARC_BREAKER_QUEUE={self.max_queue}")
        finally:
            self._checking.release()

    def _open(self, now: float, reason: str) -> None:
        if now - self.closed_at < self.cooldown_s * 2:  # reopened right after closing: back off
            self.cooldown_s = min(self.cooldown_s * 2, self.base_cooldown_s * MAX_BACKOFF)
        else:
            self.cooldown_s = self.base_cooldown_s
        self.is_open = True
        self.opened_at = now
        self.opens += 1
        self.reason = reason
        self._rt.breaker_open = True
        log.warning("arc: circuit breaker OPEN: %s; passing calls through without fixes, minimal spans, "
                    "for at least %.1f s (arc_circuit_open=1)", reason, self.cooldown_s)

    def _close(self, now: float) -> None:
        self.is_open = False
        self.closed_at = now
        self._since = self._n  # judge the closed state on fresh samples only
        self._rt.breaker_open = False
        log.info("arc: circuit breaker closed after %.1f s; fixes and full spans resumed",
                    now - self.opened_at)

    def _p99_ms(self) -> Optional[float]:
        p99 = self.p99_ns()
        return None if p99 is None else p99 / 1e6

    def after_fork(self) -> None:
        self._checking = threading.Lock()

    def status(self) -> dict:
        return {"open": self.is_open, "opens": self.opens, "reason": self.reason if self.is_open else "",
                "last_reason": self.reason, "p99_ms": self._p99_ms(), "queue": self.last_queue,
                "max_ms": self.max_ns / 1e6, "max_queue": self.max_queue, "cooldown_s": self.cooldown_s}
