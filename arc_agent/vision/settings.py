"""Vision settings from the environment, read through ``arc_agent.settings`` (one spelling rule, bounds;
a bad value is logged naming the variable and the default used)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Optional

from .. import settings
from .privacy import DEFAULT_TIER, TIERS

log = logging.getLogger("arc")


@dataclass(frozen=True)
class VisionSettings:
    threshold: float = 0.7           # ARC_VISION_THRESHOLD: tools run only below this confidence
    privacy_tier: str = DEFAULT_TIER  # ARC_PRIVACY_MODE
    blob_dir: str = ".arc/blobs"     # ARC_BLOB_DIR: full_data only
    heal: bool = True                # ARC_HEAL
    heal_min_score: float = 0.6      # ARC_HEAL_MIN_SCORE: fingerprint candidates below are rejected
    heal_timeout_ms: int = 5000      # ARC_HEAL_TIMEOUT_MS: total time healing may add to one action
    heal_find_elements: bool = False  # ARC_HEAL_FIND_ELEMENTS: heal an empty Selenium find_elements (opt-in)
    wait_ms: int = 2000              # ARC_VISION_WAIT_MS: bound of one `wait` tool run
    model_dir: Optional[str] = None  # ARC_VISION_MODEL_DIR: confidence model (default: shipped)
    policy_dir: Optional[str] = None  # ARC_VISION_POLICY_DIR: ONNX tool policy (default: seed rule)
    # ARC_VISION_POLICY: registry:NAME[@CHANNEL|@VERSION] (kind models) or a directory; wins over _DIR
    policy: Optional[str] = None
    policy_canary: float = 0.0       # ARC_VISION_POLICY_CANARY: share of actions sent to NAME@canary
    # ARC_VISION_FAST_PATHS_OFF: fast paths on Playwright/Selenium internals to use the public API for
    # instead (names from FAST_PATHS, comma-separated, or "all"); see pw_compat.py / se_compat.py
    fast_paths_off: frozenset = frozenset()


FAST_PATHS = ("playwright.locator_repr", "playwright.sync_overlap", "selenium.element_repoint")


def _names(raw: str) -> frozenset:
    names = frozenset(part.strip().lower() for part in raw.replace(" ", ",").split(",") if part.strip())
    unknown = sorted(names - {"all", *FAST_PATHS})
    if unknown:
        log.warning("arc: ARC_VISION_FAST_PATHS_OFF names unknown fast paths %s (known: all, %s); ignoring them",
                    unknown, ", ".join(FAST_PATHS))
    return names & {"all", *FAST_PATHS}


def from_env(environ=None) -> VisionSettings:
    env = os.environ if environ is None else environ
    tier = settings.text("ARC_PRIVACY_MODE", env)
    found = VisionSettings(
        threshold=settings.number("ARC_VISION_THRESHOLD", env),
        privacy_tier=tier if tier in TIERS else DEFAULT_TIER,
        blob_dir=settings.text("ARC_BLOB_DIR", env),
        heal=settings.flag("ARC_HEAL", env),
        heal_min_score=settings.number("ARC_HEAL_MIN_SCORE", env),
        heal_timeout_ms=settings.integer("ARC_HEAL_TIMEOUT_MS", env),
        heal_find_elements=settings.flag("ARC_HEAL_FIND_ELEMENTS", env),
        wait_ms=settings.integer("ARC_VISION_WAIT_MS", env),
        model_dir=settings.text("ARC_VISION_MODEL_DIR", env),
        policy_dir=settings.text("ARC_VISION_POLICY_DIR", env),
        policy=(settings.text("ARC_VISION_POLICY", env) or "").strip() or None,
        policy_canary=settings.number("ARC_VISION_POLICY_CANARY", env),
        fast_paths_off=_names(settings.text("ARC_VISION_FAST_PATHS_OFF", env) or ""),
    )
    if found.policy_canary > 0 and not (found.policy or "").startswith("registry:"):
        log.warning("arc: ARC_VISION_POLICY_CANARY=%g has no effect: the canary is NAME@canary of "
                    "ARC_VISION_POLICY=registry:NAME, which is not set", found.policy_canary)
    return found


_current: Optional[VisionSettings] = None


def current() -> VisionSettings:
    """Settings read once per process (``reload()`` re-reads, e.g. in tests)."""
    global _current
    if _current is None:
        _current = from_env()
    return _current


def reload(environ=None) -> VisionSettings:
    global _current
    _current = from_env(environ)
    return _current
