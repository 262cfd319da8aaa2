"""Version-gated reads of a dependency's private attribute, and the public fallbacks when they are off.

Rule: Arc reads no private attribute of OpenTelemetry or an SDK unless the installed version is one
it was tested with (``gate``) and ``ARC_PRIVATE_READS`` is not 0. When a gate is closed the public
fallback runs, which does a little less (it says what in ``fallback``'s warning): logged once per
feature, counted in ``arc_compat_fallback_total{feature}`` and shown in ``/arc/runtime/status``.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

log = logging.getLogger("arc")

_counts: Counter = Counter()
_lock = threading.Lock()


def private_reads_allowed() -> bool:
    """``ARC_PRIVATE_READS=0`` closes every gate (the public fallbacks run)."""
    from .telemetry import settings

    return bool(settings.value("ARC_PRIVATE_READS"))


def _version_tuple(v: str) -> tuple:
    parts = []
    for piece in v.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    return tuple(parts)


def installed(distribution: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(distribution)
    except Exception:
        return None


def gate(distribution: str, tested: tuple[str, str]) -> tuple[bool, str]:
    """(open, why): open when ``distribution`` is installed in ``tested`` (min inclusive, max
    exclusive) and private reads are allowed; ``why`` names what closed it."""
    if not private_reads_allowed():
        return False, "ARC_PRIVATE_READS=0"
    version = installed(distribution)
    if version is None:
        return False, f"{distribution} version unknown"
    if not _version_tuple(tested[0]) <= _version_tuple(version) < _version_tuple(tested[1]):
        return False, f"{distribution} {version} is outside the tested {tested[0]} to <{tested[1]}"
    return True, ""


def fallback(feature: str, why: str, effect: str) -> None:
    """Count one use of ``feature``'s public fallback; warn the first time (why, and what it costs)."""
    with _lock:
        first = feature not in _counts
        _counts[feature] += 1
    if first:
        log.warning("arc: %s: %s; using the public fallback (%s). Counted in arc_compat_fallback_total.",
                    feature, why, effect)


def counts() -> dict:
    with _lock:
        return dict(_counts)
