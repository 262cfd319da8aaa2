"""Fixes, written once in provider-neutral terms and validated here (``apply.py`` translates them).

``{"temperature": 0.7}`` sets a parameter; ``{"temperature": {"max": 0.7}}`` clamps it (``min``
and/or ``max``; an absent parameter stays absent); ``{"top_p": {"remove": true}}`` removes it;
``{"max_tokens": {"rename": "max_completion_tokens"}}`` moves its value to another parameter name
(the new name's own value, if the caller gave one, wins);
``{"response_format": {"set": {...}}}`` sets an object value; ``{"model": "gpt-4o"}`` replaces the
model; ``prepend_system`` / ``append_system`` / ``prefix_prompt`` / ``suffix_prompt`` add text.
Each op writes one *slot* (a parameter, ``model``, ``system`` or ``prompt``); when several
patterns write the same slot, the highest-priority one wins and the others are conflicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .keys import check_json_value

TEXT_OPS = {"prepend_system": ("system", "prepend"), "append_system": ("system", "append"),
            "prefix_prompt": ("prompt", "prefix"), "suffix_prompt": ("prompt", "suffix")}
# never written by a fix: they change the response type, carry the conversation or credentials,
# or are Arc's own view fields
FORBIDDEN = frozenset({"stream", "messages", "input", "system", "instructions", "extra_headers",
                       "extra_query", "extra_body", "timeout", "api_key", "provider", "operation",
                       "prompt", "response_format.type", "tools[].name"})


class FixOp:
    """``kind``: set | clamp | remove | rename | prepend | append | prefix | suffix."""

    __slots__ = ("slot", "kind", "value")

    def __init__(self, slot: str, kind: str, value: Any) -> None:
        self.slot = slot
        self.kind = kind
        self.value = value

    def __repr__(self) -> str:
        return f"FixOp({self.slot!r}, {self.kind!r}, {self.value!r})"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def compile_fix(fix: Any) -> tuple:
    """Validate ``fix`` and return its ops; ValueError naming the problem otherwise."""
    if type(fix) is not dict and not isinstance(fix, Mapping) or not fix:
        raise ValueError("'fix' must be a non-empty object")
    ops = []
    for name, value in fix.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"fix: keys must be non-empty strings, got {name!r}")
        if name in TEXT_OPS:
            slot, kind = TEXT_OPS[name]
            if not isinstance(value, str) or not value:
                raise ValueError(f"fix {name!r}: needs a non-empty string, got {value!r}")
            ops.append(FixOp(slot, kind, value))
            continue
        if name in FORBIDDEN:
            raise ValueError(f"fix {name!r}: this field cannot be changed by a fix")
        if name == "model":
            if not isinstance(value, str) or not value:
                raise ValueError(f"fix 'model': needs a non-empty string, got {value!r}")
            ops.append(FixOp("model", "set", value))
            continue
        ops.append(_param_op(name, value))
    return tuple(ops)


def _param_op(name: str, value: Any) -> FixOp:
    try:
        check_json_value(value, f"fix {name!r}")
    except TypeError as exc:
        raise ValueError(str(exc)) from None
    if value is None:
        raise ValueError(f"fix {name!r}: null is ambiguous; use {{\"remove\": true}} or {{\"set\": null}}")
    if not isinstance(value, Mapping):
        return FixOp(name, "set", value)
    keys = set(value)
    if keys == {"set"}:
        return FixOp(name, "set", value["set"])
    if keys == {"remove"}:
        if value["remove"] is not True:
            raise ValueError(f"fix {name!r}: 'remove' must be true")
        return FixOp(name, "remove", None)
    if keys == {"rename"}:
        target = value["rename"]
        if not isinstance(target, str) or not target or target == name:
            raise ValueError(f"fix {name!r}: 'rename' needs another parameter name, got {target!r}")
        if target in FORBIDDEN or target in TEXT_OPS or target == "model" or "." in target or "[" in target:
            raise ValueError(f"fix {name!r}: cannot rename to {target!r}")
        return FixOp(name, "rename", target)
    if keys and keys <= {"min", "max"}:
        lo, hi = value.get("min"), value.get("max")
        for bound in (lo, hi):
            if bound is not None and not _is_number(bound):
                raise ValueError(f"fix {name!r}: clamp bounds must be numbers, got {bound!r}")
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"fix {name!r}: min {lo} is greater than max {hi}")
        return FixOp(name, "clamp", (lo, hi))
    raise ValueError(f"fix {name!r}: an object value must be one of {{\"set\": ...}}, "
                     f"{{\"remove\": true}}, {{\"rename\": name}} or a clamp {{\"min\": ..., \"max\": ...}}; "
                     f"got keys {sorted(keys)}")
