"""Content-addressed store on local disk (``ARC_BLOB_DIR``): PNGs and DOM snapshots; full_data tier only."""

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

    def put_html(self, text: str) -> str:
        """Write a DOM snapshot under its sha256 (once) and return the key."""
        data = text.encode("utf-8", "replace")
        key = hashlib.sha256(data).hexdigest()
        path = os.path.join(self.root, key[:2], key + ".html")
        if not os.path.exists(path):
            atomic_write(path, (data,))
        return key

    def get_html(self, key: str) -> str:
        with open(os.path.join(self.root, key[:2], key + ".html"), "rb") as fh:
            return fh.read().decode("utf-8", "replace")
