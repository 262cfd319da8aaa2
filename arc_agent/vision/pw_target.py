"""Playwright adapter for the shared flow (sync and async objects alike).

Ops return whatever Playwright returns: a value for the sync API, a coroutine for the async API,
which the async driver awaits. ``_then`` post-processes either kind. Only public Playwright API is
used, except reading a Locator's selector string (``_impl_obj._selector``) for the span.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Optional

from . import js
from .target import Target

_PROBE = js.for_playwright(js.PROBE)
_INSPECT = js.for_playwright(js.INSPECT)
_SCROLL = js.for_playwright(js.SCROLL_CENTER)
_CANDIDATES = js.for_playwright_page(js.CANDIDATES)
SCREENSHOT_TIMEOUT_MS = 2000
PAGE_JPEG_QUALITY = 90
DEFAULT_ACTION_TIMEOUT_MS = 30000


def _then(value: Any, fn: Callable[[Any], Any]) -> Any:
    if inspect.isawaitable(value):
        async def chained():
            return fn(await value)
        return chained()
    return fn(value)


def locator_selector(locator: Any) -> Optional[str]:
    try:
        return str(locator._impl_obj._selector)
    except Exception:
        return None


class PlaywrightTarget(Target):
    framework = "playwright"

    def __init__(self, action: str, wrapped: Callable, instance: Any, args: tuple, kwargs: dict,
                 shortcut: bool) -> None:
        self.action = action
        self._wrapped, self._args, self._kwargs = wrapped, args, kwargs
        self._shortcut = shortcut
        if shortcut:  # Page.<action>(selector, ...) / Frame.<action>(selector, ...)
            self.selector = args[0] if args else kwargs.get("selector")
            self._frame = instance if not hasattr(instance, "main_frame") else instance.main_frame
            self._page = self._frame.page
            self.locator = instance.locator(self.selector)
        else:
            self.locator = instance
            self.selector = locator_selector(instance)
            self._page = instance.page
            self._frame = self._page.main_frame

    # -- looking ---------------------------------------------------------------------------------
    def probe(self):
        return lambda: self.locator.evaluate_all(_PROBE)

    def capture(self, region, probe, zoom=1.0, lossless=False):
        def op():
            if region is None:
                fmt = {"type": "png"} if lossless else {"type": "jpeg", "quality": PAGE_JPEG_QUALITY}
                shot = self._page.screenshot(scale="css", caret="initial", timeout=SCREENSHOT_TIMEOUT_MS, **fmt)
            else:
                x, y, w, h = region
                shot = self._page.screenshot(clip={"x": x, "y": y, "width": w, "height": h},
                                             scale="device" if zoom > 1 else "css", caret="initial",
                                             timeout=SCREENSHOT_TIMEOUT_MS)
            dpr = float((probe or {}).get("dpr") or 1.0) if (region is not None and zoom > 1) else 1.0
            return _then(shot, lambda png: (png, dpr))
        return op

    def inspect(self, scroll):
        return lambda: self.locator.evaluate_all(_INSPECT, scroll)

    def scroll_center(self):
        return lambda: self.locator.evaluate_all(_SCROLL)

    def sleep(self, ms):
        return lambda: self._page.wait_for_timeout(ms)

    def network_idle(self, timeout_ms):
        return lambda: self._frame.wait_for_load_state("networkidle", timeout=max(1.0, timeout_ms))

    # -- acting ----------------------------------------------------------------------------------
    def call(self):
        return lambda: self._wrapped(*self._args, **self._kwargs)

    def _capped(self, timeout_ms: float) -> dict:
        """The user's arguments with the timeout set to what is left of the heal budget."""
        kwargs = dict(self._kwargs)
        kwargs["timeout"] = max(1.0, timeout_ms)  # never 0: that would mean "no timeout"
        return kwargs

    def retry(self, timeout_ms):
        kwargs = self._capped(timeout_ms)
        return lambda: self._wrapped(*self._args, **kwargs)

    def healable(self, exc):
        from playwright._impl._errors import TimeoutError as PlaywrightTimeout

        return isinstance(exc, PlaywrightTimeout)

    # -- re-locating -----------------------------------------------------------------------------
    def candidates(self, arg):
        return lambda: self._frame.evaluate(_CANDIDATES, {**arg, "elements": False})

    def retarget(self, candidate, timeout_ms):
        selector = " >> ".join([*candidate.get("hosts", []), candidate["sel"]])
        if not self._shortcut:
            try:
                if self.locator._impl_obj._frame is not self._page.main_frame._impl_obj:
                    return ()  # locators inside child frames are not re-targeted
            except Exception:
                return ()
        healed_locator = self._frame.locator(selector)
        check = lambda: _then(healed_locator.count(), lambda n: selector if n == 1 else None)  # noqa: E731
        kwargs = self._capped(timeout_ms)
        if self._shortcut:
            args = (selector, *self._args[1:]) if self._args else self._args
            if not self._args:
                kwargs["selector"] = selector
            act = lambda: self._wrapped(*args, **kwargs)  # noqa: E731
        else:
            act = lambda: getattr(healed_locator, self.action)(*self._args, **kwargs)  # noqa: E731
        return check, act
