"""Running multi-step Playwright ops for the sync and async APIs alike, and a CDP session per page.

A *steps* generator yields the results of Playwright calls: values under the sync API (the call has
already run), awaitables under the async API (``steps`` awaits them and sends the result back, or
throws the error in, so ``try`` around a ``yield`` works for both).
"""

from __future__ import annotations

import inspect
import weakref
from typing import Any, Generator, Optional


class PageState:
    """What Arc keeps per Playwright page: its CDP session (False when the browser has none), how
    many main-frame navigations it has seen, and that count at its last viewport capture."""

    __slots__ = ("session", "navigations", "captured_at", "__weakref__")

    def __init__(self) -> None:
        self.session: Any = None
        self.navigations = 0
        self.captured_at: Optional[int] = None

    @property
    def new_document(self) -> bool:
        """True when the page navigated since its last viewport capture (that capture cannot serve)."""
        return self.captured_at != self.navigations

    def captured(self) -> None:
        self.captured_at = self.navigations

_STATES: weakref.WeakKeyDictionary[Any, PageState] = weakref.WeakKeyDictionary()


def is_async_object(obj: Any) -> bool:
    """True for the Locator, Page and Frame objects of ``playwright.async_api`` (their methods return
    coroutines)."""
    from playwright import async_api

    return isinstance(obj, (async_api.Locator, async_api.Page, async_api.Frame))


def steps(gen: Generator, is_async: bool) -> Any:
    """The generator's return value (sync), or a coroutine producing it (async)."""
    if is_async:
        return _steps_async(gen)
    try:
        value = next(gen)
        while True:  # under the sync API each yielded value is already the call's result
            value = gen.send(value)
    except StopIteration as stop:
        return stop.value


async def _steps_async(gen: Generator) -> Any:
    send: Any = None
    throw: BaseException | None = None
    while True:
        try:
            step = gen.send(send) if throw is None else gen.throw(throw)
        except StopIteration as stop:
            return stop.value
        try:
            send, throw = (await step if inspect.isawaitable(step) else step), None
        except Exception as exc:
            send, throw = None, exc


def _chromium(page: Any) -> bool:
    try:
        browser = page.context.browser
        return browser is None or browser.browser_type.name == "chromium"
    except Exception:
        return False


def page_state(page: Any) -> Optional[PageState]:
    """The page's state, created (and its navigation listener registered) on first use."""
    try:
        state = _STATES.get(page)
        if state is None:
            state = _STATES[page] = PageState()
            ref = weakref.ref(state)

            def on_navigated(frame: Any) -> None:
                live = ref()
                if live is not None and frame.parent_frame is None:
                    live.navigations += 1
            page.on("framenavigated", on_navigated)
        return state
    except Exception:  # not weak-referenceable, or no event API: no state, the plain path runs
        return None


def cdp_session(page: Any):
    """Steps: the page's CDP session (created once, kept while the page object lives), or None when
    the browser is not Chromium or the session cannot be opened."""
    state = page_state(page)
    if state is None:
        return None
    if state.session is None:
        state.session = False
        if _chromium(page):
            try:
                state.session = yield page.context.new_cdp_session(page)
            except Exception:
                state.session = False
    return state.session or None
