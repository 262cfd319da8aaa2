"""Mining: ClickHouse groups the calls into cells (request features × failure kind, with counts);
Python searches predicates over those few thousand cells, never over spans.

A *kind* is (outcome, error code, error param, HTTP status). A predicate is kept for a kind when its
calls fail that way far more often than the rest: at least ``min_support`` such failures, a Wilson
lower bound of its failure rate of at least ``min_precision``, and ``lift`` (that bound over the
rest's rate) of at least ``min_lift``. Random failures (429/5xx spread over everything) have no
predicate that passes, and the fix catalogue has nothing for them anyway.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

CELL_LIMIT = 200_000
NUMERIC = ("temperature", "max_tokens", "prompt_tokens_est")
INTEGER = ("max_tokens", "prompt_tokens_est")  # bucketed by powers of two; exact bounds kept per cell
MIDPOINT = ("prompt_tokens_est",)  # range thresholds in the middle of the gap (``_threshold``)


def wilson_lower(successes: float, n: float, z: float = 1.96) -> float:
    if n <= 0:
        return 0.0
    p = successes / n
    denom = 1 + z * z / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / denom)


def cells_sql(since_seconds: int) -> str:
    """One row per distinct (features, outcome kind) with counts and the exact ranges behind buckets."""
    return f"""
SELECT provider, model, response_format AS rf, arrayStringConcat(request_params, ',') AS params,
       round(temperature, 2) AS temp,
       if(max_tokens <= 64, max_tokens, toInt64(exp2(ceil(log2(max_tokens))))) AS mt,
       min(max_tokens) AS mt_lo, max(max_tokens) AS mt_hi,
       if(prompt_tokens_est <= 16, prompt_tokens_est, toInt64(exp2(ceil(log2(prompt_tokens_est))))) AS pt,
       min(prompt_tokens_est) AS pt_lo, max(prompt_tokens_est) AS pt_hi,
       outcome, error_code AS code, error_param AS param, ifNull(http_status, 0) AS status,
       count() AS n,
       max(ifNull(prompt_tokens_est, 0) + ifNull(max_completion_tokens, ifNull(max_tokens, 0))) AS size,
       max(ifNull(output_tokens, 0)) AS out_max
FROM arc_llm_calls
WHERE time >= now64() - toIntervalSecond({int(since_seconds)})
GROUP BY provider, model, rf, params, temp, mt, pt, outcome, code, param, status
ORDER BY n DESC
LIMIT {CELL_LIMIT}
"""


@dataclass
class Cell:
    provider: str
    model: str
    rf: str
    params: frozenset
    temperature: float | None
    max_tokens: int | None
    mt_lo: int | None
    mt_hi: int | None
    kind: tuple | None  # None: ok
    n: int
    size: int
    out_max: int
    prompt_tokens: int | None = None  # bucket of prompt_tokens_est, and its exact bounds
    pt_lo: int | None = None
    pt_hi: int | None = None

    @classmethod
    def from_row(cls, row: dict) -> Cell:
        ok = row["outcome"] == "ok"
        kind = None if ok else (row["outcome"], row["code"] or "", row["param"] or "", int(row["status"] or 0))
        return cls(row["provider"], row["model"], row["rf"] or "text",
                   frozenset(p for p in (row["params"] or "").split(",") if p),
                   row["temp"], row["mt"], row["mt_lo"], row["mt_hi"], kind, int(row["n"]),
                   int(row["size"] or 0), int(row["out_max"] or 0), row.get("pt"), row.get("pt_lo"),
                   row.get("pt_hi"))


@dataclass
class Predicate:
    name: str
    condition: dict  # the pattern's match (request view fields)
    mask: np.ndarray  # which cells it covers
    numeric: tuple = ()  # (field, op, exact threshold) for a range predicate
    scope: np.ndarray | None = None  # the cells of its model / response format (ranges only)


@dataclass
class Finding:
    kind: tuple
    predicate: Predicate
    failures: int
    calls: int
    precision_lb: float
    lift: float

    def evidence(self) -> dict:
        return {"kind": kind_name(self.kind), "predicate": self.predicate.name, "support": self.failures,
                "calls": self.calls, "failure_rate_lb": round(self.precision_lb, 4), "lift": round(self.lift, 2)}


def kind_name(kind: tuple) -> str:
    outcome, code, param, status = kind
    return ":".join(str(x) for x in (outcome, code, param, status or "") if x != "")


class CellTable:
    """The cells as numpy columns, so each predicate is one vectorised mask."""

    def __init__(self, cells: list) -> None:
        self.cells = cells
        self.n = np.array([c.n for c in cells], dtype=np.int64)
        self.provider = np.array([c.provider for c in cells], dtype=object)
        self.model = np.array([c.model for c in cells], dtype=object)
        self.rf = np.array([c.rf for c in cells], dtype=object)
        self.values = {"temperature": _column(c.temperature for c in cells),
                       "max_tokens": _column(c.max_tokens for c in cells),
                       "prompt_tokens_est": _column(c.prompt_tokens for c in cells)}
        # exact bounds behind the integer buckets, so a threshold is a value really seen
        self.lo = {"max_tokens": _column(c.mt_lo for c in cells), "prompt_tokens_est": _column(c.pt_lo for c in cells)}
        self.hi = {"max_tokens": _column(c.mt_hi for c in cells), "prompt_tokens_est": _column(c.pt_hi for c in cells)}
        self.kinds = sorted({c.kind for c in cells if c.kind})
        index = {k: i for i, k in enumerate(self.kinds)}
        self.kind = np.array([index[c.kind] if c.kind else -1 for c in cells], dtype=np.int64)
        self.ok = self.kind == -1
        # rate limits and server errors hit any request: they count neither for nor against a predicate
        self.transient = np.array([bool(c.kind) and (c.kind[3] == 429 or c.kind[3] >= 500) for c in cells])

    def has_param(self, name: str) -> np.ndarray:
        return np.array([name in c.params for c in self.cells], dtype=bool)


def _column(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _scopes(t: CellTable) -> list:
    """(name, condition, mask): everything, each model, each JSON response format, and each model
    with each JSON response format it was asked for."""
    scopes = [("", {}, np.ones(len(t.cells), dtype=bool))]
    models = sorted(set(zip(t.provider, t.model)))
    for provider, model in models:
        scopes.append((f"model={model}", {"provider": provider, "model": model},
                       (t.provider == provider) & (t.model == model)))
    for rf in sorted(set(t.rf) - {"text", "tool", ""}):
        scopes.append((f"response_format={rf}", {"response_format.type": rf}, t.rf == rf))
        for provider, model in models:
            mask = (t.provider == provider) & (t.model == model) & (t.rf == rf)
            if mask.any():
                scopes.append((f"model={model} & response_format={rf}",
                               {"provider": provider, "model": model, "response_format.type": rf}, mask))
    return scopes


def predicates(t: CellTable) -> list:
    out = []
    for sname, scond, smask in _scopes(t):
        if sname:
            out.append(Predicate(sname, dict(scond), smask))
        if sname.startswith("model="):
            failing = smask & ~t.ok
            names = {p for c, f in zip(t.cells, failing) if f for p in c.params} - {"model", "messages"}
            for p in sorted(names):
                out.append(Predicate(f"{sname} & {p} given", {**scond, p: {"exists": True}}, smask & t.has_param(p)))
        for fname in NUMERIC:
            out.extend(_range_predicates(t, sname, scond, smask, fname))
    return out


def _range_predicates(t: CellTable, sname: str, scond: dict, smask: np.ndarray, fname: str) -> list:
    vals = t.values[fname]
    present = smask & ~np.isnan(vals)
    levels = np.unique(vals[present])
    prefix = sname + " & " if sname else ""
    out = []
    for b in levels[:-1]:  # "> b"
        exact = _threshold(t, fname, present & (vals <= b), present & (vals > b), b, ">")
        out.append(Predicate(f"{prefix}{fname} > {exact}", {**scond, fname: {">": exact}}, present & (vals > b),
                             (fname, ">", exact), present))
    for b in levels[1:]:  # "< b"
        exact = _threshold(t, fname, present & (vals < b), present & (vals >= b), b, "<")
        out.append(Predicate(f"{prefix}{fname} < {exact}", {**scond, fname: {"<": exact}}, present & (vals < b),
                             (fname, "<", exact), present))
    return out


def _threshold(t: CellTable, fname: str, below: np.ndarray, above: np.ndarray, bucket: float, op: str):
    """The exact threshold of a range between two groups of cells. A parameter's threshold is the
    value seen on the far side of the failures (the largest value below for ``>``, the smallest above
    for ``<``): providers' limits sit where successes stop. A prompt size's is the middle of the gap
    on a log scale: a size limit lies somewhere between the largest prompt seen on one side and the
    smallest on the other, and a fix for it (another model) should not reach every small prompt."""
    if fname not in INTEGER:
        return float(bucket)
    high, low = int(np.nanmax(t.hi[fname][below])), int(np.nanmin(t.lo[fname][above]))
    if fname not in MIDPOINT or low <= high + 1:
        return high if op == ">" else low
    middle = math.sqrt(max(high, 1) * low)
    return min(max(int(middle), high), low - 1) if op == ">" else max(min(math.ceil(middle), low), high + 1)


def _margin(pred: Predicate) -> float:
    """Among equally good ranges, the one reaching furthest toward the healthy calls generalises best."""
    if not pred.numeric:
        return 0.0
    _, op, threshold = pred.numeric
    return -threshold if op == ">" else threshold


def mine(table: CellTable, min_support: int = 5, min_precision: float = 0.25, min_lift: float = 3.0,
         per_kind: int = 3) -> list:
    """The best predicates of each failure kind (``per_kind`` at most), best first. Between predicates
    with the same evidence, the narrower one (more conditions: its model or response format) wins:
    the fix is then applied only where it was seen and verified, e.g. a temperature clamp learned from
    JSON calls stays off calls that asked for text."""
    counted = ~table.transient
    totals = (int(table.n[counted].sum()), int(table.n.sum()))
    if not table.kinds or totals[1] == 0:
        return []
    k_totals = np.bincount(table.kind[~table.ok], weights=table.n[~table.ok], minlength=len(table.kinds))
    transient_kind = [k[3] == 429 or k[3] >= 500 for k in table.kinds]
    scored: dict = defaultdict(list)
    for pred in predicates(table):
        ns = (int(table.n[pred.mask & counted].sum()), int(table.n[pred.mask].sum()))
        sel = pred.mask & ~table.ok
        ks = np.bincount(table.kind[sel], weights=table.n[sel], minlength=len(table.kinds))
        for i in np.nonzero(ks >= min_support)[0]:
            n, total = (ns[1], totals[1]) if transient_kind[i] else (ns[0], totals[0])
            if n == 0 or n == total:
                continue
            k, k_total = int(ks[i]), int(k_totals[i])
            lb = wilson_lower(k, n)
            lift = lb / max((k_total - k) / (total - n), 1.0 / total)
            if lb >= min_precision and lift >= min_lift:
                kind = table.kinds[i]
                scored[kind].append((round(lb * k / k_total, 9), _margin(pred), len(pred.condition),
                                     Finding(kind, pred, k, n, lb, lift)))
    found = []
    for kind in table.kinds:
        best = sorted(scored.get(kind, ()), key=lambda s: s[:3], reverse=True)
        found.extend(s[3] for s in best[:per_kind])
    return found
