"""A user's pytest UI suite (Playwright sync and async, Selenium) run as ``arc-instrument pytest ...``
behaves as it does bare: same outcomes, no warning of Arc's own (a suite run with ``-W error`` must not
break), and Arc's log lines still reach stderr after pytest closed its capture streams."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.helpers.procs import ARC_INSTRUMENT, clean_env

SUITE = '''
import asyncio

import pytest
from playwright.async_api import async_playwright
from playwright.sync_api import sync_playwright, TimeoutError as PlaywrightTimeout
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]


# first: the sync API's module fixture below runs an event loop in this thread while it lives
def test_async_click():
    async def main():
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = await browser.new_page()
            await page.set_content("<button id=b onclick=\\"this.textContent='done'\\">go</button>")
            await page.click("#b")
            text = await page.text_content("#b")
            await browser.close()
            return text
    assert asyncio.run(main()) == "done"


@pytest.fixture(scope="module")
def page():
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        yield browser.new_page()
        browser.close()


def test_click(page):
    page.set_content("<button id=b onclick=\\"this.textContent='done'\\">go</button>")
    page.click("#b")
    assert page.text_content("#b") == "done"


def test_missing_raises(page):
    page.set_content("<p>empty</p>")
    with pytest.raises(PlaywrightTimeout):
        page.click("#nope", timeout=200)


def test_fails_on_purpose(page):
    page.set_content("<p>empty</p>")
    page.click("#nope", timeout=200)


def test_selenium_click_and_absence():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get("data:text/html,<button id=b onclick=\\"this.textContent='done'\\">go</button>")
        driver.find_element(By.ID, "b").click()
        assert driver.find_element(By.ID, "b").text == "done"
        assert driver.find_elements(By.ID, "nope") == []
    finally:
        driver.quit()
'''


def _pytest(tmp_path, **env: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_user_suite.py").write_text(SUITE)
    cmd = [ARC_INSTRUMENT, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:asyncio",
           "-W", "error", "test_user_suite.py"]
    return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=clean_env(ARC_HEAL="0", ARC_VISION_WAIT_MS="0", ARC_SHUTDOWN_FLUSH_MS="200", **env))


def test_suite_under_arc_with_warnings_as_errors_has_the_bare_outcome(tmp_path):
    under = _pytest(tmp_path, ARC_ENDPOINT="grpc://127.0.0.1:9")
    # bare, the suite is deterministic: test_fails_on_purpose fails, the other four pass
    assert under.returncode == 1, under.stdout + under.stderr
    assert re.findall(r"^(FAILED \S+|\d+ failed, \d+ passed)", under.stdout, re.M) == [
        "FAILED test_user_suite.py::test_fails_on_purpose", "1 failed, 4 passed"], under.stdout + under.stderr
    assert "PytestAssertRewriteWarning" not in under.stdout + under.stderr
    assert "Logging error" not in under.stderr, under.stderr
    assert "spans could not reach grpc://127.0.0.1:9 before exit" in under.stderr, under.stderr
