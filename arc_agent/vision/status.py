"""A cheap summary of the vision side for ``arc doctor`` / the status endpoint (no heavy imports)."""

from __future__ import annotations

import json
import os

from .. import fastpaths
from . import settings as vision_settings
from .artifacts import MANIFEST


def _manifest_version(directory: str | None) -> str | None:
    if not directory:
        return None
    try:
        with open(os.path.join(directory, MANIFEST), encoding="utf-8") as fh:
            return json.load(fh).get("version")
    except (OSError, ValueError):
        return None


def status() -> dict:
    from .model import SHIPPED_DIR, slot
    from .policy import SEED_VERSION
    from .policy import canary_slot as policy_canary
    from .policy import slot as policy_slot

    s = vision_settings.current()
    model_dir = s.model_dir or SHIPPED_DIR
    loaded = slot.current()  # what the agent scores with now (None before the first UI action)
    return {
        "privacy_tier": s.privacy_tier, "threshold": s.threshold, "heal": s.heal,
        "heal_min_score": s.heal_min_score, "heal_timeout_ms": s.heal_timeout_ms, "wait_ms": s.wait_ms,
        "heal_find_elements": s.heal_find_elements,
        "model_dir": model_dir, "model_version_on_disk": _manifest_version(model_dir),
        "model_version_loaded": loaded.version if loaded is not None else None,
        "policy_version": (policy_slot.loaded_version() or (None if s.policy else _manifest_version(s.policy_dir))
                           or SEED_VERSION),
        "policy_source": s.policy or s.policy_dir, "policy_canary_share": s.policy_canary,
        "policy_canary_version": policy_canary.loaded_version(),
        "fast_paths_off": sorted(s.fast_paths_off),
        "fast_path_fallbacks": {f"{path}/{reason}": n for (path, reason), n in sorted(fastpaths.counts().items())},
    }
