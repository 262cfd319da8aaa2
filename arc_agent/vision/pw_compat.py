"""What Arc needs from Playwright beyond its documented API, each behind an explicit check.

- ``playwright.locator_repr``: a ``Locator``'s selector and frame, which Playwright does not expose,
  read from ``repr(locator)`` (``<Locator frame=<Frame name=N url='U'> selector='S'>``). Used only on
  the Playwright versions it was tested on, and only when the text parses back to itself. Off: the
  span has no selector, the target is probed with ``Locator.evaluate_all`` (it may be in any frame)
  and healing by fingerprint is skipped.
- ``playwright.sync_overlap``: the sync API has no public way to have two calls in flight, so the
  viewport capture that overlaps the probe, or the user's action, is scheduled on Playwright's own
  event loop (``_loop``, ``_sync``, the CDP session's implementation object). Off: the capture is
  taken before the action, after the probe (the async API needs none of this).

Either one off is logged once and counted per use (``arc_agent.fastpaths``); the user can switch
them off with ``ARC_VISION_FAST_PATHS_OFF`` (names, comma-separated, or ``all``), or with every other
private read by ``ARC_PRIVATE_READS=0``.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
from typing import Any, Callable, Optional, Tuple

from .. import fastpaths
from . import settings as vision_settings

TESTED = ("1.45.0", "1.66.0")  # [oldest, newest) Playwright the internals were tested on (tests/vision)
LOCATOR_REPR = "playwright.locator_repr"
SYNC_OVERLAP = "playwright.sync_overlap"
LOCATOR_FRAME = "playwright.locator_frame"  # a Locator whose frame cannot be told apart from another
_SELECTOR_PART = " selector="

_send_takes_timeout: Optional[bool] = None


def off_reason(path: str) -> Optional[Tuple[str, str]]:
    """(reason, detail) when ``path`` is off by setting (``ARC_VISION_FAST_PATHS_OFF``,
    ``ARC_PRIVATE_READS=0``) or version, else None."""
    off = vision_settings.current().fast_paths_off
    if "all" in off or path in off:
        return "setting", "ARC_VISION_FAST_PATHS_OFF"
    reason, detail = fastpaths.gate("playwright", TESTED)
    return (reason, detail) if reason else None


def _off(path: str) -> bool:
    """True (and the fallback counted) when ``path`` is off by setting or version."""
    why = off_reason(path)
    if why is None:
        return False
    fastpaths.fallback(path, *why)
    return True


def parse_locator_repr(text: str) -> Optional[Tuple[str, str]]:
    """(frame repr, selector) of ``repr(locator)`` if it is exactly the tested format, else None."""
    if not (isinstance(text, str) and text.startswith("<Locator frame=<Frame ") and text.endswith(">")):
        return None
    at = len(text)
    while True:
        at = text.rfind(_SELECTOR_PART, 0, at)
        if at < 0:
            return None
        frame, literal = text[len("<Locator frame="):at], text[at + len(_SELECTOR_PART):-1]
        try:
            selector = ast.literal_eval(literal)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        if isinstance(selector, str) and f"<Locator frame={frame}{_SELECTOR_PART}{selector!r}>" == text:
            return frame, selector


def locator_target(locator: Any, page: Any) -> Tuple[Optional[str], Any]:
    """(selector, Frame) of a user's Locator; ``(None, None)`` when ``locator_repr`` is off or the
    text does not parse; the Frame is None when no single frame of the page matches."""
    if _off(LOCATOR_REPR):
        return None, None
    parsed = parse_locator_repr(repr(locator))
    if parsed is None:
        fastpaths.fallback(LOCATOR_REPR, "missing", "repr(Locator) is not in the tested format")
        return None, None
    frame_text, selector = parsed
    matches = [frame for frame in page.frames if repr(frame) == frame_text]
    if len(matches) != 1:
        fastpaths.fallback(LOCATOR_FRAME, "missing", "no single frame of the page has the Locator's name and URL")
        return selector, None
    return selector, matches[0]


class SyncLoop:
    """Two calls in flight under the sync API: coroutines started on Playwright's event loop and
    waited for by Playwright's own greenlet switch (``Page._sync``)."""

    __slots__ = ("_loop", "_wait", "_send")

    def __init__(self, loop: Any, wait: Callable, send: Callable) -> None:
        self._loop, self._wait, self._send = loop, wait, send

    def send(self, method: str, params: dict):
        """The coroutine of ``CDPSession.send`` (implementation object: it does not block)."""
        if _send_takes_timeout:
            return self._send(method, params, None)
        return self._send(method, params)

    def start(self, coro: Any) -> Any:
        return self._loop.create_task(coro)

    def wait(self, task: Any) -> Any:
        """The task's result. An error that is not Playwright's or a timeout means the internals did
        not work as tested: counted as a fallback use (``error``) and raised."""
        async def result():
            return await task  # ``_sync`` takes a coroutine (1.45) or an awaitable (newer)
        try:
            return self._wait(result())
        except Exception as exc:
            from playwright.sync_api import Error

            if not isinstance(exc, (Error, asyncio.TimeoutError)):
                fastpaths.fallback(SYNC_OVERLAP, "error", repr(exc))
            raise


def sync_loop(page: Any, session: Any) -> Optional[SyncLoop]:
    """The page's ``SyncLoop`` when ``sync_overlap`` is on and its internals are there, else None
    (counted as a fallback use)."""
    global _send_takes_timeout
    if _off(SYNC_OVERLAP):
        return None
    loop, wait = getattr(page, "_loop", None), getattr(page, "_sync", None)
    send = getattr(getattr(session, "_impl_obj", None), "send", None)
    if not (isinstance(loop, asyncio.AbstractEventLoop) and callable(wait) and inspect.iscoroutinefunction(send)):
        fastpaths.fallback(SYNC_OVERLAP, "missing", "Page._loop/_sync or CDPSession's send")
        return None
    if _send_takes_timeout is None:
        try:
            _send_takes_timeout = "timeout" in inspect.signature(send).parameters
        except (TypeError, ValueError):
            _send_takes_timeout = False
    return SyncLoop(loop, wait, send)
