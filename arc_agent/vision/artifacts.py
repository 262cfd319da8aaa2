"""Versioned model artifacts (manifest + file, sha256-checked) with atomic hot-reload.

A directory holds ``manifest.json`` (name, version, sha256, file, created_at, parent, metrics) and
the file it names. ``ArtifactSlot.get()`` is the hot path: one reference read, plus a ``stat`` of
the manifest at most every ``check_every_s``; a changed manifest is validated before the swap and a
bad one leaves the previous artifact in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .. import failopen

MANIFEST = "manifest.json"


class ArtifactError(ValueError):
    pass


@dataclass(frozen=True)
class Loaded:
    version: str
    manifest: dict
    value: Any


def read_artifact(directory: str) -> tuple:
    """(manifest, file bytes) after checking the manifest names a file whose sha256 matches."""
    mpath = os.path.join(directory, MANIFEST)
    try:
        with open(mpath, encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"cannot read {mpath}: {exc}") from None
    for key in ("version", "sha256", "file"):
        if not isinstance(manifest.get(key), str) or not manifest[key]:
            raise ArtifactError(f"{mpath}: missing or empty string field {key!r}")
    fpath = os.path.join(directory, manifest["file"])
    try:
        with open(fpath, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise ArtifactError(f"cannot read {fpath}: {exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != manifest["sha256"]:
        raise ArtifactError(f"{fpath}: sha256 {digest} does not match manifest {manifest['sha256']}")
    return manifest, data


def write_artifact(directory: str, filename: str, data: bytes, version: str, **extra) -> dict:
    """Write ``data`` and its manifest (manifest last, atomically, so readers never see a half)."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, filename), "wb") as fh:
        fh.write(data)
    manifest = {"version": version, "file": filename, "sha256": hashlib.sha256(data).hexdigest(),
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **extra}
    tmp = os.path.join(directory, MANIFEST + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, os.path.join(directory, MANIFEST))
    return manifest


class ArtifactSlot:
    """Holds the current artifact of one directory; reloads it when its manifest changes."""

    def __init__(self, directory: Callable[[], Optional[str]], load: Callable[[dict, bytes], Any],
                 kind: str, check_every_s: float = 2.0) -> None:
        self._directory = directory
        self._load = load
        self._kind = kind
        self._check_every = check_every_s
        self._current: Optional[Loaded] = None
        self._stamp: Any = None
        self._next_check = 0.0
        self._lock = threading.Lock()

    def get(self) -> Optional[Loaded]:
        now = time.monotonic()
        if now >= self._next_check and self._lock.acquire(blocking=self._current is None):
            try:
                self._next_check = now + self._check_every
                self._maybe_reload()
            finally:
                self._lock.release()
        return self._current

    def loaded_version(self) -> Optional[str]:
        """Version of what is loaded now, without loading anything (for status pages)."""
        current = self._current
        return current.version if current is not None else None

    def current(self) -> Optional[Loaded]:
        """What is loaded now, without checking the directory (for status reports)."""
        return self._current

    def force_check(self) -> None:
        self._next_check = 0.0

    def _maybe_reload(self) -> None:
        try:
            directory = self._directory()
        except Exception as exc:       # e.g. a registry version failed verification: keep what we have
            failopen.record(f"vision.{self._kind}.load", exc)
            return
        if not directory:
            self._current, self._stamp = None, None
            return
        try:
            st = os.stat(os.path.join(directory, MANIFEST))
            stamp = (directory, st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError as exc:
            if self._current is None and self._stamp != ("missing", directory):
                failopen.record(f"vision.{self._kind}.load", exc)
                self._stamp = ("missing", directory)
            return
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            manifest, data = read_artifact(directory)
            value = self._load(manifest, data)
        except Exception as exc:       # keep the previous artifact: a bad update never takes effect
            failopen.record(f"vision.{self._kind}.load", exc)
            return
        self._current = Loaded(manifest["version"], manifest, value)
