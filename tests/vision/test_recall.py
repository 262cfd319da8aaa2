"""Remembered crops (``recall.py``): a target found ready, uncovered and exactly where it was at its
last confident capture is scored from that crop instead of a new capture; anything else and the
`wait` tool's fresh looks always capture. In the tiers that need page pixels those are then taken
alongside the action and used only when proven to show the page before the action's first event."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from PIL import Image

from arc_agent.vision import attributes as A
from arc_agent.vision import pw_target, recall
from arc_agent.vision.driver import Outcome, drive_sync
from arc_agent.vision.observe import Stats, observe
from arc_agent.vision.privacy import ALLOWED
from arc_agent.vision.pw_target import PlaywrightTarget
from arc_agent.vision.recall import CropMemory

from .conftest import MAX_VISITS, attrs, check_capture_modes, taken_with_action

REGION = (76, 76, 168, 88)
SAME_CONFIDENCE = 0.02


def probe(**changes):
    base = {"n": 1, "url": "http://127.0.0.1/", "rect": [100.2, 100.0, 120.0, 40.0], "vw": 1000, "vh": 720,
            "sx": 0, "sy": 0, "dpr": 1, "visible": True, "clear": True, "covered": False, "disabled": False,
            "animating": False, "loading": False, "top": True,
            "fp": {"tag": "button", "id": "target", "cls": [], "text": "Place order"}}
    base.update(changes)
    return base


def test_memory_serves_only_the_same_ready_target_in_the_same_place():
    memory = CropMemory()
    img = Image.new("L", REGION[2:])
    assert memory.lookup("#target", probe(), REGION) is None
    memory.update("#target", probe(), REGION, img, 1.0, confident=True)
    assert memory.lookup("#target", probe(), REGION) == (img, 1.0)
    assert memory.lookup("#other", probe(), REGION) is None
    for changed in (dict(rect=[104, 100, 120, 40]), dict(sy=10), dict(vw=800), dict(dpr=2),
                    dict(url="http://127.0.0.1/b"), dict(fp={"tag": "button", "id": "target", "cls": [],
                                                             "text": "Placing..."}),
                    dict(covered=True), dict(clear=False), dict(disabled=True), dict(animating=True),
                    dict(loading=True), dict(n=2), dict(visible=False)):
        assert memory.lookup("#target", probe(**changed), REGION) is None, changed


def test_memory_keeps_a_crop_per_state_and_forgets_only_the_state_that_scored_low():
    memory = CropMemory()
    placing = probe(fp={"tag": "button", "id": "target", "cls": [], "text": "Placing..."})
    img, other = Image.new("L", REGION[2:]), Image.new("L", REGION[2:], 255)
    memory.update("#target", probe(), REGION, img, 1.0, confident=True)
    memory.update("#target", placing, REGION, other, 1.0, confident=True)
    assert memory.lookup("#target", probe(), REGION) == (img, 1.0)
    assert memory.lookup("#target", placing, REGION) == (other, 1.0)
    memory.update("#target", placing, REGION, other, 1.0, confident=False)
    assert memory.lookup("#target", placing, REGION) is None
    assert memory.lookup("#target", probe(), REGION) == (img, 1.0)
    assert memory.knows("#target", "http://127.0.0.1/") and not memory.knows("#target", "http://127.0.0.1/b")
    memory.update("#target", probe(), REGION, img, 1.0, confident=False)
    assert not memory.knows("#target", "http://127.0.0.1/")


def test_memory_forgets_after_an_unconfident_capture_and_refreshes_after_max_uses():
    memory = CropMemory()
    img = Image.new("L", REGION[2:])
    memory.update("#target", probe(), REGION, img, 1.0, confident=True)
    memory.update("#target", probe(), REGION, img, 1.0, confident=False)
    assert memory.lookup("#target", probe(), REGION) is None
    memory.update("#target", probe(), REGION, img, 1.0, confident=True)
    for _ in range(recall.MAX_USES):
        assert memory.lookup("#target", probe(), REGION) is not None
    assert memory.lookup("#target", probe(), REGION) is None  # a new capture must refresh it
    memory.update("#target", probe(covered=True), REGION, img, 1.0, confident=True)  # not ready: not kept
    assert memory.lookup("#target", probe(), REGION) is None


def run(flow):
    return drive_sync(flow, Outcome(), lambda: None)


def look_at(page, selector="#target", **kwargs):
    """One observation as the minimal tier makes it (no page pixels wanted)."""
    loc = page.locator(selector)
    return run(observe(PlaywrightTarget("click", loc.click, loc, (), {}, False), Stats(), None, **kwargs))


@pytest.fixture
def hits(monkeypatch):
    """How many times a remembered crop was served to the flow."""
    served = []
    lookup = recall.MEMORY.lookup

    def spy(*args):
        found = lookup(*args)
        served.extend([found] if found is not None else [])
        return found
    monkeypatch.setattr(recall.MEMORY, "lookup", spy)
    return served


def test_second_visit_is_scored_from_the_remembered_crop(page, site):
    page.goto(site.url("none"))
    first = look_at(page)
    page.goto(site.url("none"))
    second = look_at(page)
    assert first.source == "capture" and second.source == "recalled"
    assert abs(first.conf - second.conf) <= SAME_CONFIDENCE
    assert second.conf >= 0.7 + recall.MARGIN and second.region == first.region
    assert second.element_img() is not None  # the fingerprint still gets its element pHash


def test_minimal_tier_actions_use_it_and_export_only_minimal_attributes(page, site, spans, hits):
    for _ in range(3):
        page.goto(site.url("none"))
        page.click("#target")
        assert page.text_content("#result") == "ordered"
    assert len(hits) == 2
    for span in spans():
        assert set(attrs(span)) <= ALLOWED["minimal"]


@pytest.fixture
def action_after_its_capture(monkeypatch):
    """Each action waits until the capture requested just before it is back (a no-op evaluate drives
    Playwright's loop until that task is done): whether a visit's pixels are taken with the action no
    longer depends on which of the two wins a race on a loaded machine."""
    started: list = []

    class Tracked(pw_target.Pending):
        __slots__ = ()

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            started.append(self)

    def call(self):
        def after_capture():
            deadline = time.monotonic() + 30
            while started and not started[-1].task.done():
                assert time.monotonic() < deadline, "the capture requested before the action never came back"
                self._page.evaluate("0")
            started.clear()
            return self._wrapped(*self._args, **self._kwargs)
        return after_capture

    monkeypatch.setattr(pw_target, "Pending", Tracked)
    monkeypatch.setattr(PlaywrightTarget, "call", call)


@pytest.mark.parametrize("tier", ("hash_only", "local_inference", "full_data"))
def test_pixel_tiers_recall_and_take_the_pixels_with_the_action(page, site, spans, vision_env, tmp_path,
                                                                hits, tier, action_after_its_capture):
    """The second visit is scored from the remembered crop; its page pixels, requested before the click
    and proven copied before any of its events, hash exactly like the first visit's capture."""
    vision_env(ARC_PRIVACY_MODE=tier, ARC_BLOB_DIR=str(tmp_path / "blobs"))
    for visit in range(1, MAX_VISITS + 1):
        page.goto(site.url("none"))
        page.click("#target")
        assert page.text_content("#result") == "ordered"
        got = [attrs(span) for span in spans()]
        if visit >= 3 and taken_with_action(got):
            break
    assert len(hits) == len(got) - 1
    for a in got:
        assert set(a) <= ALLOWED[tier]
    check_capture_modes(got)
    assert all(A.PAGE_PHASH in a for a in got[1:])  # the action waited for its capture: each one taken with it
    if tier == "full_data":
        used = [a for a in got if A.PAGE_PHASH in a]
        assert len({a[A.PAGE_BLOB_KEY] for a in used}) == 1 and len({a[A.BLOB_KEY] for a in used}) == 1


def test_actions_without_a_stability_wait_keep_the_capture_before_them(page, site, spans, vision_env, hits):
    vision_env(ARC_PRIVACY_MODE="local_inference")
    for _ in range(2):
        page.goto(site.url("none"))
        page.fill("#name", "Ada")
    assert not hits
    assert [attrs(s)[A.PAGE_CAPTURE] for s in spans()] == ["before_action"] * 2


def checked_after(event: threading.Event):
    """``pw_target._captured_clean`` whose question to the page (any event since the probe?) waits for
    ``event``: the test fixes the order of the action's event and that question instead of racing them."""
    real = pw_target._captured_clean

    async def captured_clean(send, lossless, clean):
        async def held(method, params):
            if method == "Runtime.evaluate":
                await asyncio.get_running_loop().run_in_executor(None, event.wait, 60)
            return await send(method, params)
        return await real(held, lossless, clean)
    return captured_clean


def test_a_capture_the_action_overtook_is_not_used(page, site, monkeypatch):
    """Pixels requested before the action cannot be proven to be the page as the action found it once
    one of its events reached the page before they came back: dropped. Without any event, kept."""
    page.goto(site.url("none"))
    target = PlaywrightTarget("click", page.locator("#target").click, page.locator("#target"), (), {}, False)
    probe = target.probe()()
    handle = target.capture_with_action(probe, False)()
    assert target.finish_capture(handle)() is not None
    moved = threading.Event()
    monkeypatch.setattr(pw_target, "_captured_clean", checked_after(moved))
    probe = target.probe()()
    handle = target.capture_with_action(probe, False)()
    page.mouse.move(5, 5)  # returns once Chromium dispatched the event to the page
    moved.set()
    assert target.finish_capture(handle)() is None
    handle = target.capture_with_action(target.probe()(), False)()
    page.goto(site.url("none"))  # a new document: whatever the capture shows, it is not the probed one
    assert target.finish_capture(handle)() is None


def test_a_covered_target_in_the_remembered_place_is_captured_and_gets_tools(page, site, spans, vision_env):
    page.goto(site.url("none"))
    assert look_at(page).source == "capture"
    page.goto(site.url("cookie_banner", d=1500))  # same URL path and box, a banner over the target
    covered = look_at(page)
    assert covered.source == "capture" and covered.conf < 0.7
    vision_env(ARC_PRIVACY_MODE="local_inference")  # to see the tools in the span
    page.goto(site.url("none"))
    page.click("#target")
    page.goto(site.url("cookie_banner", d=1500))
    page.click("#target")
    assert page.text_content("#result") == "ordered"
    assert attrs(spans()[-1])[A.TOOLS]


def test_fresh_looks_never_recall(page, site):
    page.goto(site.url("none"))
    look_at(page)
    page.goto(site.url("none"))
    look = look_at(page, fresh=True)  # what the `wait` tool asks for
    assert look.source == "capture" and look.img is not None


def test_selenium_second_visit_is_scored_from_the_remembered_crop(driver, site, spans, hits):
    from selenium.webdriver.common.by import By

    for _ in range(2):
        driver.get(site.url("none"))
        driver.find_element(By.ID, "target").click()
        assert driver.execute_script("return document.getElementById('result').textContent") == "ordered"
    assert len(hits) == 1


def test_a_click_that_navigates_never_hashes_the_next_page(page, site, spans, vision_env):
    """Taken alongside a click that leaves the page, the pixels are either proven to be the page the
    click found (the same hashes as a capture before it) or not used; never the next page."""
    vision_env(ARC_PRIVACY_MODE="local_inference")
    link = "document.body.insertAdjacentHTML('afterbegin', '<a id=\"go\" href=\"/?s=late_render&d=5000\">go</a>')"
    for _ in range(3):
        page.goto(site.url("none"))
        page.evaluate(link)
        with page.expect_navigation():
            page.click("#go")
    got = [attrs(s) for s in spans()]
    assert got[0][A.PAGE_CAPTURE] == "before_action"
    for a in got[1:]:
        assert a[A.CROP_SOURCE] == "recalled" and a[A.PAGE_CAPTURE] in ("with_action", "skipped")
        if a[A.PAGE_CAPTURE] == "with_action":
            assert (a[A.PAGE_PHASH], a[A.ELEMENT_PHASH]) == (got[0][A.PAGE_PHASH], got[0][A.ELEMENT_PHASH])
        else:
            assert A.PAGE_PHASH not in a and A.ELEMENT_PHASH not in a
