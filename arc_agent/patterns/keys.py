"""Canonical values for equality conditions, shared by the index builder and the lookup.

A value is *frozen* to a hashable canonical form that keeps Python's ``==`` meaning for
JSON values except that booleans stay distinct from numbers, and negative numbers are tagged
(``hash(-1) == hash(-2)`` in CPython). Equality conditions are then compared by 64-bit hash:
with 1M keys a false candidate has a probability of about 1e-13 per lookup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_BOOL = "\x00b"
_NEG = "\x00-"
_MAP = "\x00m"
UNMATCHABLE = ("\x00?",)  # frozen form of a value no pattern can equal (SDK objects, sentinels)


def freeze(value: Any) -> Any:
    """Hashable canonical form of a request or pattern value (lists → tuples, dicts → sorted)."""
    t = type(value)
    if t is str:
        return value
    if t is bool:
        return (_BOOL, value)
    if t is int or t is float:
        return value if value >= 0 else (_NEG, -value)
    if value is None:
        return None
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, (list, tuple)):
        return tuple([freeze(v) for v in value])
    if isinstance(value, Mapping):
        return (_MAP, tuple(sorted((str(k), freeze(v)) for k, v in value.items())))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return freeze(float(value) if isinstance(value, float) else int(value))
    return UNMATCHABLE


def check_json_value(value: Any, what: str) -> None:
    """Patterns hold JSON values only; reject anything else with a clear message."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return
    if isinstance(value, (list, tuple)):
        for v in value:
            check_json_value(v, what)
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{what}: object keys must be strings, got {k!r}")
            check_json_value(v, what)
        return
    raise TypeError(f"{what}: {type(value).__name__} is not a JSON value")

