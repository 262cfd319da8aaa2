"""Element fingerprints and Healenium-style similarity for re-locating a target whose selector broke.

A fingerprint is taken at each successful action (tag, id, classes, text, a few attributes, DOM
path, element pHash). Similarity is a weighted mean of per-part similarities in [0, 1]; parts
missing on either side drop out of the mean. Fingerprints live in memory; only the ``full_data``
tier persists them (JSON lines under ``ARC_BLOB_DIR``) so healing also works across runs.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import stat
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Optional, Sequence, Tuple

from .imaging import phash_similarity

log = logging.getLogger("arc")

WEIGHTS = {"tag": 0.15, "id": 0.1, "cls": 0.1, "text": 0.25, "attrs": 0.1, "path": 0.2, "phash": 0.1}


@dataclass
class Fingerprint:
    tag: str
    id: str = ""
    cls: Tuple[str, ...] = ()
    text: str = ""
    attrs: dict = field(default_factory=dict)
    path: Tuple[str, ...] = ()
    phash: str = ""

    @classmethod
    def from_js(cls, fp: dict, phash: str = "") -> Fingerprint:
        return cls(tag=str(fp.get("tag", "")), id=str(fp.get("id", "")), cls=tuple(fp.get("cls") or ()),
                   text=str(fp.get("text", "")), attrs=dict(fp.get("attrs") or {}),
                   path=tuple(fp.get("path") or ()), phash=phash)

    def to_json(self) -> dict:
        return asdict(self)


def _ratio(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _jaccard(a, b) -> float:
    a, b = set(a), set(b)
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def lcs_len(a: Sequence[str], b: Sequence[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def similarity(old: Fingerprint, new: Fingerprint) -> float:
    parts = {
        "tag": 1.0 if old.tag == new.tag else 0.0,
        "id": _ratio(old.id, new.id) if (old.id or new.id) else None,
        "cls": _jaccard(old.cls, new.cls) if (old.cls or new.cls) else None,
        "text": _ratio(old.text, new.text) if (old.text or new.text) else None,
        "attrs": (_jaccard(old.attrs.items(), new.attrs.items()) if (old.attrs or new.attrs) else None),
        "path": (lcs_len(old.path, new.path) / max(len(old.path), len(new.path))
                 if old.path and new.path else None),
        "phash": phash_similarity(old.phash, new.phash) if old.phash and new.phash else None,
    }
    total = weight = 0.0
    for name, value in parts.items():
        if value is not None:
            total += WEIGHTS[name] * value
            weight += WEIGHTS[name]
    return total / weight if weight else 0.0


def best_candidate(old: Fingerprint, candidates: Sequence[dict], min_score: float,
                   margin: float = 0.05) -> Tuple[Optional[dict], float]:
    """The one candidate clearly best and above ``min_score`` (else None), with its score."""
    scored = sorted(((similarity(old, Fingerprint.from_js(c)), i) for i, c in enumerate(candidates)),
                    reverse=True)
    if not scored:
        return None, 0.0
    top, idx = scored[0]
    if top < min_score or (len(scored) > 1 and top - scored[1][0] < margin):
        return None, top
    return candidates[idx], top


def private_append(path: str) -> int:
    """A descriptor appending to ``path``, created 0600 in a 0700 folder (page URLs and selectors
    are the user's data); a file left broader by an older version is narrowed to 0600."""
    os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)  # no symlink: in a shared folder it could point at any file of ours
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():  # someone else's file could be read
        os.close(fd)
        raise PermissionError(f"{path} is not a regular file of this user")
    if info.st_mode & 0o077:
        os.fchmod(fd, 0o600)
    return fd


class FingerprintStore:
    """Last fingerprint per (page URL without query, selector); bounded LRU, optional JSONL file.

    The file is appended to, and rewritten from the LRU once it holds more than twice ``capacity``
    lines, so it stays bounded across runs (a suite whose pages change appends on every run)."""

    def __init__(self, capacity: int = 4096, path: Optional[str] = None) -> None:
        self._items: OrderedDict[tuple, Fingerprint] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()
        self._path = path
        self._loaded = path is None
        self._lines = 0  # lines in the file

    def _load(self) -> None:
        self._loaded = True
        if not self._path or not os.path.exists(self._path):
            return
        try:
            fh = open(self._path, encoding="utf-8")
        except OSError as exc:
            from .blobstore import unwritable

            unwritable(os.path.dirname(self._path), exc)
            return
        with fh:
            for line in fh:
                self._lines += 1
                try:
                    row = json.loads(line)
                    key = (row["url"], row["selector"])
                    self._items[key] = Fingerprint(**{
                        **row["fp"], "cls": tuple(row["fp"].get("cls", ())),
                        "path": tuple(row["fp"].get("path", ()))})
                    self._items.move_to_end(key)
                except (ValueError, KeyError, TypeError):
                    continue
                while len(self._items) > self._capacity:
                    self._items.popitem(last=False)
        if self._lines > 2 * self._capacity:
            self._compact()

    def _compact(self) -> None:
        """Rewrite the file with the LRU's entries only (atomically, 0600)."""
        from ..fsutil import atomic_write

        rows = [json.dumps({"url": url, "selector": sel, "fp": fp.to_json()}) + "\n"
                for (url, sel), fp in self._items.items()]
        try:
            os.close(private_append(self._path))  # the folder 0700 and the file 0600 before the swap
            atomic_write(self._path, (row.encode("utf-8") for row in rows))
            os.chmod(self._path, 0o600)
            self._lines = len(rows)
        except OSError as exc:
            from .blobstore import unwritable

            unwritable(os.path.dirname(self._path), exc)

    def put(self, url: str, selector: str, fp: Fingerprint) -> None:
        with self._lock:
            if not self._loaded:
                self._load()
            key = (url, selector)
            if self._items.get(key) == fp:
                self._items.move_to_end(key)
                return
            self._items[key] = fp
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
            if self._path:
                line = json.dumps({"url": url, "selector": selector, "fp": fp.to_json()}) + "\n"
                try:
                    with open(private_append(self._path), "a", encoding="utf-8") as fh:
                        fh.write(line)
                    self._lines += 1
                except OSError as exc:  # kept in memory from now on; the folder is named once
                    from .blobstore import unwritable

                    unwritable(os.path.dirname(self._path), exc)
                    self._path = None
                    return
                if self._lines > 2 * self._capacity:
                    self._compact()

    def get(self, url: str, selector: str) -> Optional[Fingerprint]:
        with self._lock:
            if not self._loaded:
                self._load()
            return self._items.get((url, selector))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
