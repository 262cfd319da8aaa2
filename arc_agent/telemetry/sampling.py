"""Dynamic sampling: keep every span until the call rate passes ``max_qps``, then keep ``rate`` of them.

The rate is measured over fixed windows of ``window_s`` (0.5 s); the decision for the next window
follows the last one, so a burst is sampled within half a second and a quiet period returns to
100 %. Errors and applied fixes are kept by the call path whatever the sampler says, and a
sampled-out call is still fixed: only its span is skipped.

Hot-path cost: one counter increment, one clock read and, while sampling, one ``random()``.
"""

from __future__ import annotations

import random
from time import monotonic
from typing import Callable


class DynamicSampler:
    def __init__(self, max_qps: float, rate: float, *, window_s: float = 0.5,
                 clock: Callable[[], float] = monotonic, rand: Callable[[], float] = random.random) -> None:
        self.max_qps = float(max_qps)
        self.rate = float(rate)
        self.window_s = window_s
        self._clock = clock
        self._rand = rand
        self._count = 0
        self._window_start = clock()
        self._window_end = self._window_start + window_s
        self.active = False
        self.qps = 0.0
        self.activations = 0
        self.considered = 0  # calls seen while sampling was active
        self.kept = 0  # ... of which kept

    def __call__(self) -> bool:
        """True = keep this call's span. Unlocked: a count lost to a thread race only nudges the rate."""
        self._count += 1
        now = self._clock()
        if now >= self._window_end:
            self._roll(now)
        if not self.active:
            return True
        self.considered += 1
        if self._rand() < self.rate:
            self.kept += 1
            return True
        return False

    def _roll(self, now: float) -> None:
        elapsed = now - self._window_start
        self.qps = self._count / elapsed if elapsed > 0 else 0.0
        was = self.active
        self.active = self.qps > self.max_qps
        self.activations += self.active and not was
        self._count = 0
        self._window_start = now
        self._window_end = now + self.window_s

    def status(self) -> dict:
        return {"active": self.active, "qps": round(self.qps, 1), "max_qps": self.max_qps, "rate": self.rate,
                "activations": self.activations, "considered": self.considered, "kept": self.kept}
