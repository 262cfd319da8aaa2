"""Content-addressed PNG store on local disk (``ARC_BLOB_DIR``); used only in the full_data tier."""

from __future__ import annotations

import hashlib
import os

from ..fsutil import atomic_write


class BlobStore:
    def __init__(self, root: str) -> None:
        self.root = root

    def path_for(self, key: str) -> str:
        return os.path.join(self.root, key[:2], key + ".png")

    def put_png(self, data: bytes) -> str:
        """Write ``data`` under its sha256 (once) and return the key."""
        key = hashlib.sha256(data).hexdigest()
        path = self.path_for(key)
        if not os.path.exists(path):
            atomic_write(path, (data,))
        return key

    def get_png(self, key: str) -> bytes:
        with open(self.path_for(key), "rb") as fh:
            return fh.read()
