"""Selenium 4 under Arc, against real Chromium/ChromeDriver and the flaky site."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from selenium.common.exceptions import NoSuchElementException
from selenium.webdriver.common.by import By

from arc_agent.vision import attributes as A

from .conftest import attrs, poll

DELAY_MS = 900


def result(driver) -> str:
    return driver.execute_script("return document.getElementById('result').textContent")


def test_element_actions_yield_one_span_each(driver, site, spans):
    driver.get(site.url("none"))
    name = driver.find_element(By.ID, "name")
    name.send_keys("Ada")
    name.clear()
    name.send_keys("Grace")
    driver.find_element(By.CSS_SELECTOR, "#order-form #target").click()
    assert result(driver) == "ordered for Grace"
    driver.find_elements(By.TAG_NAME, "input")[0].submit()
    assert result(driver) == "submitted"
    got = spans()
    assert [s.name for s in got] == ["ui.send_keys", "ui.clear", "ui.send_keys", "ui.click", "ui.submit"]
    for span in got:
        a = attrs(span)
        assert a[A.FRAMEWORK] == "selenium" and a[A.SUCCESS] is True and a[A.HEALED] is False
        assert a[A.URL] == site.base + "/" and len(a[A.BBOX]) == 4 and len(a[A.VIEWPORT]) == 2
    assert attrs(got[0])[A.SELECTOR] == "id=name"
    assert attrs(got[3])[A.SELECTOR] == "css selector=#order-form #target"
    assert attrs(got[4])[A.SELECTOR] == "tag name=input >> nth=0"


def test_find_element_waits_out_a_late_render(driver, site, spans):
    driver.get(site.url("late_render", d=DELAY_MS))
    driver.find_element(By.ID, "target").click()
    assert result(driver) == "ordered"
    find, click = spans()
    assert find.name == "ui.find" and attrs(find)[A.HEALED] is True and attrs(find)[A.HEAL_STRATEGY] == "wait"
    assert attrs(click)[A.SUCCESS] is True


def test_find_element_pierces_a_shadow_root(driver, site, spans):
    driver.get(site.url("shadow", d=0))
    poll(lambda: driver.execute_script("return window.__flaky.settled"))
    driver.find_element(By.ID, "target").click()
    assert result(driver) == "ordered"
    a = attrs(spans()[0])
    assert a[A.HEAL_STRATEGY] == "shadow_pierce" and a[A.HEALED_SELECTOR].endswith(">>> #target")


def test_changed_id_is_healed_from_the_fingerprint(driver, site, spans):
    driver.get(site.url("changed_id", run=1))
    driver.find_element(By.ID, "target").click()
    driver.get(site.url("changed_id", run=2))
    element = driver.find_element(By.ID, "target")
    element.click()
    assert result(driver) == "ordered" and element.get_attribute("id") == "place-order-v2"
    find = [s for s in spans() if s.name == "ui.find"][0]
    a = attrs(find)
    assert a[A.HEAL_STRATEGY] == "fingerprint" and a[A.HEALED_SELECTOR] == "css selector=#place-order-v2"
    assert a[A.SELECTOR] == "id=target" and a[A.HEAL_SCORE] >= 0.6


@pytest.mark.parametrize("scenario", ("spinner", "cookie_banner", "below_fold", "tiny", "moving",
                                      "late_enabled"))
def test_flaky_click_passes_under_arc(driver, site, spans, scenario):
    driver.get(site.url(scenario, d=DELAY_MS))
    driver.find_element(By.ID, "target").click()
    assert result(driver) == "ordered"
    assert attrs(spans("ui.click")[0])[A.SUCCESS] is True


def test_late_enabled_click_is_lost_without_arc(driver, site, spans, vision_env):
    vision_env(ARC_HEAL="0", ARC_VISION_THRESHOLD="0")
    driver.get(site.url("late_enabled", d=DELAY_MS * 3))
    driver.find_element(By.ID, "target").click()  # Selenium clicks a disabled button: nothing happens
    assert result(driver) == ""


def test_stale_element_is_found_again(driver, site, spans):
    driver.get(site.url("rerender", d=300))
    element = driver.find_element(By.ID, "target")
    poll(lambda: driver.execute_script("return window.__flaky.rerendered"))
    element.click()
    assert result(driver) == "ordered"
    a = attrs(spans("ui.click")[0])
    assert a[A.HEALED] is True and a[A.HEAL_STRATEGY] == "relocate"
    assert a[A.ERROR_TYPE] == "StaleElementReferenceException"
    assert element.text == "Place order"  # the test's element object works again


def test_heal_off_raises_the_original_error(driver, site, spans, vision_env):
    vision_env(ARC_HEAL="0")
    driver.get(site.url("late_render", d=DELAY_MS * 3))
    with pytest.raises(NoSuchElementException) as info:
        driver.find_element(By.ID, "target")
    assert "no such element" in str(info.value)
    assert spans() == []


def test_unhealable_lookup_raises_the_original_error_and_reports(driver, site, spans, vision_env):
    vision_env(ARC_HEAL_TIMEOUT_MS="600", ARC_VISION_WAIT_MS="300")
    driver.get(site.url("none"))
    with trace.get_tracer("test").start_as_current_span("step") as parent:
        with pytest.raises(NoSuchElementException):
            driver.find_element(By.ID, "does-not-exist")
    (find,) = spans()
    a = attrs(find)
    assert a[A.SUCCESS] is False and a[A.HEALED] is False and a[A.ERROR_TYPE] == "NoSuchElementException"
    assert find.parent.span_id == parent.get_span_context().span_id


def test_lookup_keeps_polling_past_the_wait_when_the_fingerprint_finds_nothing(driver, site, spans, vision_env):
    vision_env(ARC_VISION_WAIT_MS="200")
    driver.get(site.url("none"))
    driver.find_element(By.ID, "target").click()  # a fingerprint for id=target on this URL exists now
    driver.get(site.url("shadow", d=1200))  # the widget (and its button) is defined after 1.2 s
    driver.find_element(By.ID, "target").click()
    assert result(driver) == "ordered"
    assert attrs(spans("ui.find")[0])[A.HEAL_STRATEGY] == "shadow_pierce"
