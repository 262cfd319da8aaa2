"""Spans the store refused even alone: kept in a private, bounded file instead of being dropped.

The collector acknowledged these spans, so it never lets them go silently: each refusal is counted
(``dead_lettered_spans`` in ``/arc/status`` and the stop line), logged, and written here.

Format: ``<collector dir>/dead_letter/dead_letter.jsonl`` (folder 0700, files 0600), one JSON object
per line::

    {"time": "2026-12-07T10:00:00Z", "spans": 3, "reason": "Code: 252 ...", "otlp": "<base64>"}

``otlp`` is a serialized ``ExportTraceServiceRequest`` holding exactly the refused spans (with their
resource and scope), so a fixed store can take them back, e.g. by sending the decoded bytes to the
collector's Export method. Bounded: when the file would pass ``max_bytes / 2`` it becomes
``dead_letter.1.jsonl`` (replacing the previous one), so the folder holds at most ``max_bytes``;
the spans of a replaced file are counted in ``dead_letter_discarded_spans`` and logged as an error.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
from pathlib import Path

log = logging.getLogger("arc.collector")

FILE = "dead_letter.jsonl"
OLD_FILE = "dead_letter.1.jsonl"
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


def _spans_in(path: Path) -> int:
    total = 0
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    total += int(json.loads(line).get("spans", 0))
                except (ValueError, AttributeError):
                    continue
    except OSError:
        pass
    return total


class DeadLetter:
    def __init__(self, directory: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.path = self.directory / FILE
        self.spans = 0  # written by this run
        self.discarded_spans = 0  # lost to rotation
        self._lock = threading.Lock()

    def add(self, request_bytes: bytes, spans: int, reason: str) -> None:
        """Append one refused request; raises ``OSError`` when it cannot be written (the caller keeps it)."""
        line = json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "spans": spans,
                           "reason": reason, "otlp": base64.b64encode(request_bytes).decode("ascii")},
                          ensure_ascii=True) + "\n"
        data = line.encode("ascii")
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            os.chmod(self.directory, 0o700)
            try:
                size = self.path.stat().st_size
            except FileNotFoundError:
                size = 0
            if size and size + len(data) > self.max_bytes // 2:
                self._rotate()
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                written = os.write(fd, data)
            finally:
                os.close(fd)
            if written != len(data):
                raise OSError(f"short write to {self.path} ({written} of {len(data)} bytes)")
            self.spans += spans

    def _rotate(self) -> None:
        old = self.directory / OLD_FILE
        lost = _spans_in(old) if old.exists() else 0
        os.replace(self.path, old)
        if lost:
            self.discarded_spans += lost
            log.error("arc collector: dead-letter folder %s is full (%d bytes): discarded %d older refused spans",
                      self.directory, self.max_bytes, lost)
