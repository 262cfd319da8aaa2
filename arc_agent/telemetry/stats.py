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
        self.last_flush_ts = 0.0  # unix time of the last successful export
        self.export_state = "idle"  # idle | ok | failing
        self.last_error = ""
        self.sampled_out = 0

    def as_dict(self) -> dict:
        return dict(vars(self))


STATS = TelemetryStats()
