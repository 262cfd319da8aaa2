"""``regex`` operator, safe against catastrophic backtracking.

RE2 (google-re2) runs in time linear in the input, so no pattern can hang a request; it has no
backreferences or look-around, which bundles must not rely on. RE2's Python wrapper costs several times
more per search on a short string than calling its compiled object directly (benchmarks/RESULTS.md),
so we use the latter; ``search.bytes`` searches already-encoded text, so that a request's text is encoded
once for all the regexes that look at it. Without google-re2 we fall back to ``re`` on input
bounded to ``FALLBACK_MAX_INPUT`` characters (with a warning), which bounds the worst case
instead of removing it.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Callable

log = logging.getLogger("arc")

MAX_INPUT = 65536  # characters of the request text a regex looks at
FALLBACK_MAX_INPUT = 2048

try:  # pragma: no branch
    import re2 as _re2_pkg
    from re2 import _re2

    _OPTIONS = _re2_pkg.Options()
    _OPTIONS.log_errors = False
    _OPTIONS.never_capture = True
    _UNANCHORED = _re2.RE2.Anchor.UNANCHORED
    ENGINE = "re2"
except Exception:  # google-re2 missing or its internals changed
    _re2 = _UNANCHORED = None
    ENGINE = "re"
UNANCHORED = _UNANCHORED

_warned = False


def compile_regex(pattern: str, literals: bool = True) -> Callable[[str], bool]:
    """A ``search(text) -> bool`` for ``pattern``; ValueError naming the problem if it is invalid.
    ``literals=False``: without ``search.literals`` (a bundle load validates thousands of regexes
    that lookups compile again on demand; finding their literals costs more than RE2's compile)."""
    if not isinstance(pattern, str):
        raise ValueError(f"regex must be a string, got {type(pattern).__name__}")
    if _re2 is not None:
        rx = _re2.RE2(pattern.encode("utf-8"), _OPTIONS)
        if not rx.ok():
            err = rx.error()
            err = err.decode("utf-8", "replace") if isinstance(err, bytes) else err
            raise ValueError(f"invalid regex {pattern!r}: {err}")
        bsearch = search_bytes(rx)

        def search(text: str) -> bool:
            return bsearch(encode(text))

        search.bytes = bsearch  # type: ignore[attr-defined]
        search.literals = required_literals(pattern) if literals else None  # type: ignore[attr-defined]
        return search
    _warn_fallback()
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regex {pattern!r}: {exc}") from None
    return lambda text: compiled.search(text[:FALLBACK_MAX_INPUT]) is not None


def required_literals(pattern: str) -> tuple | None:
    """(literals, ignore_case): strings that every match of ``pattern`` contains, for a cheap
    ``in`` test before the RE2 call (far cheaper when the text cannot match).
    Conservative: only runs of plain characters at the top level of the pattern as Python's
    parser reads it (no alternation, group, class or repetition), and None for anything else
    (a pattern Python's parser rejects or reads with flags RE2 does not share). With ``(?i)``
    only ASCII literals are kept, and the caller applies them to ASCII text only (RE2's case
    folding maps some non-ASCII letters to ASCII ones, e.g. U+212A to k)."""
    if "[:" in pattern:  # RE2's [[:alpha:]] reads as a class and a literal "]" to Python
        return None
    try:
        import re._parser as parser
        from re._constants import LITERAL

        parsed = parser.parse(pattern)
    except Exception:  # a pattern only RE2 reads, or a Python without this parser
        return None
    flags = parsed.state.flags
    ignore_case = bool(flags & re.IGNORECASE)
    if flags & (re.VERBOSE | re.ASCII | re.LOCALE | re.DEBUG):
        return None
    runs, run = [], []
    for op, arg in list(parsed.data) + [(None, None)]:
        if op is LITERAL:
            run.append(chr(arg))
            continue
        if len(run) >= 2:
            runs.append("".join(run))
        run = []
    if ignore_case:
        runs = [r.lower() for r in runs if r.isascii()]
    runs.sort(key=len, reverse=True)
    return (tuple(runs[:3]), ignore_case) if runs else None


def encode(text: str) -> bytes:
    """The bytes a regex searches for ``text`` (computed once per request field by the caller)."""
    return text[:MAX_INPUT].encode("utf-8", "surrogatepass")


def search_bytes(rx: Any) -> Callable[[bytes], bool]:
    match = rx.Match

    def bsearch(data: bytes) -> bool:
        return match(_UNANCHORED, data, 0, len(data))[0][0] >= 0
    bsearch.re2_match = match  # type: ignore[attr-defined]  # for callers that inline the call
    return bsearch


def _warn_fallback() -> None:
    global _warned
    if not _warned:
        _warned = True
        log.warning("arc: google-re2 is not installed; regex patterns use Python's re on the first %d "
                    "characters only", FALLBACK_MAX_INPUT)
