"""Fail-open bookkeeping: Arc's own errors are counted and logged once per kind, never raised."""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter

log = logging.getLogger("arc")

_errors: Counter = Counter()
_seen: set = set()
_lock = threading.Lock()


def record(kind: str, exc: BaseException, logged: bool = False) -> None:
    """Count an internal error of ``kind``; log it the first time only (``logged``: the caller has
    already logged it in its own words, e.g. a setting naming a missing file)."""
    with _lock:
        _errors[kind] += 1
        first = kind not in _seen
        _seen.add(kind)
    if first and not logged:
        log.warning("arc: internal error in %s (the call went through unchanged; logged once): %r",
                    kind, exc)


def counts() -> dict:
    with _lock:
        return dict(_errors)


def _after_fork_in_child() -> None:
    """A lock another thread held at the fork stays held in the child: a fresh one, same counts."""
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
