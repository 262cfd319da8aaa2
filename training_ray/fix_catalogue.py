"""Candidate fixes for a mined failure, keyed by its kind; values come from what succeeded.

unsupported parameter → rename it (``max_tokens`` → ``max_completion_tokens``) or remove it;
context too long → a model of the same provider seen succeeding at that size (the predicate may
bound the prompt size, ``prompt_tokens_est``, so short prompts keep their model); truncated → raise
``max_tokens`` to what successes were given; invalid JSON → clamp temperature to what succeeded;
a 400 tied to a parameter range → clamp the parameter to the accepted range. Nothing for rate
limits, server errors, refusals or empty replies: no request change is known to fix those.
"""

from __future__ import annotations

import numpy as np

from .pattern_mining import CellTable, Finding

RENAMES = {"max_tokens": "max_completion_tokens"}
CLAMPABLE = ("temperature", "max_tokens")  # request parameters; prompt size is a feature, not a setting


def _ok_values(t: CellTable, scope: np.ndarray, fname: str) -> np.ndarray:
    mask = scope & t.ok
    if fname not in t.lo:
        vals = t.values[fname]
        return vals[mask & ~np.isnan(vals)]
    lo, hi = t.lo[fname][mask], t.hi[fname][mask]
    return np.concatenate([lo[~np.isnan(lo)], hi[~np.isnan(hi)]])


def candidates(t: CellTable, finding: Finding) -> list:
    """Fix objects (pattern format) worth verifying for ``finding``, most specific first."""
    outcome, code, param, status = finding.kind
    pred = finding.predicate
    fixes: list = []
    if status == 429 or status >= 500 or outcome in ("empty", "refused", "app_reported"):
        return fixes
    if code == "unsupported_parameter" and param:
        if param in RENAMES:
            fixes.append({param: {"rename": RENAMES[param]}})
        fixes.append({param: {"remove": True}})
    elif code == "context_length_exceeded":
        fixes.extend({"model": m} for m in _bigger_models(t, finding))
    elif outcome == "truncated" and pred.numeric[:2] == ("max_tokens", "<"):
        ok = _ok_values(t, pred.scope, "max_tokens")
        ok = ok[ok >= pred.numeric[2]]
        if ok.size:
            need = max(int(ok.min()), int(max((c.out_max for c, m in zip(t.cells, pred.scope & t.ok) if m),
                                              default=0)))
            fixes.append({"max_tokens": {"min": need}})
    elif outcome == "invalid_json" and pred.numeric[:2] == ("temperature", ">"):
        ok = _ok_values(t, pred.scope, "temperature")
        ok = ok[ok <= pred.numeric[2]]
        if ok.size:
            fixes.append({"temperature": {"max": float(ok.max())}})
    elif outcome == "http_error" and status == 400 and pred.numeric and pred.numeric[0] in CLAMPABLE:
        fname, op, threshold = pred.numeric
        ok = _ok_values(t, pred.scope, fname)
        if op == ">" and (ok <= threshold).any():
            fixes.append({fname: {"max": _num(fname, ok[ok <= threshold].max())}})
        elif op == "<" and (ok >= threshold).any():
            fixes.append({fname: {"min": _num(fname, ok[ok >= threshold].min())}})
    return fixes


def _num(fname: str, value: float) -> float | int:
    return float(value) if fname == "temperature" else int(value)


def _bigger_models(t: CellTable, finding: Finding) -> list:
    """Models of the same provider whose successes were at least as large as these failures."""
    kind_index = t.kinds.index(finding.kind)
    failing = finding.predicate.mask & (t.kind == kind_index)
    provider = next((c.provider for c, f in zip(t.cells, failing) if f), "")
    failed_models = {c.model for c, f in zip(t.cells, failing) if f}
    needed = max((c.size for c, f in zip(t.cells, failing) if f), default=0)
    best: dict = {}
    for c, ok in zip(t.cells, t.ok):
        if ok and c.provider == provider and c.model not in failed_models and c.size >= needed:
            best[c.model] = best.get(c.model, 0) + c.n
    return sorted(best, key=lambda m: -best[m])[:2]
