"""Runs a vision flow written once as a generator, for sync and async libraries alike.

A flow yields zero-argument callables ("ops"). The sync driver calls them; the async driver calls
them and awaits the result when it is awaitable, so a flow can use Playwright's sync or async
objects (or Selenium's) without knowing which. Op errors are thrown back into the flow.

The user's own call is yielded wrapped in ``UserCall`` so the driver knows its outcome. If the flow
itself breaks (an Arc bug), the driver falls back to exactly what the app would have seen: the
call runs if it has not yet, its result is returned, or its original exception is raised.
"""

from __future__ import annotations

import inspect
from contextvars import ContextVar
from typing import Any, Callable, Generator

from .. import failopen

# Set while a UI action is being handled, so nested API calls (Arc's own probes, a Page method
# delegating to a Frame method, a healing retry) are passed straight through without a span.
ACTIVE: ContextVar = ContextVar("arc_vision_active", default=False)


class UserCall:
    """The app's call (``primary``) or a healing retry of it, as an op the driver must track."""

    __slots__ = ("fn", "primary")

    def __init__(self, fn: Callable[[], Any], primary: bool = True) -> None:
        self.fn = fn
        self.primary = primary


class Outcome:
    """What happened to the user's calls, for the fallback when the flow breaks."""

    __slots__ = ("called", "result", "error", "retried_ok", "retry_result")

    def __init__(self) -> None:
        self.called = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.retried_ok = False
        self.retry_result: Any = None

    def record(self, op: UserCall, result: Any = None, error: BaseException | None = None) -> None:
        if op.primary:
            self.called, self.result, self.error = True, result, error
        elif error is None:
            self.retried_ok, self.retry_result = True, result


Flow = Generator[Any, Any, Any]


def _fallback_plan(out: Outcome):
    """('call', None) | ('return', value) | ('raise', exc) after the flow broke."""
    if not out.called:
        return "call", None
    if out.error is None:
        return "return", out.result
    if out.retried_ok:
        return "return", out.retry_result
    return "raise", out.error


def drive_sync(flow: Flow, out: Outcome, call: Callable[[], Any]) -> Any:
    send: Any = None
    throw: BaseException | None = None
    while True:
        broke = None
        try:
            op = flow.send(send) if throw is None else flow.throw(throw)
        except StopIteration as stop:
            return stop.value
        except BaseException as exc:
            if out.error is not None and exc is out.error:
                raise
            broke = exc
        if broke is not None:
            failopen.record("vision.flow", broke)
            break
        send, throw = None, None
        try:
            send = op.fn() if type(op) is UserCall else op()
            if type(op) is UserCall:
                out.record(op, result=send)
        except BaseException as exc:  # thrown into the flow, which decides
            if type(op) is UserCall:
                out.record(op, error=exc)
            elif not isinstance(exc, Exception):
                raise
            throw = exc
    plan, value = _fallback_plan(out)
    if plan == "call":
        return call()
    if plan == "raise":
        raise value
    return value


async def drive_async(flow: Flow, out: Outcome, call: Callable[[], Any]) -> Any:
    send: Any = None
    throw: BaseException | None = None
    while True:
        broke = None
        try:
            op = flow.send(send) if throw is None else flow.throw(throw)
        except StopIteration as stop:
            return stop.value
        except BaseException as exc:
            if out.error is not None and exc is out.error:
                raise
            broke = exc
        if broke is not None:
            failopen.record("vision.flow", broke)
            break
        send, throw = None, None
        try:
            send = op.fn() if type(op) is UserCall else op()
            if inspect.isawaitable(send):
                send = await send
            if type(op) is UserCall:
                out.record(op, result=send)
        except BaseException as exc:
            if type(op) is UserCall:
                out.record(op, error=exc)
            elif not isinstance(exc, Exception):
                raise
            throw = exc
    plan, value = _fallback_plan(out)
    if plan == "call":
        value = call()
        return (await value) if inspect.isawaitable(value) else value
    if plan == "raise":
        raise value
    return value
