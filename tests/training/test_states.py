"""The state reader: which rows are worth replaying, synthetic pages from recorded geometry, DOM
snapshots from the blob store in full_data, and a replay of each in real Chromium through the
agent's own code (``ui_env.EpisodeRunner``)."""

from __future__ import annotations

import pytest

from arc_agent.vision.blobstore import BlobStore
from training_ray import states

ROW = {"action": "click", "selector": "#target", "viewport": [1000.0, 720.0], "bbox": [120.0, 300.0, 140.0, 36.0],
       "mechanics": ["covered"], "ready_ms": 2600.0, "privacy_tier": "local_inference", "success": True,
       "healed": False, "confidence_before": 0.12, "features": [], "snapshot_key": ""}


def test_rows_become_states_only_when_there_is_something_to_replay():
    assert states.from_row(ROW).mechanics == ["covered"]
    assert states.from_row({**ROW, "mechanics": [], "success": True}) is None
    assert states.from_row({**ROW, "mechanics": ["relocated"], "success": True}) is None  # healing's business
    failed = states.from_row({**ROW, "mechanics": [], "success": False, "bbox": []})
    assert failed is not None and failed.bbox == []
    assert states.delay_for(states.from_row({**ROW, "ready_ms": 60_000})) == states.DELAY_MAX_MS
    with pytest.raises(ValueError, match="--since"):
        states.query_sql("a week")
    assert "INTERVAL 604800 SECOND" in states.query_sql("7d")


def test_synthetic_page_keeps_the_geometry_and_moves_offscreen_targets_below_the_fold():
    sc = states.to_scenario(states.from_row(ROW))
    assert sc.source == "synthetic" and sc.selector == "#arc-target" and sc.viewport == [1000, 720]
    assert "left:120px;top:300px;width:140px;height:36px" in sc.html
    off = states.to_scenario(states.from_row({**ROW, "mechanics": ["offscreen"]}))
    assert "top:1120px" in off.html


def test_full_data_snapshot_is_replayed_without_its_scripts(tmp_path):
    key = BlobStore(str(tmp_path)).put_html("<html><body><p>Shop</p><button id='target'>Buy</button>"
                                            "<script>document.body.innerHTML = ''</script></body></html>")
    st = states.from_row({**ROW, "privacy_tier": "full_data", "snapshot_key": key})
    sc = states.to_scenario(st, str(tmp_path))
    assert sc.source == "snapshot" and sc.selector == "#target" and "<script" not in sc.html
    assert states.to_scenario(st, None).source == "synthetic"  # no blob dir: synthetic
    bad = states.from_row({**ROW, "privacy_tier": "full_data", "snapshot_key": "../../etc/passwd"})
    assert states.to_scenario(bad, str(tmp_path)).source == "synthetic"


@pytest.fixture(scope="module")
def runner():
    from training_ray.ui_env import EpisodeRunner

    r = EpisodeRunner(act_timeout_ms=1000)
    yield r
    r.close()


def test_replayed_mechanics_fail_bare_playwright_and_the_seed_rule_recovers(runner, tmp_path):
    covered = states.to_scenario(states.from_row({**ROW, "ready_ms": 1500})).to_dict()
    bare = runner.run(covered, "bare")
    seed = runner.run(covered, "seed")
    assert bare["success"] is False and bare["conf_before"] is None
    assert seed["success"] is True and seed["conf_before"] < 0.7 and "wait" in seed["tools"]
    assert seed["conf_after"] > seed["conf_before"]
    key = BlobStore(str(tmp_path)).put_html("<html><body><h1>Checkout</h1><button id='target'>Buy</button>"
                                            "</body></html>")
    late = states.to_scenario(states.from_row({**ROW, "mechanics": ["absent"], "ready_ms": 1500,
                                               "privacy_tier": "full_data", "snapshot_key": key}), str(tmp_path))
    assert late.source == "snapshot"
    assert runner.run(late.to_dict(), "bare")["success"] is False
    assert runner.run(late.to_dict(), "seed")["success"] is True


def test_policy_state_says_whether_the_covering_layer_can_be_dismissed(runner):
    """The agent's own probe (``js.PROBE`` → ``features.step_state``): a cookie layer with an Accept
    button is dismissable, a busy layer with no button is not, and ``dismiss`` clicks only the former."""
    from arc_agent.vision import js
    from arc_agent.vision.features import STEP_STATE, from_probe, step_state

    page = runner.page
    seen = {}
    for mech in ("covered", "loading"):
        page.set_content(states.synthetic_page(states.from_row({**ROW, "mechanics": [mech]}), 1000, 720))
        page.evaluate(states.INJECT, {"mechanics": [mech], "delay": 30_000})
        target = page.locator(states.SYNTHETIC_SELECTOR)
        probe = target.evaluate_all(js.for_playwright(js.PROBE))
        state = dict(zip(STEP_STATE, step_state(0.1, from_probe(probe), 0, 0.0, probe)))
        clicked = target.evaluate_all(js.for_playwright(js.DISMISS))
        seen[mech] = (state["covered"], state["dismissable"], bool(clicked),
                      target.evaluate_all(js.for_playwright(js.PROBE))["covered"])
    assert seen == {"covered": (1.0, 1.0, True, False), "loading": (1.0, 0.0, False, True)}
