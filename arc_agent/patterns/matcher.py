"""One straight-line Python function per spec instead of a generic loop over its tests.

``conditions.evaluate`` dispatches on each test's kind at run time (interpreter work per
candidate pattern besides the tests themselves; benchmarks/RESULTS.md); the generated function reads each field once
through the per-request cache, inlines comparisons and ``exists``, and calls the compiled regex /
word-set checks directly (RE2's Match included). Same semantics as
``evaluate``, which stays the reference (the tests compare both). Only constants and compiled
checks reach the generated code, as names bound in its namespace: pattern text never becomes
source code.
"""

from __future__ import annotations

from typing import Any, Callable

from ..llm.request import MISSING
from . import similarity
from .conditions import TOP_FIELDS, lower_key
from .regex import UNANCHORED, encode

_COMPARE = {">": ">", ">=": ">=", "<": "<", "<=": "<="}


def compile_matcher(tests: list, getters: dict) -> Callable[[Any, dict], bool] | None:
    """``match(request, cache) -> bool`` for ``tests`` (in evaluation order); None if no tests.
    ``cache`` (one per request) holds what is derived from a field's text (words, bytes)."""
    if not tests:
        return None
    ns: dict = {"MISSING": MISSING, "_words": similarity.words, "_jaccard": similarity.jaccard,
                "_encode": encode, "_str": str, "_num": (int, float), "_bool": bool, "_unanchored": UNANCHORED}
    lines = ["def match(r, c):"]
    fields: dict = {}
    for k, t in enumerate(tests):
        v = _read_field(t.field, fields, ns, getters, lines)
        if t.check is None:  # exists
            lines.append(f"    if {v} is {'' if t.want else 'not '}MISSING: return False")
        elif t.op in _COMPARE:
            ns[f"a{k}"] = t.arg
            lines.append(f"    if not (isinstance({v}, _num) and {v}.__class__ is not _bool "
                         f"and {v} {_COMPARE[t.op]} a{k}): return False")
        elif t.words is not None:
            ns[f"w{k}"], ns[f"t{k}"], ns[f"k{k}"] = t.words, t.threshold, t.key
            lines += [f"    if not isinstance({v}, _str): return False",
                      f"    ws = c.get(k{k})",
                      f"    if ws is None: ws = c[k{k}] = _words({v})",
                      f"    if _jaccard(ws, w{k}) < t{k}: return False"]
        elif t.bsearch is not None:
            ns[f"b{k}"], ns[f"k{k}"] = t.bsearch, t.key
            lines.append(f"    if not isinstance({v}, _str): return False")
            _literal_checks(k, t, v, ns, lines)
            lines += [f"    d = c.get(k{k})",
                      f"    if d is None: d = c[k{k}] = _encode({v})"]
            match = getattr(t.bsearch, "re2_match", None)
            if match is not None:  # RE2's Match called here: one Python call less per regex
                ns[f"m{k}"] = match
                lines.append(f"    if m{k}(_unanchored, d, 0, len(d))[0][0] < 0: return False")
            else:
                lines.append(f"    if not b{k}(d): return False")
        else:
            ns[f"f{k}"] = t.check
            lines.append(f"    if {v} is MISSING or not f{k}({v}): return False")
    lines.append("    return True")
    exec(compile("\n".join(lines), "<arc pattern matcher>", "exec"), ns)  # noqa: S102 - see docstring
    return ns["match"]


def _literal_checks(k: int, t: Any, v: str, ns: dict, lines: list) -> None:
    """Before a regex search: return False when the text lacks a string every match contains
    (see ``regex.required_literals``); with ``(?i)``, on the lowercased text, ASCII text only."""
    if not t.literals:
        return
    literals, ignore_case = t.literals
    text = v
    if ignore_case:
        ns[f"lk{k}"] = lower_key(t.field)
        lines += [f"    lo = c.get(lk{k}, c)",
                  f"    if lo is c: lo = c[lk{k}] = {v}.lower() if {v}.isascii() else None"]
        text = "lo"
    for j, literal in enumerate(literals):
        ns[f"l{k}_{j}"] = literal
        lines.append(f"    if {'lo is not None and ' if ignore_case else ''}l{k}_{j} not in {text}: return False")


def _read_field(field: str, fields: dict, ns: dict, getters: dict, lines: list) -> str:
    """Emit (once per field) the read of ``field``; returns its variable. Inlined instead of calling
    its getter (cheaper per field): a top-level field as an attribute (names from the fixed
    ``TOP_FIELDS``, never from pattern text), a parameter from ``params``, which never holds the
    SDKs' not-given sentinels (``llm/request.py``'s ``_params``)."""
    n = fields.get(field)
    if n is None:
        n = fields[field] = len(fields)
        if field in TOP_FIELDS and field.isidentifier():
            lines += [f"    v{n} = r.{field}",
                      f"    if v{n} is None: v{n} = MISSING"]
        else:
            ns[f"name{n}"] = field
            lines.append(f"    v{n} = r.params.get(name{n}, MISSING)")
    return f"v{n}"
