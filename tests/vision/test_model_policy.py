"""Settings, privacy filter, versioned artifacts with hot-reload, the shipped ONNX model, the tool
policy (seed rule and ONNX), and fingerprint similarity. No browser needed."""

from __future__ import annotations

import hashlib
import json
import logging

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from arc_agent.vision import attributes as A
from arc_agent.vision import model, policy, privacy
from arc_agent.vision import settings as vision_settings
from arc_agent.vision.artifacts import ArtifactError, ArtifactSlot, read_artifact, write_artifact
from arc_agent.vision.features import FEATURES, POLICY_STATE, TOOLS, from_probe
from arc_agent.vision.fingerprint import Fingerprint, best_candidate, similarity


def test_settings_defaults_and_bad_values_are_named(caplog):
    d = vision_settings.from_env({})
    assert (d.threshold, d.privacy_tier, d.heal, d.heal_min_score) == (0.7, "minimal", True, 0.6)
    with caplog.at_level(logging.WARNING, logger="arc"):
        s = vision_settings.from_env({"ARC_VISION_THRESHOLD": "high", "ARC_PRIVACY_MODE": "everything",
                                      "ARC_HEAL": "maybe", "ARC_HEAL_MIN_SCORE": "1.5"})
    assert (s.threshold, s.privacy_tier, s.heal, s.heal_min_score) == (0.7, "minimal", True, 0.6)
    text = caplog.text
    for name in ("ARC_VISION_THRESHOLD='high'", "ARC_PRIVACY_MODE='everything'", "ARC_HEAL='maybe'",
                 "ARC_HEAL_MIN_SCORE='1.5'"):
        assert name in text
    ok = vision_settings.from_env({"ARC_VISION_THRESHOLD": "0.5", "ARC_PRIVACY_MODE": "Full_Data",
                                   "ARC_HEAL": "off", "ARC_BLOB_DIR": "/x"})
    assert (ok.threshold, ok.privacy_tier, ok.heal, ok.blob_dir) == (0.5, "full_data", False, "/x")


def test_tiers_are_cumulative_and_filtering_drops_the_rest():
    assert privacy.ALLOWED["minimal"] < privacy.ALLOWED["hash_only"] < privacy.ALLOWED["local_inference"]
    assert privacy.ALLOWED["local_inference"] < privacy.ALLOWED["full_data"]
    attrs = {A.BBOX: [1, 2, 3, 4], A.PAGE_PHASH: "ab", A.CONFIDENCE_BEFORE: 0.5, A.BLOB_KEY: "k", A.URL: None}
    assert privacy.filter_attributes("minimal", attrs) == {A.BBOX: [1, 2, 3, 4]}
    assert set(privacy.filter_attributes("hash_only", attrs)) == {A.BBOX, A.PAGE_PHASH}
    assert set(privacy.filter_attributes("full_data", attrs)) == {A.BBOX, A.PAGE_PHASH, A.CONFIDENCE_BEFORE,
                                                                  A.BLOB_KEY}


def test_shipped_model_is_valid_and_separates_ready_from_absent():
    manifest, data = read_artifact(model.SHIPPED_DIR)
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert tuple(manifest["features"]) == FEATURES and manifest["version"].startswith("vc-")
    assert manifest["metrics"]["validation"]["auc"] > 0.8
    net = model.ConfidenceModel(data, manifest)
    rng = np.random.default_rng(0)
    crop = rng.random((1, 1, 64, 64), dtype=np.float32)
    ready = from_probe({"n": 1, "rect": [100, 100, 120, 36], "vw": 1000, "vh": 720, "visible": True})
    absent = from_probe({"n": 0, "vw": 1000, "vh": 720})
    blank = np.zeros((1, 1, 64, 64), dtype=np.float32)
    assert net.score(crop, ready) > 0.7 > net.score(blank, absent)


def _policy_onnx(scores) -> bytes:
    """A constant policy: ``tool_scores`` = ``scores`` whatever the state (shape [N, 3])."""
    state = helper.make_tensor_value_info("state", TensorProto.FLOAT, [None, len(POLICY_STATE)])
    out = helper.make_tensor_value_info("tool_scores", TensorProto.FLOAT, [None, len(TOOLS)])
    w = helper.make_tensor("w", TensorProto.FLOAT, [len(POLICY_STATE), len(TOOLS)],
                           [0.0] * (len(POLICY_STATE) * len(TOOLS)))
    b = helper.make_tensor("b", TensorProto.FLOAT, [len(TOOLS)], list(scores))
    graph = helper.make_graph([helper.make_node("Gemm", ["state", "w", "b"], ["tool_scores"])],
                              "const_policy", [state], [out], initializer=[w, b])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    onnx.checker.check_model(m)
    return m.SerializeToString()


def test_seed_rule():
    small = from_probe({"n": 1, "rect": [0, 0, 8, 8], "vw": 100, "vh": 100, "visible": True})
    loading = from_probe({"n": 1, "rect": [0, 0, 80, 30], "vw": 100, "vh": 100, "loading": True})
    plain = from_probe({"n": 1, "rect": [0, 0, 80, 30], "vw": 100, "vh": 100})
    assert policy.seed_rule(0.9, plain) == ()
    assert policy.seed_rule(0.2, plain) == ("zoom", "wait")
    assert policy.seed_rule(0.5, small) == ("zoom",)
    assert policy.seed_rule(0.5, loading) == ("wait",)
    assert policy.seed_rule(0.5, plain) == ("inspect",)


def test_onnx_policy_is_loaded_and_hot_reloaded(tmp_path, vision_env):
    directory = tmp_path / "policy"
    write_artifact(str(directory), "policy.onnx", _policy_onnx([0.0, 1.0, 0.0]), "p-1",
                   state=list(POLICY_STATE))
    vision_env(ARC_VISION_POLICY_DIR=str(directory))
    policy.slot.force_check()
    feats = [1.0] * len(FEATURES)
    assert policy.choose(0.5, feats, 0.7) == (("inspect",), "p-1")
    assert policy.choose(0.9, feats, 0.7) == ((), "p-1")  # never a tool above the threshold
    write_artifact(str(directory), "policy.onnx", _policy_onnx([1.0, 0.0, 1.0]), "p-2",
                   state=list(POLICY_STATE))
    policy.slot.force_check()
    assert policy.choose(0.5, feats, 0.7) == (("zoom", "wait"), "p-2")
    vision_env(ARC_VISION_POLICY_DIR="")
    policy.slot.force_check()
    assert policy.choose(0.5, [0.0] * len(FEATURES), 0.7)[1] == policy.SEED_VERSION


def test_artifact_slot_validates_before_swapping(tmp_path):
    directory = tmp_path / "a"
    write_artifact(str(directory), "blob.bin", b"one", "v1")
    slot = ArtifactSlot(lambda: str(directory), lambda manifest, data: data, "test", check_every_s=0)
    assert slot.get().value == b"one" and slot.get().version == "v1"
    manifest = json.loads((directory / "manifest.json").read_text())
    (directory / "blob.bin").write_bytes(b"tampered")
    manifest["version"] = "v2"
    (directory / "manifest.json").write_text(json.dumps(manifest))
    assert slot.get().version == "v1"  # sha256 mismatch: the update is refused
    with pytest.raises(ArtifactError, match="sha256"):
        read_artifact(str(directory))
    write_artifact(str(directory), "blob.bin", b"two", "v3")
    assert slot.get().value == b"two"


def test_fingerprint_similarity_prefers_the_renamed_twin():
    old = Fingerprint(tag="button", id="target", cls=("btn", "primary"), text="Place order",
                      attrs={"type": "button", "aria-label": "Place order"}, path=("html", "body", "div", "button"))
    renamed = {"tag": "button", "id": "place-order-v2", "cls": ["button", "button--primary"],
               "text": "Place order", "attrs": {"type": "button", "aria-label": "Place order"},
               "path": ["html", "body", "div", "button"]}
    sibling = {"tag": "button", "id": "save-later-v2", "cls": ["button", "button--secondary"],
               "text": "Save for later", "attrs": {"type": "button"}, "path": ["html", "body", "div", "button"]}
    assert similarity(old, Fingerprint.from_js(renamed)) > 0.6 > similarity(old, Fingerprint.from_js(sibling))
    best, score = best_candidate(old, [sibling, renamed], 0.6)
    assert best is renamed and score > 0.6
    twin = dict(renamed)
    assert best_candidate(old, [renamed, twin], 0.6)[0] is None  # ambiguous: refused


def test_confidence_model_is_hot_reloaded_from_its_directory(tmp_path, vision_env):
    manifest, data = read_artifact(model.SHIPPED_DIR)
    directory = tmp_path / "model"
    extra = {k: v for k, v in manifest.items() if k not in ("version", "file", "sha256", "created_at")}
    write_artifact(str(directory), "model.onnx", data, "vc-test-1", **extra)
    vision_env(ARC_VISION_MODEL_DIR=str(directory))
    model.slot.force_check()
    feats = [0.0] * len(FEATURES)
    blank = np.zeros((1, 1, 64, 64), dtype=np.float32)
    assert model.score(blank, feats)[1] == "vc-test-1"
    write_artifact(str(directory), "model.onnx", data, "vc-test-2", **extra)
    model.slot.force_check()
    assert model.score(blank, feats)[1] == "vc-test-2"
    vision_env(ARC_VISION_MODEL_DIR="")
    model.slot.force_check()
    assert model.score(blank, feats)[1] == manifest["version"]


def test_status_names_the_model_and_policy_without_heavy_imports():
    from arc_agent.vision.status import status

    info = status()
    manifest, _ = read_artifact(model.SHIPPED_DIR)
    assert info["model_version_on_disk"] == manifest["version"]
    assert info["policy_version"] == policy.SEED_VERSION and info["privacy_tier"] == "minimal"
