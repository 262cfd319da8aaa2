"""API keys of ``arc serve``: one tenant per key, read from a private file, never logged.

Key file: one ``TENANT KEY [SCOPES]`` line per key (``#`` comments). SCOPES is ``read``, ``write``
or ``read,write`` (the default, what a key without scopes could always do): ``read`` follows, fetches,
reports, lists and shows; ``write`` publishes, promotes and rolls back. Only sha256 digests of the
keys stay in memory; a request's ``authorization: Bearer <key>`` is matched by digest.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from typing import Dict, FrozenSet, Optional, Tuple

from ..registry import names
from ..registry.errors import RegistryError

MAX_FILE = 1 << 20
SCOPES = ("read", "write")
ALL_SCOPES = frozenset(SCOPES)
Grant = Tuple[str, FrozenSet[str]]  # tenant, scopes


class KeyFileError(ValueError):
    """The key file is unusable; the message names the file and line, never a key."""


class KeyRing:
    def __init__(self, digests: Dict[bytes, Grant]) -> None:
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
        digests: Dict[bytes, Grant] = {}
        for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) not in (2, 3) or len(parts[1]) < 16:
                raise KeyFileError(f"key file {path} line {n}: expected 'TENANT KEY [read|write|read,write]' "
                                   "with a key of 16+ characters")
            try:
                names.check_name(parts[0], "tenant")
            except RegistryError as exc:
                raise KeyFileError(f"key file {path} line {n}: {exc}") from None
            scopes = frozenset(parts[2].split(",")) if len(parts) == 3 else ALL_SCOPES
            if not scopes or not scopes <= ALL_SCOPES:
                raise KeyFileError(f"key file {path} line {n}: scopes must be read, write or read,write")
            digests[_digest(parts[1])] = (parts[0], scopes)
        if not digests:
            raise KeyFileError(f"key file {path}: no keys")
        return cls(digests)

    @property
    def tenants(self) -> set:
        return {tenant for tenant, _ in self._digests.values()}

    def __len__(self) -> int:
        return len(self._digests)

    def tenant(self, authorization: str) -> Optional[str]:
        """The tenant of an ``authorization`` header value, or None."""
        grant = self.grant(authorization)
        return grant[0] if grant else None

    def grant(self, authorization: str) -> Optional[Grant]:
        """(tenant, scopes) of an ``authorization`` header value, or None."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        digest = _digest(token.strip())
        for known, grant in self._digests.items():
            if hmac.compare_digest(known, digest):
                return grant
        return None


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()
