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

# Sequential policy (``policy.py`` contract ``sequential-1``): at each step it sees STEP_STATE and picks one
# of ACTIONS; ``act`` ends the look-and-fix phase. Wait buckets are capped by ARC_VISION_WAIT_MS.
ACTIONS: tuple = ("act", "wait_250", "wait_1000", "wait_2500", "scroll", "dismiss", "zoom", "inspect")
WAIT_BUCKETS_MS: dict = {"wait_250": 250, "wait_1000": 1000, "wait_2500": 2500}
# ``dismissable``: a layer covers the target's centre and holds the one close/accept button ``dismiss`` clicks
STEP_STATE: tuple = POLICY_STATE + ("dismissable", "step", "elapsed_s")
MAX_STEPS = 4                                  # tool steps before the action is taken regardless
ELAPSED_CAP_S = 5.0


def step_state(confidence: float, feats, step: int, elapsed_s: float, probe: Optional[dict] = None) -> List[float]:
    """The sequential policy's input in ``STEP_STATE`` order (step as a share of MAX_STEPS)."""
    dismissable = 1.0 if probe and probe.get("n") and probe.get("dismissable") else 0.0
    return [float(confidence), *(float(f) for f in feats), dismissable, step / MAX_STEPS,
            min(max(0.0, elapsed_s), ELAPSED_CAP_S) / ELAPSED_CAP_S]


def mechanics(probe: Optional[dict]) -> List[str]:
    """Failure mechanics a probe shows (what a replay must inject): absent, covered, offscreen, moving,
    disabled, loading, tiny."""
    if not probe or not probe.get("n"):
        return ["absent"]
    out = []
    rect = probe.get("rect") or [0, 0, 0, 0]
    vw, vh = float(probe.get("vw") or 1), float(probe.get("vh") or 1)
    if probe.get("covered"):
        out.append("covered")
    if probe.get("visible") and in_viewport_fraction(rect, vw, vh) < 1.0:
        out.append("offscreen")
    if probe.get("animating"):
        out.append("moving")
    if probe.get("disabled"):
        out.append("disabled")
    if probe.get("loading"):
        out.append("loading")
    if is_small(probe):
        out.append("tiny")
    return out


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
