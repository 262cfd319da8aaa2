"""One look at the target: probe the DOM, capture a crop around it, score it with the model.

Generators in this package yield ops (see ``driver.py``) and are composed with ``yield from``.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from . import imaging, model, recall
from . import settings as vision_settings
from .features import from_probe, ready
from .shots import CACHE, Shot


class Look:
    """The result of one observation; ``img`` is the grayscale crop around the target (or None)."""

    __slots__ = ("probe", "region", "img", "px", "page_png", "page_img", "crop_png", "feats", "conf",
                 "zoomed", "model_version", "source", "deferred")

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
        self.source: Optional[str] = None  # where the crop came from: capture | reused | recalled
        self.deferred = False  # page pixels still to be taken alongside the action (``actions.py``)

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

    __slots__ = ("inference_ms", "tool_ms", "tools", "t0", "ready_ms")

    def __init__(self) -> None:
        self.inference_ms = 0.0
        self.tool_ms = 0.0
        self.tools: list = []
        self.t0 = time.perf_counter()
        self.ready_ms: Optional[float] = None  # first time (since t0) a probe saw the target ready

    def note_probe(self, probe: Optional[dict]) -> None:
        if self.ready_ms is None and ready(probe):
            self.ready_ms = (time.perf_counter() - self.t0) * 1000.0


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


def _probe_with_capture(target, want_page: Optional[str]):
    """Generator: (probe, viewport capture or None). Both at once when the viewport is wanted and the
    target offers to overlap them (``Target.probe_and_capture``), else the probe alone."""
    op = target.probe_and_capture(want_page == "png") if want_page else None
    if op is not None:
        pair = yield from safe(op)
        if pair and isinstance(pair[0], dict):
            CACHE.note(pair[0])
            return pair[0], pair[1]
    return (yield from safe_probe(target)), None


def _unobserved(probe: dict) -> bool:
    return bool((probe.get("fp") or {}).get("shadow") or probe.get("framed"))


def _shot(target, probe: dict, region, want_page: Optional[str], fresh: bool, taken=None):
    """Generator: (``Shot`` covering ``region`` (and the viewport if ``want_page``), True if it was
    reused), or (None, False).

    Targets in a shadow root or a child frame are always captured afresh and never stored: the
    change report (``js._CHANGES``) does not see their surroundings. Without ``want_page``, a fresh
    capture is a clip of the region when that is all the document will need now (first capture of
    the document, a forced fresh look, an unobserved target); else the viewport, for reuse. ``taken``
    is a viewport capture already made for this probe."""
    lossless = want_page == "png"
    unobserved = _unobserved(probe)
    if taken is not None:  # the viewport, captured while the probe ran
        data, px = taken
        if unobserved:
            return Shot(data, imaging.decode_gray(data), px, (), lossless), False
        return CACHE.store(probe, data, imaging.decode_gray(data), px, lossless), False
    if not (fresh or unobserved):
        shot = CACHE.reusable(probe, region, lossless)
        if shot is not None:
            return shot, True
    known = CACHE.known(probe)
    clip = region is not None and not want_page and (fresh or unobserved or not known)
    taken = yield from safe(target.capture(region if clip else None, probe, lossless=lossless))
    if taken is None:
        return None, False
    data, px = taken
    if unobserved or (clip and known):
        return Shot(data, imaging.decode_gray(data), px, (), lossless, region if clip else None), False
    return CACHE.store(probe, data, imaging.decode_gray(data), px, lossless, region if clip else None), False


def _score(look: Look, stats: Stats) -> None:
    t0 = time.perf_counter()
    look.conf, look.model_version, _ = model.score(imaging.model_input(look.img), look.feats)
    stats.inference_ms += (time.perf_counter() - t0) * 1000.0


def _recalled(target, look: Look, stats: Stats, threshold: float, lossless: bool = False) -> bool:
    """Score the target from its remembered crop (``recall.py``) when no capture of this document
    can serve; True if that verdict is confident enough to stand without a new capture."""
    probe, region = look.probe, look.region
    if region is None or (not _unobserved(probe) and CACHE.reusable(probe, region, lossless) is not None):
        return False
    remembered = recall.MEMORY.lookup(target.selector, probe, region)
    if remembered is None:
        return False
    look.img, look.px = remembered
    _score(look, stats)
    if look.conf is not None and look.conf >= threshold + recall.MARGIN:
        look.source = "recalled"
        return True
    look.img, look.px, look.conf = None, 1.0, None
    return False


def observe(target, stats: Stats, want_page: Optional[str], zoom: bool = False, probe: Optional[dict] = None,
            fresh: bool = False):
    """Generator: a new ``Look``. The crop is cut from a viewport capture, reused from an earlier
    action when nothing changed near the target (``shots.py``) unless ``fresh``; ``want_page``
    ("jpeg" or "png"; falsy = none) also asks for the viewport when there is no target to crop
    (page hashes), "png" keeping it lossless for blobs. Without ``want_page`` or ``fresh``, a target
    no capture of this document can serve may be scored from its remembered crop (``recall.py``).
    ``zoom`` captures a tight, higher-resolution clip of the element box instead."""
    look = Look()
    look.zoomed = zoom
    taken = None
    # pixel tiers: a target remembered on this page is probed alone, to be scored from its remembered
    # crop while the page pixels are taken alongside the action (``actions.py``)
    defer = bool(want_page and not (zoom or fresh) and recall.MEMORY.knows(target.selector, target.url_hint()))
    if probe is None:
        probe, taken = yield from _probe_with_capture(target, None if (zoom or fresh or defer) else want_page)
    look.probe = probe
    stats.note_probe(probe)
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
        look.feats = from_probe(probe, zoomed=True)
        _score(look, stats)
        return look
    look.feats = from_probe(probe)
    if probe is None or not (look.region is not None or want_page):
        _score(look, stats)
        return look
    threshold = vision_settings.current().threshold
    if not (fresh or taken) and (defer or not want_page) and _recalled(target, look, stats, threshold,
                                                                       want_page == "png"):
        look.deferred = bool(want_page)
        return look
    shot, reused = yield from _shot(target, probe, look.region, want_page, fresh, taken)
    if shot is not None:
        if shot.area is None:
            look.page_png, look.page_img = shot.data, shot.img
        look.px = shot.px
        if look.region is not None:
            look.img = shot.crop(look.region)
        look.source = "reused" if reused else "capture"
    _score(look, stats)
    if look.img is not None and not reused:
        recall.MEMORY.update(target.selector, probe, look.region, look.img, look.px,
                             look.conf is not None and look.conf >= threshold + recall.MARGIN)
    return look


def attach_capture(target, look: Look, taken, want_page: str) -> None:
    """Give a deferred look (``Look.deferred``) the viewport captured alongside the action: page image,
    crop, and a refresh of the remembered crop (re-scored: a crop that no longer scores confidently
    is forgotten, so the next action captures before acting). ``taken`` = (bytes, px)."""
    data, px = taken
    probe, lossless = look.probe, want_page == "png"
    img = imaging.decode_gray(data)
    shot = Shot(data, img, px, (), lossless) if _unobserved(probe) else CACHE.store(probe, data, img, px, lossless)
    look.page_png, look.page_img, look.px = data, img, px
    look.img = shot.crop(look.region)
    conf, _, _ = model.score(imaging.model_input(look.img), look.feats)
    threshold = vision_settings.current().threshold
    recall.MEMORY.update(target.selector, probe, look.region, look.img, px,
                         conf is not None and conf >= threshold + recall.MARGIN)
