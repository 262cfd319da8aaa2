"""A mistaken ``ARC_VISION_POLICY`` / ``_DIR`` / ``ARC_VISION_MODEL_DIR`` (a folder that does not
exist, a file, a folder without a manifest, a bad or unpublished registry name) is one warning that
names the setting, the problem and what runs instead, and the user's real Playwright click goes
through on the seed rule."""

from __future__ import annotations

import logging

import pytest

from arc_agent.vision import attributes as A
from arc_agent.vision import model, policy

from .conftest import attrs


@pytest.fixture
def arc_log():
    records: list = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("arc")
    logger.addHandler(handler)
    yield lambda text="not loaded": [r.getMessage() for r in records if text in r.getMessage()]
    logger.removeHandler(handler)


@pytest.fixture
def reset_slots():
    yield
    for slot in (policy.slot, model.slot):
        slot.force_check()
        slot.get()


@pytest.mark.parametrize("setting, value, problem", [
    ("ARC_VISION_POLICY", "{tmp}/missing", "folder '{tmp}/missing' does not exist"),
    ("ARC_VISION_POLICY_DIR", "{tmp}", "no readable manifest.json in '{tmp}'"),
    ("ARC_VISION_POLICY", "{tmp}/file.txt", "'{tmp}/file.txt' is not a folder"),
    ("ARC_VISION_POLICY", "registry:Bad/Name", "bad artifact name 'Bad/Name'"),
    ("ARC_VISION_POLICY", "registry:never-published@canary", "models/never-published@canary: channel not set"),
])
def test_policy_mistake_is_named_and_the_click_goes_through(setting, value, problem, tmp_path, page, site, spans,
                                                            vision_env, arc_log, reset_slots):
    (tmp_path / "file.txt").write_text("not a policy")
    value = value.format(tmp=tmp_path)
    vision_env(**{setting: value}, ARC_REGISTRY=str(tmp_path / "registry"), ARC_PRIVACY_MODE="local_inference")
    policy.slot.force_check()
    page.goto(site.url("none"))
    page.click("#target")
    page.click("#target")
    assert page.evaluate("window.__flaky.clicks.length") == 2
    assert [attrs(s)[A.POLICY_VERSION] for s in spans()] == [policy.SEED_VERSION] * 2
    (message,) = arc_log()  # once, not per action
    where = f" in registry {tmp_path}/registry" if value.startswith("registry:") else ""
    assert f"vision policy ({setting}={value}{where}) not loaded: {problem.format(tmp=tmp_path)}" in message
    assert message.endswith("using the seed rule (checked again every 2s)")


def test_model_dir_mistake_is_named_and_the_click_goes_through(tmp_path, page, site, spans, vision_env, arc_log,
                                                               reset_slots):
    vision_env(ARC_VISION_MODEL_DIR=str(tmp_path / "nope"), ARC_PRIVACY_MODE="local_inference")
    model.slot.force_check()
    page.goto(site.url("tiny"))  # a target the agent scores
    page.click("#target")
    page.click("#target")
    assert page.evaluate("window.__flaky.clicks.length") == 2
    (message,) = arc_log()
    assert f"vision model (ARC_VISION_MODEL_DIR={tmp_path}/nope) not loaded: folder '{tmp_path}/nope' " \
           "does not exist; " in message
    # a fresh process has no model to keep: its actions are not scored; one that had a model keeps it
    scored = "; keeping version" in message
    assert scored or "; using no confidence model" in message
    assert [A.CONFIDENCE_BEFORE in attrs(s) for s in spans()] == [scored, scored]


def test_canary_share_without_a_registry_policy_is_named(tmp_path, vision_env, arc_log):
    vision_env(ARC_VISION_POLICY_DIR=str(tmp_path), ARC_VISION_POLICY_CANARY="0.1")
    assert arc_log("ARC_VISION_POLICY_CANARY") == [
        "arc: ARC_VISION_POLICY_CANARY=0.1 has no effect: the canary is NAME@canary of "
        "ARC_VISION_POLICY=registry:NAME, which is not set"]


def test_a_policy_in_the_model_folder_is_refused_at_load(tmp_path, page, site, spans, vision_env, arc_log,
                                                         reset_slots):
    from .test_policy_registry import _folder, _prefer, _seq_onnx

    folder = _folder(tmp_path, "not-a-model", _seq_onnx(_prefer("act")))
    vision_env(ARC_VISION_MODEL_DIR=folder, ARC_PRIVACY_MODE="local_inference")
    model.slot.force_check()
    page.goto(site.url("tiny"))
    page.click("#target")
    assert page.evaluate("window.__flaky.clicks.length") == 1 and attrs(spans()[0])[A.SUCCESS] is True
    (message,) = arc_log()
    assert f"vision model (ARC_VISION_MODEL_DIR={folder}) not loaded: not a confidence model (inputs image, " \
           "features; output confidence)" in message
    assert not arc_log("internal error")  # refused once at load, not failing on every action
