"""A cheap summary of the vision side for ``arc doctor`` / the status endpoint (no heavy imports)."""

from __future__ import annotations

import json
import os

from .. import fastpaths
from . import settings as vision_settings
from .artifacts import MANIFEST, missing_reason, read_artifact


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


def artifact_checks() -> list:
    """(mark, text) for each vision artifact the settings name, loaded as the agent would load it
    (registry resolution, manifest, sha256, contract): ``ok``, ``bad`` (fix the setting) or ``warn``
    (a registry channel not there yet may still be published or mirrored)."""
    from ..registry.errors import ArtifactRejected, RegistryError
    from ..registry.ref import is_ref, parse_ref
    from . import model, policy

    s = vision_settings.current()
    checks = []
    wanted = [(policy.setting_text(), s.policy or s.policy_dir, policy.load, "the seed rule")]
    if s.model_dir:
        wanted.append((f"ARC_VISION_MODEL_DIR={s.model_dir}", s.model_dir,
                       lambda manifest, data: model.ConfidenceModel(data, manifest), "no confidence model"))
    if s.policy_canary > 0:
        if s.policy and is_ref(s.policy):
            if _parses(s.policy):  # else the policy's own line says what is wrong
                wanted.append((f"ARC_VISION_POLICY_CANARY={s.policy_canary:g}",
                               f"registry:{parse_ref(s.policy)[0]}@canary", policy.load, "the stable policy"))
        else:
            checks.append(("warn", f"ARC_VISION_POLICY_CANARY={s.policy_canary:g} has no effect: it needs "
                                   "ARC_VISION_POLICY=registry:NAME"))
    for setting, source, load, fallback in wanted:
        if not source:
            continue
        try:
            directory = policy.resolve_source(source)
        except Exception as exc:  # a channel not published yet may still come (warn); the rest is wrong
            not_yet = isinstance(exc, RegistryError) and not isinstance(exc, ArtifactRejected) and _parses(source)
            checks.append(("warn" if not_yet else "bad", f"{setting}: {exc}; the agent uses {fallback}"))
            continue
        problem = missing_reason(directory)
        try:
            if problem is None:
                manifest, data = read_artifact(directory)
                load(manifest, data)
                checks.append(("ok", f"{setting}: version {manifest['version']} loads ({directory})"))
                continue
        except Exception as exc:
            problem = str(exc) or repr(exc)
        checks.append(("bad", f"{setting}: {problem}; the agent uses {fallback}"))
    return checks


def _parses(source: str) -> bool:
    from ..registry.ref import is_ref, parse_ref

    if not is_ref(source):
        return True
    try:
        parse_ref(source)
        return True
    except ValueError:
        return False
