"""Shared fixtures for the vision tests: the flaky site, real Chromium (one per module), Arc's
Playwright/Selenium patches, an in-memory span exporter on the SDK provider, and env settings."""

from __future__ import annotations

import os
import time

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from arc_agent.vision import attributes as A
from arc_agent.vision import settings as vision_settings
from tests.fixtures.flaky_site import FlakySite

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1000, "height": 720}
_EXPORTER = InMemorySpanExporter()


def _install_exporter() -> None:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    from arc_agent.telemetry import tracing

    tracing.get_tracer()
    own = getattr(tracing, "_provider", None)
    if own is not None and own is not provider:  # Arc built its own provider earlier in this process
        own.add_span_processor(SimpleSpanProcessor(_EXPORTER))


@pytest.fixture(scope="session", autouse=True)
def arc_vision():
    """Arc's patches, as the import hook would apply them (``patch()`` of each integration)."""
    _install_exporter()
    from arc_agent.instrumentation import playwright as pw_integration
    from arc_agent.instrumentation import selenium as se_integration

    pw_integration.patch()
    se_integration.patch()
    yield
    pw_integration.unpatch()
    se_integration.unpatch()


@pytest.fixture
def spans():
    """Finished spans of this test only; ``spans()`` returns UI spans (name ``ui.*``), ``spans.clear()``
    forgets those so far."""
    _EXPORTER.clear()

    def get(prefix: str = "ui."):
        return [s for s in _EXPORTER.get_finished_spans() if s.name.startswith(prefix)]

    get.clear = _EXPORTER.clear
    yield get
    _EXPORTER.clear()


@pytest.fixture(autouse=True)
def vision_env(monkeypatch, tmp_path):
    """Fresh vision settings per test; ``vision_env(ARC_...=...)`` changes them."""
    for key in list(os.environ):
        if key.startswith("ARC_") and key not in ("ARC_LOG_LEVEL",):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ARC_BLOB_DIR", str(tmp_path / "blobs"))
    from arc_agent.vision import healing, recall

    def set_env(**values):
        for key, value in values.items():
            monkeypatch.setenv(key, str(value))
        return vision_settings.reload()

    vision_settings.reload()
    healing.fingerprints(vision_settings.current()).clear()
    recall.MEMORY.clear()  # remembered crops of earlier tests' pages would change which path runs
    yield set_env
    healing.fingerprints(vision_settings.current()).clear()
    monkeypatch.undo()
    vision_settings.reload()


@pytest.fixture(scope="module")
def site():
    with FlakySite() as s:
        yield s


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture(scope="module")
def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", f"--window-size={VIEWPORT['width']},900"):
        options.add_argument(arg)
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield d
    d.quit()


def poll(fn, timeout: float = 10.0, interval: float = 0.05):
    """Return fn()'s first truthy value, polling until the deadline (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def attrs(span) -> dict:
    return dict(span.attributes or {})


# Visits allowed before a capture taken with the action must have been seen. Under CPU load an action
# can overtake its capture (which is then rightly skipped), so one visit cannot be asserted on.
MAX_VISITS = 8


def taken_with_action(got: list) -> bool:
    """Whether a visit after the first has page hashes (only pixels taken with the action have)."""
    return any(A.PAGE_PHASH in a for a in got[1:])


def check_capture_modes(got: list) -> None:
    """First visit captured before its action; each later one scored from the remembered crop, its
    pixels either proven taken with the action (the same hashes as the first) or not used at all;
    at least one taken with its action. Modes are checked in the tiers that report them."""
    modes = A.PAGE_CAPTURE in got[0]
    assert got[0][A.PAGE_PHASH] and got[0][A.ELEMENT_PHASH]
    if modes:
        assert (got[0][A.CROP_SOURCE], got[0][A.PAGE_CAPTURE]) == ("capture", "before_action")
    for a in got[1:]:
        taken = A.PAGE_PHASH in a
        if modes:
            assert (a[A.CROP_SOURCE], a[A.PAGE_CAPTURE]) == ("recalled", "with_action" if taken else "skipped")
        if taken:
            assert (a[A.PAGE_PHASH], a[A.ELEMENT_PHASH]) == (got[0][A.PAGE_PHASH], got[0][A.ELEMENT_PHASH])
        else:
            assert A.ELEMENT_PHASH not in a
    assert taken_with_action(got)
