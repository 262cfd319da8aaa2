"""Privacy tiers: which ``arc.vision.*`` attributes may leave the process, and what may touch disk.

Tiers are cumulative (each adds to the one before). Everything Arc computes stays in memory
unless the tier allows it; only ``full_data`` writes anything (blobs, fingerprints) to disk.
"""

from __future__ import annotations

from ..telemetry import encodable
from . import attributes as A

TIERS: tuple = ("minimal", "hash_only", "local_inference", "full_data")
DEFAULT_TIER = "minimal"

_ADDED_BY_TIER: dict = {
    "minimal": frozenset({
        A.FRAMEWORK, A.ACTION, A.SELECTOR, A.URL, A.BBOX, A.VIEWPORT, A.ELEMENT_VISIBLE,
        A.SUCCESS, A.ERROR_TYPE, A.HEALED, A.HEALED_SELECTOR, A.HEAL_SCORE, A.HEAL_STRATEGY,
        A.PRIVACY_TIER, A.MECHANICS, A.READY_MS,
    }),
    "hash_only": frozenset({A.PAGE_PHASH, A.ELEMENT_PHASH, A.FEATURES}),
    "local_inference": frozenset({
        A.CONFIDENCE_BEFORE, A.CONFIDENCE_AFTER, A.TOOLS, A.TOOL_MS, A.INFERENCE_MS,
        A.PRE_ACTION_MS, A.MODEL_VERSION, A.POLICY_VERSION, A.CROP_SOURCE,
        A.PAGE_CAPTURE,
    }),
    "full_data": frozenset({A.BLOB_KEY, A.PAGE_BLOB_KEY, A.SNAPSHOT_KEY}),
}


def _cumulative() -> dict:
    out, acc = {}, frozenset()
    for tier in TIERS:
        acc = acc | _ADDED_BY_TIER[tier]
        out[tier] = acc
    return out


ALLOWED: dict = _cumulative()


def rank(tier: str) -> int:
    return TIERS.index(tier)


def at_least(tier: str, floor: str) -> bool:
    return rank(tier) >= rank(floor)


def filter_attributes(tier: str, attrs: dict) -> dict:
    """Keep only the attributes ``tier`` allows, dropping ``None`` values; page text (selectors,
    URLs) made encodable (``telemetry.encodable``)."""
    allowed = ALLOWED[tier]
    return encodable.attributes({k: v for k, v in attrs.items() if k in allowed and v is not None})
