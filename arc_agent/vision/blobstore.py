"""Content-addressed store on local disk (``ARC_BLOB_DIR``): PNGs and DOM snapshots; full_data tier only.

A folder that cannot be used (no permission permissions, a file in the way, a full disk) is
one warning naming ``ARC_BLOB_DIR``; the writes return None and the spans go out without blob keys.
"""

from __future__ import annotations

import hashlib
import logging
import os
from typing import Optional

from .. import failopen
from ..fsutil import atomic_write

log = logging.getLogger("arc")
_warned: set = set()


def unwritable(root: str, exc: OSError) -> None:
    """Count a failed write (or read) under ``root``; warn once per folder, in the user's terms."""
    if root not in _warned and len(_warned) < 100:
        _warned.add(root)
        log.warning("arc: ARC_BLOB_DIR=%s cannot be used (%s): full_data screenshots, DOM snapshots and "
                    "healing fingerprints are not kept (spans go out without their keys); set ARC_BLOB_DIR to "
                    "a writable folder", root, exc)
    failopen.record("vision.blob", exc, logged=True)


class BlobStore:
    def __init__(self, root: str) -> None:
        self.root = root

    def path_for(self, key: str) -> str:
        return os.path.join(self.root, key[:2], key + ".png")

    def _put(self, path: str, data: bytes) -> bool:
        try:
            if not os.path.exists(path):
                atomic_write(path, (data,))
            return True
        except OSError as exc:
            unwritable(self.root, exc)
            return False

    def put_png(self, data: bytes) -> Optional[str]:
        """Write ``data`` under its sha256 (once) and return the key (None: not writable)."""
        key = hashlib.sha256(data).hexdigest()
        return key if self._put(self.path_for(key), data) else None

    def get_png(self, key: str) -> bytes:
        with open(self.path_for(key), "rb") as fh:
            return fh.read()

    def put_html(self, text: str) -> Optional[str]:
        """Write a DOM snapshot under its sha256 (once) and return the key (None: not writable)."""
        data = text.encode("utf-8", "replace")
        key = hashlib.sha256(data).hexdigest()
        return key if self._put(os.path.join(self.root, key[:2], key + ".html"), data) else None

    def get_html(self, key: str) -> str:
        with open(os.path.join(self.root, key[:2], key + ".html"), "rb") as fh:
            return fh.read().decode("utf-8", "replace")
