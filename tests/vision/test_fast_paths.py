"""Fast paths on Playwright/Selenium internals (``pw_compat.py``, ``se_compat.py``): on for the
installed versions, and when off (here by ``ARC_VISION_FAST_PATHS_OFF``) the public fallback runs,
the action still gets its span and pixels, and the user hears about it once and in the metrics."""

from __future__ import annotations

import json
import logging
import urllib.request
from importlib.metadata import version

import pytest
from prometheus_client.parser import text_string_to_metric_families
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from arc_agent import fastpaths
from arc_agent.vision import attributes as A
from arc_agent.vision import pw_compat, pw_target, se_compat
from arc_agent.vision.pw_compat import LOCATOR_FRAME, LOCATOR_REPR, SYNC_OVERLAP, locator_target
from arc_agent.vision.pw_target import PlaywrightTarget
from arc_agent.vision.se_compat import ELEMENT_REPOINT
from arc_agent.vision.status import status

from .conftest import MAX_VISITS, attrs, check_capture_modes, poll, taken_with_action

# an iframe name that reads like the end of a Locator's repr
TRICKY_NAME = "a selector='#b'>"
FRAMES_PAGE = (
    "<button id=b>top</button>"
    f"<iframe name={json.dumps(TRICKY_NAME)} srcdoc='<button id=c>one</button>'></iframe>"
    "<iframe name=twin srcdoc='<button id=d>two</button>'></iframe>"
    "<iframe name=twin srcdoc='<button id=d>three</button>'></iframe>")


@pytest.fixture(autouse=True)
def fresh_counts():
    fastpaths.reset_for_tests()
    yield
    fastpaths.reset_for_tests()


def test_installed_versions_are_inside_the_tested_ranges():
    assert fastpaths.in_range(version("playwright"), pw_compat.TESTED)
    assert fastpaths.in_range(version("selenium"), se_compat.TESTED)
    assert pw_compat.off_reason(LOCATOR_REPR) is None and pw_compat.off_reason(SYNC_OVERLAP) is None
    assert not fastpaths.in_range("1.44.9", pw_compat.TESTED) and not fastpaths.in_range(None, pw_compat.TESTED)
    assert fastpaths.version_outside("playwright", ("0.1", "0.2")) == \
        f"playwright {version('playwright')} is outside >=0.1,<0.2"


def test_locator_selector_and_frame_are_read_from_its_repr(page):
    page.set_content(FRAMES_PAGE)
    poll(lambda: len(page.frames) == 4 and all(f.url == "about:srcdoc" for f in page.frames[1:]))
    tricky = page.frame(name=TRICKY_NAME)
    assert locator_target(page.locator("#b >> nth=0"), page) == ("#b >> nth=0", page.main_frame)
    assert locator_target(tricky.locator("button#c"), page) == ("button#c", tricky)
    selector, frame = locator_target(page.frame_locator("iframe >> nth=0").locator("#c"), page)
    assert selector.endswith("internal:control=enter-frame >> #c") and frame is page.main_frame
    assert fastpaths.counts() == {}
    # two frames with the same name and URL cannot be told apart: counted, and the action still works
    twin = [f for f in page.frames if f.name == "twin"][0]
    assert locator_target(twin.locator("#d"), page) == ("#d", None)
    assert fastpaths.counts() == {(LOCATOR_FRAME, "missing"): 1}
    twin.locator("#d").click()


def test_sync_probe_and_viewport_capture_overlap_on_the_installed_playwright(page, site, vision_env):
    vision_env(ARC_PRIVACY_MODE="hash_only")
    page.goto(site.url("none"))
    target = PlaywrightTarget("click", page.click, page, ("#target",), {}, shortcut=True)
    probe, taken = target.probe_and_capture(False)()
    assert probe["n"] == 1 and taken is not None and taken[0][:2] == b"\xff\xd8"  # the JPEG viewport
    assert fastpaths.counts() == {}


def test_a_failed_overlapped_capture_is_taken_by_the_sequential_path(page, site, vision_env, monkeypatch):
    """Chromium can refuse the overlapped capture ("Unable to capture screenshot": no compositor frame
    of the new document yet, seen under CPU load); the capture then comes from the sequential path,
    as for any CDP error. Here every CDP capture is refused (parameters Chromium rejects), so it
    comes from ``page.screenshot``."""
    vision_env(ARC_PRIVACY_MODE="hash_only")
    page.goto(site.url("none"))
    monkeypatch.setattr(pw_target, "viewport_params", lambda lossless: {"format": "no-such-format"})
    target = PlaywrightTarget("click", page.click, page, ("#target",), {}, shortcut=True)
    probe, taken = target.probe_and_capture(False)()
    assert probe["n"] == 1 and taken is not None and taken[0][:2] == b"\xff\xd8"  # page.screenshot's JPEG
    assert fastpaths.counts() == {}


def test_sync_pixel_tier_takes_later_pixels_with_the_action_and_no_fallback_runs(page, site, spans, vision_env):
    vision_env(ARC_PRIVACY_MODE="local_inference")
    for visit in range(1, MAX_VISITS + 1):
        page.goto(site.url("none"))
        page.locator("#target").click()
        got = [attrs(span) for span in spans()]
        if visit >= 2 and taken_with_action(got):
            break
    check_capture_modes(got)
    assert {a[A.SELECTOR] for a in got} == {"#target"}
    assert fastpaths.counts() == {}


def _fast_path_warnings(caplog) -> list:
    return [r.getMessage().split()[3] for r in caplog.records if r.getMessage().startswith("arc: fast path ")]


def _scrape_fast_path_metric() -> dict:
    from arc_agent.telemetry.callstats import CallStats
    from arc_agent.telemetry.guards import GUARDS
    from arc_agent.telemetry.metrics import ArcMetrics, MetricsServer

    server = MetricsServer("127.0.0.1", 0, ArcMetrics(CallStats(), GUARDS, lambda: None), dict).start()
    try:
        with urllib.request.urlopen(server.url + "/metrics", timeout=5) as resp:
            text = resp.read().decode()
    finally:
        server.stop()
    return {(s.labels["path"], s.labels["reason"]): s.value for family in text_string_to_metric_families(text)
            for s in family.samples if s.name == "arc_fast_path_off_total"}


def test_fast_paths_switched_off_fall_back_to_public_api_and_say_so_once(page, site, driver, spans, vision_env,
                                                                         caplog):
    vision_env(ARC_PRIVACY_MODE="local_inference", ARC_VISION_FAST_PATHS_OFF="all")
    with caplog.at_level(logging.WARNING, logger="arc"):
        for _ in range(3):  # shortcut: the selector is known, the sync capture is taken before the action
            page.goto(site.url("none"))
            page.click("#target")
            assert page.text_content("#result") == "ordered"
        got = [attrs(span) for span in spans()]
        assert [a[A.PAGE_CAPTURE] for a in got] == ["before_action"] * 3
        assert len({a[A.PAGE_PHASH] for a in got}) == 1 and all(a[A.SELECTOR] == "#target" for a in got)

        spans.clear()
        page.goto(site.url("none"))
        page.locator("#target").click()  # a user's Locator: no selector without its repr
        assert page.text_content("#result") == "ordered"
        (a,) = [attrs(span) for span in spans()]
        assert A.SELECTOR not in a and a[A.SUCCESS] is True and a[A.PAGE_CAPTURE] == "before_action"

        spans.clear()
        driver.get(site.url("rerender", d=300))
        element = driver.find_element(By.ID, "target")
        poll(lambda: driver.execute_script("return window.__flaky.rerendered"))
        element.click()  # healed on the re-found element; the test's own element stays stale
        assert driver.find_element(By.ID, "result").text == "ordered"
        (a,) = [attrs(span) for span in spans("ui.click")]
        assert a[A.HEALED] is True and a[A.HEAL_STRATEGY] == "relocate"
        with pytest.raises(StaleElementReferenceException):
            element.text  # noqa: B018

    counts = fastpaths.counts()
    assert counts[(SYNC_OVERLAP, "setting")] >= 3  # at least the three new documents' overlapped probes
    assert counts[(LOCATOR_REPR, "setting")] == 1 and counts[(ELEMENT_REPOINT, "setting")] == 1
    assert sorted(_fast_path_warnings(caplog)) == sorted([SYNC_OVERLAP, LOCATOR_REPR, ELEMENT_REPOINT])
    assert _scrape_fast_path_metric() == {key: float(n) for key, n in counts.items()}
    info = status()
    assert info["fast_paths_off"] == ["all"]
    assert info["fast_path_fallbacks"] == {f"{path}/{reason}": n for (path, reason), n in sorted(counts.items())}


def test_unknown_fast_path_names_are_named_and_ignored(vision_env, caplog):
    with caplog.at_level(logging.WARNING, logger="arc"):
        settings = vision_env(ARC_VISION_FAST_PATHS_OFF="playwright.sync_overlap, nope")
    assert settings.fast_paths_off == {SYNC_OVERLAP}
    assert "nope" in caplog.text


def test_private_reads_off_turns_the_vision_fast_paths_off_too(driver, site, vision_env):
    """``ARC_PRIVATE_READS=0`` means no private attribute of any dependency: Playwright's and
    Selenium's fast paths fall back to the public API as with ``ARC_VISION_FAST_PATHS_OFF=all``."""
    vision_env(ARC_PRIVATE_READS="0")
    expected = ("setting", "ARC_PRIVATE_READS=0")
    assert pw_compat.off_reason(LOCATOR_REPR) == expected and pw_compat.off_reason(SYNC_OVERLAP) == expected
    driver.get(site.url("none"))
    element, other = driver.find_element(By.ID, "target"), driver.find_element(By.ID, "result")
    assert se_compat.repoint(element, other) is False
    assert element.id != other.id
    assert fastpaths.counts() == {(ELEMENT_REPOINT, "setting"): 1}
