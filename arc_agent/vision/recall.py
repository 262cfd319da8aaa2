"""Remembered crops: a target the DOM finds unchanged since its last capture is scored from that crop.

Chromium needs about two compositor frames for any new capture, and a fresh document has
no viewport capture to reuse (``shots.py``). So the crop of each target is remembered after a
capture whose score was confident, keyed by page URL, selector and state. (In the tiers that hash the page,
its pixels are then taken alongside the action instead of before it, see ``actions.py``, and each
such capture refreshes the remembered crop.) A later probe of that target (typically the
same test step after the next navigation) that finds it ready (single match, visible, enabled,
not animating, page not loading, and the element itself hit at its centre and four inner points:
``clear``) with the same fingerprint (tag, id, classes, text, attributes, DOM path) at the same
box, viewport, scroll and pixel ratio gets the model's score of the remembered crop with the
current probe's features. Only a confident verdict stands: under the threshold plus ``MARGIN``
the flow captures afresh, so tools always see real pixels; a capture that scores the target in a
remembered state under that bar forgets the crop of that state. An entry serves at most ``MAX_USES``
times and ``MAX_AGE_S`` seconds before a new capture refreshes it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Optional, Tuple

from .features import ready

MARGIN = 0.1         # a recalled score must clear the threshold by this much
MAX_USES = 16
MAX_AGE_S = 120.0
CAPACITY = 256       # elements
MAX_PIXELS = 512 * 512  # bigger crops are not remembered (memory: at most CAPACITY of these, grayscale)


def _state(probe: dict, region) -> tuple:
    """What must be identical for the remembered crop to stand for the target now."""
    rect = tuple(int(round(v)) for v in probe.get("rect") or ())
    return (rect, tuple(region), probe.get("vw"), probe.get("vh"), probe.get("sx"), probe.get("sy"),
            probe.get("dpr"), repr(probe.get("fp")))


def eligible(probe: Optional[dict]) -> bool:
    return bool(probe and probe.get("n") == 1 and ready(probe) and probe.get("clear")
                and not probe.get("loading") and probe.get("top", True))


class Remembered:
    __slots__ = ("img", "px", "taken", "uses")

    def __init__(self, img: Any, px: float) -> None:
        self.img, self.px = img, px
        self.taken = time.monotonic()
        self.uses = 0


class CropMemory:
    """Crops keyed by (URL, selector, state): one target seen in several states, or one path serving
    several pages (query-string routing), keeps a crop per state instead of overwriting one."""

    def __init__(self) -> None:
        self._items: OrderedDict = OrderedDict()
        self._targets: dict = {}  # (url, selector) -> how many states are remembered
        self._lock = threading.Lock()

    def lookup(self, selector: Optional[str], probe: dict, region) -> Optional[Tuple[Any, float]]:
        """(crop image, px per CSS px) remembered for this target in exactly this state, or None."""
        if not selector or region is None or not eligible(probe):
            return None
        key = (probe.get("url"), selector, _state(probe, region))
        with self._lock:
            item = self._items.get(key)
            if item is None or item.uses >= MAX_USES or time.monotonic() - item.taken > MAX_AGE_S:
                return None
            item.uses += 1
            self._items.move_to_end(key)
            return item.img, item.px

    def knows(self, selector: Optional[str], url: Optional[str]) -> bool:
        """True if a crop is remembered for ``selector`` on the page at ``url`` (origin + path)."""
        with self._lock:
            return bool(selector and url) and (url, selector) in self._targets

    def update(self, selector: Optional[str], probe: Optional[dict], region, img: Any, px: float,
               confident: bool) -> None:
        """After a real capture: remember its crop if the target was ready and the score confident,
        else forget what was remembered for the target in this state."""
        if not selector or not probe or region is None:
            return
        key = (probe.get("url"), selector, _state(probe, region))
        keep = (confident and img is not None and eligible(probe) and img.width * img.height <= MAX_PIXELS)
        with self._lock:
            if not keep:
                self._drop(key)
                return
            if key not in self._items:
                self._targets[key[:2]] = self._targets.get(key[:2], 0) + 1
            self._items[key] = Remembered(img, px)
            self._items.move_to_end(key)
            while len(self._items) > CAPACITY:
                self._drop(next(iter(self._items)))

    def _drop(self, key: tuple) -> None:
        if self._items.pop(key, None) is None:
            return
        left = self._targets[key[:2]] - 1
        if left:
            self._targets[key[:2]] = left
        else:
            del self._targets[key[:2]]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._targets.clear()


MEMORY = CropMemory()
