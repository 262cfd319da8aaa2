"""Decoding a JSON bundle straight into typed records with msgspec (C), when it is installed.

``json.loads`` of a 1M-pattern bundle builds ~10M Python objects and the per-record checks in
Python cost several more seconds; msgspec decodes into slotted records and checks every
record-level field (types, ranges, unknown keys) in C, and keeps each ``fix`` as its JSON text
(specs are shared, so most fixes are never decoded). Anything it rejects, or any document that
is not the plain shape, returns None: the caller then parses the file with ``json`` and reports
exactly what is wrong, so error messages do not depend on this module.
"""

from __future__ import annotations

import json
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

    class _Half(msgspec.Struct, gc=False):
        """One half of a bundle split between two records (``split_load``): metadata it holds
        is set, the rest UNSET."""
        patterns: list[_Record]
        name: Any = msgspec.UNSET
        version: Any = msgspec.UNSET
        created_at: Any = msgspec.UNSET

    _half_decoder = msgspec.json.Decoder(_Half)
    _records_decoder = msgspec.json.Decoder(list[_Record])

CHUNK = 20_000  # records decoded per call when ``chunked``
UNSET = msgspec.UNSET if msgspec is not None else object()


def available() -> bool:
    return msgspec is not None


class Decoded:
    """A bundle as columns: ``ids`` ("" where the record has none), ``patterns`` (dicts),
    ``fixes`` (JSON text), ``confidence``, ``priority``, ``expires`` (as written)."""

    __slots__ = ("name", "version", "created_at", "ids", "patterns", "fixes", "confidence", "priority",
                 "expires")


def decode(data: bytes, chunked: bool = False) -> Decoded | None:
    """The bundle in ``data`` as columns, or None if msgspec is missing or rejects it.
    ``chunked``: decode ``CHUNK`` records per call (~35% more CPU) so that other threads get the
    GIL between calls; a hot reload uses it, as one call holds the GIL for the whole document
    (~1 s at 1M patterns, during which the app's requests would wait)."""
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


# The halves carry marker records: the first half is closed with one, then ``]}``; the second is
# opened with ``{"patterns":[`` and one. Only a cut in the document's own "patterns" list puts the
# first marker last in that list: a cut in another list of records (say a "disabled" list after
# "patterns", which a whole decode ignores) leaves it elsewhere, and a cut inside a string never
# decodes (the marker's first quote ends the string, a bare word follows). The second marker stays
# first in its list unless a later "patterns" key, however escaped, replaces that list (the last
# one wins in a whole decode too).
_END_ID, _START_ID = "\0arc-split-end", "\0arc-split-start"  # no bundle id starts with NUL by chance


def _marker(mark_id: str) -> bytes:
    return json.dumps({"pattern": {}, "fix": {}, "id": mark_id}, separators=(",", ":")).encode()


HEAD_END = b"," + _marker(_END_ID) + b"]}"
TAIL_START = b'{"patterns":[' + _marker(_START_ID) + b","


def decode_half(data: Any, head: bool) -> Decoded | None:
    """A half of a bundle (``split_load``): its first half (``head``) closed with ``HEAD_END``,
    or its second half opened with ``TAIL_START``; None if it does not decode or a marker is out
    of place (the cut was not in the "patterns" list). Metadata the half does not hold is
    ``msgspec.UNSET``."""
    if msgspec is None:
        return None
    try:
        doc = _half_decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    recs = doc.patterns
    at, mark_id = (-1, _END_ID) if head else (0, _START_ID)
    if not recs or recs[at].id != mark_id:
        return None
    recs.pop(at)
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
