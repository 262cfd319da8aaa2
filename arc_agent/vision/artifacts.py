"""Versioned model artifacts (manifest + file, sha256-checked) with atomic hot-reload.

A directory holds ``manifest.json`` (name, version, sha256, file, created_at, parent, metrics) and
the file it names. ``ArtifactSlot.get()`` is the hot path: one reference read, plus a ``stat`` of
the manifest at most every ``check_every_s``; a changed manifest is validated before the swap and a
bad one leaves the previous artifact in place. Both files are read like pattern bundles
(``patterns.bounded``): regular files only, at most ``MAX_MANIFEST_BYTES``/``MAX_FILE_BYTES``,
within ``ARC_READ_TIMEOUT_S``; anything else is an ArtifactError naming the file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .. import failopen
from ..patterns.bounded import read_regular
from ..patterns.errors import BundleError

log = logging.getLogger("arc")

MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 1 << 20
MAX_FILE_BYTES = 1 << 30  # a model or policy file (ONNX policies are a few MB)


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
        manifest = json.loads(read_regular(mpath, MAX_MANIFEST_BYTES))
    except BundleError as exc:
        raise ArtifactError(str(exc)) from None
    except (ValueError, RecursionError) as exc:
        raise ArtifactError(f"cannot read {mpath}: {exc}") from None
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{mpath}: not a JSON object")
    for key in ("version", "sha256", "file"):
        if not isinstance(manifest.get(key), str) or not manifest[key]:
            raise ArtifactError(f"{mpath}: missing or empty string field {key!r}")
    fpath = os.path.join(directory, manifest["file"])
    try:
        data = read_regular(fpath, MAX_FILE_BYTES)
    except BundleError as exc:
        raise ArtifactError(str(exc)) from None
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


def missing_reason(directory: str) -> Optional[str]:
    """Why ``directory`` is not an artifact folder at all (None: it has a manifest file)."""
    if not os.path.exists(directory):
        return f"folder {directory!r} does not exist"
    if not os.path.isdir(directory):
        return f"{directory!r} is not a folder (an artifact is a folder with {MANIFEST} and its file)"
    if not os.path.isfile(os.path.join(directory, MANIFEST)):
        return f"no readable {MANIFEST} in {directory!r}"
    return None


class ArtifactSlot:
    """Holds the current artifact of one directory; reloads it when its manifest changes.

    ``setting`` (what the user set, e.g. ``ARC_VISION_POLICY=registry:ui-policy``) and ``fallback``
    (what runs meanwhile) make a load failure a warning the user can act on, once per distinct problem."""

    def __init__(self, directory: Callable[[], Optional[str]], load: Callable[[dict, bytes], Any],
                 kind: str, check_every_s: float = 2.0, setting: Callable[[], str] = lambda: "",
                 fallback: str = "nothing") -> None:
        self._directory = directory
        self._load = load
        self._kind = kind
        self._setting = setting
        self._fallback = fallback
        self._told: set = set()
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

    def _refused(self, exc: BaseException) -> None:
        """Count it; warn once per distinct problem, naming the setting and what runs instead."""
        problem = str(exc) or repr(exc)
        if problem not in self._told and len(self._told) < 100:
            self._told.add(problem)
            current = self._current
            using = f"keeping version {current.version}" if current is not None else f"using {self._fallback}"
            try:
                setting = self._setting()
            except Exception:
                setting = ""
            log.warning("arc: vision %s%s not loaded: %s; %s (checked again every %gs)", self._kind,
                        f" ({setting})" if setting else "", problem, using, self._check_every)
        failopen.record(f"vision.{self._kind}.load", exc, logged=True)

    def _maybe_reload(self) -> None:
        try:
            directory = self._directory()
        except Exception as exc:       # e.g. a registry version failed verification: keep what we have
            self._refused(exc)
            return
        if not directory:
            self._current, self._stamp = None, None
            return
        manifest_path = os.path.join(directory, MANIFEST)
        try:
            st = os.stat(manifest_path)
            stamp = (directory, st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError as exc:
            if self._stamp != ("missing", directory) and (self._current is None or self._stamp[0] != directory):
                self._refused(ArtifactError(missing_reason(directory) or f"{MANIFEST} in {directory!r}: {exc}"))
                self._stamp = ("missing", directory)
            return
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            manifest, data = read_artifact(directory)
            value = self._load(manifest, data)
        except Exception as exc:       # keep the previous artifact: a bad update never takes effect
            self._refused(exc)
            return
        self._current = Loaded(manifest["version"], manifest, value)
