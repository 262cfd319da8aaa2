"""Fail-open: faults forced inside Arc's own steps never change what the test sees.

Faults are injected into Arc's code only (monkeypatched Arc functions that raise); the browser,
Playwright and Selenium are real. The action must run exactly once, return what it returns without
Arc, and a failure must surface as the very exception object the library raised.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from selenium.common.exceptions import NoSuchElementException
from selenium.webdriver.common.by import By

from arc_agent import failopen
from arc_agent.vision import actions, healing, model
from arc_agent.vision.driver import Outcome, UserCall, drive_sync
from arc_agent.vision.pw_target import PlaywrightTarget
from arc_agent.vision.se_target import SeleniumDriverOps

from .conftest import attrs


def _boom(*args, **kwargs):
    raise RuntimeError("injected fault")


def _clicks(page) -> int:
    return page.evaluate("window.__flaky.clicks.length")


def test_pre_action_fault_still_acts_once_and_reports(page, site, spans, monkeypatch):
    monkeypatch.setattr(actions, "observe", _boom)
    before = failopen.counts().get("vision.pre_action", 0)
    page.goto(site.url("none"))
    assert page.locator("#target").click() is None
    assert _clicks(page) == 1 and page.text_content("#result") == "ordered"
    (ui,) = spans()
    assert attrs(ui)["arc.vision.success"] is True
    assert failopen.counts()["vision.pre_action"] == before + 1


def test_span_fault_still_acts_once(page, site, spans, monkeypatch):
    monkeypatch.setattr(actions, "tracer", _boom)
    page.goto(site.url("none"))
    assert page.locator("#size").select_option("M") == ["M"]
    page.locator("#target").click()
    assert _clicks(page) == 1 and spans() == []


def test_heal_fault_raises_the_libraries_own_exception(page, site, spans, monkeypatch, vision_env):
    vision_env(ARC_VISION_WAIT_MS="200")
    seen: list = []
    original_call = PlaywrightTarget.call

    def recording_call(self):
        fn = original_call(self)

        def call():
            try:
                return fn()
            except Exception as exc:
                seen.append((exc, exc.__context__, exc.__cause__))
                raise
        return call

    monkeypatch.setattr(PlaywrightTarget, "call", recording_call)
    monkeypatch.setattr(healing, "relocate_by_fingerprint", _boom)
    page.goto(site.url("changed_id", run=1))
    page.click("#target")
    page.goto(site.url("changed_id", run=2))
    with pytest.raises(PlaywrightTimeout) as info:
        page.click("#target", timeout=300)
    original, context, cause = seen[0]
    assert info.value is original  # the very object Playwright raised ...
    assert info.value.__context__ is context and info.value.__cause__ is cause  # ... not re-chained
    assert attrs(spans()[-1])["arc.vision.healed"] is False


def test_failed_heal_in_selenium_raises_the_original_exception(driver, site, spans, monkeypatch, vision_env):
    vision_env(ARC_VISION_WAIT_MS="200", ARC_HEAL_TIMEOUT_MS="500")
    monkeypatch.setattr(SeleniumDriverOps, "candidates", _boom)
    driver.get(site.url("none"))
    with pytest.raises(NoSuchElementException) as info:
        driver.find_element(By.ID, "missing")
    assert "no such element" in str(info.value)
    assert not isinstance(info.value.__context__, RuntimeError)  # Arc's fault is not chained onto it


def test_driver_falls_back_when_the_flow_breaks():
    calls = []

    def call():
        calls.append(1)
        return "result"

    def broken_before():
        raise RuntimeError("bug before the call")
        yield  # pragma: no cover

    def broken_after():
        yield UserCall(call)
        raise RuntimeError("bug after the call")

    assert drive_sync(broken_before(), Outcome(), call) == "result" and len(calls) == 1
    assert drive_sync(broken_after(), Outcome(), call) == "result" and len(calls) == 2

    original = ValueError("the library's error")

    def failing():
        raise original

    def broken_in_handler():
        try:
            yield UserCall(failing)
        except ValueError:
            raise RuntimeError("bug while handling") from None

    with pytest.raises(ValueError) as info:
        drive_sync(broken_in_handler(), Outcome(), failing)
    assert info.value is original and info.value.__context__ is None


def test_bad_model_update_keeps_the_previous_model(page, site, spans, vision_env, tmp_path):
    vision_env(ARC_PRIVACY_MODE="local_inference")
    page.goto(site.url("none"))
    page.click("#target")
    shipped = attrs(spans()[0])["arc.vision.model_version"]
    bad = tmp_path / "bad_model"
    bad.mkdir()
    (bad / "model.onnx").write_bytes(b"not an onnx file")
    (bad / "manifest.json").write_text('{"version": "broken", "file": "model.onnx", "sha256": "00"}')
    vision_env(ARC_PRIVACY_MODE="local_inference", ARC_VISION_MODEL_DIR=str(bad))
    model.slot.force_check()
    before = failopen.counts().get("vision.model.load", 0)
    page.click("#later")
    assert page.text_content("#result") == "saved"
    assert attrs(spans()[-1])["arc.vision.model_version"] == shipped
    assert failopen.counts()["vision.model.load"] == before + 1
    vision_env(ARC_PRIVACY_MODE="local_inference")
    model.slot.force_check()
