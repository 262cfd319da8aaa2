"""One look at the target: probe the DOM, capture a crop around it, score it with the model.

Generators in this package yield ops (see ``driver.py``) and are composed with ``yield from``.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from . import imaging, model
from .features import from_probe
from .shots import CACHE


class Look:
    """The result of one observation; ``img`` is the grayscale crop around the target (or None)."""

    __slots__ = ("probe", "region", "img", "px", "page_png", "page_img", "crop_png", "feats", "conf",
                 "zoomed", "model_version")

    def __init__(self) -> None:
        self.probe: Optional[dict] = None
        self.region = None
        self.img: Any = None
        self.px = 1.0
        self.page_png: Optional[bytes] = None
        self.page_img: Any = None
        self.crop_png: Optional[bytes] = None
        self.feats: list = []
        self.conf: Optional[float] = None
        self.zoomed = False
        self.model_version: Optional[str] = None

    @property
    def present(self) -> bool:
        return bool(self.probe and self.probe.get("n"))

    def element_img(self):
        """The element's own box cut out of the crop, for its pHash."""
        if self.img is None or not self.present or self.region is None:
            return None
        x, y, w, h = self.probe["rect"]
        rx, ry = self.region[0], self.region[1]
        left, top = max(0, int((x - rx) * self.px)), max(0, int((y - ry) * self.px))
        right = min(self.img.width, int((x - rx + w) * self.px))
        bottom = min(self.img.height, int((y - ry + h) * self.px))
        if right - left < 2 or bottom - top < 2:
            return None
        return self.img.crop((left, top, right, bottom))


class Stats:
    """Per-action time accounting shared by the observation, tools and healing steps."""

    __slots__ = ("inference_ms", "tool_ms", "tools")

    def __init__(self) -> None:
        self.inference_ms = 0.0
        self.tool_ms = 0.0
        self.tools: list = []


def safe(op):
    """Generator: the op's result, or None when the page refused (navigating, detached, closed):
    an expected condition, not an Arc error."""
    try:
        return (yield op)
    except Exception:
        return None


def safe_probe(target):
    probe = yield from safe(target.probe())
    if not isinstance(probe, dict):
        return None
    CACHE.note(probe)
    return probe


def observe(target, stats: Stats, want_page: Optional[str], zoom: bool = False, probe: Optional[dict] = None,
            fresh: bool = False):
    """Generator: a new ``Look``. The crop is cut from a viewport capture, reused from an earlier
    action when nothing changed near the target (``shots.py``) unless ``fresh``; ``want_page``
    ("jpeg" or "png"; falsy = none) also asks for the viewport when there is no target to crop
    (page hashes), "png" keeping it lossless for blobs. ``zoom`` captures a tight, higher-resolution
    clip of the element box instead."""
    look = Look()
    look.zoomed = zoom
    if probe is None:
        probe = yield from safe_probe(target)
    look.probe = probe
    if look.present and probe.get("top", True):
        look.region = imaging.crop_region(probe.get("rect"), probe.get("vw", 0), probe.get("vh", 0),
                                          tight=zoom)
    if zoom:
        if look.region is not None:
            zoom_factor = min(4.0, max(1.0, imaging.MODEL_SIZE / max(1.0, min(look.region[2:]))))
            shot = yield from safe(target.capture(look.region, probe, zoom_factor))
            if shot is not None:
                look.crop_png, look.px = shot
                look.img = imaging.decode_gray(look.crop_png)
    elif probe is not None and (look.region is not None or want_page):
        lossless = want_page == "png"
        in_shadow = bool((probe.get("fp") or {}).get("shadow"))  # not covered by the change report
        shot = None if (fresh or in_shadow) else CACHE.reusable(probe, look.region, lossless)
        if shot is None:
            taken = yield from safe(target.capture(None, probe, lossless=lossless))
            if taken is not None:
                shot = CACHE.store(probe, taken[0], imaging.decode_gray(taken[0]), taken[1], lossless)
        if shot is not None:
            look.page_png, look.page_img, look.px = shot.data, shot.img, shot.px
            if look.region is not None:
                x, y, w, h = look.region
                px = shot.px
                look.img = shot.img.crop((int(x * px), int(y * px), int((x + w) * px), int((y + h) * px)))
    look.feats = from_probe(probe, zoomed=zoom)
    t0 = time.perf_counter()
    conf, version, _ = model.score(imaging.model_input(look.img), look.feats)
    stats.inference_ms += (time.perf_counter() - t0) * 1000.0
    look.conf, look.model_version = conf, version
    return look
