"""What the confidence model and the tool policy see besides pixels: DOM facts from the probe."""

from __future__ import annotations

import math
from typing import List, Optional

FEATURES: tuple = (
    "present", "unique", "visible", "in_viewport", "log_area", "min_side", "covered", "disabled",
    "animating", "loading", "zoomed",
)
POLICY_STATE: tuple = ("confidence",) + FEATURES
TOOLS: tuple = ("zoom", "inspect", "wait")   # canonical order in which chosen tools are applied
SMALL_PX = 16.0                                # a box with a side under this is "small"


def in_viewport_fraction(rect, vw: float, vh: float) -> float:
    if not rect:
        return 0.0
    x, y, w, h = rect
    if w <= 0 or h <= 0:
        return 0.0
    ix = max(0.0, min(x + w, vw) - max(x, 0.0))
    iy = max(0.0, min(y + h, vh) - max(y, 0.0))
    return (ix * iy) / (w * h)


def from_probe(probe: Optional[dict], zoomed: bool = False) -> List[float]:
    """Feature vector in ``FEATURES`` order; an absent or failed probe gives all zeros."""
    if not probe or not probe.get("n"):
        return [0.0] * len(FEATURES)
    rect = probe.get("rect") or [0, 0, 0, 0]
    vw, vh = float(probe.get("vw") or 1), float(probe.get("vh") or 1)
    w, h = max(0.0, rect[2]), max(0.0, rect[3])
    return [
        1.0,
        1.0 if probe.get("n") == 1 else 0.0,
        1.0 if probe.get("visible") else 0.0,
        in_viewport_fraction(rect, vw, vh),
        math.log1p(w * h) / math.log1p(vw * vh),
        min(min(w, h), 64.0) / 64.0,
        1.0 if probe.get("covered") else 0.0,
        1.0 if probe.get("disabled") else 0.0,
        1.0 if probe.get("animating") else 0.0,
        1.0 if probe.get("loading") else 0.0,
        1.0 if zoomed else 0.0,
    ]


def is_small(probe: Optional[dict]) -> bool:
    rect = (probe or {}).get("rect")
    return bool(rect) and min(rect[2], rect[3]) < SMALL_PX


def ready(probe: Optional[dict]) -> bool:
    """The DOM says the target could take the action now (what `wait` waits for)."""
    return bool(probe and probe.get("n") and probe.get("visible") and not probe.get("covered")
                and not probe.get("disabled") and not probe.get("animating"))
