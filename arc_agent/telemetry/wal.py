"""Disk write-ahead buffer for spans the collector could not take (``ARC_WAL_PATH``).

SQLite in WAL mode, file mode 0600. Rows are serialized OTLP ``ExportTraceServiceRequest`` bytes,
i.e. exactly what would have been sent (the span attributes already obey the privacy settings; no
header or key is ever stored). Survives restarts; drained in insertion order on reconnect.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: one process per WAL
    fcntl = None

_inherited: list = []  # connections inherited across fork: never used, never closed, in the child
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _own_private_file(path: str, create: bool) -> None:
    """Make ``path`` (created when ``create``) a 0600 regular file of this user, never through a
    symlink: a WAL path in a shared folder (``/tmp``) could be a link planted by another user to a
    file of ours (SQLite would write spans into it), or a file they own and can read."""
    flags = os.O_RDWR | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0) | (os.O_CREAT if create else 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileNotFoundError:
        return  # a side file SQLite has not made yet: it makes it with the main file's mode
    except OSError as exc:
        if os.path.islink(path):
            raise ValueError(f"{path} is a symlink; the WAL must be a plain file") from None
        raise ValueError(f"{path}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            raise ValueError(f"{path} is not a regular file owned by this user (uid {os.getuid()})")
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


class WriteAheadLog:
    def __init__(self, path: str, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.path = os.path.abspath(os.path.expanduser(path))
        os.makedirs(os.path.dirname(self.path) or ".", mode=0o700, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):  # SQLite opens the side files itself: check them first
            _own_private_file(self.path + suffix, create=not suffix)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._lease_fd = -1
        self._db = self._connect()

    def _connect(self):
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                   " spans INTEGER NOT NULL, payload BLOB NOT NULL)")
        return db

    def lease(self) -> bool:
        """True when this process may drain the log: one drainer per file across processes (forked
        workers share ARC_WAL_PATH), held until the process exits, so no batch is sent twice."""
        if fcntl is None or self._lease_fd >= 0:
            return True
        fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lease_fd = fd
        return True

    def after_fork(self) -> None:
        """SQLite connections must not cross fork: the child opens its own (and no lease)."""
        _inherited.append(self._db)
        self._lock = threading.Lock()
        if self._lease_fd >= 0:  # the parent keeps the lease; our copy must not outlive it
            os.close(self._lease_fd)
            self._lease_fd = -1
        self._db = self._connect()

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
            if self._lease_fd >= 0:
                os.close(self._lease_fd)
                self._lease_fd = -1
