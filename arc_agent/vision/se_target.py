"""Selenium 4 adapter for the shared flow: WebElement actions and the find-element healing flow.

The selector a test used is remembered on each element ``find_element(s)`` returned
(``_arc_selector``), so the span names it and a stale element can be found again. Crops come from
Chromium's ``Page.captureScreenshot`` (clip in document coordinates, optional scale) when the
driver speaks CDP, else from a viewport screenshot cut locally. An element inside a same-origin
child frame (``switch_to.frame``) is probed in its frame and reported in top-page terms
(``js.TO_TOP``), so it gets a crop too; both screenshots show the top page.
"""

from __future__ import annotations

import base64
import time
import weakref
from typing import Any, Callable, Optional

from . import js
from .pw_target import viewport_params
from .se_compat import repoint
from .target import Target

_PROBE = js.for_selenium_top(js.PROBE)
_INSPECT = js.for_selenium(js.INSPECT)
_SCROLL = js.for_selenium(js.SCROLL_CENTER)
_DISMISS = js.for_selenium(js.DISMISS)
_CANDIDATES = js.for_selenium(js.CANDIDATES)
_DEEP_QUERY = js.for_selenium(js.DEEP_QUERY)
_NETWORK = js.for_selenium(js.NETWORK_STATE)
_NETWORK_AT_DOCUMENT_START = "(" + js.NETWORK_STATE + ")([]);"
_LOCATION = "return " + js.TOP_LOCATION + ";"
NETWORK_QUIET_MS = 300  # idle: nothing in flight and nothing finished for this long (one response
                        # often triggers the next request)
NETWORK_POLL_S = 0.05
_TRACKED: weakref.WeakSet[Any] = weakref.WeakSet()
SELECTOR_ATTR = "_arc_selector"
NTH = " >> nth="   # suffix for the i-th element returned by find_elements


def selector_text(by: Any, value: Any) -> str:
    return f"{by}={value}"


def remember_selector(element: Any, selector: str) -> None:
    try:
        setattr(element, SELECTOR_ATTR, selector)
    except Exception:
        pass


def css_for(by: str, value: str) -> Optional[str]:
    """The CSS equivalent of a locator (for a shadow-piercing search), or None (XPath, link text)."""
    if by == "css selector":
        return value
    quoted = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
    if by == "id":
        return f"[id={quoted}]"
    if by == "name":
        return f"[name={quoted}]"
    if by == "class name" and value and " " not in value:
        return f'[class~={quoted}]'
    if by == "tag name":
        return str(value)
    return None


def healable_find_error(exc: BaseException) -> bool:
    from selenium.common.exceptions import NoSuchElementException

    return isinstance(exc, NoSuchElementException)


def track_network(driver: Any) -> None:
    """Once per driver: have Chromium install the fetch/XHR tracker at the start of every new
    document (CDP), so requests a page starts while loading count too. Other drivers get the
    tracker at the first ``network_idle`` call in each document."""
    try:
        if driver in _TRACKED:
            return
        _TRACKED.add(driver)
        if hasattr(driver, "execute_cdp_cmd"):
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _NETWORK_AT_DOCUMENT_START})
    except Exception:
        pass  # not Chromium, or the session refused: the lazy install still works


def network_is_idle(state: Any) -> bool:
    return (isinstance(state, dict) and state.get("ready") == "complete" and not state.get("inflight")
            and float(state.get("quiet") or 0.0) >= NETWORK_QUIET_MS)


class SeleniumDriverOps:
    """Page-level ops shared by the element target and the find flow."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        track_network(driver)

    def sleep(self, ms):
        return lambda: time.sleep(ms / 1000.0)

    def network_idle(self, timeout_ms):
        """Op: True once the document is loaded, no fetch/XHR is in flight and none finished for
        ``NETWORK_QUIET_MS``; False when ``timeout_ms`` ran out first."""
        def op():
            deadline = time.monotonic() + timeout_ms / 1000.0
            while True:
                if network_is_idle(self.driver.execute_script(_NETWORK)):
                    return True
                if time.monotonic() >= deadline:
                    return False
                time.sleep(NETWORK_POLL_S)
        return op

    def location(self):
        return lambda: self.driver.execute_script(_LOCATION)

    def candidates(self, arg):
        return lambda: self.driver.execute_script(_CANDIDATES, None, {**arg, "elements": True})

    def deep_query(self, css: str):
        return lambda: self.driver.execute_script(_DEEP_QUERY, None, css)

    def unique_selector(self, candidate: dict) -> Callable[[], Optional[str]]:
        """Op: the healed selector text if it names exactly one element, else None."""
        hosts, sel = candidate.get("hosts") or [], candidate["sel"]
        if hosts:  # inside shadow roots: uniqueness was checked page-side within its root
            return lambda: "css selector=" + " >>> ".join([*hosts, sel])

        def op():
            found = self.driver.find_elements("css selector", sel)
            return ("css selector=" + sel) if len(found) == 1 else None
        return op


class SeleniumTarget(SeleniumDriverOps, Target):
    framework = "selenium"

    def __init__(self, action: str, wrapped: Callable, element: Any, args: tuple, kwargs: dict) -> None:
        SeleniumDriverOps.__init__(self, element.parent)
        self.action = action
        self.element = element
        self._wrapped, self._args, self._kwargs = wrapped, args, kwargs
        self.selector = getattr(element, SELECTOR_ATTR, None)
        self._replacement: Any = None  # the re-found element when the test's own could not be re-pointed

    def probe(self):
        return lambda: self.driver.execute_script(_PROBE, self.element, None)

    def capture(self, region, probe, zoom=1.0, lossless=False):
        probe = probe or {}
        dpr = float(probe.get("dpr") or 1.0)
        cdp = hasattr(self.driver, "execute_cdp_cmd")
        if region is None:
            if not cdp:
                return lambda: (self.driver.get_screenshot_as_png(), dpr)
            # the same pixels as the WebDriver screenshot; a PNG made for speed encodes and decodes
            # several times faster (larger, still lossless)
            fmt = viewport_params(lossless)
            return lambda: (base64.b64decode(self.driver.execute_cdp_cmd("Page.captureScreenshot", fmt)["data"]),
                            dpr)
        x, y, w, h = region
        if cdp:
            clip = {"x": x + float(probe.get("sx") or 0), "y": y + float(probe.get("sy") or 0),
                    "width": w, "height": h, "scale": zoom}
            return lambda: (base64.b64decode(self.driver.execute_cdp_cmd(
                "Page.captureScreenshot", {"format": "png", "optimizeForSpeed": True, "clip": clip})["data"]),
                zoom * dpr)

        def cut():
            from .imaging import crop_color, png_bytes

            return png_bytes(crop_color(self.driver.get_screenshot_as_png(), region, dpr)), dpr
        return cut

    def inspect(self, scroll):
        return lambda: self.driver.execute_script(_INSPECT, self.element, scroll)

    def scroll_center(self):
        return lambda: self.driver.execute_script(_SCROLL, self.element, None)

    def dismiss(self):
        return lambda: self.driver.execute_script(_DISMISS, self.element, None)

    def snapshot(self):
        return lambda: self.driver.page_source

    def call(self):
        return lambda: self._wrapped(*self._args, **self._kwargs)

    def retry(self, timeout_ms):
        if self._replacement is not None:
            return self._on(self._replacement)
        return self.call()

    def _on(self, element: Any):
        """The action on another element (Arc's wrapper passes it straight through: ``driver.ACTIVE``)."""
        return lambda: getattr(element, self.action)(*self._args, **self._kwargs)

    def healable(self, exc):
        from selenium.common.exceptions import (
            ElementClickInterceptedException,
            ElementNotInteractableException,
            StaleElementReferenceException,
        )

        return isinstance(exc, (ElementClickInterceptedException, ElementNotInteractableException,
                                StaleElementReferenceException))

    def relocate(self, exc):
        """A stale element is found again by the selector the test used; the test's element
        object is pointed at the new node, so later calls on it work too (``se_compat.repoint``;
        when that is off, the retry acts on the new element)."""
        from selenium.common.exceptions import StaleElementReferenceException

        if not isinstance(exc, StaleElementReferenceException) or not self.selector:
            return None
        locator, _, nth = self.selector.partition(NTH)
        by, _, value = locator.partition("=")

        def op():
            found = self.driver.find_elements(by, value)
            if nth:
                found = found[int(nth):int(nth) + 1]
            if len(found) != 1:
                return False
            if not repoint(self.element, found[0]):
                remember_selector(found[0], self.selector)
                self._replacement = found[0]
            return True
        return op

    def retarget(self, candidate, timeout_ms):
        new = candidate.get("el")
        if new is None:
            return ()

        def act():
            if repoint(self.element, new):
                return self._wrapped(*self._args, **self._kwargs)
            return self._on(new)()
        return self.unique_selector(candidate), act
