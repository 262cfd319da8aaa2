"""Tool policy: which tools to apply to a target whose confidence is below the threshold.

The default is the seed's rule. A trained policy is an ONNX file in a versioned artifact directory
(``ARC_VISION_POLICY_DIR``) and is hot-reloaded. Its contract: input ``state`` float32
[N, len(POLICY_STATE)] (confidence, then the model features), output ``tool_scores`` float32
[N, len(TOOLS)]; a tool is applied when its score is > 0.5, in ``TOOLS`` order.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

from . import settings as vision_settings
from .artifacts import ArtifactError, ArtifactSlot
from .features import FEATURES, POLICY_STATE, TOOLS
from .model import onnx_session

SEED_VERSION = "seed-rule-1"


def seed_rule(confidence: float, feats: Sequence[float], threshold: float = 0.7) -> Tuple[str, ...]:
    """< 0.4: zoom + wait; < threshold: zoom if small, wait if the page looks loading, else inspect."""
    if confidence >= threshold:
        return ()
    if confidence < 0.4:
        return ("zoom", "wait")
    small = feats[FEATURES.index("present")] and feats[FEATURES.index("min_side")] * 64.0 < 16.0
    loading = feats[FEATURES.index("loading")] > 0.5
    chosen = []
    if small:
        chosen.append("zoom")
    if loading:
        chosen.append("wait")
    if not chosen:
        chosen.append("inspect")
    return tuple(t for t in TOOLS if t in chosen)


class OnnxPolicy:
    def __init__(self, onnx_bytes: bytes, manifest: dict) -> None:
        names = tuple(manifest.get("state") or POLICY_STATE)
        if names != POLICY_STATE:
            raise ArtifactError(f"policy state {names} does not match this agent's {POLICY_STATE}")
        self._session = onnx_session(onnx_bytes)

    def choose(self, confidence: float, feats: Sequence[float]) -> Tuple[str, ...]:
        import numpy as np

        state = np.asarray([[confidence, *feats]], dtype=np.float32)
        scores = self._session.run(["tool_scores"], {"state": state})[0].reshape(-1)
        return tuple(t for t, s in zip(TOOLS, scores) if s > 0.5)


def _policy_dir() -> Optional[str]:
    return vision_settings.current().policy_dir


slot = ArtifactSlot(_policy_dir, lambda manifest, data: OnnxPolicy(data, manifest), "policy")


def choose(confidence: float, feats: Sequence[float], threshold: float) -> Tuple[Tuple[str, ...], str]:
    """(tools, policy version). Tools never run at or above the threshold, whatever the policy says."""
    if confidence >= threshold:
        return (), _version()
    loaded = slot.get()
    if loaded is None:
        return seed_rule(confidence, feats, threshold), SEED_VERSION
    return loaded.value.choose(confidence, feats), loaded.version


def _version() -> str:
    loaded = slot.get()
    return loaded.version if loaded is not None else SEED_VERSION
