"""Bounded in-memory log of the requests the server received, with credentials redacted.

Golden tests read it (``GET /_dev/requests``) to check what an instrumented app really sent.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Any, List, Mapping, Optional

REDACTED = "REDACTED"
_SECRET_HEADER_WORDS = ("authorization", "api-key", "api_key", "apikey", "token", "secret", "cookie",
                        "password", "credential", "session")


def is_secret_header(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_HEADER_WORDS)


def redact_headers(headers: Mapping[str, str]) -> dict:
    """Lower-cased header names; any credential-like header's value replaced by ``REDACTED``."""
    return {k.lower(): (REDACTED if is_secret_header(k) else v) for k, v in headers.items()}


class RequestLog:
    """Thread-safe ring buffer of request records; each record gets a growing ``seq`` number."""

    def __init__(self, size: int) -> None:
        self._entries: collections.deque = collections.deque(maxlen=size)
        self._lock = threading.Lock()
        self._seq = 0

    def add(self, method: str, path: str, query: str, headers: Mapping[str, str], body: Any) -> dict:
        """Record a request; the returned record is later completed with ``status`` (and ``injected``)."""
        record = {
            "seq": 0,
            "time": time.time(),
            "method": method,
            "path": path,
            "query": query,
            "headers": redact_headers(headers),
            "body": body,
            "status": None,
        }
        with self._lock:
            self._seq += 1
            record["seq"] = self._seq
            self._entries.append(record)
        return record

    def snapshot(self, path: Optional[str] = None, since: int = 0) -> List[dict]:
        """Records oldest first, optionally only one path and only those with ``seq > since``."""
        with self._lock:
            entries = list(self._entries)
        return [r for r in entries if r["seq"] > since and (path is None or r["path"] == path)]

    def clear(self) -> int:
        with self._lock:
            n = len(self._entries)
            self._entries.clear()
        return n

    def resize(self, size: int) -> None:
        with self._lock:
            if size != self._entries.maxlen:
                self._entries = collections.deque(self._entries, maxlen=size)
