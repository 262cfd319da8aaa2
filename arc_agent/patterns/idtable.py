"""Pattern ids stored compactly: one UTF-8 blob plus offsets, and a sorted hash column for lookup
by id (half the memory of 1M Python strings; benchmarks/RESULTS.md).

The hash column is built on first use (``find``/``duplicates``): requests never look ids up, and
a layer restored from a snapshot would otherwise rebuild it (Python's string hash is randomized
per process, so it cannot be stored) on every start.
"""

from __future__ import annotations

import threading
from array import array

import numpy as np


class IdTable:
    __slots__ = ("_blob", "_offsets", "_hashes", "_order", "_lock")

    def __init__(self, blob: bytes, offsets: array) -> None:
        self._blob = blob
        self._offsets = offsets
        self._hashes: np.ndarray | None = None
        self._order: np.ndarray | None = None
        self._lock = threading.Lock()

    @classmethod
    def build(cls, ids: list) -> IdTable:
        n = len(ids)
        joined = "".join(ids)
        blob = joined.encode("utf-8", "surrogatepass")
        if len(blob) == len(joined):  # ASCII: byte lengths are string lengths
            lengths = np.fromiter(map(len, ids), dtype=np.uint64, count=n)
        else:
            lengths = np.fromiter((len(s.encode("utf-8", "surrogatepass")) for s in ids), dtype=np.uint64,
                                  count=n)
        offsets = np.zeros(n + 1, dtype=np.uint64)
        np.cumsum(lengths, out=offsets[1:])
        table = cls(blob, array("Q", offsets.tobytes()))
        table._set_index(np.fromiter(map(hash, ids), dtype=np.int64, count=n))
        return table

    @property
    def blob(self) -> bytes:
        return self._blob

    @property
    def offsets(self) -> array:
        return self._offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def get(self, i: int) -> str:
        return self._blob[self._offsets[i]:self._offsets[i + 1]].decode("utf-8", "surrogatepass")

    def _set_index(self, hashes: np.ndarray) -> None:
        order = np.argsort(hashes, kind="stable").astype(np.int32)
        self._order, self._hashes = order, hashes[order]  # _hashes last: it marks the index ready

    def _index(self) -> tuple:
        if self._hashes is None:
            with self._lock:
                if self._hashes is None:
                    self._set_index(np.fromiter(map(hash, self._strings()), dtype=np.int64, count=len(self)))
        return self._hashes, self._order

    def _strings(self):
        text = self._blob.decode("utf-8", "surrogatepass")
        offs = self._offsets
        if len(text) == len(self._blob):  # ASCII: slice the decoded text in C, no per-id decode
            return map(text.__getitem__, map(slice, offs[:-1], offs[1:]))
        return map(self.get, range(len(self)))

    def find(self, pattern_id: str) -> int | None:
        hashes, order = self._index()
        h = hash(pattern_id)
        j = int(np.searchsorted(hashes, h))
        while j < len(hashes) and hashes[j] == h:
            i = int(order[j])
            if self.get(i) == pattern_id:
                return i
            j += 1
        return None

    def duplicates(self, limit: int = 10) -> list:
        """(index, earlier index) pairs of repeated ids, in order of the later index."""
        hashes, order = self._index()
        out = []
        same = np.flatnonzero(hashes[1:] == hashes[:-1])
        for j in same.tolist():
            a, b = int(order[j]), int(order[j + 1])
            if self.get(a) == self.get(b):
                out.append((max(a, b), min(a, b)))
        out.sort()
        return out[:limit]

    def common(self, other: IdTable, limit: int = 10) -> list:
        """Indexes (in this table, ascending) of ids that ``other`` holds too, at most ``limit``."""
        hashes, order = self._index()
        shared = np.flatnonzero(np.isin(hashes, other._index()[0]))
        out = sorted(i for i in (int(order[j]) for j in shared.tolist()) if other.find(self.get(i)) is not None)
        return out[:limit]
