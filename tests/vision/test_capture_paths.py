"""The probe and capture paths a Playwright target can take on Chromium (CDP fast paths, the
Playwright API fallback, a clip vs a viewport cut, capture overlapped with the probe) see the same
element and give the model the same confidence, against real Chromium and the flaky site."""

from __future__ import annotations

import pytest

from arc_agent.vision import attributes as A
from arc_agent.vision import recall
from arc_agent.vision.driver import Outcome, drive_sync
from arc_agent.vision.observe import Stats, observe
from arc_agent.vision.pw_cdp import page_state
from arc_agent.vision.pw_target import PlaywrightTarget
from arc_agent.vision.shots import CACHE

from .conftest import attrs

SELECTORS = ("#target", "#name", "#agree", "#size", "#later")
SAME_CONFIDENCE = 0.02


def run(flow):
    """Drive an Arc flow generator that makes no user call (its ops are sync Playwright calls)."""
    return drive_sync(flow, Outcome(), lambda: None)


def target_for(page, selector: str) -> PlaywrightTarget:
    loc = page.locator(selector)
    return PlaywrightTarget("click", loc.click, loc, (), {}, False)


def comparable(probe: dict) -> dict:
    return {k: v for k, v in probe.items() if k != "changes"}


@pytest.mark.parametrize("selector", SELECTORS)
def test_fast_css_probe_matches_playwrights_own_engine(page, site, selector):
    page.goto(site.url("none"))
    fast = target_for(page, selector)
    assert fast._fast_css == selector
    engine = target_for(page, selector)
    engine._fast_css = None  # what a non-CSS selector, or a non-Chromium browser, goes through
    assert comparable(fast.probe()()) == comparable(engine.probe()())


@pytest.mark.parametrize("selector", SELECTORS)
def test_every_capture_path_gives_the_model_the_same_confidence(page, site, selector):
    page.goto(site.url("none"))
    CACHE.clear()
    target = target_for(page, selector)
    clip = run(observe(target, Stats(), None))  # first capture of the document: a clip, no viewport
    assert clip.page_img is None and clip.img is not None
    viewport = run(observe(target, Stats(), "jpeg", fresh=True))
    assert viewport.page_img is not None
    page.goto(site.url("none"))
    recall.MEMORY.clear()  # else this target would be scored from its remembered crop (test_recall.py)
    overlapped = run(observe(target, Stats(), "jpeg"))  # new document: capture issued with the probe
    assert page_state(page).captured_at == page_state(page).navigations
    page_state(page).session = False  # no CDP: Playwright's own screenshot
    CACHE.clear()
    api = run(observe(target_for(page, selector), Stats(), None))
    page_state(page).session = None
    confidences = [look.conf for look in (clip, viewport, overlapped, api)]
    assert all(c is not None for c in confidences)
    assert max(confidences) - min(confidences) <= SAME_CONFIDENCE, confidences
    assert {look.region for look in (clip, viewport, overlapped, api)} == {clip.region}


@pytest.mark.parametrize("make", (
    lambda page: page.get_by_role("button", name="Place order"),
    lambda page: page.get_by_text("Place order"),
    lambda page: page.locator('button:has-text("Place order")'),  # CSS the page itself cannot parse
    lambda page: page.locator("#order-form >> #target"),
))
def test_non_css_selectors_take_playwrights_engine_and_get_a_box(page, site, spans, make):
    page.goto(site.url("none"))
    loc = make(page)
    box = loc.bounding_box()
    loc.click()
    assert page.text_content("#result") == "ordered"
    a = attrs(spans()[0])
    assert a[A.SUCCESS] is True
    assert list(a[A.BBOX]) == [int(round(box[k])) for k in ("x", "y", "width", "height")]
