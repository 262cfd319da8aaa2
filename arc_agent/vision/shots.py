"""Reuse of viewport captures between actions, bounded by what the page reports as changed.

Chromium needs about two frames for any screenshot, more than the rest of the pre-action
step together. So the crop around a target is cut from a viewport capture, and that capture is
reused for a later target when nothing changed near it: every probe reports the viewport rects of
elements mutated, animating or still loading since the previous probe (``js._CHANGES``); they are
accumulated per document and a capture is reused only if the new crop region touches none of them,
the scroll position and viewport are the same, and the capture is younger than ``MAX_AGE_S``.

A capture may also be a clip around one target (``area``; the first capture of a document when no
viewport is needed: a clip is cheaper than the viewport on a fresh document); it serves
later crops that lie inside it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Optional, Tuple

MAX_AGE_S = 5.0
MAX_RECTS = 256
CAPACITY = 8  # documents; each entry holds one decoded grayscale viewport
PAD = 2.0


class Shot:
    __slots__ = ("data", "img", "px", "key", "lossless", "area", "dirty", "taken")

    def __init__(self, data: bytes, img: Any, px: float, key: tuple, lossless: bool,
                 area: Optional[Tuple[int, int, int, int]] = None) -> None:
        self.data, self.img, self.px, self.key, self.lossless = data, img, px, key, lossless
        self.area = area  # viewport region (x, y, w, h) the capture covers; None = the whole viewport
        self.dirty: list = []
        self.taken = time.monotonic()

    def covers(self, region: Optional[Tuple[int, int, int, int]]) -> bool:
        if self.area is None:
            return True
        if region is None:
            return False
        x, y, w, h = region
        ax, ay, aw, ah = self.area
        return ax <= x and ay <= y and x + w <= ax + aw and y + h <= ay + ah

    def crop(self, region: Tuple[int, int, int, int]):
        """``region`` (viewport CSS px) cut out of this capture."""
        x, y, w, h = region
        ox, oy = (self.area[0], self.area[1]) if self.area is not None else (0, 0)
        px = self.px
        return self.img.crop((int((x - ox) * px), int((y - oy) * px), int((x - ox + w) * px),
                              int((y - oy + h) * px)))


def _key(probe: dict) -> tuple:
    return (probe.get("sx"), probe.get("sy"), probe.get("vw"), probe.get("vh"), probe.get("dpr"))


def _touches(region: Tuple[int, int, int, int], rect) -> bool:
    x, y, w, h = region
    rx, ry, rw, rh = rect
    return rx < x + w + PAD and x < rx + rw + PAD and ry < y + h + PAD and y < ry + rh + PAD


class ShotCache:
    def __init__(self) -> None:
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def note(self, probe: Optional[dict]) -> None:
        """Fold a probe's change report into its document's capture (every probe must pass here)."""
        changes = (probe or {}).get("changes")
        if not changes:
            return
        with self._lock:
            shot = self._items.get(changes.get("doc"))
            if shot is None:
                return
            rects = changes.get("rects") or []
            if changes.get("all") or len(shot.dirty) + len(rects) > MAX_RECTS:
                del self._items[changes["doc"]]
            else:
                shot.dirty.extend(rects)

    def reusable(self, probe: dict, region: Optional[Tuple[int, int, int, int]], lossless: bool) -> Optional[Shot]:
        doc = (probe.get("changes") or {}).get("doc")
        with self._lock:
            shot = self._items.get(doc)
            if (shot is None or shot.key != _key(probe) or (lossless and not shot.lossless)
                    or not shot.covers(region)):
                return None
            if time.monotonic() - shot.taken > MAX_AGE_S:
                del self._items[doc]
                return None
            if region is not None and any(_touches(region, r) for r in shot.dirty):
                return None
            self._items.move_to_end(doc)
            return shot

    def known(self, probe: dict) -> bool:
        """True if the probe's document already had a capture (so it has been painted before)."""
        with self._lock:
            return (probe.get("changes") or {}).get("doc") in self._items

    def store(self, probe: dict, data: bytes, img: Any, px: float, lossless: bool,
              area: Optional[Tuple[int, int, int, int]] = None) -> Shot:
        shot = Shot(data, img, px, _key(probe), lossless, area)
        doc = (probe.get("changes") or {}).get("doc")
        if doc:
            with self._lock:
                self._items[doc] = shot
                self._items.move_to_end(doc)
                while len(self._items) > CAPACITY:
                    self._items.popitem(last=False)
        return shot

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CACHE = ShotCache()
