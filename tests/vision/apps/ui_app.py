"""A UI test-suite stand-in run under ``arc-instrument``: Playwright and Selenium against the flaky
site, with one selector that changed since the last run. Prints a JSON summary on the last line."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.fixtures.flaky_site import FlakySite  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def playwright_part(site) -> str:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 720})
        page.goto(site.url("changed_id", run=1))
        page.click("#target")
        page.goto(site.url("changed_id", run=2))
        page.click("#target", timeout=300)
        text = page.text_content("#result")
        browser.close()
    return text


def selenium_part(site) -> str:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--window-size=1000,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(site.url("late_render", d=800))
        driver.find_element(By.ID, "target").click()
        return driver.find_element(By.ID, "result").text
    finally:
        driver.quit()


if __name__ == "__main__":
    with FlakySite() as site:
        out = {"playwright": playwright_part(site), "selenium": selenium_part(site)}
    print(json.dumps(out))
