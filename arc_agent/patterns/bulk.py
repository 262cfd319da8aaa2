"""Storing a bundle file's records in a ``LayerBuilder`` without a Python loop per record.

A bundle has a few pattern *signatures* (the field names of a pattern, in order) shared by most
of its records. Records are grouped by signature in C; then each field of a group is one column,
checked with whole-column operations (``map``/``set``/``min``): a column of plain scalars is an
equality column, a column of operator objects a residual one. A group's spec key per record is
its residual columns' JSON text and its fix's text, zipped in C; only the distinct keys (a few
thousand at most) are compiled. Any record of a group that is not plainly of this shape goes
through the builder's full per-record path, which validates it and names any problem.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import count, repeat
from operator import contains
from typing import Any, Callable

import numpy as np

from . import similarity
from .conditions import DEFAULT_THRESHOLD
from .errors import PatternError

_SCALAR_TYPES = frozenset({str, int, float})
_NUMBER_TYPES = frozenset({int, float})


def add_bulk(builder: Any, ids: list, patterns: list, fixes: list, confidence: Any, priority: Any,
             expires: Any, on_error: Callable[[int, PatternError], None], decoded: bool = False) -> None:
    """Store a file's records, whose ids, confidences, priorities and expiry times are already
    checked. ``decoded``: the records come from ``fastjson`` (every pattern a dict, every fix its
    JSON text as bytes); else they are objects from json/YAML, stored one by one. A PatternError
    goes to ``on_error(position, exc)`` (the load is then rejected)."""
    n0 = len(builder)
    sids = np.zeros(len(patterns), dtype=np.int32)
    pending: dict = {}  # field → ([pattern index], [position], [text], [threshold]) of plain fuzzy patterns
    rest = _add_groups(builder, n0, patterns, fixes, sids, pending, on_error) if decoded else range(len(patterns))
    for k in rest:
        pattern, fix = patterns[k], fixes[k]
        try:
            eq, sid, fuzzy = builder.prepare(pattern, builder.decode_fix(fix) if decoded else fix)
        except (PatternError, ValueError) as exc:
            on_error(k, exc if isinstance(exc, PatternError) else PatternError(str(exc)))
            continue
        builder.place(n0 + k, eq, sid, fuzzy)
        sids[k] = sid
    _add_fuzzy_texts(builder, pending, on_error)
    builder.spec_col.extend(sids)
    builder.ids.extend(ids)
    builder.priority.extend(priority)
    builder.confidence.extend(confidence)
    builder.expires.extend(expires)


def _add_groups(builder: Any, n0: int, patterns: list, fixes: list, sids: np.ndarray, pending: dict,
                on_error: Callable) -> list:
    """Store the records of the plain groups; returns the positions left for the per-record path."""
    n = len(patterns)
    if not n:
        return []
    signature_ids: defaultdict = defaultdict(count().__next__)
    codes = np.fromiter(map(signature_ids.__getitem__, map(tuple, patterns)), dtype=np.int64, count=n)
    signatures = list(signature_ids)  # in code order
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    rest: list = []
    for positions in np.split(order, bounds):
        names = signatures[int(codes[positions[0]])]
        pos = positions.tolist()
        if not _add_group(builder, n0, names, pos, positions, patterns, fixes, sids, pending, on_error):
            rest.extend(pos)
    rest.sort()
    return rest


def _add_group(builder: Any, n0: int, names: tuple, pos: list, positions: np.ndarray, patterns: list,
               fixes: list, sids: np.ndarray, pending: dict, on_error: Callable) -> bool:
    """Store one signature's records (at ``pos``, also as the array ``positions``) if every column
    is plain; False to leave them all to the per-record path."""
    if not names or "" in names:
        return False
    pats = list(map(patterns.__getitem__, pos))
    group_fixes = list(map(fixes.__getitem__, pos))
    eq_names, eq_cols, res_names, res_cols = [], [], [], []
    columns = [list(map(dict.__getitem__, pats, repeat(f))) for f in names]  # one C-level pass a field
    for f, col in zip(names, columns):
        kind = _column_kind(col)
        if kind is None:
            return False
        (eq_names if kind == "eq" else res_names).append(f)
        (eq_cols if kind == "eq" else res_cols).append(col)
    del pats, columns
    if not eq_names:
        similar = _plain_similar_rows(res_cols[0]) if len(res_names) == 1 else None
        if similar is None:
            return False
        rows = pending.setdefault(res_names[0], ([], [], [], []))
        rows[0].extend((positions + n0).tolist())
        rows[1].extend(pos)
        rows[2].extend(similar[0])
        rows[3].extend(similar[1])
        res_names, res_cols = [], []
    if res_names:  # the residual fields' names, then the fix's and each condition's JSON text
        encode, decode = builder.encode_key, builder.decode_fix
        texts = [list(map(encode, c)) for c in res_cols]
        for column in texts:  # operator objects must be non-empty, without "==": checked once per text
            if any(not d or "==" in d for d in map(decode, set(column))):
                return False
        keys = list(zip(repeat(tuple(res_names)), group_fixes, *texts))
    else:  # no residual: the key the per-record path uses too
        keys = group_fixes
    sids[positions] = _spec_ids(builder, keys, group_fixes, res_names, res_cols, pos, on_error)
    if eq_names:
        builder.add_equality_columns(tuple(eq_names), (positions + n0).tolist(), eq_cols)
    return True


def _spec_ids(builder: Any, keys: list, group_fixes: list, res_names: list, res_cols: list, pos: list,
              on_error: Callable) -> np.ndarray:
    """Each row's spec id, by its spec key: one dict pass over the rows; only the distinct keys (a
    few thousand at most) are looked up in the builder or compiled."""
    local: defaultdict = defaultdict(count().__next__)
    codes = np.fromiter(map(local.__getitem__, keys), dtype=np.int64, count=len(keys))
    first = np.unique(codes, return_index=True)[1].tolist()  # each distinct key's first row
    spec_ids = builder.spec_ids
    table = np.zeros(len(first), dtype=np.int32)
    for c, key in enumerate(local):
        sid = spec_ids.get(key)
        if sid is None:
            j = first[c]
            residual = {f: col[j] for f, col in zip(res_names, res_cols)} if res_names else None
            try:
                sid = builder.new_spec(key, residual, builder.decode_fix(group_fixes[j]))
            except (PatternError, ValueError) as exc:  # reported for its first row; the load is rejected
                on_error(pos[j], exc if isinstance(exc, PatternError) else PatternError(str(exc)))
                sid = 0
        table[c] = sid
    return table[codes]


def _column_kind(col: list) -> str | None:
    """"eq" for plain scalars (strings, non-negative numbers), "residual" for operator objects,
    None otherwise."""
    types = set(map(type, col))
    if types <= _SCALAR_TYPES:
        if types == {str} or (types <= _NUMBER_TYPES and min(col) >= 0):
            return "eq"
        return None
    if types == {dict}:  # non-empty and without "==": checked on the distinct JSON texts
        return "residual"
    return None


def _plain_similar_rows(col: list) -> tuple | None:
    """(texts, float thresholds) if every condition is ``similar`` on a string with an optional
    numeric threshold in (0, 1] and nothing else; None otherwise."""
    texts = list(map(dict.get, col, repeat("similar")))
    if set(map(type, texts)) != {str}:  # also: every condition has "similar"
        return None
    n = len(col)
    given = sum(map(contains, col, repeat("threshold")))
    if sum(map(len, col)) != n + given:  # an operator besides "similar" and "threshold"
        return None
    if not given:
        return texts, [float(DEFAULT_THRESHOLD)] * n
    thresholds = list(map(dict.get, col, repeat("threshold"), repeat(DEFAULT_THRESHOLD)))
    if not set(map(type, thresholds)) <= _NUMBER_TYPES or not 0.0 < min(thresholds) or max(thresholds) > 1.0:
        return None
    return texts, list(map(float, thresholds))


def _add_fuzzy_texts(builder: Any, pending: dict, on_error: Callable) -> None:
    """Index plain fuzzy patterns, their texts split into words in one batch per field; a text
    without words is compiled alone, which names the problem."""
    for field, (idxs, positions, texts, thresholds) in pending.items():
        vocab, codes, row_of, n_rows = similarity.code_texts(texts)
        empty = np.flatnonzero(np.bincount(row_of, minlength=n_rows) == 0).tolist()
        if empty:
            for k in empty:
                try:
                    builder.compile_similar(field, {"similar": texts[k], "threshold": thresholds[k]})
                except PatternError as exc:
                    on_error(positions[k], exc)
            keep = np.ones(n_rows, dtype=bool)
            keep[empty] = False
            row_of = (np.cumsum(keep) - 1)[row_of]  # rows renumbered without the empty ones
            idxs, thresholds = ([x for x, ok in zip(column, keep.tolist()) if ok] for column in (idxs, thresholds))
            n_rows = len(idxs)
        builder.add_fuzzy_rows(field, idxs, thresholds, (vocab, codes, row_of, n_rows))
