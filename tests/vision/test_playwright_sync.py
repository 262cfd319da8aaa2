"""Playwright sync API under Arc, against real Chromium and the flaky site."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from arc_agent.vision import attributes as A

from .conftest import attrs

FLAKY = ("late_render", "spinner", "tiny", "moving", "late_enabled", "below_fold", "shadow", "cookie_banner")
DELAY_MS = 900      # the flakiness resolves after this ...
USER_TIMEOUT = 300  # ... while the test allows only this per action (a bare run fails)


def test_every_action_yields_exactly_one_span(page, site, spans):
    page.goto(site.url("none"))
    loc = page.locator
    calls = [
        ("click", lambda: page.click("#later")),
        ("dblclick", lambda: page.dblclick("#target")),
        ("fill", lambda: page.fill("#name", "Ada")),
        ("type", lambda: page.type("#name", "!")),
        ("press", lambda: page.press("#name", "End")),
        ("check", lambda: page.check("#agree")),
        ("uncheck", lambda: page.uncheck("#agree")),
        ("hover", lambda: page.hover("#target")),
        ("select_option", lambda: page.select_option("#size", "M")),
        ("click", lambda: page.main_frame.click("#later")),
        ("click", lambda: loc("#target").click()),
        ("dblclick", lambda: loc("#target").dblclick()),
        ("fill", lambda: loc("#name").fill("Grace")),
        ("type", lambda: loc("#name").type("?")),
        ("press_sequentially", lambda: loc("#name").press_sequentially("xy")),
        ("press", lambda: loc("#name").press("Home")),
        ("check", lambda: loc("#agree").check()),
        ("uncheck", lambda: loc("#agree").uncheck()),
        ("hover", lambda: loc("#later").hover()),
        ("select_option", lambda: loc("#size").select_option("L")),
    ]
    for _, call in calls:
        call()
    got = spans()
    assert [s.name for s in got] == ["ui." + name for name, _ in calls]
    for span in got:
        a = attrs(span)
        assert a[A.FRAMEWORK] == "playwright" and a[A.SUCCESS] is True and a[A.HEALED] is False
        assert a[A.URL] == site.base + "/"  # no query string
        assert len(a[A.BBOX]) == 4 and all(isinstance(v, int) for v in a[A.BBOX])
        assert list(a[A.VIEWPORT]) == [1000, 720]
        assert a[A.ELEMENT_VISIBLE] is True and a[A.PRIVACY_TIER] == "minimal"
    assert attrs(got[0])[A.SELECTOR] == "#later" and attrs(got[12])[A.SELECTOR] == "#name"
    assert page.input_value("#name") == "Grace?xy" and page.evaluate("window.__flaky.size") == "L"


def test_ui_span_is_a_child_of_the_tests_current_span(page, site, spans):
    page.goto(site.url("none"))
    with trace.get_tracer("test").start_as_current_span("test-step") as parent:
        page.locator("#target").click()
    (ui,) = spans()
    assert ui.parent is not None and ui.parent.span_id == parent.get_span_context().span_id
    assert ui.context.trace_id == parent.get_span_context().trace_id


@pytest.mark.parametrize("scenario", FLAKY)
def test_flaky_target_passes_under_arc(page, site, spans, scenario):
    page.goto(site.url(scenario, d=DELAY_MS))
    page.locator("#target").click(timeout=USER_TIMEOUT)
    assert page.text_content("#result") == "ordered"
    (ui,) = spans()
    assert attrs(ui)[A.SUCCESS] is True


@pytest.mark.parametrize("scenario", ("late_render", "spinner", "late_enabled"))
def test_flakiness_is_real_without_arcs_help(page, site, spans, vision_env, scenario):
    vision_env(ARC_HEAL="0", ARC_VISION_THRESHOLD="0")  # Arc observes only: no tool, no healing
    page.goto(site.url(scenario, d=DELAY_MS * 3))
    with pytest.raises(PlaywrightTimeout) as info:
        page.locator("#target").click(timeout=USER_TIMEOUT)
    assert str(info.value).startswith(f"Locator.click: Timeout {USER_TIMEOUT}ms exceeded.")
    (ui,) = spans()
    a = attrs(ui)
    assert a[A.SUCCESS] is False and a[A.ERROR_TYPE] == "TimeoutError" and a[A.HEALED] is False
    assert ui.status.status_code == trace.StatusCode.ERROR


def test_changed_id_is_healed_from_the_last_runs_fingerprint(page, site, spans):
    page.goto(site.url("changed_id", run=1))
    page.click("#target")
    page.goto(site.url("changed_id", run=2))
    page.click("#target", timeout=USER_TIMEOUT)
    assert page.text_content("#result") == "ordered"
    first, healed = spans()
    assert attrs(first)[A.HEALED] is False
    a = attrs(healed)
    assert a[A.HEALED] is True and a[A.SUCCESS] is True and a[A.HEAL_STRATEGY] == "fingerprint"
    assert a[A.SELECTOR] == "#target" and a[A.HEALED_SELECTOR] == "#place-order-v2"
    assert a[A.HEAL_SCORE] >= 0.6
    assert a[A.ERROR_TYPE] == "TimeoutError"  # what healing recovered from


def test_heal_refuses_a_candidate_below_the_min_score(page, site, spans, vision_env):
    vision_env(ARC_HEAL_MIN_SCORE="0.99", ARC_HEAL_TIMEOUT_MS="1500", ARC_VISION_WAIT_MS="300")
    page.goto(site.url("changed_id", run=1))
    page.click("#target")
    page.goto(site.url("changed_id", run=2))
    with pytest.raises(PlaywrightTimeout):
        page.click("#target", timeout=USER_TIMEOUT)
    assert page.text_content("#result") == ""
    assert attrs(spans()[-1])[A.HEALED] is False


def test_heal_off_lets_the_original_error_through(page, site, spans, vision_env):
    vision_env(ARC_HEAL="0")
    page.goto(site.url("changed_id", run=1))
    page.click("#target")
    page.goto(site.url("changed_id", run=2))
    with pytest.raises(PlaywrightTimeout) as info:
        page.locator("#target").click(timeout=USER_TIMEOUT)
    assert "Locator.click: Timeout 300ms exceeded." in str(info.value)
    assert attrs(spans()[-1])[A.HEALED] is False


def test_tools_run_only_below_the_threshold(page, site, spans, vision_env):
    vision_env(ARC_PRIVACY_MODE="local_inference")
    page.goto(site.url("none"))
    page.locator("#target").click()
    page.goto(site.url("late_render", d=DELAY_MS))
    page.locator("#target").click(timeout=USER_TIMEOUT)
    steady, late = (attrs(s) for s in spans())
    assert steady[A.CONFIDENCE_BEFORE] >= 0.7 and list(steady[A.TOOLS]) == [] and steady[A.TOOL_MS] == 0
    assert late[A.CONFIDENCE_BEFORE] < 0.7 and "wait" in late[A.TOOLS] and late[A.TOOL_MS] > 0
    assert late[A.CONFIDENCE_AFTER] > late[A.CONFIDENCE_BEFORE]
    assert late[A.MODEL_VERSION].startswith("vc-") and late[A.INFERENCE_MS] > 0


def test_unpatch_restores_the_library(page, site, spans):
    from playwright.sync_api._generated import Locator, Page

    from arc_agent.instrumentation import playwright as integration
    from arc_agent.instrumentation.base import PATCHED_FLAG

    integration.unpatch()
    try:
        assert not getattr(vars(Locator)["click"], PATCHED_FLAG, False)
        assert not getattr(vars(Page)["fill"], PATCHED_FLAG, False)
        page.goto(site.url("none"))
        page.locator("#target").click()
        assert spans() == []
    finally:
        integration.patch()
    assert getattr(vars(Locator)["click"], PATCHED_FLAG, False)
    page.locator("#target").click()
    assert len(spans()) == 1
