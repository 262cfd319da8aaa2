"""The sequential tool policy in the agent: followed from the registry with atomic hot reload,
promote/rollback, rejection of corrupt or mismatching artifacts (the old one stays), the canary
split, and a real Playwright action driven by it (the span names the version and the tools)."""

from __future__ import annotations

import os
import stat

import onnx
import pytest
from onnx import TensorProto, helper

from arc_agent import failopen
from arc_agent.registry import ArtifactRejected, Registry
from arc_agent.vision import attributes as A
from arc_agent.vision import policy
from arc_agent.vision.artifacts import write_artifact
from arc_agent.vision.features import ACTIONS, MAX_STEPS, STEP_STATE

from .conftest import attrs


def _seq_onnx(bias, step_weight=None) -> bytes:
    """``action_logits = state @ W + bias``; W is zero except the ``step`` row (``step_weight``)."""
    n_in, n_out = len(STEP_STATE), len(ACTIONS)
    w = [0.0] * (n_in * n_out)
    for j, v in enumerate(step_weight or []):
        w[STEP_STATE.index("step") * n_out + j] = v
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["state", "w", "b"], ["action_logits"])], "seq_policy",
        [helper.make_tensor_value_info("state", TensorProto.FLOAT, [None, n_in])],
        [helper.make_tensor_value_info("action_logits", TensorProto.FLOAT, [None, n_out])],
        initializer=[helper.make_tensor("w", TensorProto.FLOAT, [n_in, n_out], w),
                     helper.make_tensor("b", TensorProto.FLOAT, [n_out], list(bias))])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    onnx.checker.check_model(m)
    return m.SerializeToString()


def _folder(tmp_path, version: str, data: bytes, **overrides) -> str:
    folder = tmp_path / "build" / version
    manifest = {"contract": "sequential-1", "state": list(STEP_STATE), "actions": list(ACTIONS),
                "max_steps": MAX_STEPS, **overrides}
    write_artifact(str(folder), "policy.onnx", data, version, **manifest)
    return str(folder)


def _prefer(action: str) -> list:
    return [3.0 if a == action else 0.0 for a in ACTIONS]


def _loaded_version():
    policy.slot.force_check()
    loaded = policy.slot.get()
    return loaded.version if loaded is not None else None


@pytest.fixture
def registry(tmp_path, vision_env):
    root = tmp_path / "registry"
    vision_env(ARC_REGISTRY=str(root), ARC_VISION_POLICY="registry:ui-policy")
    yield Registry(str(root))
    vision_env(ARC_VISION_POLICY="")
    for slot in (policy.slot, policy.canary_slot):
        slot.force_check()
        slot.get()


def test_follows_the_channel_hot_reloads_rolls_back_and_keeps_the_old_one_on_a_bad_artifact(tmp_path, registry):
    reg = registry
    reg.publish("models", "ui-policy", _folder(tmp_path, "p-1", _seq_onnx(_prefer("act"))), channel="stable")
    assert _loaded_version() == "p-1"
    reg.publish("models", "ui-policy", _folder(tmp_path, "p-2", _seq_onnx(_prefer("zoom"))), channel="stable")
    assert _loaded_version() == "p-2"  # promote picked up at the next check, swapped atomically
    assert policy.slot.get().value.choose([0.0] * len(STEP_STATE)) == ACTIONS.index("zoom")
    reg.rollback("models", "ui-policy")
    assert _loaded_version() == "p-1"

    before = failopen.counts().get("vision.policy.load", 0)
    # an artifact for another agent (actions differ): verified by the registry, refused by the contract
    reg.publish("models", "ui-policy", _folder(tmp_path, "p-3", _seq_onnx(_prefer("act")),
                                                actions=list(ACTIONS[:-1])), channel="stable")
    assert _loaded_version() == "p-1"
    # not an ONNX graph at all
    reg.publish("models", "ui-policy", _folder(tmp_path, "p-4", b"not onnx"), channel="stable")
    assert _loaded_version() == "p-1"
    # bytes changed under the version being served: the registry's sha256 check refuses it from then
    # on, and the agent keeps the policy it loaded
    man = reg.publish("models", "ui-policy", _folder(tmp_path, "p-5", _seq_onnx(_prefer("wait_250"))),
                      channel="stable")
    assert _loaded_version() == "p-5"
    onnx_path = os.path.join(reg.verified("models", "ui-policy", man.version)[1], "policy.onnx")
    os.chmod(onnx_path, stat.S_IRUSR | stat.S_IWUSR)
    with open(onnx_path, "r+b") as fh:
        fh.write(b"X")
    assert _loaded_version() == "p-5"
    with pytest.raises(ArtifactRejected):
        reg.promote("models", "ui-policy", man.version, channel="canary")
    assert failopen.counts().get("vision.policy.load", 0) >= before + 3  # each rejection counted


def test_directory_form_still_works(tmp_path, vision_env):
    folder = _folder(tmp_path, "dir-1", _seq_onnx(_prefer("act")))
    vision_env(ARC_VISION_POLICY=folder)
    try:
        assert _loaded_version() == "dir-1"
    finally:
        vision_env(ARC_VISION_POLICY="")
        _loaded_version()


def test_canary_share_is_stable_and_close_to_the_setting(tmp_path, registry, vision_env):
    reg = registry
    reg.publish("models", "ui-policy", _folder(tmp_path, "stable-1", _seq_onnx(_prefer("act"))), channel="stable")
    reg.publish("models", "ui-policy", _folder(tmp_path, "canary-2", _seq_onnx(_prefer("act"))), channel="canary")
    vision_env(ARC_VISION_POLICY_CANARY="0.1")
    policy.canary_slot.force_check()
    policy.slot.force_check()
    keys = [f"http://shop/p{i}|#buy" for i in range(4000)]
    chosen = [policy.pick(k).version for k in keys]
    share = chosen.count("canary-2") / len(chosen)
    assert 0.08 < share < 0.12
    assert chosen == [policy.pick(k).version for k in keys]  # the same key always gets the same version
    assert policy.in_canary("t::test_a|#x", 0.1) == policy.in_canary("t::test_a|#x", 0.1)
    assert not any(policy.in_canary(k, 0.0) for k in keys[:200])
    vision_env(ARC_VISION_POLICY_CANARY="0")
    assert {policy.pick(k).version for k in keys[:500]} == {"stable-1"}


def test_a_sequential_policy_drives_a_real_action(tmp_path, page, site, spans, vision_env):
    """Step 0 prefers ``dismiss``, later steps ``act``: the cookie banner covering the target is
    dismissed by the agent instead of waited out, and the span says so."""
    logits = [0.0] * len(ACTIONS)
    logits[ACTIONS.index("dismiss")] = 1.0
    step_w = [0.0] * len(ACTIONS)
    step_w[ACTIONS.index("dismiss")] = -10.0
    folder = _folder(tmp_path, "seq-dismiss", _seq_onnx(logits, step_w))
    vision_env(ARC_VISION_POLICY=folder, ARC_PRIVACY_MODE="local_inference")
    try:
        assert _loaded_version() == "seq-dismiss"
        page.goto(site.url("cookie_banner", d=8000))
        page.click("#target", timeout=3000)
        assert page.inner_text("#result") == "ordered"
        got = attrs(spans()[-1])
        assert got[A.POLICY_VERSION] == "seq-dismiss" and list(got[A.TOOLS]) == ["dismiss"]
        assert "covered" in got[A.MECHANICS] and got[A.SUCCESS] is True
        assert got[A.CONFIDENCE_AFTER] > got[A.CONFIDENCE_BEFORE]
    finally:
        vision_env(ARC_VISION_POLICY="")
        _loaded_version()
