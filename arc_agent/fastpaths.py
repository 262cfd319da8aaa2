"""Fast paths that lean on a dependency's internals: each is on only when explicitly checked, and
when it is off Arc says so (one warning per path, a counter per use) instead of degrading silently.

An integration decides once per process whether a fast path is on (installed version inside the
range it was tested on, the internals it needs present, not switched off by the user) and calls
``fallback(path, reason)`` every time its public fallback runs instead. ``counts()`` feeds the
``arc_fast_path_off_total{path,reason}`` Prometheus counter.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from functools import cache
from importlib import metadata
from typing import Optional, Tuple

log = logging.getLogger("arc")

REASONS = {
    "setting": "switched off by the user",
    "version": "installed version is outside the tested range",
    "missing": "the internals it needs are not there",
    "error": "it failed at run time",
}

_uses: Counter = Counter()  # (path, reason) -> public-fallback uses
_warned: set = set()
_lock = threading.Lock()


def fallback(path: str, reason: str, detail: str = "") -> None:
    """Count one use of ``path``'s public fallback; warn the first time per path."""
    with _lock:
        _uses[(path, reason)] += 1
        first = path not in _warned
        _warned.add(path)
    if first:
        log.warning("arc: fast path %s is off (%s%s); using the public API instead (slower, same results; "
                    "logged once, counted in arc_fast_path_off_total)", path, REASONS.get(reason, reason),
                    f": {detail}" if detail else "")


def counts() -> dict:
    with _lock:
        return dict(_uses)


def version_tuple(version: Optional[str]) -> Tuple[int, ...]:
    out = []
    for part in (version or "").split("."):
        digits = "".join(ch for ch in part if ch.isdigit()) if part[:1].isdigit() else ""
        if not digits:
            break
        out.append(int(digits))
    return tuple(out)


def in_range(version: Optional[str], tested: Tuple[str, str]) -> bool:
    """True when ``version`` is in ``[tested[0], tested[1])``."""
    v = version_tuple(version)
    return bool(v) and version_tuple(tested[0]) <= v < version_tuple(tested[1])


@cache
def version_outside(distribution: str, tested: Tuple[str, str]) -> Optional[str]:
    """None when the installed ``distribution`` is in ``tested``, else why not (read once per process)."""
    try:
        version: Optional[str] = metadata.version(distribution)
    except Exception:
        version = None
    if in_range(version, tested):
        return None
    return f"{distribution} {version} is outside >={tested[0]},<{tested[1]}"


def reset_for_tests() -> None:
    with _lock:
        _uses.clear()
        _warned.clear()


def gate(distribution: str, tested: Tuple[str, str]) -> Tuple[Optional[str], str]:
    """``(None, "")`` when a fast path on ``distribution``'s internals may run, else ``(reason, detail)``
    for ``fallback``: ``ARC_PRIVATE_READS=0`` (every such path off) or a version outside ``tested``."""
    from . import settings

    if not settings.value("ARC_PRIVATE_READS"):
        return "setting", "ARC_PRIVATE_READS=0"
    outside = version_outside(distribution, tested)
    return ("version", outside) if outside else (None, "")
