"""Decoding a JSON bundle straight into typed records with msgspec (C), when it is installed.

``json.loads`` of a 1M-pattern bundle builds ~10M Python objects and the per-record checks in
Python cost several more seconds; msgspec decodes into slotted records and checks every
record-level field (types, ranges, unknown keys) in C, and keeps each ``fix`` as its JSON text
(specs are shared, so most fixes are never decoded). Anything it rejects, or any document that
is not the plain shape, returns None: the caller then parses the file with ``json`` and reports
exactly what is wrong, so error messages do not depend on this module.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Annotated, Any

import numpy as np

try:
    import msgspec
except ImportError:  # pragma: no cover - msgspec is a dependency; ``json`` does the same, slower
    msgspec = None

if msgspec is not None:
    class _Record(msgspec.Struct, forbid_unknown_fields=True, gc=False):
        pattern: dict[str, Any]
        fix: msgspec.Raw
        id: Annotated[str, msgspec.Meta(min_length=1)] = ""  # "": none given (an empty id is rejected)
        confidence: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 1.0
        priority: Annotated[int, msgspec.Meta(ge=-2**31, lt=2**31)] = 0
        expires_at: str | int | float | None = None
        description: str | None = None

    class _Bundle(msgspec.Struct, gc=False):
        patterns: list[_Record]
        name: Any = None
        version: Any = None
        created_at: Any = None

    _decoder = msgspec.json.Decoder(_Bundle)

    class _Outline(msgspec.Struct, gc=False):
        patterns: list[msgspec.Raw]
        name: Any = None
        version: Any = None
        created_at: Any = None

    _outline_decoder = msgspec.json.Decoder(_Outline)

    _records_decoder = msgspec.json.Decoder(list[_Record])

CHUNK = 20_000  # records decoded per call when ``chunked``


class Decoded:
    """A bundle as columns: ``ids`` ("" where the record has none), ``patterns`` (dicts),
    ``fixes`` (JSON text), ``confidence``, ``priority``, ``expires`` (as written)."""

    __slots__ = ("name", "version", "created_at", "ids", "patterns", "fixes", "confidence", "priority",
                 "expires")


def decode(data: bytes, chunked: bool = False) -> Decoded | None:
    """The bundle in ``data`` as columns, or None if msgspec is missing or rejects it.
    ``chunked``: decode ``CHUNK`` records per call (more CPU in all) so that other threads get the
    GIL between calls; a hot reload uses it, as one call holds the GIL for the whole document
    (the app's requests would wait that long; figures in benchmarks/RESULTS.md)."""
    if msgspec is None:
        return None
    try:
        if chunked:
            doc = _outline_decoder.decode(data)
            raws, recs = doc.patterns, []
            for start in range(0, len(raws), CHUNK):
                recs.extend(_records_decoder.decode(b"[" + b",".join(raws[start:start + CHUNK]) + b"]"))
            del raws
        else:
            doc = _decoder.decode(data)
            recs = doc.patterns
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    return _columns(doc, recs)


def _columns(doc: Any, recs: list) -> Decoded:
    out = Decoded()
    out.name, out.version, out.created_at = doc.name, doc.version, doc.created_at
    out.ids = [r.id for r in recs]
    out.patterns = [r.pattern for r in recs]
    out.fixes = [bytes(r.fix) for r in recs]
    n = len(recs)
    out.confidence = np.fromiter(map(attrgetter("confidence"), recs), dtype=np.float64, count=n)
    out.priority = np.fromiter(map(attrgetter("priority"), recs), dtype=np.int32, count=n)  # checked range
    out.expires = [r.expires_at for r in recs]
    return out
