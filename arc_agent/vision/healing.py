"""Self-healing of a failed UI action, bounded by ``ARC_HEAL_TIMEOUT_MS``.

Strategies, in order: re-find a stale element by its selector and retry; wait for the target to
be ready and stable, then retry; scroll it into view and retry; re-locate it from the fingerprint
recorded at its last successful action (Healenium-style similarity, unique candidate above
``ARC_HEAL_MIN_SCORE``) and act on that; finally, if the target never got ready, retry once with
what is left of the budget (the library's own wait covers a target later than
``ARC_VISION_WAIT_MS``). Only a retry that succeeds counts; otherwise the caller re-raises the
original exception.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Optional

from . import privacy
from .driver import UserCall
from .features import ready
from .fingerprint import Fingerprint, FingerprintStore, best_candidate
from .observe import Stats, safe
from .tools import wait

CANDIDATE_LIMIT = 400

_store: Optional[FingerprintStore] = None
_store_key: Any = None
_store_lock = threading.Lock()


def fingerprints(settings) -> FingerprintStore:
    """The process's fingerprint store; persisted under ARC_BLOB_DIR only in the full_data tier."""
    global _store, _store_key
    persist = privacy.at_least(settings.privacy_tier, "full_data")
    key = (persist, settings.blob_dir if persist else None)
    if _store is None or _store_key != key:
        with _store_lock:
            if _store is None or _store_key != key:
                path = os.path.join(settings.blob_dir, "fingerprints.jsonl") if persist else None
                _store, _store_key = FingerprintStore(path=path), key
    return _store


class Healed:
    __slots__ = ("strategy", "selector", "score", "result")

    def __init__(self, strategy: str, result: Any, selector: Optional[str] = None,
                 score: Optional[float] = None) -> None:
        self.strategy, self.result, self.selector, self.score = strategy, result, selector, score


def _attempt(op):
    """Generator: (True, result) if the retried call succeeded, else (False, exception)."""
    try:
        result = yield UserCall(op, primary=False)
    except Exception as exc:
        return False, exc
    return True, result


def heal(target, settings, stats: Stats, url: Optional[str], want_page: Optional[str], error: BaseException):
    """Generator returning a ``Healed`` or None."""
    deadline = time.monotonic() + settings.heal_timeout_ms / 1000.0

    def left_ms() -> float:
        return max(0.0, (deadline - time.monotonic()) * 1000.0)

    relocate = target.relocate(error)
    if relocate is not None:
        try:
            moved = yield relocate
        except Exception:
            moved = False
        if moved:
            ok, result = yield from _attempt(target.retry(left_ms()))
            if ok:
                return Healed("relocate", result)

    retried = False
    look, _ = yield from wait(target, stats, None, want_page, min(settings.wait_ms, left_ms()))
    if ready(look.probe) and left_ms() > 0:
        retried = True
        ok, result = yield from _attempt(target.retry(left_ms()))
        if ok:
            return Healed("wait", result)

    if look.present and left_ms() > 0:
        yield from safe(target.scroll_center())
        ok, result = yield from _attempt(target.retry(left_ms()))
        if ok:
            return Healed("scroll", result)

    if target.selector and url and left_ms() > 0:
        old = fingerprints(settings).get(url, target.selector)
        if old is not None:
            found = yield from relocate_by_fingerprint(target, old, settings.heal_min_score, left_ms())
            if found is not None:
                candidate, score, selector = found
                ok, result = yield from _attempt(target.retarget(candidate, left_ms())[1])
                if ok:
                    return Healed("fingerprint", result, selector, score)

    if not retried and left_ms() > 0:  # late beyond the wait: let the library wait out the rest
        ok, result = yield from _attempt(target.retry(left_ms()))
        if ok:
            return Healed("wait", result)
    return None


def relocate_by_fingerprint(target, old: Fingerprint, min_score: float, timeout_ms: float):
    """Generator: (candidate, score, healed selector) for a unique best match, else None."""
    cands = yield from safe(target.candidates({"tag": old.tag, "text": old.text, "limit": CANDIDATE_LIMIT}))
    best, score = best_candidate(old, cands or [], min_score)
    if best is None:
        return None
    ops = target.retarget(best, timeout_ms)
    if not ops:
        return None
    selector = yield from safe(ops[0])
    if not selector:
        return None
    return best, score, selector
