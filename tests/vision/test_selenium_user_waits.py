"""A ``find_element`` made by the test's own ``WebDriverWait.until/until_not`` is not healed: the
test's wait already polls and decides when to give up (healing inside it would stretch a 0.3 s wait
to ``ARC_HEAL_TIMEOUT_MS`` per poll). The same lookup made directly is still healed."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import NoSuchElementException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from arc_agent.vision import attributes as A

from .conftest import attrs

NEVER = (By.ID, "never-there")


def test_webdriverwait_lookups_are_left_to_the_tests_wait(driver, site, spans, vision_env):
    vision_env(ARC_HEAL_TIMEOUT_MS="300")
    driver.get(site.url("none"))
    with pytest.raises(TimeoutException):
        WebDriverWait(driver, 0.3).until(EC.presence_of_element_located(NEVER))
    driver.execute_script("document.getElementById('target').remove()")
    assert WebDriverWait(driver, 2).until_not(EC.presence_of_element_located((By.ID, "target"))) is True
    assert WebDriverWait(driver, 2).until(lambda d: d.find_element(By.ID, "name")).tag_name == "input"
    assert spans("ui.find") == []  # no heal was attempted inside the test's waits

    with pytest.raises(NoSuchElementException):
        driver.find_element(*NEVER)  # a direct lookup: healing tries, then the original error
    (find,) = spans("ui.find")
    assert attrs(find)[A.HEALED] is False and attrs(find)[A.SELECTOR] == "id=never-there"
