"""The tools a low-confidence target can get. Each is a generator returning a new ``Look``.

- ``zoom``: a higher-resolution crop of the element box, re-scored (changes nothing in the page).
- ``inspect``: DOM facts (covered at the centre, shadow root, disabled, outside the viewport); an
  element outside the viewport is scrolled into view, as a user would, then looked at again.
- ``wait``: beyond Playwright's own actionability wait: network idle, then the target ready (present,
  visible, enabled, uncovered, not animating) and its crop unchanged between two captures. Bounded.
  The sequential policy's ``wait_250|wait_1000|wait_2500`` are the same wait with that bound
  (capped by ARC_VISION_WAIT_MS).
- ``scroll``: scroll the target into the middle of the viewport, then look again.
- ``dismiss``: click the close/accept button of a layer covering the target (``js.DISMISS``), then look again.
"""

from __future__ import annotations

import time
from typing import Optional

from . import imaging
from .features import WAIT_BUCKETS_MS, ready
from .observe import Look, Stats, observe, safe, safe_probe

POLL_MS = 50
NETWORK_IDLE_MAX_MS = 1000


def zoom(target, stats: Stats, look: Look, want_page: Optional[str]):
    if not look.present or look.region is None:
        return look, False
    new = yield from observe(target, stats, want_page, zoom=True)
    return new, True


def inspect(target, stats: Stats, look: Look, want_page: Optional[str]):
    facts = yield from safe(target.inspect(True))
    if not facts or not facts.get("present"):
        return look, False
    if facts.get("scrolled"):
        look = yield from observe(target, stats, want_page)
    return look, True


def scroll(target, stats: Stats, look: Look, want_page: Optional[str]):
    if not look.present:
        return look, False
    done = yield from safe(target.scroll_center())
    if not done:
        return look, False
    return (yield from observe(target, stats, want_page, fresh=True)), True


def dismiss(target, stats: Stats, look: Look, want_page: Optional[str]):
    op = target.dismiss() if look.present else None
    clicked = (yield from safe(op)) if op is not None else None
    if not clicked:
        return look, False
    return (yield from observe(target, stats, want_page, fresh=True)), True


def wait(target, stats: Stats, look: Optional[Look], want_page: Optional[str], bound_ms: float):
    """Wait until the target is ready and visually stable, at most ``bound_ms``."""
    deadline = time.monotonic() + bound_ms / 1000.0
    idle = target.network_idle(min(NETWORK_IDLE_MAX_MS, bound_ms))
    if idle is not None:
        try:
            yield idle
        except Exception:
            pass  # still busy after the bound: carry on with the visual checks
    previous = None
    latest = look
    while True:
        probe = yield from safe_probe(target)
        stats.note_probe(probe)
        if ready(probe):
            latest = yield from observe(target, stats, want_page, probe=probe, fresh=True)
            current = imaging.stability_hash(latest.img) if latest.img is not None else None
            if current is None or imaging.same_frame(previous, current):
                return latest, True
            previous = current
        else:
            previous = None
        if time.monotonic() >= deadline:
            break
        if not ready(probe):
            yield target.sleep(POLL_MS)
    if latest is not None and latest.probe is probe:
        return latest, True
    final = yield from observe(target, stats, want_page, probe=probe)
    return final, True


def apply(name: str, target, stats: Stats, look: Look, want_page: Optional[str], wait_ms: float):
    """Run one tool by name, timing it; returns the new ``Look``."""
    t0 = time.perf_counter()
    if name == "zoom":
        look, applied = yield from zoom(target, stats, look, want_page)
    elif name == "inspect":
        look, applied = yield from inspect(target, stats, look, want_page)
    elif name == "wait":
        look, applied = yield from wait(target, stats, look, want_page, wait_ms)
    elif name in WAIT_BUCKETS_MS:
        look, applied = yield from wait(target, stats, look, want_page, min(wait_ms, WAIT_BUCKETS_MS[name]))
    elif name == "scroll":
        look, applied = yield from scroll(target, stats, look, want_page)
    elif name == "dismiss":
        look, applied = yield from dismiss(target, stats, look, want_page)
    else:
        applied = False
    if applied:
        stats.tools.append(name)
        stats.tool_ms += (time.perf_counter() - t0) * 1000.0
    return look
