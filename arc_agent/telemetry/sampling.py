"""Dynamic sampling: keep every span until the call rate passes ``max_qps``, then keep ``rate`` of them.

The rate is measured over fixed windows of ``window_s`` (0.5 s); the decision for the next window
follows the last one, so a burst is sampled within half a second and a quiet period returns to
100 %. Errors and applied fixes are kept whatever this sampler says (``shedding.ArcSampler``, the
OTel ``Sampler`` that asks this one), and a sampled-out call is still fixed: only its span is skipped.

While sampling, kept calls are drawn as Bernoulli(``rate``) trials, but by their gaps: after each
kept call, the number of calls to drop before the next one (``left``) is drawn once from the
geometric distribution, which gives the same kept calls in law as one draw per call. A call that
finds ``left > 0`` is sampled out without a draw; ``llm/call.py`` takes such calls on a fast path
that reads ``window_end`` and only decrements ``left`` (no span, no ``LLMCall``, no sampler call,
no counter): the calls it took are ``drawn - left``, folded into the counters by ``sync`` when the
sampler is next asked or read. Unlocked, like the rest: a thread race can miscount a call or two.
"""

from __future__ import annotations

import random
import sys
from math import log, log1p
from time import monotonic
from typing import Callable, Optional


class DynamicSampler:
    __slots__ = ("max_qps", "rate", "window_s", "_clock", "_rand", "_log_keep", "count", "window_start",
                 "window_end", "left", "drawn", "active", "qps", "activations", "considered", "kept", "count_spec",
                 "fast_skipped", "fast_failed")

    def __init__(self, max_qps: float, rate: float, *, window_s: float = 0.5,
                 clock: Callable[[], float] = monotonic, rand: Callable[[], float] = random.random) -> None:
        self.max_qps = float(max_qps)
        self.rate = float(rate)
        self.window_s = window_s
        self._clock = clock
        self._rand = rand
        self._log_keep = log1p(-self.rate) if 0.0 < self.rate < 1.0 else 0.0
        self.count = 0  # calls in the current window (the fast path counts its own too)
        self.window_start = clock()
        self.window_end = self.window_start + window_s
        self.left = 0  # calls still to drop before the next kept one; > 0 only while active
        self.drawn = 0  # ``left`` when the counters last included every call (see ``sync``)
        self.fast_skipped = 0  # calls the fast path took ...
        self.fast_failed = 0  # ... of which failed (their error span was made)
        self.active = False
        self.qps = 0.0
        self.activations = 0
        self.considered = 0  # calls seen while sampling was active
        self.kept = 0  # ... of which kept
        # guards.py: ``CallStats.add_spec`` when the metrics endpoint counts calls, else None
        self.count_spec: Optional[Callable] = None

    def __call__(self) -> bool:
        """True = keep this call's span. Unlocked: a count lost to a thread race only nudges the rate."""
        if self.left != self.drawn:
            self.sync()
        self.count += 1
        now = self._clock()
        if now >= self.window_end:
            self._roll(now)
        if not self.active:
            return True
        self.considered += 1
        left = self.left
        if left > 0:
            self.left = self.drawn = left - 1
            return False
        self.kept += 1
        self.left = self.drawn = self._gap()
        return True

    def sync(self) -> None:
        """Count the calls the fast path took since the last sync (it only decrements ``left``)."""
        left = self.left
        taken = self.drawn - left
        self.drawn = left
        if taken > 0:
            self.count += taken
            self.considered += taken
            self.fast_skipped += taken

    def sampled_out(self) -> int:
        """Calls the fast path sampled out that went through without error."""
        self.sync()
        return self.fast_skipped - self.fast_failed

    def _gap(self) -> int:
        """Calls to drop before the next kept one: Geometric(rate) on {0, 1, ...}."""
        if self.rate >= 1.0:
            return 0
        if self.rate <= 0.0:
            return sys.maxsize
        return int(log(1.0 - self._rand()) / self._log_keep)

    def _roll(self, now: float) -> None:
        elapsed = now - self.window_start
        self.qps = self.count / elapsed if elapsed > 0 else 0.0
        was = self.active
        self.active = self.qps > self.max_qps
        self.activations += self.active and not was
        if not self.active:
            self.left = self.drawn = 0
        self.count = 0
        self.window_start = now
        self.window_end = now + self.window_s

    def status(self) -> dict:
        self.sync()
        return {"active": self.active, "qps": round(self.qps, 1), "max_qps": self.max_qps, "rate": self.rate,
                "activations": self.activations, "considered": self.considered, "kept": self.kept}

