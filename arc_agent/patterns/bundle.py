"""Reading pattern bundles (JSON or YAML files, or directories of them) into a Layer.

A bundle: ``{"version": 1, "name": ..., "created_at": ..., "patterns": [{"id", "pattern", "fix",
"confidence", "priority", "expires_at", "description"}]}``. Everything is validated; any error
rejects the whole load (the caller keeps its previous set) and names the file, the pattern's
index and id, and the problem.
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import os
import re
import sys
import threading
from datetime import date, datetime, timezone
from typing import Any, Iterable

import numpy as np

from .. import forkgate
from . import fastjson
from .bounded import YAMLBoundsError, read_regular, yaml_loader
from .bulk import add_bulk
from .errors import BundleError, PatternError
from .index import LayerBuilder, assemble, check_priority

COMPILED_SUFFIX = ".arcpatterns"  # compiled pattern files (``compiled.py``), found by content when named
EXTENSIONS = (".json", ".yaml", ".yml", COMPILED_SUFFIX)
RECORD_KEYS = frozenset({"id", "pattern", "fix", "confidence", "priority", "expires_at", "description",
                         "verified", "provenance"})  # the last two: written by `arc learn`, not read
MAX_ERRORS = 20
NEVER = math.inf
DEMO_ALIAS = "demo"
REGISTRY_PREFIX = "registry:"
DEMO_BUNDLE = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "patterns", "demo.yaml")


class BundleInfo:
    """One loaded bundle file; ``sha256`` is the digest of the bytes that were parsed."""

    __slots__ = ("file", "name", "version", "created_at", "count", "sha256")

    def __init__(self, file: str, name: str, version: Any, created_at: Any, count: int,
                 sha256: str = "") -> None:
        self.file, self.name, self.version, self.created_at, self.count, self.sha256 = \
            file, name, version, created_at, count, sha256

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}" if self.version is not None else self.name

    def as_dict(self) -> dict:
        return {"file": self.file, "name": self.name, "version": self.version,
                "created_at": None if self.created_at is None else str(self.created_at),
                "patterns": self.count}


def resolve_paths(paths: Iterable[str]) -> list:
    """Bundle files for ``paths`` (files, directories: their *.json/*.yaml/*.yml/*.arcpatterns, sorted; ``demo``:
    the shipped demo bundle; ``registry:NAME[@CHANNEL]``: that channel's current, verified version).
    A missing path or a rejected registry artifact is a BundleError."""
    files = []
    for p in paths:
        p = os.fspath(p)
        if p == DEMO_ALIAS and not os.path.exists(p):
            p = DEMO_BUNDLE
        elif p.startswith(REGISTRY_PREFIX):
            p = _registry_artifact(p)
        if os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs.sort()
                files.extend(os.path.join(root, n) for n in sorted(names)
                             if n.endswith(EXTENSIONS) and not n.startswith("."))
        elif os.path.exists(p):  # a FIFO or device too: ``read_bytes`` refuses it by name
            files.append(p)
        else:
            raise BundleError(p, "no such file or directory")
    return files


def split_paths(value: str) -> list:
    """A path list setting split on ``os.pathsep``, keeping ``registry:NAME`` whole where that is ``:``."""
    out: list = []
    for piece in value.split(os.pathsep):
        if out and out[-1] + os.pathsep == REGISTRY_PREFIX:
            out[-1] += os.pathsep + piece
        else:
            out.append(piece)
    return out


def _registry_artifact(ref: str) -> str:
    """``registry:NAME[@CHANNEL]``: the verified artifact the channel points at now (``arc_agent.registry``)."""
    from ..registry.errors import RegistryError
    from ..registry.ref import resolve_ref

    try:
        return resolve_ref(ref, "patterns")
    except (RegistryError, OSError) as exc:
        raise BundleError(ref, str(exc)) from None


def read_bytes(path: str) -> bytes:
    """A bundle file's bytes: a regular file of at most ``ARC_PATTERNS_MAX_BYTES`` (``bounded``)."""
    return read_regular(path)


def read_document(path: str, data: bytes | None = None) -> Any:
    """Parse a JSON or YAML file (by extension; other names: JSON, then YAML), within the bounds
    of ``bounded.py``; BundleError naming the file for anything it cannot parse."""
    if data is None:
        data = read_bytes(path)
    as_yaml = path.endswith((".yaml", ".yml"))
    if not as_yaml:
        try:
            return _valid_text(path, data, json.loads(data))
        except RecursionError:
            raise BundleError(path, "invalid JSON: nested too deeply") from None
        except ValueError as exc:
            if path.endswith(".json"):
                raise BundleError(path, f"invalid JSON: {exc}") from None
    yaml = forkgate.import_module("yaml")  # on a load thread: a fork must not cut it in half

    try:
        return _valid_text(path, data, yaml.load(data, Loader=yaml_loader()))  # noqa: S506 - a safe loader
    except (yaml.YAMLError, YAMLBoundsError) as exc:
        raise BundleError(path, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise BundleError(path, "invalid YAML: nested too deeply") from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. an integer of 5,000 digits
        raise BundleError(path, f"invalid YAML: {type(exc).__name__}: {str(exc)[:200]}") from None


_ESCAPED_SURROGATE = re.compile(rb"\\[uU]0{0,4}[dD][89a-fA-F]")


def _valid_text(path: str, data: bytes, doc: Any) -> Any:
    """``doc``, unless an escape in ``data`` put a lone surrogate in one of its strings: no
    encoder takes that text (a span, a snapshot), so the file is refused."""
    if _ESCAPED_SURROGATE.search(data) is not None:
        try:
            json.dumps(doc, ensure_ascii=False, default=str).encode("utf-8")
        except UnicodeEncodeError:
            raise BundleError(path, "holds a string with a lone surrogate escape (not valid Unicode)") from None
    return doc


def parse_expires(value: Any, cache: dict | None = None) -> float:
    """``expires_at`` as epoch seconds: a number, an ISO-8601 string (no zone = UTC) or null."""
    if value is None:
        return NEVER
    if cache is not None and type(value) is str and value in cache:
        return cache[value]
    if isinstance(value, bool):
        raise PatternError(f"'expires_at' must be a timestamp, got {value!r}")
    if isinstance(value, (int, float)):
        result = float(value)
    elif isinstance(value, (str, datetime, date)):
        result = _timestamp(value)
    else:
        raise PatternError(f"'expires_at' must be an ISO-8601 string or epoch seconds, got {value!r}")
    if cache is not None and type(value) is str:
        cache[value] = result
    return result


def _timestamp(value: Any) -> float:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise PatternError(f"'expires_at' is not an ISO-8601 timestamp: {value!r}") from None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


def check_confidence(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise PatternError(f"'confidence' must be a number in [0, 1], got {value!r}")
    return float(value)


def check_record(rec: Any, default_id: str, expiry_cache: dict) -> tuple:
    """(id, pattern, fix, confidence, priority, expires) of one bundle record whose record-level
    fields are valid (the pattern and fix are checked when stored); PatternError otherwise."""
    if type(rec) is not dict:
        raise PatternError(f"each pattern must be an object, got {type(rec).__name__}")
    if not RECORD_KEYS.issuperset(rec):
        unknown = sorted(str(k) for k in rec if k not in RECORD_KEYS)
        raise PatternError(f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(RECORD_KEYS))})")
    pid = rec.get("id", default_id)
    if type(pid) is not str or not pid:
        raise PatternError(f"'id' must be a non-empty string, got {pid!r}")
    if "pattern" not in rec:
        raise PatternError("missing 'pattern'")
    if "fix" not in rec:
        raise PatternError("missing 'fix'")
    confidence = rec.get("confidence", 1.0)
    if type(confidence) is not float or not 0.0 <= confidence <= 1.0:
        confidence = check_confidence(confidence)
    priority = rec.get("priority", 0)
    if type(priority) is not int or not -2**31 <= priority < 2**31:
        check_priority(priority)
    desc = rec.get("description")
    if desc is not None and type(desc) is not str:
        raise PatternError(f"'description' must be a string, got {desc!r}")
    return pid, rec["pattern"], rec["fix"], confidence, priority, parse_expires(rec.get("expires_at"),
                                                                                  expiry_cache)


def load_layer(paths: Iterable[str], gentle: bool = False) -> tuple:
    """(Layer, [BundleInfo]) for the bundle files under ``paths``; raises ``BundleErrors``.
    The layer's ``parts`` are left attached for a snapshot writer to take (and clear).
    ``gentle``: hold the GIL in shorter stretches (a hot reload, while the app serves requests)."""
    try:
        files = resolve_paths(paths)
    except BundleError as exc:
        raise BundleErrors([exc]) from None
    builder = LayerBuilder()
    infos: list = []
    errors: list = []
    starts: list = []
    was_enabled = gc.isenabled()
    gc.disable()  # 1M small dicts would make the cyclic GC rescan the heap again and again
    try:
        for path in files:
            starts.append(len(builder))
            _load_file(builder, path, infos, errors, gentle)
            if len(errors) >= MAX_ERRORS:
                break
        if not errors:
            parts = builder.parts()
            layer = assemble(parts, gentle)
            layer.parts = parts
            for later, earlier in layer.ids.duplicates(MAX_ERRORS):
                f1, i1 = _locate(files, starts, later)
                f0, i0 = _locate(files, starts, earlier)
                where = f"pattern #{i0}" + ("" if f0 == f1 else f" of {f0}")
                errors.append(BundleError(f1, f"duplicate id (already used by {where})",
                                          layer.ids.get(later), i1))
    finally:
        del builder
        if was_enabled:
            gc.enable()
    if errors:
        raise BundleErrors(errors)
    return layer, infos


def release_free_memory() -> None:
    """Give the C heap's free pages back to the OS (glibc ``malloc_trim``): a load parses hundreds
    of MB that are freed in between longer-lived allocations, which would otherwise stay counted
    in the process's RSS (benchmarks/RESULTS.md). A no-op elsewhere."""
    global _malloc_trim
    if _malloc_trim is None:
        _malloc_trim = _no_trim
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
            except (OSError, AttributeError):
                pass
    try:
        _malloc_trim(0)
    except Exception:  # pragma: no cover - a libc without it
        pass


def _no_trim(pad: int) -> int:
    return 0


_malloc_trim: Any = None


def _locate(files: list, starts: list, i: int) -> tuple:
    k = max(j for j, s in enumerate(starts) if s <= i)
    return files[k], i - starts[k]


def _load_file(builder: LayerBuilder, path: str, infos: list, errors: list, gentle: bool = False) -> None:
    try:
        data = read_bytes(path)
        hasher = Digest(data)  # sha256 releases the GIL: it runs beside the parse
        decoded = None if path.endswith((".yaml", ".yml")) else fastjson.decode(data, chunked=gentle)
        if decoded is None:
            columns = _columns_from_document(path, read_document(path, data), errors)
        else:
            columns = _columns_from_decoded(path, decoded, errors)
        del data
        digest = hasher.result()
    except BundleError as exc:
        errors.append(exc)
        return
    except RecursionError:  # a decoder or a check walking a value nested past the stack
        errors.append(BundleError(path, "nested too deeply"))
        return
    if columns is None:
        return
    name, meta, ids, patterns, fixes, confidence, priority, expires, index_of = columns
    errors_before = len(errors)
    found: list = []

    def on_error(k: int, exc: PatternError) -> None:
        found.append(BundleError(path, str(exc), ids[k], k if index_of is None else index_of[k]))

    try:
        add_bulk(builder, ids, patterns, fixes, confidence, priority, expires, on_error, decoded=index_of is None)
    except RecursionError:  # a value nested past the stack: the load is rejected anyway
        errors.append(BundleError(path, "a pattern or fix is nested too deeply"))
        return
    if found:  # patterns are stored by group: show this file's errors in file order
        found = sorted(errors[errors_before:] + found, key=lambda e: e.index)
        errors[errors_before:] = found[:max(0, MAX_ERRORS - errors_before)]
    if len(errors) == errors_before:
        infos.append(BundleInfo(path, name, meta.get("version"), meta.get("created_at"), len(patterns), digest))


class Digest:
    """sha256 of ``data`` computed in a thread (hashlib releases the GIL on large buffers)."""

    def __init__(self, data: bytes | memoryview) -> None:
        self._data = data
        self._digest = ""
        self._thread = None
        if len(data) >= 1 << 20:
            self._thread = threading.Thread(target=self._run, name="arc-bundle-digest", daemon=True)
            self._thread.start()
        else:
            self._run()

    def _run(self) -> None:
        self._digest = hashlib.sha256(self._data).hexdigest()

    def result(self) -> str:
        if self._thread is not None:
            self._thread.join()
        self._data = None
        return self._digest


def _bundle_name(path: str, name: Any) -> str:
    if name is None:
        name = os.path.splitext(os.path.basename(path))[0]
    if not isinstance(name, str):
        raise BundleError(path, f"'name' must be a string, got {name!r}")
    return name


def _columns_from_decoded(path: str, d: Any, errors: list) -> tuple | None:
    """Columns of a bundle msgspec decoded (record fields already checked in C)."""
    name = _bundle_name(path, d.name)
    ids = with_default_ids(d.ids, name)
    try:
        expires = expiry_column(d.expires)
    except _ExpiryError as exc:
        errors.append(BundleError(path, exc.problem, ids[exc.index], exc.index))
        return None
    return (name, {"version": d.version, "created_at": d.created_at}, ids, d.patterns, d.fixes,
            d.confidence, d.priority, expires, None)


def with_default_ids(ids: list, name: str) -> list:
    """``ids`` with "" (a record without an id) replaced by ``name#index`` (index in its file)."""
    if "" not in ids:
        return ids
    return [pid or f"{name}#{k}" for k, pid in enumerate(ids)]


class _ExpiryError(Exception):
    def __init__(self, index: int, problem: str) -> None:
        self.index, self.problem = index, problem


def expiry_column(expires: list) -> Any:
    """``expires_at`` values (as written) as a float64 column; _ExpiryError naming the first
    record with a bad value."""
    cache: dict = {}
    for value in set(expires):  # few distinct values: convert each once
        try:
            cache[value] = parse_expires(value)
        except PatternError as exc:
            raise _ExpiryError(expires.index(value), str(exc)) from None
    if len(cache) > 1 or None not in cache:
        return np.fromiter(map(cache.__getitem__, expires), dtype=np.float64, count=len(expires))
    return np.full(len(expires), NEVER)


def _columns_from_document(path: str, doc: Any, errors: list) -> tuple | None:
    """Columns of a parsed JSON/YAML document; records with a bad field are reported (and left out)."""
    if not isinstance(doc, dict):
        errors.append(BundleError(path, "a bundle must be an object with a 'patterns' list"))
        return None
    patterns = doc.get("patterns")
    if not isinstance(patterns, list):
        errors.append(BundleError(path, "'patterns' must be a list"))
        return None
    name = _bundle_name(path, doc.get("name"))
    expiry_cache: dict = {}
    ids, pats, fixes, confidence, priority, expires, index_of = [], [], [], [], [], [], []
    for index, rec in enumerate(patterns):
        try:
            pid, pattern, fix, conf, prio, exp = check_record(rec, f"{name}#{index}", expiry_cache)
        except PatternError as exc:
            if len(errors) < MAX_ERRORS:
                pid = rec.get("id") if isinstance(rec, dict) and isinstance(rec.get("id"), str) else None
                errors.append(BundleError(path, str(exc), pid, index))
            continue
        ids.append(pid)
        pats.append(pattern)
        fixes.append(fix)
        confidence.append(conf)
        priority.append(prio)
        expires.append(exp)
        index_of.append(index)
    return name, doc, ids, pats, fixes, confidence, priority, expires, index_of


class BundleErrors(ValueError):
    """One or more bundle errors; ``errors`` lists them, the message shows them all."""

    def __init__(self, errors: list) -> None:
        self.errors = errors
        more = "" if len(errors) < MAX_ERRORS else f"\n(stopped after {MAX_ERRORS} errors)"
        super().__init__("\n".join(str(e) for e in errors) + more)
