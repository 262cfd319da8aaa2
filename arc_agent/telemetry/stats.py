"""Process-wide telemetry counters, read by the metrics endpoint, ``/arc/runtime/status`` and doctor.

Plain attributes on one object: writers are the exporter thread and the call path; a torn read of
an int is impossible in CPython, so no lock is taken on the hot path.
"""

from __future__ import annotations


class TelemetryStats:
    def __init__(self) -> None:
        self.exported_spans = 0
        self.buffered_spans = 0  # waiting in memory or WAL for the collector
        self.dropped_spans = 0  # lost for good (buffer full, collector rejected as invalid)
        self.repaired_spans = 0  # sent with text that did not encode replaced by U+FFFD
        self.last_flush_ts = 0.0  # unix time of the last successful export
        self.export_state = "idle"  # idle | ok | failing
        self.last_error = ""
        self.sampled_out = 0  # counted by the call path; ``sampled_out_total`` adds the fast skips

    # guards.py: the sampler's count of the calls its fast skip took (kept when a forked child
    # re-runs ``__init__``: the sampler resets its own counts)
    fast_skips = None

    def sampled_out_total(self) -> int:
        fast = self.fast_skips
        return self.sampled_out + (fast() if fast is not None else 0)

    def as_dict(self) -> dict:
        out = dict(vars(self))
        out.pop("fast_skips", None)
        out["sampled_out"] = self.sampled_out_total()
        return out


STATS = TelemetryStats()
