"""Tool policy: which tools a target whose confidence is below the threshold gets.

The default is the seed's rule. A trained policy is an ONNX artifact (manifest + file, sha256-checked)
followed from the registry (``ARC_VISION_POLICY=registry:NAME[@CHANNEL]``, kind ``models``) or read
from a directory (``ARC_VISION_POLICY`` / ``ARC_VISION_POLICY_DIR``), and hot-reloaded atomically; an
artifact that fails verification, does not load or does not answer the contract is rejected and the
previous one stays. Two contracts (manifest ``contract``):

- ``tools-1`` (or none): input ``state`` float32 [N, len(POLICY_STATE)] (confidence, then the model
  features), output ``tool_scores`` float32 [N, len(TOOLS)]; a tool with a score > 0.5 is applied, in
  ``TOOLS`` order.
- ``sequential-1``: input ``state`` float32 [N, len(STEP_STATE)] (``features.step_state``), output
  ``action_logits`` float32 [N, len(ACTIONS)]; manifest ``state`` and ``actions`` list the names. At
  each step the agent takes the most likely action until ``act`` (or MAX_STEPS); ``stepper.py``.

Canary: with ``ARC_VISION_POLICY=registry:NAME…`` and ``ARC_VISION_POLICY_CANARY=S``, a share S of
actions (stable hash of the pytest test id, else the page URL, plus the selector) uses ``NAME@canary``.
Spans carry the version used (``arc.vision.policy_version``). Tools never run at or above the threshold.
"""

from __future__ import annotations

import os
import zlib
from typing import Optional, Sequence, Tuple

from . import attributes as A
from . import settings as vision_settings
from .artifacts import ArtifactError, ArtifactSlot, Loaded
from .features import ACTIONS, FEATURES, POLICY_STATE, STEP_STATE, TOOLS
from .model import onnx_session

SEED_VERSION = "seed-rule-1"
SEQUENTIAL = "sequential-1"
TOOLS_CONTRACT = "tools-1"


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


def _answer(session, output: str, width: int, n_inputs: int):
    """Run the policy once on zeros: it must give a finite [1, width] output (else it is rejected)."""
    import numpy as np

    try:
        out = session.run([output], {"state": np.zeros((1, n_inputs), dtype=np.float32)})[0]
    except Exception as exc:
        raise ArtifactError(f"policy does not answer its contract ({output}): {exc}") from None
    if tuple(out.shape) != (1, width) or not np.all(np.isfinite(out)):
        raise ArtifactError(f"policy output {output} has shape {tuple(out.shape)} or non-finite values; "
                            f"expected (1, {width})")


class OnnxPolicy:
    """Contract ``tools-1``: one decision, a set of tools."""

    sequential = False

    def __init__(self, onnx_bytes: bytes, manifest: dict) -> None:
        names = tuple(manifest.get("state") or POLICY_STATE)
        if names != POLICY_STATE:
            raise ArtifactError(f"policy state {names} does not match this agent's {POLICY_STATE}")
        self._session = onnx_session(onnx_bytes)
        _answer(self._session, "tool_scores", len(TOOLS), len(POLICY_STATE))

    def choose(self, confidence: float, feats: Sequence[float]) -> Tuple[str, ...]:
        import numpy as np

        state = np.asarray([[confidence, *feats]], dtype=np.float32)
        scores = self._session.run(["tool_scores"], {"state": state})[0].reshape(-1)
        return tuple(t for t, s in zip(TOOLS, scores) if s > 0.5)


class SequentialPolicy:
    """Contract ``sequential-1``: one action per step until ``act``."""

    sequential = True

    def __init__(self, onnx_bytes: bytes, manifest: dict) -> None:
        state, actions = tuple(manifest.get("state") or ()), tuple(manifest.get("actions") or ())
        if state != STEP_STATE:
            raise ArtifactError(f"policy state {state} does not match this agent's {STEP_STATE}")
        if actions != ACTIONS:
            raise ArtifactError(f"policy actions {actions} do not match this agent's {ACTIONS}")
        self._session = onnx_session(onnx_bytes)
        _answer(self._session, "action_logits", len(ACTIONS), len(STEP_STATE))

    def logits(self, state: Sequence[float]):
        import numpy as np

        return self._session.run(["action_logits"], {"state": np.asarray([state], dtype=np.float32)})[0][0]

    def choose(self, state: Sequence[float]) -> int:
        return int(self.logits(state).argmax())


def load(manifest: dict, data: bytes):
    contract = manifest.get("contract") or TOOLS_CONTRACT
    if contract == SEQUENTIAL:
        return SequentialPolicy(data, manifest)
    if contract == TOOLS_CONTRACT:
        return OnnxPolicy(data, manifest)
    raise ArtifactError(f"policy contract {contract!r} is not one of {TOOLS_CONTRACT}, {SEQUENTIAL}")


def _is_ref(source: str) -> bool:
    return source.startswith("registry:")


def resolve_source(source: Optional[str]) -> Optional[str]:
    """A directory, or the verified registry path of ``registry:NAME[@CHANNEL]`` (errors propagate,
    so the slot keeps what it has)."""
    if not source or not _is_ref(source):
        return source
    from ..registry.ref import resolve_ref

    return resolve_ref(source, kind="models")


def _source() -> Optional[str]:
    s = vision_settings.current()
    return s.policy or s.policy_dir


def _canary_source() -> Optional[str]:
    s = vision_settings.current()
    if not (s.policy and _is_ref(s.policy) and s.policy_canary > 0):
        return None
    from ..registry.ref import parse_ref

    return f"registry:{parse_ref(s.policy)[0]}@canary"


def _in_registry(source: Optional[str]) -> str:
    if not (source and _is_ref(source)):
        return ""
    from ..registry.store import default_root

    return f" in registry {default_root()}"


def setting_text() -> str:
    """The setting the tool policy comes from, as the user wrote it (for messages)."""
    s = vision_settings.current()
    if s.policy:
        return f"ARC_VISION_POLICY={s.policy}{_in_registry(s.policy)}"
    return f"ARC_VISION_POLICY_DIR={s.policy_dir}"


def _canary_setting() -> str:
    source = _canary_source()
    return f"{source}{_in_registry(source)} for ARC_VISION_POLICY_CANARY={vision_settings.current().policy_canary:g}"


slot = ArtifactSlot(lambda: resolve_source(_source()), load, "policy", setting=setting_text, fallback="the seed rule")
canary_slot = ArtifactSlot(lambda: resolve_source(_canary_source()), load, "policy.canary", setting=_canary_setting,
                           fallback="the stable policy for every action")


def canary_key(url: Optional[str], selector: Optional[str]) -> str:
    """What the canary split hashes: the pytest test id when running under pytest, else the URL."""
    test = os.environ.get("PYTEST_CURRENT_TEST")
    where = test.rsplit(" (", 1)[0] if test else (url or "")
    return f"{where}|{selector or ''}"


def in_canary(key: str, share: float) -> bool:
    """Stable across processes and runs: crc32 of the key as a fraction of 2**32."""
    return share > 0 and zlib.crc32(key.encode("utf-8", "replace")) / 4294967296.0 < share


def pick(key: str) -> Optional[Loaded]:
    """The policy an action with this canary key uses (None: the seed rule)."""
    share = vision_settings.current().policy_canary
    if share > 0 and in_canary(key, share):
        loaded = canary_slot.get()
        if loaded is not None:
            return loaded
    return slot.get()


def choose(confidence: float, feats: Sequence[float], threshold: float) -> Tuple[Tuple[str, ...], str]:
    """(tools, policy version) of a one-shot policy (seed rule or ``tools-1``)."""
    loaded = slot.get()
    if confidence >= threshold:
        return (), loaded.version if loaded is not None else SEED_VERSION
    if loaded is None or loaded.value.sequential:
        return seed_rule(confidence, feats, threshold), SEED_VERSION
    return loaded.value.choose(confidence, feats), loaded.version


def run(target, stats, look, want_page: Optional[str], settings, attrs: dict):
    """Generator (see ``driver.py``): apply the chosen policy's tools to ``look``; returns the new look
    and sets ``arc.vision.policy_version`` in ``attrs``."""
    from . import tools
    from .stepper import run_steps

    loaded = pick(canary_key((look.probe or {}).get("url"), target.selector))
    attrs[A.POLICY_VERSION] = loaded.version if loaded is not None else SEED_VERSION
    if look.conf is None or look.conf >= settings.threshold:
        return look
    if loaded is not None and loaded.value.sequential:
        return (yield from run_steps(target, stats, look, want_page, settings, loaded.value.choose))
    if loaded is None:
        chosen = seed_rule(look.conf, look.feats, settings.threshold)
    else:
        chosen = loaded.value.choose(look.conf, look.feats)
    for name in chosen:
        look = yield from tools.apply(name, target, stats, look, want_page, settings.wait_ms)
    return look
