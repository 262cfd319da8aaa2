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


_RETURNED, _BROKE, _OP = 0, 1, 2


def _advance(flow: Flow, out: Outcome, send: Any, throw: BaseException | None):
    """(kind, value): the flow's next op, its return value, or _BROKE after an Arc error.
    The user's own exception propagates unchanged."""
    try:
        op = flow.send(send) if throw is None else flow.throw(throw)
    except StopIteration as stop:
        return _RETURNED, stop.value
    except BaseException as exc:
        if out.error is not None and exc is out.error:
            raise
        failopen.record("vision.flow", exc)
        return _BROKE, None
    return _OP, op


def _after(op: Any, out: Outcome, value: Any = None, error: BaseException | None = None):
    """(send, throw) for the flow after running ``op``; only ops' ordinary errors are thrown back."""
    if type(op) is UserCall:
        out.record(op, result=value, error=error)
    elif error is not None and not isinstance(error, Exception):
        raise error
    return value, error


def drive_sync(flow: Flow, out: Outcome, call: Callable[[], Any]) -> Any:
    send: Any = None
    throw: BaseException | None = None
    while True:
        kind, op = _advance(flow, out, send, throw)
        if kind == _RETURNED:
            return op
        if kind == _BROKE:
            break
        try:
            value = op.fn() if type(op) is UserCall else op()
        except BaseException as exc:  # noqa: B036 - thrown into the flow, which decides
            send, throw = _after(op, out, error=exc)
        else:
            send, throw = _after(op, out, value)
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
        kind, op = _advance(flow, out, send, throw)
        if kind == _RETURNED:
            return op
        if kind == _BROKE:
            break
        try:
            value = op.fn() if type(op) is UserCall else op()
            if inspect.isawaitable(value):
                value = await value
        except BaseException as exc:  # noqa: B036
            send, throw = _after(op, out, error=exc)
        else:
            send, throw = _after(op, out, value)
    plan, value = _fallback_plan(out)
    if plan == "call":
        value = call()
        return (await value) if inspect.isawaitable(value) else value
    if plan == "raise":
        raise value
    return value
