"""Vision settings from the environment; a bad value is logged once, clearly, and the default used."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Callable, Optional

from .privacy import DEFAULT_TIER, TIERS

log = logging.getLogger("arc")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


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


def _float_in(name: str, raw: str, default: float, lo: float, hi: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (lo <= value <= hi):
        log.warning("arc: %s=%r is not a number in [%s, %s]; using %s", name, raw, lo, hi, default)
        return default
    return value


def _int_in(name: str, raw: str, default: int, lo: int, hi: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = lo - 1
    if not (lo <= value <= hi):
        log.warning("arc: %s=%r is not an integer in [%d, %d]; using %d", name, raw, lo, hi, default)
        return default
    return value


def _bool(name: str, raw: str, default: bool) -> bool:
    low = raw.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    log.warning("arc: %s=%r is not one of 1/0/true/false/yes/no/on/off; using %s", name, raw, default)
    return default


def _tier(raw: str) -> str:
    low = raw.strip().lower()
    if low in TIERS:
        return low
    log.warning("arc: ARC_PRIVACY_MODE=%r is not one of %s; using %s", raw, "|".join(TIERS), DEFAULT_TIER)
    return DEFAULT_TIER


def _names(raw: str) -> frozenset:
    names = frozenset(part.strip().lower() for part in raw.replace(" ", ",").split(",") if part.strip())
    unknown = sorted(names - {"all", *FAST_PATHS})
    if unknown:
        log.warning("arc: ARC_VISION_FAST_PATHS_OFF names unknown fast paths %s (known: all, %s); ignoring them",
                    unknown, ", ".join(FAST_PATHS))
    return names & {"all", *FAST_PATHS}


def from_env(environ=None) -> VisionSettings:
    env = os.environ if environ is None else environ
    d = VisionSettings()

    def get(name: str, parse: Callable, default):
        raw = env.get(name)
        return default if raw is None or raw.strip() == "" else parse(raw)

    return VisionSettings(
        threshold=get("ARC_VISION_THRESHOLD", lambda r: _float_in("ARC_VISION_THRESHOLD", r, d.threshold, 0, 1),
                      d.threshold),
        privacy_tier=get("ARC_PRIVACY_MODE", _tier, d.privacy_tier),
        blob_dir=get("ARC_BLOB_DIR", lambda r: r, d.blob_dir),
        heal=get("ARC_HEAL", lambda r: _bool("ARC_HEAL", r, d.heal), d.heal),
        heal_min_score=get("ARC_HEAL_MIN_SCORE",
                           lambda r: _float_in("ARC_HEAL_MIN_SCORE", r, d.heal_min_score, 0, 1),
                           d.heal_min_score),
        heal_timeout_ms=get("ARC_HEAL_TIMEOUT_MS",
                            lambda r: _int_in("ARC_HEAL_TIMEOUT_MS", r, d.heal_timeout_ms, 0, 600_000),
                            d.heal_timeout_ms),
        heal_find_elements=get("ARC_HEAL_FIND_ELEMENTS",
                               lambda r: _bool("ARC_HEAL_FIND_ELEMENTS", r, d.heal_find_elements),
                               d.heal_find_elements),
        wait_ms=get("ARC_VISION_WAIT_MS", lambda r: _int_in("ARC_VISION_WAIT_MS", r, d.wait_ms, 0, 600_000),
                    d.wait_ms),
        model_dir=get("ARC_VISION_MODEL_DIR", lambda r: r, None),
        policy_dir=get("ARC_VISION_POLICY_DIR", lambda r: r, None),
        policy=get("ARC_VISION_POLICY", lambda r: r.strip(), None),
        policy_canary=get("ARC_VISION_POLICY_CANARY",
                          lambda r: _float_in("ARC_VISION_POLICY_CANARY", r, d.policy_canary, 0, 1),
                          d.policy_canary),
        fast_paths_off=get("ARC_VISION_FAST_PATHS_OFF", _names, d.fast_paths_off),
    )


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
