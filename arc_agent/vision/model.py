"""The element-confidence model: a small ONNX CNN run by onnxruntime (never torch in the agent).

Contract (kept by ``training_ray/vision_confidence.py``): inputs ``image`` float32 [N, 1, 64, 64]
(grayscale crop in [0, 1]) and ``features`` float32 [N, len(FEATURES)]; output ``confidence``
float32 [N, 1] in [0, 1]. The manifest lists the feature names it was trained with.
"""

from __future__ import annotations

import os
import time
from typing import Optional, Tuple

from . import settings as vision_settings
from .artifacts import ArtifactError, ArtifactSlot
from .features import FEATURES
from .imaging import MODEL_SIZE

SHIPPED_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "data", "models", "vision_confidence")


def onnx_session(onnx_bytes: bytes):
    """A single-threaded CPU session: tiny models run fastest without thread hand-offs."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(onnx_bytes, sess_options=opts, providers=["CPUExecutionProvider"])


class ConfidenceModel:
    def __init__(self, onnx_bytes: bytes, manifest: dict) -> None:
        names = tuple(manifest.get("features") or FEATURES)
        if names != FEATURES:
            raise ArtifactError(f"model features {names} do not match this agent's {FEATURES}")
        self._session = onnx_session(onnx_bytes)
        self.version = manifest["version"]
        self._answer()

    def _answer(self) -> None:
        """Score a blank crop once: anything but a finite [1, 1] ``confidence`` (e.g. a tool policy put
        in the model's folder) is refused at load, not failed on every UI action."""
        import numpy as np

        try:
            out = self._session.run(["confidence"], {
                "image": np.zeros((1, 1, MODEL_SIZE, MODEL_SIZE), dtype=np.float32),
                "features": np.zeros((1, len(FEATURES)), dtype=np.float32)})[0]
        except Exception as exc:
            raise ArtifactError(f"not a confidence model (inputs image, features; output confidence): {exc}") from None
        if tuple(out.shape) != (1, 1) or not np.all(np.isfinite(out)):
            raise ArtifactError(f"confidence model output has shape {tuple(out.shape)} or non-finite values; "
                                "expected (1, 1)")

    def score(self, image, feats) -> float:
        import numpy as np

        out = self._session.run(["confidence"], {
            "image": image, "features": np.asarray([feats], dtype=np.float32)})[0]
        return float(min(1.0, max(0.0, out.reshape(-1)[0])))


def _model_dir() -> Optional[str]:
    return vision_settings.current().model_dir or SHIPPED_DIR


def _setting() -> str:
    model_dir = vision_settings.current().model_dir
    return f"ARC_VISION_MODEL_DIR={model_dir}" if model_dir else "the shipped model"


slot = ArtifactSlot(_model_dir, lambda manifest, data: ConfidenceModel(data, manifest), "model", setting=_setting,
                    fallback="no confidence model (UI actions are not scored, no tools run)")


def score(image, feats) -> Tuple[Optional[float], Optional[str], float]:
    """(confidence, model version, milliseconds); confidence is None when no model is loaded."""
    loaded = slot.get()
    if loaded is None:
        return None, None, 0.0
    t0 = time.perf_counter()
    conf = loaded.value.score(image, feats)
    return conf, loaded.version, (time.perf_counter() - t0) * 1000.0
