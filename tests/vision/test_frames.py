"""Targets inside child frames (``frame_locator`` chains and ``Frame`` objects) get a box in main-page
coordinates, a crop, and healing, against real Chromium and the flaky site's ``framed`` page."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from arc_agent.vision import attributes as A
from arc_agent.vision.blobstore import BlobStore

from .conftest import attrs, poll

USER_TIMEOUT = 300
BUTTON_GREEN = (0x1A, 0x7F, 0x37)  # the shop's primary button (#target)


def open_framed(page, site, **params):
    page.goto(site.url("framed", **params))
    poll(lambda: page.evaluate("window.__flaky.settled"))
    return page.frame(name="shop")


def main_page_box(page) -> list:
    box = page.frame_locator("#shop").locator("#target").bounding_box()
    return [int(round(box[k])) for k in ("x", "y", "width", "height")]


@pytest.mark.parametrize("how", ("frame_locator", "frame_object_locator", "frame_shortcut"))
def test_framed_target_gets_a_main_page_box_and_a_crop(page, site, spans, vision_env, how):
    vision_env(ARC_PRIVACY_MODE="full_data")
    frame = open_framed(page, site)
    if how == "frame_locator":
        page.frame_locator("#shop").locator("#target").click()
    elif how == "frame_object_locator":
        frame.locator("#target").click()
    else:
        frame.click("#target")
    assert frame.text_content("#result") == "ordered"
    (ui,) = spans()
    a = attrs(ui)
    assert a[A.SUCCESS] is True and a[A.ELEMENT_VISIBLE] is True
    expected = main_page_box(page)
    assert all(abs(got - want) <= 1 for got, want in zip(a[A.BBOX], expected))
    assert a[A.BBOX][0] >= 40 + 6 + 4  # the iframe's margin, border and padding are included
    assert list(a[A.VIEWPORT]) == [1000, 720] and a[A.URL].endswith("/")
    assert a[A.CONFIDENCE_BEFORE] is not None and a[A.ELEMENT_PHASH]
    crop = Image.open(io.BytesIO(BlobStore(vision_env().blob_dir).get_png(a[A.BLOB_KEY]))).convert("RGB")
    assert crop.width > expected[2] and crop.height > expected[3]
    pixels = np.asarray(crop, dtype=np.int16)
    button_green = int((np.abs(pixels - BUTTON_GREEN).max(axis=2) < 24).sum())
    assert button_green > expected[2] * expected[3] // 3  # the crop is around the button, not beside it


@pytest.mark.parametrize("how", ("frame_locator", "frame_shortcut"))
def test_changed_id_inside_a_frame_is_healed(page, site, spans, vision_env, how):
    vision_env(ARC_VISION_WAIT_MS="300")  # the renamed target never shows up: no point waiting long

    def click(timeout=None):
        kwargs = {"timeout": timeout} if timeout else {}
        if how == "frame_locator":
            page.frame_locator("#shop").locator("#target").click(**kwargs)
        else:
            page.frame(name="shop").click("#target", **kwargs)

    open_framed(page, site, inner="changed_id", run=1)
    click()
    frame = open_framed(page, site, inner="changed_id", run=2)
    click(timeout=USER_TIMEOUT)
    assert frame.text_content("#result") == "ordered"
    first, healed = spans()
    a = attrs(healed)
    assert attrs(first)[A.HEALED] is False
    assert a[A.HEALED] is True and a[A.HEAL_STRATEGY] == "fingerprint" and a[A.HEAL_SCORE] >= 0.6
    assert a[A.HEALED_SELECTOR].endswith("#place-order-v2")
    if how == "frame_locator":
        assert "internal:control=enter-frame" in a[A.HEALED_SELECTOR]


def test_selenium_element_in_a_frame_gets_a_top_page_box_and_heals(driver, site, spans, vision_env):
    from selenium.webdriver.common.by import By

    vision_env(ARC_VISION_WAIT_MS="300")

    def open_framed(run):
        driver.switch_to.default_content()
        driver.get(site.url("framed", inner="changed_id", run=run))
        poll(lambda: driver.execute_script("return window.__flaky.settled"))
        frame_box = driver.execute_script("const r = document.getElementById('shop').getBoundingClientRect();"
                                          "return [r.x, r.y];")
        driver.switch_to.frame("shop")
        return frame_box

    frame_x, frame_y = open_framed(1)
    element = driver.find_element(By.ID, "target")
    inner = element.rect
    element.click()
    open_framed(2)
    driver.find_element(By.ID, "target").click()
    assert driver.execute_script("return document.getElementById('result').textContent") == "ordered"
    driver.switch_to.default_content()
    first, find, healed_click = spans()
    a = attrs(first)
    expected = [frame_x + 6 + 4 + inner["x"], frame_y + 6 + 4 + inner["y"]]  # border + padding
    assert all(abs(got - want) <= 1 for got, want in zip(a[A.BBOX][:2], expected))
    assert a[A.URL].endswith("/") and a[A.ELEMENT_VISIBLE] is True
    f = attrs(find)
    assert find.name == "ui.find" and f[A.HEAL_STRATEGY] == "fingerprint"
    assert f[A.HEALED_SELECTOR] == "css selector=#place-order-v2"
    assert attrs(healed_click)[A.SUCCESS] is True
