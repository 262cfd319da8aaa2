"""Playwright adapter for the shared flow (sync and async objects alike).

Ops return whatever Playwright returns: a value for the sync API, a coroutine for the async API,
which the async driver awaits. Multi-step ops are generators run by ``steps`` either way.

On Chromium the hot path talks CDP directly through a session per page (``pw_cdp.py``): a plain-CSS
target in the main frame is probed with ``Runtime.evaluate`` (``locator.evaluate_all`` would first
build Playwright's injected script in the page's main world, costly on a fresh document) and
captures use ``Page.captureScreenshot`` (``page.screenshot`` adds fonts/caret/style round trips;
figures in benchmarks/RESULTS.md). Anything else, or any CDP error, takes the Playwright API path.

On a new document whose viewport is needed anyway (page hashes, blobs), the viewport capture is
issued together with the probe (``probe_and_capture``): Chromium spends most of a capture waiting
for a compositor frame, which then overlaps the probe. If Chromium refuses it (under CPU load:
"Unable to capture screenshot"), the viewport is then captured the way any CDP capture error is
handled (``capture``: CDP again, then ``page.screenshot``). The sync API has no public way to have two
calls in flight; there this is a fast path on Playwright's internals (``pw_compat.sync_overlap``:
version-checked, counted and logged once when off, then the sequential path runs).

In the pixel tiers a target scored from its remembered crop does not wait for the viewport: the
capture is requested just before the action and awaited after it (``capture_with_action``,
``Pending``), then proven clean by the page (``js.CAPTURED_CLEAN``); see ``actions.py``.

Targets inside child frames (``frame_locator`` chains or ``Frame`` objects) are probed in their own
frame, then their box is moved to main-page viewport coordinates (``Locator.bounding_box``), so they
get a crop and healing like any other target. A user's Locator's selector and frame come from
``repr(locator)`` (``pw_compat.locator_target``, version-checked, with a public fallback); everything
else is public Playwright API.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any, Callable, Optional

from .. import fastpaths
from . import js
from .pw_cdp import cdp_session, is_async_object, page_state, steps
from .pw_compat import SYNC_OVERLAP, locator_target, off_reason, sync_loop
from .pw_selectors import plain_css, split_frame_prefix
from .target import Target

_PROBE = js.for_playwright(js.PROBE)
_INSPECT = js.for_playwright(js.INSPECT)
_SCROLL = js.for_playwright(js.SCROLL_CENTER)
_CANDIDATES = js.for_playwright(js.CANDIDATES)
_DISMISS = js.for_playwright(js.DISMISS)
_CSS_PROBE = "(" + js.PROBE + ")(Array.from(document.querySelectorAll(%s)))"
_TOP_VIEW = ("() => ({vw: window.innerWidth, vh: window.innerHeight, sx: window.scrollX, sy: window.scrollY,"
             " dpr: window.devicePixelRatio || 1, url: location.origin + location.pathname})")
SCREENSHOT_TIMEOUT_MS = 2000
FRAME_BOX_TIMEOUT_MS = 1000
PAGE_JPEG_QUALITY = 90
# Actions Playwright starts by checking that the target is stable (its box the same over two animation
# frames): a capture requested just before them is copied before their first event in practice.
# fill/press/type/select_option send their first event within a round trip or two, so those keep the
# capture before the action (taken alongside them, nearly all would be skipped).
STABLE_FIRST = frozenset({"click", "dblclick", "check", "uncheck", "hover"})


def viewport_params(lossless: bool) -> dict:
    """CDP ``Page.captureScreenshot`` parameters of a viewport capture: JPEG (decodes to gray faster
    than PNG) for hashes, PNG for blobs; both made for speed."""
    if lossless:
        return {"format": "png", "optimizeForSpeed": True}
    return {"format": "jpeg", "quality": PAGE_JPEG_QUALITY, "optimizeForSpeed": True}


def _retrieve(task: Any) -> None:
    """Consume a dropped task's error so asyncio does not log it."""
    if not task.cancelled():
        task.exception()


async def _captured_clean(send: Callable, lossless: bool, clean: list) -> Optional[bytes]:
    """The viewport image if the page then reports ``clean``: the probe's document and event count."""
    async def both():
        out = await send("Page.captureScreenshot", viewport_params(lossless))
        check = await send("Runtime.evaluate", {"expression": js.CAPTURED_CLEAN, "returnByValue": True})
        return out, check
    out, check = await asyncio.wait_for(both(), SCREENSHOT_TIMEOUT_MS / 1000.0)
    if (check or {}).get("result", {}).get("value") != clean:
        return None
    return base64.b64decode(out["data"])


class Pending:
    """A capture running alongside the user's action (``capture_with_action``)."""

    __slots__ = ("task", "state", "navigations", "px", "wait")

    def __init__(self, task: Any, state: Any, navigations: int, px: float, wait: Optional[Callable] = None) -> None:
        self.task, self.state, self.navigations, self.px = task, state, navigations, px
        self.wait = wait  # sync API: how to wait for the task (``SyncLoop.wait``)
        task.add_done_callback(_retrieve)

    def _done(self, data: Optional[bytes]):
        if data is None or self.state.navigations != self.navigations:
            return None
        self.state.captured()
        return data, self.px

    def result(self):
        try:
            return self._done(self.wait(self.task))
        except Exception:
            return None

    async def result_async(self):
        try:
            return self._done(await self.task)
        except Exception:
            return None


class PlaywrightTarget(Target):
    framework = "playwright"

    def __init__(self, action: str, wrapped: Callable, instance: Any, args: tuple, kwargs: dict,
                 shortcut: bool) -> None:
        self.action = action
        self._wrapped, self._args, self._kwargs = wrapped, args, kwargs
        self._shortcut = shortcut
        self._async = is_async_object(instance)
        if shortcut:  # Page.<action>(selector, ...) / Frame.<action>(selector, ...)
            self.selector = args[0] if args else kwargs.get("selector")
            self._frame = instance if not hasattr(instance, "main_frame") else instance.main_frame
            self._page = self._frame.page
            self.locator = instance.locator(self.selector)
        else:
            self.locator = instance
            self._page = instance.page
            self.selector, self._frame = locator_target(instance, self._page)
        # where the selector starts (a Frame) and its frame-entering part ("... >> internal:control=enter-frame >> ")
        self._prefix, inner = split_frame_prefix(self.selector or "")
        # an unknown frame counts as a child frame: the probe then runs in the locator's own frame
        self._framed = bool(self._prefix) or self._frame is not self._page.main_frame
        self._fast_css = inner if (not self._framed and plain_css(inner)) else None

    # -- looking ---------------------------------------------------------------------------------
    def probe(self):
        return lambda: steps(self._probe_steps(), self._async)

    def _probe_steps(self):
        if self._fast_css is not None:
            session = yield from cdp_session(self._page)
            if session is not None:
                try:
                    out = yield session.send("Runtime.evaluate", {
                        "expression": _CSS_PROBE % json.dumps(self._fast_css), "returnByValue": True})
                except Exception:
                    out = None
                value = (out or {}).get("result", {}).get("value") if not (out or {}).get("exceptionDetails") else None
                if isinstance(value, dict) and value.get("n"):
                    return value  # not found (or not CSS after all): Playwright's own engine decides below
        probe = yield self.locator.evaluate_all(_PROBE)
        if isinstance(probe, dict) and self._framed:
            probe = yield from self._to_page_coordinates(probe)
        return probe

    def _to_page_coordinates(self, probe: dict):
        """A child-frame probe in main-page terms (``framed``): the page's URL and viewport (so
        fingerprints are keyed by the page the test is on) and the box in main-viewport coordinates."""
        try:
            view = yield self._page.main_frame.evaluate(_TOP_VIEW)
            box = (yield self.locator.first.bounding_box(timeout=FRAME_BOX_TIMEOUT_MS)) if probe.get("n") else None
        except Exception:
            return probe
        if not isinstance(view, dict):
            return probe
        probe.update(view)
        probe["framed"] = True
        if box:
            probe["rect"] = [box["x"], box["y"], box["width"], box["height"]]
            probe["top"] = True
        return probe

    def probe_and_capture(self, lossless):
        if self._fast_css is None:
            return None
        state = page_state(self._page)
        if state is None or state.session is False or not state.new_document:
            return None
        if self._async:
            return lambda: self._overlap_async(lossless)
        return lambda: self._overlap_sync(lossless)

    def _overlap_sync(self, lossless: bool):
        session = steps(cdp_session(self._page), False)
        loop = sync_loop(self._page, session) if session is not None else None
        if loop is None:
            return None
        try:
            task = loop.start(loop.send("Page.captureScreenshot", viewport_params(lossless)))
            task.add_done_callback(_retrieve)
        except Exception as exc:
            fastpaths.fallback(SYNC_OVERLAP, "error", repr(exc))
            return None
        probe = steps(self._probe_steps(), False)
        try:
            out = loop.wait(task)
        except Exception:
            out = None
        return steps(self._paired(probe, out, lossless), False)

    async def _overlap_async(self, lossless: bool):
        session = await steps(cdp_session(self._page), True)
        if session is None:
            return None
        probe, out = await asyncio.gather(steps(self._probe_steps(), True),
                                          session.send("Page.captureScreenshot", viewport_params(lossless)),
                                          return_exceptions=True)
        if isinstance(probe, BaseException):
            raise probe
        return await steps(self._paired(probe, None if isinstance(out, BaseException) else out, lossless), True)

    def _paired(self, probe: Any, out: Any, lossless: bool):
        """Steps: (probe, viewport capture). The overlapped capture's result ``out``, or, when Chromium
        refused it, a capture taken now the way any CDP capture error is handled."""
        if not isinstance(probe, dict):
            return probe, None
        if isinstance(out, dict):
            page_state(self._page).captured()
            return probe, (base64.b64decode(out["data"]), float(probe.get("dpr") or 1.0))
        try:
            return probe, (yield from self._capture_steps(None, probe, 1.0, lossless))
        except Exception:
            return probe, None

    def url_hint(self):
        if self._fast_css is None or self.action not in STABLE_FIRST:
            return None
        if not self._async:  # the sync API needs the overlap fast path, else the capture comes before the action
            off = off_reason(SYNC_OVERLAP)
            if off is not None:
                fastpaths.fallback(SYNC_OVERLAP, *off)
                return None
            state = page_state(self._page)
            if state is not None and state.session and sync_loop(self._page, state.session) is None:
                return None
        try:
            url = self._page.url  # kept by Playwright's client from navigation events: no round trip
        except Exception:
            return None
        return url.split("#", 1)[0].split("?", 1)[0] if isinstance(url, str) else None

    def capture_with_action(self, probe, lossless):
        """A viewport capture issued before the action and awaited after it (``actions.py``), then
        ``js.CAPTURED_CLEAN`` evaluated once it came back. Plain-CSS main-frame targets on a page
        whose CDP session is open (the probe opened it)."""
        state = page_state(self._page)
        changes = probe.get("changes") or {}
        clean = [changes.get("doc"), changes.get("inputs")]
        if self._fast_css is None or state is None or not state.session or not clean[0] or clean[1] is None:
            return None
        session, navigations = state.session, state.navigations
        dpr = float(probe.get("dpr") or 1.0)
        if self._async:
            def start_async():
                coro = _captured_clean(session.send, lossless, clean)
                return Pending(asyncio.get_running_loop().create_task(coro), state, navigations, dpr)
            return start_async

        loop = sync_loop(self._page, session)
        if loop is None:
            return None

        def start_sync():
            return Pending(loop.start(_captured_clean(loop.send, lossless, clean)), state, navigations, dpr,
                           loop.wait)
        return start_sync

    def finish_capture(self, handle):
        if not isinstance(handle, Pending):
            return lambda: None
        if self._async:
            return lambda: handle.result_async()
        return lambda: handle.result()

    def capture(self, region, probe, zoom=1.0, lossless=False):
        return lambda: steps(self._capture_steps(region, probe or {}, zoom, lossless), self._async)

    def _capture_steps(self, region, probe: dict, zoom: float, lossless: bool):
        dpr = float(probe.get("dpr") or 1.0)
        device = region is not None and zoom > 1  # zoom: device pixels, like Playwright's scale="device"
        px = dpr if device else 1.0
        if region is None:
            page_state(self._page).captured()
        session = yield from cdp_session(self._page)
        if session is not None:
            params = viewport_params(lossless) if region is None else {"format": "png", "optimizeForSpeed": True}
            if region is not None or dpr != 1.0:
                x, y, w, h = region if region is not None else (0, 0, probe.get("vw"), probe.get("vh"))
                params["clip"] = {"x": x + float(probe.get("sx") or 0), "y": y + float(probe.get("sy") or 0),
                                  "width": w, "height": h, "scale": 1.0 if device else 1.0 / dpr}
            try:
                out = yield session.send("Page.captureScreenshot", params)
                return base64.b64decode(out["data"]), px
            except Exception:
                pass  # e.g. no compositor frame yet right after a navigation: Playwright waits for one
        if region is None:
            fmt = {"type": "png"} if lossless else {"type": "jpeg", "quality": PAGE_JPEG_QUALITY}
            shot = yield self._page.screenshot(scale="css", caret="initial", timeout=SCREENSHOT_TIMEOUT_MS, **fmt)
        else:
            x, y, w, h = region
            shot = yield self._page.screenshot(clip={"x": x, "y": y, "width": w, "height": h},
                                               scale="device" if device else "css", caret="initial",
                                               timeout=SCREENSHOT_TIMEOUT_MS)
        return shot, px

    def inspect(self, scroll):
        return lambda: self.locator.evaluate_all(_INSPECT, scroll)

    def scroll_center(self):
        return lambda: self.locator.evaluate_all(_SCROLL)

    def dismiss(self):
        return lambda: self.locator.evaluate_all(_DISMISS)

    def snapshot(self):
        return lambda: self._page.content()

    def sleep(self, ms):
        return lambda: self._page.wait_for_timeout(ms)

    def network_idle(self, timeout_ms):
        main = self._page.main_frame
        return lambda: main.wait_for_load_state("networkidle", timeout=max(1.0, timeout_ms))

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
        from playwright.sync_api import TimeoutError as PlaywrightTimeout  # the async API's too

        return isinstance(exc, PlaywrightTimeout)

    # -- re-locating -----------------------------------------------------------------------------
    def candidates(self, arg):
        """Candidates in the target's own document (a child frame's, for framed targets)."""
        if self._frame is None:  # a Locator whose frame is unknown (``pw_compat``): no fingerprint healing
            return lambda: None
        root = self._frame.locator(self._prefix + ":root")
        return lambda: root.evaluate_all(_CANDIDATES, {**arg, "elements": False})

    def retarget(self, candidate, timeout_ms):
        if self._frame is None:
            return ()
        selector = self._prefix + " >> ".join([*candidate.get("hosts", []), candidate["sel"]])
        healed_locator = self._frame.locator(selector)
        check = lambda: steps(self._count_is_one(healed_locator, selector), self._async)  # noqa: E731
        kwargs = self._capped(timeout_ms)
        if self._shortcut:
            args = (selector, *self._args[1:]) if self._args else self._args
            if not self._args:
                kwargs["selector"] = selector
            act = lambda: self._wrapped(*args, **kwargs)  # noqa: E731
        else:
            act = lambda: getattr(healed_locator, self.action)(*self._args, **kwargs)  # noqa: E731
        return check, act

    @staticmethod
    def _count_is_one(locator, selector: str):
        n = yield locator.count()
        return selector if n == 1 else None
