"""The collector's write-ahead log: accepted OTLP requests, appended before the sender is answered.

Why: chDB costs a fixed, large CPU price per INSERT whatever its size (the materialized view, parts,
merges; benchmarks/RESULTS.md), so inserts must be big — but an SDK has one export of ≤512 spans in
flight, so acking only after the INSERT would cap batches (and throughput) at what the senders have in flight. With this
log the collector acks as soon as a request is on disk (page cache: survives a crash of the process;
``fsync=True`` also survives a power loss), inserts in large batches, and deletes a segment once
its batch is committed. At start-up, segments left by a crash are inserted again (at-least-once:
a crash between INSERT and delete duplicates that batch, never loses it).

Segment files ``<seq>.seg`` hold records ``[u32 length][u32 crc32][request bytes]``; a torn tail
(crash mid-append, never acknowledged) is ignored.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from pathlib import Path

log = logging.getLogger("arc.collector")

_HEADER = struct.Struct("<II")
SUFFIX = ".seg"


class SpanLog:
    """Append requests to the open segment; ``seal`` closes it so its batch can be inserted."""

    def __init__(self, directory: str | os.PathLike, *, fsync: bool = False) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)  # span data: owner only
        self.fsync = fsync
        existing = self.segments()
        self._next_seq = int(existing[-1].stem) + 1 if existing else 1
        self._fd: int | None = None
        self._path: Path | None = None

    def segments(self) -> list:
        """Segment files on disk, oldest first (at start-up: what a previous run left)."""
        return sorted(p for p in self.directory.glob("*" + SUFFIX) if p.stem.isdigit())

    def append(self, data: bytes) -> None:
        """Write one record to the open segment (opened on demand). Not thread-safe: callers lock."""
        if self._fd is None:
            self._path = self.directory / f"{self._next_seq:012d}{SUFFIX}"
            self._next_seq += 1
            self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        record = _HEADER.pack(len(data), zlib.crc32(data)) + data
        written = os.write(self._fd, record)
        if written != len(record):  # disk full: the caller refuses the request, the sender retries
            raise OSError(f"short write to {self._path} ({written} of {len(record)} bytes)")
        if self.fsync:
            os.fsync(self._fd)

    def seal(self) -> Path | None:
        """Close the open segment and return its path (None when nothing was appended)."""
        if self._fd is None:
            return None
        os.close(self._fd)
        path, self._fd, self._path = self._path, None, None
        return path

    @staticmethod
    def delete(path: Path) -> None:
        try:
            path.unlink()
        except FileNotFoundError:
            pass

    @staticmethod
    def read(path: Path) -> list:
        """The complete records of a segment; stops at a torn or corrupt record."""
        data = Path(path).read_bytes()
        records, offset = [], 0
        while offset + _HEADER.size <= len(data):
            length, crc = _HEADER.unpack_from(data, offset)
            body = data[offset + _HEADER.size: offset + _HEADER.size + length]
            if len(body) != length or zlib.crc32(body) != crc:
                log.warning("arc collector: %s: ignoring a torn record at byte %d", path, offset)
                break
            records.append(body)
            offset += _HEADER.size + length
        return records
