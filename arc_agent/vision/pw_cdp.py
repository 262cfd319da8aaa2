"""Running multi-step Playwright ops for the sync and async APIs alike, and a CDP session per page.

A *steps* generator yields the results of Playwright calls: values under the sync API (the call has
already run), awaitables under the async API (``steps`` awaits them and sends the result back, or
throws the error in, so ``try`` around a ``yield`` works for both).
"""

from __future__ import annotations

import inspect
import weakref
from typing import Any, Generator

_SESSIONS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_NO_CDP = False  # stored for pages whose browser does not speak CDP (Firefox, WebKit)


def is_async_object(obj: Any) -> bool:
    """True for objects of ``playwright.async_api`` (their methods return coroutines)."""
    return type(obj).__module__.startswith("playwright.async_api")


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


def cdp_session(page: Any):
    """Steps: the page's CDP session (created once, kept while the page object lives), or None when
    the browser is not Chromium or the session cannot be opened."""
    try:
        session = _SESSIONS.get(page)
    except TypeError:  # not weak-referenceable: no session
        return None
    if session is None:
        session = _NO_CDP
        if _chromium(page):
            try:
                session = yield page.context.new_cdp_session(page)
            except Exception:
                session = _NO_CDP
        _SESSIONS[page] = session
    return session or None
