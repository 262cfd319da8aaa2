"""Per-call counters behind the Prometheus endpoint, kept as plain ints under one uncontended lock.

Why not prometheus-client metric objects on the hot path: each ``labels(...).inc()`` costs a label
lookup and a lock; here a call costs one lock, a dict lookup keyed by the integration's ``CallSpec``
(pre-bound per (provider, operation)) and a ``bisect`` into the latency buckets. The exposition
(``metrics.py``) turns these into metric families at scrape time.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import Counter

from . import attributes as A

# interception latency histogram bounds, seconds (fine at the low end, where Arc's own time per call
# normally is: benchmarks/RESULTS.md)
BUCKETS_S = (0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
             0.025, 0.05, 0.1, 0.25, 1.0)
_BOUNDS_NS = tuple(round(b * 1e9) for b in BUCKETS_S)


class CallStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_spec: dict = {}  # CallSpec -> [calls]
        self.buckets = [0] * (len(_BOUNDS_NS) + 1)  # last = +Inf
        self.sum_ns = 0
        self.errors: Counter = Counter()  # (provider, operation, error_type) -> n
        self.fixes: Counter = Counter()  # pattern id -> n

    def add(self, call, error: bool) -> None:
        """Count one finished call (``call`` is the ``LLMCall``)."""
        self.add_spec(call.spec, call.arc_ns)
        if error or call.fix_applied:
            self._rare(call, error)

    def add_spec(self, spec, ns: int) -> None:
        """Count one call by its ``CallSpec`` and Arc's time: all of it for a call that succeeded
        with nothing fixed, and all a sampled-out call has (no ``LLMCall`` exists for it)."""
        with self._lock:
            counts = self._by_spec.get(spec)
            if counts is None:
                counts = self._by_spec[spec] = [0]
            counts[0] += 1
            self.buckets[bisect_left(_BOUNDS_NS, ns)] += 1
            self.sum_ns += ns

    def _rare(self, call, error: bool) -> None:
        attrs = call.attrs
        with self._lock:
            if error:
                self.errors[(call.spec.provider, call.spec.operation, str(attrs.get(A.ERROR_TYPE, "")))] += 1
            if call.fix_applied:
                for pattern_id in attrs.get(A.ARC_FIX_PATTERN_IDS) or ("unknown",):
                    self.fixes[str(pattern_id)] += 1

    def snapshot(self) -> dict:
        with self._lock:
            requests: Counter = Counter()
            for spec, counts in self._by_spec.items():
                requests[(spec.provider, spec.operation)] += counts[0]
            return {"requests": dict(requests), "errors": dict(self.errors), "fixes": dict(self.fixes),
                    "buckets": list(self.buckets), "sum_s": self.sum_ns / 1e9}

    def after_fork(self) -> None:
        """A forked child counts its own calls from zero."""
        self.__init__()
