"""API keys of ``arc serve``: one tenant per key, read from a private file, never logged.

Key file: one ``TENANT KEY`` pair per line (``#`` comments). Only sha256 digests of the keys stay
in memory; a request's ``authorization: Bearer <key>`` is matched by digest.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from typing import Dict, Optional

from ..registry import names
from ..registry.errors import RegistryError

MAX_FILE = 1 << 20


class KeyFileError(ValueError):
    """The key file is unusable; the message names the file and line, never a key."""


class KeyRing:
    def __init__(self, digests: Dict[bytes, str]) -> None:
        self._digests = digests

    @classmethod
    def load(cls, path: str) -> KeyRing:
        try:
            st = os.stat(path)
            if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise KeyFileError(f"key file {path} is readable by other users; chmod 600 it")
            with open(path, "rb") as fh:
                data = fh.read(MAX_FILE + 1)
        except OSError as exc:
            raise KeyFileError(f"key file {path}: {exc.strerror or exc}") from None
        if len(data) > MAX_FILE:
            raise KeyFileError(f"key file {path}: larger than {MAX_FILE} bytes")
        digests: Dict[bytes, str] = {}
        for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 2 or len(parts[1]) < 16:
                raise KeyFileError(f"key file {path} line {n}: expected 'TENANT KEY' with a key of 16+ characters")
            try:
                names.check_name(parts[0], "tenant")
            except RegistryError as exc:
                raise KeyFileError(f"key file {path} line {n}: {exc}") from None
            digests[_digest(parts[1])] = parts[0]
        if not digests:
            raise KeyFileError(f"key file {path}: no keys")
        return cls(digests)

    @property
    def tenants(self) -> set:
        return set(self._digests.values())

    def __len__(self) -> int:
        return len(self._digests)

    def tenant(self, authorization: str) -> Optional[str]:
        """The tenant of an ``authorization`` header value, or None."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        digest = _digest(token.strip())
        for known, tenant in self._digests.items():
            if hmac.compare_digest(known, digest):
                return tenant
        return None


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()
