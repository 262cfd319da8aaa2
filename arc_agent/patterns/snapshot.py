"""Snapshots: a loaded bundle set saved in binary columns, so that the next start (or another
worker process) loads a big set much faster than parsing and validating the JSON/YAML again
(figures in benchmarks/RESULTS.md).

The bundle stays the source of truth. A snapshot is keyed by the sha256 of the snapshot format,
Arc's and Python's versions and every bundle file's path and content (the digest of the very bytes
that were parsed and validated), and is written only after a successful load. A snapshot whose key
differs is stale and ignored; one that cannot be read, fails a section checksum or does not decode
is ignored with a logged warning. Either way the bundles are loaded from source (with full
validation) and the snapshot rewritten; a snapshot problem never rejects a load and never replaces
the active set with anything but a fully built one.

Where: next to the first bundle file (``.<file>.<paths hash>.arc-snapshot``), or in
``$XDG_CACHE_HOME/arc/patterns`` if that directory is not writable, or in the directory given by
``ARC_PATTERNS_SNAPSHOT`` (``off`` disables snapshots). Only sets of at least ``min_patterns``
patterns are snapshotted: small ones load in milliseconds.

File: ``MAGIC``, a little-endian u32 header length, a JSON header (format, key, bundle infos,
shapes, section table with crc32s), the sections, raw and 8-byte aligned, and an HMAC-SHA256 of
all of it. Python's string hash is randomized per process, so hashes, sorted keys and Bloom
filters are rebuilt on load (``index.assemble``), not stored. The checksums catch damage; the MAC
(keyed by a per-user secret) and the owner/mode checks of ``snapshot_trust`` catch forgery: a
snapshot planted next to a bundle by someone else is ignored. A bundle folder writable by other
users gets no snapshot next to it (the cache folder is used).

Compiled pattern files (``compiled.py``) use the same container (``write_container`` /
``read_container``) with their own magic and a plain sha256 at the end instead of the MAC.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import struct
import sys
import zlib
from array import array
from collections.abc import Mapping
from typing import Any, Callable, Iterable

import numpy as np

from .. import settings
from .._version import __version__
from ..fsutil import atomic_write
from .bounded import DeadlineFile, sha256_regular, within_deadline
from .bundle import BundleError, BundleInfo, resolve_paths
from .fuzzy import COLUMNS as FUZZY_COLUMNS
from .fuzzy import WIDTH
from .idtable import IdTable
from .index import LayerParts, assemble
from .snapshot_trust import UntrustedSnapshot, folder_trusted, mac, open_trusted, secret

log = logging.getLogger("arc")

FORMAT = 2  # 2: an HMAC at the end
MAGIC = b"ARC-PATTERNS-SNAPSHOT\n"
SUFFIX = ".arc-snapshot"
MIN_PATTERNS = 20_000
_MAX_HEADER = 64 << 20
_HEAD = struct.Struct("<I")


class StaleSnapshot(Exception):
    """The snapshot was made from other bundle content (or another Arc/format version)."""


class SnapshotPolicy:
    """Whether and where snapshots are kept. ``directory`` None: next to the first bundle file,
    falling back to the user cache directory."""

    def __init__(self, enabled: bool = True, directory: str | None = None,
                 min_patterns: int = MIN_PATTERNS) -> None:
        self.enabled = enabled
        self.directory = directory
        self.min_patterns = min_patterns

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SnapshotPolicy:
        """``ARC_PATTERNS_SNAPSHOT``: unset = next to the bundle, ``off`` = none, else a directory."""
        raw = settings.text("ARC_PATTERNS_SNAPSHOT", env) or ""
        if raw and settings.boolean(raw) is False:  # off/0/false/no, as for every ARC_* flag
            return cls(enabled=False)
        return cls(directory=raw or None)

    def locations(self, files: list) -> list:
        """Candidate snapshot paths for the bundle ``files``, preferred first."""
        paths = "\0".join(os.path.abspath(f) for f in files)
        name = f".{os.path.basename(files[0])}.{hashlib.sha256(paths.encode()).hexdigest()[:12]}{SUFFIX}"
        if self.directory:
            return [os.path.join(self.directory, name)]
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        beside = os.path.dirname(os.path.abspath(files[0]))
        # a snapshot in a folder others can write to would never be trusted: not even written there
        return [os.path.join(beside, name)] * folder_trusted(beside) + [os.path.join(cache, "arc", "patterns", name)]


def snapshot_key(files: list, digests: Iterable[str]) -> str:
    h = hashlib.sha256(f"arc-patterns-snapshot {FORMAT} {__version__} {sys.version_info[:2]}".encode())
    for f, d in zip(files, digests):
        h.update(b"\0" + os.path.abspath(f).encode("utf-8", "surrogatepass") + b"\0" + d.encode())
    return h.hexdigest()


def _file_digest(path: str) -> str:
    return sha256_regular(path)  # bounded: never a FIFO or /dev/zero


def load(paths: list, policy: SnapshotPolicy | None, loader: Callable[[list], tuple]) -> tuple:
    """(Layer, infos) for ``paths``: from a valid snapshot if there is one, else from the bundles
    through ``loader`` (which raises on bad bundles), then saved as a snapshot if big enough."""
    if policy is not None and policy.enabled:
        try:
            secret()
        except OSError as exc:
            _log_no_secret(exc)
            policy = None
    if policy is None or not policy.enabled:
        layer, infos = loader(paths)
        layer.parts = None
        return layer, infos
    try:
        files = resolve_paths(paths)
    except BundleError:
        files = []  # the loader reports it
    locations = policy.locations(files) if files else []
    key = None
    for path in locations:
        if not os.path.exists(path):
            continue
        try:
            if key is None:  # hashing the bundles is only worth it when there is a snapshot
                key = snapshot_key(files, map(_file_digest, files))
            layer, infos = read(path, key, files)
        except StaleSnapshot:
            log.info("arc: pattern snapshot %s is stale (bundles changed); loading the bundles", path)
            continue
        except UntrustedSnapshot as exc:
            log.warning("arc: ignoring pattern snapshot %s: %s; loading the bundles", path, exc)
            continue
        except Exception as exc:  # corrupt, truncated, unreadable: the bundles decide
            log.warning("arc: ignoring unreadable pattern snapshot %s (%s); loading the bundles", path, exc)
            continue
        log.info("arc: loaded %d patterns from snapshot %s", layer.n, path)
        return layer, infos
    layer, infos = loader(paths)
    parts, layer.parts = layer.parts, None
    if parts is not None and locations and layer.n >= policy.min_patterns and len(infos) == len(files):
        key = snapshot_key(files, [i.sha256 for i in infos])  # of the bytes actually parsed
        for path in locations:
            try:
                write(path, key, parts, infos)
                break
            except Exception as exc:
                log.info("arc: cannot write pattern snapshot %s: %s", path, exc)
    return layer, infos


_logged_no_secret = [False]


def _log_no_secret(exc: OSError) -> None:
    if not _logged_no_secret[0]:
        _logged_no_secret[0] = True
        log.warning("arc: pattern snapshots off: no private snapshot key (%s); set ARC_HOME to a private "
                    "folder", exc)


# -- writing ------------------------------------------------------------------------------------------
def write(path: str, key: str, parts: LayerParts, infos: list) -> None:
    """Write the snapshot atomically (temporary file + rename), signed with this user's MAC key."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
    write_container(path, MAGIC, {"format": FORMAT, "key": key}, parts, infos, mac(secret()))


def write_container(path: str, magic: bytes, fields: dict, parts: LayerParts, infos: list, signer: Any) -> None:
    """``magic``, the header (``fields`` + the section table), the sections and ``signer``'s
    digest of all of it (an HMAC for snapshots, a plain sha256 for compiled files), atomically."""
    sections: list = []

    def add(name: str, data: Any) -> None:
        sections.append((name, memoryview(data).cast("B")))

    add("ids.blob", parts.ids.blob)
    add("ids.offsets", parts.ids.offsets)
    for name in ("spec_col", "priority", "confidence", "expires", "spec_blob", "spec_off"):
        add(name, getattr(parts, name))
    add("elements", parts.elements)
    shapes = []
    for k, (shape, idxs, eids) in enumerate(parts.shapes):
        shapes.append(list(shape))
        add(f"shape{k}.idxs", np.ascontiguousarray(idxs, dtype=np.int32))
        add(f"shape{k}.eids", np.ascontiguousarray(eids, dtype=np.int32))
    for f, idxs in parts.exist.items():
        add(f"exist.{f}", np.ascontiguousarray(idxs, dtype=np.int32))
    add("scan", np.ascontiguousarray(parts.scan, dtype=np.int32))
    fuzzy = []
    for k, (f, columns) in enumerate(parts.fuzzy.items()):
        fuzzy.append(f)
        add(f"fuzzy{k}.words", columns["words"])
        for name, dtype in FUZZY_COLUMNS.items():
            add(f"fuzzy{k}.{name}", np.ascontiguousarray(columns[name], dtype=dtype))
    table, offset = [], 0
    for name, data in sections:
        table.append([name, offset, len(data), zlib.crc32(data)])
        offset += (len(data) + 7) & ~7
    header = json.dumps({
        **fields, "n": len(parts.spec_col), "shapes": shapes,
        "exist": list(parts.exist), "fuzzy": fuzzy, "width": WIDTH, "sections": table,
        "infos": [{"name": i.name, "version": i.version, "created_at": i.created_at, "count": i.count,
                   "sha256": i.sha256} for i in infos],
    }, default=str).encode()
    start = len(magic) + _HEAD.size + len(header)
    pad0 = -start % 8

    def chunks():
        for chunk in _body(magic, header, pad0, sections):
            signer.update(chunk)
            yield chunk
        yield signer.digest()

    atomic_write(path, chunks())


def _body(magic: bytes, header: bytes, pad0: int, sections: list):
    yield magic + _HEAD.pack(len(header)) + header + b"\0" * pad0
    for _, data in sections:
        yield data
        yield b"\0" * (-len(data) % 8)


# -- reading ------------------------------------------------------------------------------------------
def read(path: str, key: str | None, files: list, gentle: bool = False) -> tuple:
    """(Layer, infos) from the snapshot at ``path``; StaleSnapshot if it is for other content,
    UntrustedSnapshot if someone else could have written it (owner, modes, MAC: see
    ``snapshot_trust``), ValueError (or another exception) if it is damaged. Nothing it holds is
    used before its MAC is verified. ``gentle``: see ``index.assemble``."""

    def current(header: dict) -> None:
        if header.get("format") != FORMAT or key is None or header.get("key") != key:
            raise StaleSnapshot()

    def read_sections(deadline: Any) -> tuple:
        with os.fdopen(open_trusted(path), "rb") as fh:
            return read_container(DeadlineFile(fh, deadline), MAGIC, mac(secret()), current)

    try:
        header, sections = within_deadline(path, read_sections)
    except BadSignature:
        raise UntrustedSnapshot("its MAC does not match this user's snapshot key") from None
    if header.get("width") != WIDTH:
        raise StaleSnapshot()
    parts = parts_from(header, sections)
    infos_meta = header["infos"]
    if len(infos_meta) != len(files):
        raise ValueError("bundle count disagrees")
    infos = [BundleInfo(f, m["name"], m["version"], m["created_at"], m["count"], m["sha256"])
             for f, m in zip(files, infos_meta)]
    return assemble(parts, gentle), infos


class BadSignature(Exception):
    """The digest at the end does not match the content."""


def read_container(fh: Any, magic: bytes, checker: Any, current: Callable[[dict], None]) -> tuple:
    """(header, {section name: bytes}) of the file open on ``fh``: ValueError naming what is
    damaged, BadSignature if ``checker``'s digest of the content differs from the one stored at
    its end; ``current(header)`` raises if the header is for another format or content (checked
    before the sections are read). Every length is bounded by the file's size."""
    def take(n: int) -> bytes:
        data = fh.read(n)
        checker.update(data)
        return data

    head = take(len(magic) + _HEAD.size)
    if len(head) < len(magic) + _HEAD.size or not head.startswith(magic):
        raise ValueError(f"not an Arc {magic.decode().strip().lower().replace('-', ' ')} file")
    (size,) = _HEAD.unpack_from(head, len(magic))
    if size > _MAX_HEADER:
        raise ValueError("header too large")
    raw_header = take(size)
    if len(raw_header) != size:
        raise ValueError("truncated header")
    header = json.loads(raw_header)  # bounded by _MAX_HEADER; its values are checked below
    if not isinstance(header, dict):
        raise ValueError("header is not an object")
    current(header)
    take(-(len(magic) + _HEAD.size + size) % 8)
    remaining = os.fstat(fh.fileno()).st_size - fh.tell()
    offset_now = 0
    sections = {}
    for name, offset, length, crc in header["sections"]:
        if offset_now != offset:
            raise ValueError(f"section {name} is not where the header says")
        if not 0 <= length <= remaining:
            raise ValueError(f"truncated (section {name})")
        data = take(length)
        if len(data) != length:
            raise ValueError(f"truncated (section {name})")
        if zlib.crc32(data) != crc:
            raise ValueError(f"checksum mismatch in section {name}")
        sections[name] = data
        pad = take(-length % 8)
        offset_now += length + len(pad)
    digest = checker.digest()
    signature = fh.read(len(digest) + 1)
    if len(signature) != len(digest) or not hmac.compare_digest(signature, digest):
        raise BadSignature("the digest at its end does not match its content")
    return header, sections


def parts_from(header: dict, sections: dict) -> LayerParts:
    """The checked ``LayerParts`` of a container's header and sections."""
    parts = _parts(header, sections)
    _check(parts, header["n"])
    return parts


def _array(typecode: str, data: bytes) -> array:
    out = array(typecode)
    out.frombytes(data)
    return out


def _np(data: bytes, dtype: Any, shape: tuple | None = None) -> np.ndarray:
    arr = np.frombuffer(data, dtype=dtype)  # a read-only view: nothing writes these columns
    return arr.reshape(shape) if shape is not None else arr


def _parts(header: dict, s: dict) -> LayerParts:
    parts = LayerParts()
    parts.ids = IdTable(s["ids.blob"], _array("Q", s["ids.offsets"]))
    parts.spec_col, parts.priority = _array("i", s["spec_col"]), _array("i", s["priority"])
    parts.confidence, parts.expires = _array("d", s["confidence"]), _array("d", s["expires"])
    parts.spec_blob, parts.spec_off = s["spec_blob"], _array("Q", s["spec_off"])
    parts.elements = s["elements"]
    parts.shapes = []
    for k, shape in enumerate(header["shapes"]):
        idxs = _np(s[f"shape{k}.idxs"], np.int32)
        eids = _np(s[f"shape{k}.eids"], np.int32, (len(shape), len(idxs)))
        parts.shapes.append((tuple(shape), idxs, eids))
    parts.exist = {f: _np(s[f"exist.{f}"], np.int32) for f in header["exist"]}
    parts.scan = _np(s["scan"], np.int32)
    parts.fuzzy = {}
    for k, field in enumerate(header["fuzzy"]):
        columns = {name: _np(s[f"fuzzy{k}.{name}"], dtype) for name, dtype in FUZZY_COLUMNS.items()}
        columns["tokens"] = columns["tokens"].reshape(-1, WIDTH)
        columns["words"] = s[f"fuzzy{k}.words"]
        parts.fuzzy[field] = columns
    return parts



def _check(parts: LayerParts, n: int) -> None:
    """Index ranges a restored layer relies on (the checksums catch damage; this catches a writer
    bug before a request would hit an IndexError)."""
    def in_range(values: Any, limit: int, what: str) -> None:
        a = np.asarray(values)
        if len(a) and (int(a.min()) < 0 or int(a.max()) >= limit):
            raise ValueError(f"{what} out of range")
    if not (len(parts.spec_col) == len(parts.priority) == len(parts.confidence) == len(parts.expires)
            == len(parts.ids) == n):
        raise ValueError("column lengths disagree")
    in_range(np.frombuffer(parts.spec_col, dtype=np.int32), len(parts.spec_off) - 1, "spec id")
    for idxs in (*(shape[1] for shape in parts.shapes), *parts.exist.values(), parts.scan):
        in_range(idxs, n, "pattern index")
    for columns in parts.fuzzy.values():
        m = len(columns["patterns"])
        in_range(columns["patterns"], n, "pattern index")
        in_range(columns["post_rows"], m, "fuzzy row")
        in_range(columns["long_rows"], m, "fuzzy row")
        vocab = columns["words"].count(b" ") + 1 if columns["words"] else 0
        in_range(columns["tokens"].ravel(), vocab + 1, "fuzzy token")
        in_range(columns["long_ids"], vocab, "fuzzy token")
