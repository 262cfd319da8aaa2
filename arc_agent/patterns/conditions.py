"""Pattern conditions: validation and compilation of one field's operators.

A condition is a plain value (equality) or an object of operators, all of which must hold:
``== != > >= < <= in not_in exists contains startswith regex similar`` (``similar`` takes an
optional ``threshold``, default 0.8). A condition on a field the request lacks is false, except
``exists: false``. Comparisons need numbers; ``contains`` works on text (substring) and lists
(element); ``regex``/``startswith``/``similar`` need text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable

from ..llm.request import MISSING
from . import similarity
from .keys import check_json_value, freeze
from .regex import compile_regex, encode

# view attributes (``prompt_tokens_est`` is computed on first read); every other field is a parameter
TOP_FIELDS = frozenset({"provider", "operation", "model", "system", "prompt", "messages", "prompt_tokens_est"})
OPERATORS = frozenset({"==", "!=", ">", ">=", "<", "<=", "in", "not_in", "exists", "contains",
                       "startswith", "regex", "similar", "threshold"})
DEFAULT_THRESHOLD = 0.8
_COMPARE = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
            "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}
# evaluation order: cheap tests first so a failing pattern stops early
_COST = {"exists": 0, "!=": 1, ">": 1, ">=": 1, "<": 1, "<=": 1, "in": 1, "not_in": 1,
         "contains": 2, "startswith": 2, "regex": 3, "similar": 4}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def field_getter(field: str) -> Callable[[Any], Any]:
    """Reads ``field`` from an ``LLMRequest``; MISSING when absent (the request's ``params`` never
    hold the SDKs' not-given sentinels: ``llm/request.py``'s ``_params`` leaves them out)."""
    if field in TOP_FIELDS:
        def get(request: Any) -> Any:
            v = getattr(request, field)
            return MISSING if v is None else v
    else:
        def get(request: Any) -> Any:
            return request.params.get(field, MISSING)
    return get


def words_key(field: str) -> tuple:
    """Key of a field's word set in the per-request cache (values are cached under the name)."""
    return ("words", field)


def bytes_key(field: str) -> tuple:
    return ("utf8", field)


def lower_key(field: str) -> tuple:
    return ("lower", field)


class Test:
    """One operator on one field, compiled. ``words`` is set for ``similar`` (the pattern's words),
    ``bsearch`` for ``regex`` with RE2 (a search on the field's UTF-8 bytes)."""

    __slots__ = ("field", "op", "cost", "check", "words", "threshold", "want", "bsearch", "key", "arg",
                 "literals")

    def __init__(self, field: str, op: str, check: Callable[[Any], bool] | None,
                 words: frozenset | None = None, threshold: float = 0.0, want: bool = True,
                 arg: Any = None) -> None:
        self.arg = arg  # the operator's argument (for comparisons: the number)
        self.field = field
        self.op = op
        self.cost = _COST[op]
        self.check = check
        self.words = words
        self.threshold = threshold
        self.want = want  # for ``exists``: whether the field must be present
        self.bsearch = getattr(check, "bytes", None)
        self.literals = getattr(check, "literals", None)  # regex: (strings every match contains, icase)
        self.key = words_key(field) if words is not None else bytes_key(field) if self.bsearch else None


def split(field: str, cond: Any) -> tuple:
    """(has_equality, equality value, residual operators dict or None) of one field's condition."""
    if type(cond) is dict or isinstance(cond, Mapping):
        if "==" in cond:
            rest = {k: v for k, v in cond.items() if k != "=="}
            return True, cond["=="], (rest or None)
        return False, None, dict(cond)
    return True, cond, None


def compile_ops(field: str, ops: Mapping, for_lookup: bool = True) -> list:
    """Compile one field's operator object (without ``==``); PatternError-ready ValueError if bad.
    ``for_lookup=False``: only validate (regexes skip the pre-check literals lookups use)."""
    if not isinstance(field, str) or not field:
        raise ValueError(f"field names must be non-empty strings, got {field!r}")
    if not ops:
        raise ValueError(f"field {field!r}: empty operator object")
    unknown = [k for k in ops if k not in OPERATORS]
    if unknown:
        raise ValueError(f"field {field!r}: unknown operator {unknown[0]!r} "
                         f"(known: {', '.join(sorted(OPERATORS - {'threshold'}))})")
    if "threshold" in ops and "similar" not in ops:
        raise ValueError(f"field {field!r}: 'threshold' only goes with 'similar'")
    tests = []
    for op, arg in ops.items():
        if op != "threshold":
            tests.append(_compile_op(field, op, arg, ops, for_lookup))
    tests.sort(key=lambda t: t.cost)
    return tests


def _compile_op(field: str, op: str, arg: Any, ops: Mapping, for_lookup: bool = True) -> Test:
    where = f"field {field!r}, operator {op!r}"
    if op in _COMPARE:
        if not _is_number(arg):
            raise ValueError(f"{where}: needs a number, got {arg!r}")
        cmp = _COMPARE[op]
        return Test(field, op, lambda v: _is_number(v) and cmp(v, arg), arg=arg)
    if op == "!=":
        _check_json(arg, where)
        frozen = freeze(arg)
        return Test(field, op, lambda v: freeze(v) != frozen)
    if op in ("in", "not_in"):
        if not isinstance(arg, (list, tuple)):
            raise ValueError(f"{where}: needs a list, got {arg!r}")
        _check_json(arg, where)
        members = frozenset(freeze(a) for a in arg)
        if op == "in":
            return Test(field, op, lambda v: freeze(v) in members)
        return Test(field, op, lambda v: freeze(v) not in members)
    if op == "exists":
        if not isinstance(arg, bool):
            raise ValueError(f"{where}: needs true or false, got {arg!r}")
        return Test(field, op, None, want=arg)
    if op == "contains":
        _check_json(arg, where)
        frozen = freeze(arg)

        def contains(v: Any) -> bool:
            if isinstance(v, str):
                return isinstance(arg, str) and arg in v
            if isinstance(v, (list, tuple)):
                return any(freeze(x) == frozen for x in v)
            return False
        return Test(field, op, contains)
    if op == "startswith":
        if not isinstance(arg, str):
            raise ValueError(f"{where}: needs a string, got {arg!r}")
        return Test(field, op, lambda v: isinstance(v, str) and v.startswith(arg))
    if op == "regex":
        try:
            search = compile_regex(arg, literals=for_lookup)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        check = lambda v: isinstance(v, str) and search(v)  # noqa: E731
        check.bytes = getattr(search, "bytes", None)  # type: ignore[attr-defined]
        check.literals = getattr(search, "literals", None)  # type: ignore[attr-defined]
        return Test(field, op, check)
    # similar
    if type(arg) is not str:
        raise ValueError(f"{where}: needs a non-empty string, got {arg!r}")
    ws = similarity.words(arg)
    if not ws:
        raise ValueError(f"{where}: the text has no words to compare")
    threshold = ops.get("threshold", DEFAULT_THRESHOLD)
    if not _is_number(threshold) or not 0.0 < threshold <= 1.0:
        raise ValueError(f"field {field!r}: 'threshold' must be a number in (0, 1], got {threshold!r}")
    return Test(field, op, _never, words=ws, threshold=float(threshold))


def _check_json(arg: Any, where: str) -> None:
    try:
        check_json_value(arg, where)
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def evaluate(tests: list, request: Any, getters: dict, cache: dict) -> bool:
    """True if every test holds for ``request``. ``cache`` (one per request) memoises field values
    by name, and per field the words (``words_key``) and the UTF-8 bytes (``bytes_key``)."""
    for t in tests:
        f = t.field
        v = cache.get(f, cache)
        if v is cache:
            v = cache[f] = getters[f](request)
        if t.check is None:  # exists
            if (v is not MISSING) is not t.want:
                return False
            continue
        if v is MISSING:
            return False
        key = t.key
        if key is None:
            if not t.check(v):
                return False
        elif not isinstance(v, str):
            return False
        elif t.words is not None:
            ws = cache.get(key)
            if ws is None:
                ws = cache[key] = similarity.words(v)
            if similarity.jaccard(ws, t.words) < t.threshold:
                return False
        else:
            data = cache.get(key)
            if data is None:
                data = cache[key] = encode(v)
            if not t.bsearch(data):
                return False
    return True


def _never(v: Any) -> bool:
    return False
