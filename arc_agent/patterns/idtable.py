"""Pattern ids stored compactly: one UTF-8 blob plus offsets, and a sorted hash column for lookup
by id (1M Python strings would cost ~60 MB; this costs ~30 MB for 1M ids)."""

from __future__ import annotations

from array import array

import numpy as np


class IdTable:
    __slots__ = ("_blob", "_offsets", "_hashes", "_order")

    def __init__(self, blob: bytes, offsets: array, hashes: np.ndarray) -> None:
        self._blob = blob
        self._offsets = offsets
        self._order = np.argsort(hashes, kind="stable").astype(np.int32)
        self._hashes = hashes[self._order]

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
        hashes = np.fromiter(map(hash, ids), dtype=np.int64, count=n)
        return cls(blob, array("Q", offsets.tobytes()), hashes)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def get(self, i: int) -> str:
        return self._blob[self._offsets[i]:self._offsets[i + 1]].decode("utf-8", "surrogatepass")

    def find(self, pattern_id: str) -> int | None:
        h = hash(pattern_id)
        j = int(np.searchsorted(self._hashes, h))
        while j < len(self._hashes) and self._hashes[j] == h:
            i = int(self._order[j])
            if self.get(i) == pattern_id:
                return i
            j += 1
        return None

    def duplicates(self, limit: int = 10) -> list:
        """(index, earlier index) pairs of repeated ids, in order of the later index."""
        out = []
        same = np.flatnonzero(self._hashes[1:] == self._hashes[:-1])
        for j in same.tolist():
            a, b = int(self._order[j]), int(self._order[j + 1])
            if self.get(a) == self.get(b):
                out.append((max(a, b), min(a, b)))
        out.sort()
        return out[:limit]
