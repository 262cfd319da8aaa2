"""A version's manifest (what was published, with its digest) and the checks that tie it to its bytes.

``manifest.json`` sits next to the artifact in the version's directory. The digest of a file is its
sha256; of a directory, the sha256 of its sorted listing (``path NUL size NUL sha256`` per file), so
one string pins every byte and name; hidden entries (``.name``) are not part of an artifact.
``signature`` is a detached Ed25519 signature over ``signed_payload()`` (``signing.py``; written by
``publish(sign=…)``, checked by control-plane agents against ``ARC_TRUST_KEY``); the registry stores
it unchecked. ``tenant`` (covered by the signature) names the tenant a version belongs to.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
import threading
from typing import Any, Dict, Iterator, Optional, Tuple

from . import names
from .errors import ArtifactRejected

FORMAT = 1
FILE, DIRECTORY = "file", "dir"
_HEX = frozenset("0123456789abcdef")


@dataclasses.dataclass(frozen=True)
class Manifest:
    kind: str
    name: str
    version: int
    artifact: str
    """The artifact's entry name inside the version directory (a file name, kept from the source)."""
    artifact_type: str
    sha256: str
    size: int
    parent: Optional[int]
    """The version this one was derived from (the caller's, else the latest before it), or None."""
    created: str
    job_id: Optional[str] = None
    metrics: Dict[str, Any] = dataclasses.field(default_factory=dict)
    metadata: Dict[str, Any] = dataclasses.field(default_factory=dict)
    signature: Optional[str] = None
    tenant: Optional[str] = None
    """The tenant that published it (the control plane serves it to that tenant's agents only)."""
    format: int = FORMAT

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}@{self.version}"

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> bytes:
        # allow_nan=False: NaN/Infinity are not JSON for other readers (ClickHouse, Go, JS)
        return json.dumps(self.as_dict(), indent=2, sort_keys=True, allow_nan=False).encode("utf-8") + b"\n"

    def signed_payload(self) -> bytes:
        """The canonical bytes a signature covers: the manifest without ``signature``."""
        body = {k: v for k, v in self.as_dict().items() if k != "signature"}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def parse(data: bytes, where: str) -> Manifest:
    """A Manifest from ``manifest.json`` bytes; anything missing, mistyped or oversized is ArtifactRejected."""
    if len(data) > names.MAX_MANIFEST_BYTES:
        raise ArtifactRejected(f"{where}: manifest larger than {names.MAX_MANIFEST_BYTES} bytes")
    try:
        raw = json.loads(data)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly nested JSON
        raise ArtifactRejected(f"{where}: manifest is not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise ArtifactRejected(f"{where}: manifest must be a JSON object")
    fields = {f.name: f for f in dataclasses.fields(Manifest)}
    unknown = set(raw) - set(fields)
    if unknown:
        raise ArtifactRejected(f"{where}: manifest has unknown fields {sorted(unknown)}")
    checks = {
        "kind": str, "name": str, "artifact": str, "artifact_type": str, "sha256": str, "created": str,
        "version": int, "size": int, "format": int, "parent": (int, type(None)), "job_id": (str, type(None)),
        "metrics": dict, "metadata": dict, "signature": (str, type(None)),
        "tenant": (str, type(None)),
    }
    for key, kind in checks.items():
        required = fields[key].default is dataclasses.MISSING and fields[key].default_factory is dataclasses.MISSING
        if key not in raw:
            if required:
                raise ArtifactRejected(f"{where}: manifest lacks {key!r}")
            continue
        if isinstance(raw[key], bool) or not isinstance(raw[key], kind):
            raise ArtifactRejected(f"{where}: manifest field {key!r} has the wrong type ({raw[key]!r})")
    man = Manifest(**raw)
    if man.format != FORMAT:
        raise ArtifactRejected(f"{where}: manifest format {man.format} is not supported (this Arc reads {FORMAT})")
    if len(man.sha256) != 64 or not set(man.sha256) <= _HEX:
        raise ArtifactRejected(f"{where}: manifest sha256 is not 64 lower-case hex digits")
    if man.artifact_type not in (FILE, DIRECTORY) or not 0 <= man.size <= names.MAX_ARTIFACT_BYTES:
        raise ArtifactRejected(f"{where}: manifest artifact_type/size out of range")
    try:
        names.check_name(man.artifact, "artifact entry")
    except ValueError as exc:
        raise ArtifactRejected(f"{where}: {exc}") from None
    return man


# -- digests ----------------------------------------------------------------------------------------------

def _file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tree_files(root: str) -> Iterator[Tuple[str, os.stat_result]]:
    """(relative path, stat) of every file under ``root`` but hidden ones, sorted; symlinks, special files, too many
    files or too deep a tree are ArtifactRejected."""
    count = 0

    def walk(folder: str, rel: str, depth: int) -> Iterator[Tuple[str, os.stat_result]]:
        nonlocal count
        if depth > names.MAX_DEPTH:
            raise ArtifactRejected(f"{root}: deeper than {names.MAX_DEPTH} directories")
        for entry in sorted(os.listdir(folder)):
            if entry.startswith("."):
                continue  # not part of an artifact (caches such as pattern snapshots may sit there)
            path, sub = os.path.join(folder, entry), f"{rel}{entry}"
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode):
                yield from walk(path, sub + "/", depth + 1)
            elif stat.S_ISREG(st.st_mode):
                count += 1
                if count > names.MAX_FILES:
                    raise ArtifactRejected(f"{root}: more than {names.MAX_FILES} files")
                yield sub, st
            else:
                raise ArtifactRejected(f"{path}: not a regular file or directory (symlinks are refused)")

    yield from walk(root, "", 0)


def digest(path: str) -> Tuple[str, int, str]:
    """(sha256, size, artifact_type) of a file or directory artifact, bounded by MAX_ARTIFACT_BYTES."""
    st = os.lstat(path)
    if stat.S_ISREG(st.st_mode):
        _check_size(path, st.st_size)
        return _file_sha256(path), st.st_size, FILE
    if not stat.S_ISDIR(st.st_mode):
        raise ArtifactRejected(f"{path}: not a regular file or directory (symlinks are refused)")
    h, total = hashlib.sha256(), 0
    for rel, fst in tree_files(path):
        total += fst.st_size
        _check_size(path, total)
        h.update(f"{rel}\0{fst.st_size}\0{_file_sha256(os.path.join(path, rel))}\n".encode("utf-8", "surrogatepass"))
    return h.hexdigest(), total, DIRECTORY


def _check_size(path: str, size: int) -> None:
    if size > names.MAX_ARTIFACT_BYTES:
        raise ArtifactRejected(f"{path}: larger than {names.MAX_ARTIFACT_BYTES} bytes")


# -- verification (cached: a poll every few seconds must not re-hash an unchanged artifact) ----------------

_verified: Dict[Tuple, str] = {}
_verified_lock = threading.Lock()
_MAX_CACHED = 256


def _stat_key(path: str) -> Tuple:
    st = os.lstat(path)
    if stat.S_ISDIR(st.st_mode):
        return (path, "dir") + tuple((rel, s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns)
                                     for rel, s in tree_files(path))
    return (path, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, stat.S_IFMT(st.st_mode))


def verify(man: Manifest, path: str) -> None:
    """Raise ArtifactRejected unless the bytes at ``path`` are the ones ``man`` names (type, size, sha256)."""
    try:
        key = _stat_key(path)
        with _verified_lock:
            if _verified.get(key) == man.sha256:
                return
        sha, size, kind = digest(path)
    except FileNotFoundError:
        raise ArtifactRejected(f"{man.ref}: artifact {man.artifact!r} is missing") from None
    except OSError as exc:
        raise ArtifactRejected(f"{man.ref}: cannot read the artifact ({exc.strerror or exc})") from None
    if kind != man.artifact_type:
        raise ArtifactRejected(f"{man.ref}: artifact is a {kind}, the manifest says {man.artifact_type}")
    if size != man.size:
        raise ArtifactRejected(f"{man.ref}: artifact size {size} does not match the manifest's {man.size}")
    if sha != man.sha256:
        raise ArtifactRejected(f"{man.ref}: artifact sha256 {sha[:16]}… does not match the manifest's "
                               f"{man.sha256[:16]}…")
    with _verified_lock:
        if len(_verified) >= _MAX_CACHED:
            _verified.clear()
        _verified[key] = man.sha256
