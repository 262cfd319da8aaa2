"""Selenium: "network idle" tracks in-flight fetch/XHR (bounded), and healing of an empty
``find_elements`` (opt-in, see ``arc_agent.vision.finding``), against real Chromium/ChromeDriver."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from arc_agent.vision import attributes as A
from arc_agent.vision.se_target import SeleniumDriverOps

from .conftest import attrs, poll

START_REQUESTS = """
window.__done = [];
fetch('/api/delay?ms=' + arguments[0]).then(() => window.__done.push('fetch'));
const xhr = new XMLHttpRequest();
xhr.open('GET', '/api/delay?ms=' + arguments[1]);
xhr.onloadend = () => window.__done.push('xhr');
xhr.send();
"""


def done(driver) -> list:
    return sorted(driver.execute_script("return window.__done || []"))


def test_network_idle_waits_for_in_flight_fetch_and_xhr(driver, site):
    driver.get(site.url("none"))
    ops = SeleniumDriverOps(driver)
    assert ops.network_idle(5000)() is True  # installs the tracker in this document
    driver.execute_script(START_REQUESTS, 500, 800)
    assert done(driver) == []
    assert ops.network_idle(10000)() is True
    assert done(driver) == ["fetch", "xhr"]


def test_network_idle_is_bounded(driver, site):
    driver.get(site.url("none"))
    ops = SeleniumDriverOps(driver)
    ops.network_idle(5000)()
    driver.execute_script(START_REQUESTS, 4000, 4000)
    assert ops.network_idle(200)() is False  # still busy when the bound ran out
    assert done(driver) == []


def test_requests_a_page_starts_while_loading_are_tracked(driver, site):
    driver.get(site.url("none"))
    driver.find_element(By.ID, "later").click()  # Arc has seen this driver: new documents get the tracker
    driver.get(site.url("late_render", d=1500))  # renders the form when its /api/delay fetch returns
    assert SeleniumDriverOps(driver).network_idle(10000)() is True
    assert driver.execute_script("return !!document.getElementById('target')") is True


def test_empty_find_elements_is_left_alone_by_default(driver, site, spans):
    driver.get(site.url("changed_id", run=1))
    driver.find_elements(By.ID, "target")[0].click()
    driver.get(site.url("changed_id", run=2))
    assert driver.find_elements(By.ID, "target") == []  # absence checks keep working
    assert spans("ui.find_elements") == []


def test_empty_find_elements_is_healed_when_enabled(driver, site, spans, vision_env):
    vision_env(ARC_HEAL_FIND_ELEMENTS="1")
    driver.get(site.url("changed_id", run=1))
    driver.find_elements(By.ID, "target")[0].click()
    driver.get(site.url("changed_id", run=2))
    (element,) = driver.find_elements(By.ID, "target")
    assert element.get_attribute("id") == "place-order-v2"
    element.click()
    assert poll(lambda: driver.execute_script("return document.getElementById('result').textContent")) == "ordered"
    (span,) = spans("ui.find_elements")
    a = attrs(span)
    assert a[A.HEALED] is True and a[A.HEAL_STRATEGY] == "fingerprint" and a[A.HEAL_SCORE] >= 0.6
    assert a[A.SELECTOR] == "id=target" and a[A.HEALED_SELECTOR] == "css selector=#place-order-v2"
    assert attrs(spans("ui.click")[-1])[A.SELECTOR] == "id=target >> nth=0"


def test_enabled_find_elements_healing_needs_a_recorded_action_and_a_confident_match(driver, site, spans,
                                                                                      vision_env):
    vision_env(ARC_HEAL_FIND_ELEMENTS="1")
    driver.get(site.url("none"))
    assert driver.find_elements(By.ID, "never-used") == []  # no fingerprint: nothing to heal from
    vision_env(ARC_HEAL_FIND_ELEMENTS="1", ARC_HEAL_MIN_SCORE="0.99")
    driver.get(site.url("changed_id", run=1))
    driver.find_element(By.ID, "target").click()
    driver.get(site.url("changed_id", run=2))
    assert driver.find_elements(By.ID, "target") == []  # the look-alike scores below the minimum
    assert spans("ui.find_elements") == []
