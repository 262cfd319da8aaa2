"""Disk write-ahead buffer for spans the collector could not take (``ARC_WAL_PATH``).

SQLite in WAL mode, file mode 0600. Rows are serialized OTLP ``ExportTraceServiceRequest`` bytes,
i.e. exactly what would have been sent (the span attributes already obey the privacy settings; no
header or key is ever stored). Survives restarts; drained in insertion order on reconnect.
"""

from __future__ import annotations

import os
import sqlite3
import threading


class WriteAheadLog:
    def __init__(self, path: str, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.path = os.path.abspath(os.path.expanduser(path))
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        os.chmod(self.path, 0o600)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                         " spans INTEGER NOT NULL, payload BLOB NOT NULL)")
        for suffix in ("-wal", "-shm"):
            if os.path.exists(self.path + suffix):
                os.chmod(self.path + suffix, 0o600)

    def append(self, payload: bytes, spans: int) -> bool:
        """Store one batch; False when the log is full (the caller counts it as dropped)."""
        with self._lock:
            if self._size_locked() + len(payload) > self.max_bytes:
                return False
            self._db.execute("INSERT INTO batches (spans, payload) VALUES (?, ?)", (spans, payload))
            return True

    def _size_locked(self) -> int:
        row = self._db.execute("SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM batches").fetchone()
        return int(row[0])

    def peek(self, limit: int = 16) -> list:
        with self._lock:
            return self._db.execute("SELECT id, spans, payload FROM batches ORDER BY id LIMIT ?",
                                    (limit,)).fetchall()

    def remove(self, row_id: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM batches WHERE id = ?", (row_id,))

    def pending_spans(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COALESCE(SUM(spans), 0) FROM batches").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            try:
                self._db.close()
            except Exception:
                pass
