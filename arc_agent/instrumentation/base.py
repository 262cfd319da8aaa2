"""The interface every integration module provides (module-level names, checked by a test).

- ``TARGET: str`` — the top-level import name whose import triggers ``patch()``.
- ``DISTRIBUTION: str`` — the pip distribution, for version checks.
- ``SUPPORTED: tuple[str, str]`` — supported versions as ``(min_inclusive, max_exclusive)``.
- ``patch() -> None`` / ``unpatch() -> None`` — idempotent; ``patch`` may import the target's submodules.

``check_version`` and ``wrap``/``wrap_method``/``unwrap`` are shared helpers so integrations stay small.
"""

from __future__ import annotations

import logging
from functools import partial, wraps
from inspect import iscoroutinefunction
from types import FunctionType
from typing import Any, Callable

log = logging.getLogger("arc")

PATCHED_FLAG = "_self_arc_patched"  # on Arc's wrappers (wrapt keeps `_self_*` attributes on the proxy)


def _version_tuple(v: str) -> tuple:
    parts = []
    for piece in v.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    return tuple(parts)


def installed_version(distribution: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(distribution)
    except Exception:
        return None


def is_supported(version: str | None, supported: tuple[str, str]) -> bool:
    if version is None:
        return False
    v = _version_tuple(version)
    return _version_tuple(supported[0]) <= v < _version_tuple(supported[1])


def _peer_wrapper(obj: Any) -> bool:
    """True for a wrapt wrapper installed by an OpenTelemetry instrumentation package."""
    fn = getattr(obj, "_self_wrapper", None)
    return fn is not None and (getattr(fn, "__module__", "") or "").startswith("opentelemetry.instrumentation")


def _target(owner: Any, attr: str) -> tuple:
    """(holder, name, current): where Arc's wrapper goes, beneath any OpenTelemetry peer's wrapper."""
    holder, name = owner, attr
    current = vars(owner).get(attr)
    while current is not None and _peer_wrapper(current):
        holder, name = current, "__wrapped__"
        current = current.__wrapped__
    return holder, name, current


def wrap(owner: Any, attr: str, wrapper: Callable) -> bool:
    """Wrap ``owner.attr`` with a wrapt FunctionWrapper once; returns False if already wrapped.

    If an OpenTelemetry instrumentation already wrapped it, Arc goes *beneath* that wrapper, so the
    peer's span is current when Arc runs and Arc enriches it instead of making a second span.
    """
    import wrapt

    holder, name, current = _target(owner, attr)
    if current is None or getattr(current, PATCHED_FLAG, False):
        return False
    wrapped = wrapt.FunctionWrapper(current, wrapper)
    setattr(wrapped, PATCHED_FLAG, True)
    setattr(holder, name, wrapped)
    return True


def wrap_method(owner: Any, attr: str, invoke: Callable, spec: Any, is_async: bool = False,
                make: Callable | None = None) -> bool:
    """Replace the plain function ``owner.attr`` by a plain function calling
    ``invoke(spec, original, self, args, kwargs)`` (``args`` include ``self``); else ``wrap``.
    ``is_async``: ``invoke`` is a coroutine function and the method returns an awaitable (the
    SDKs' async ``create`` is often a plain function returning a coroutine: its nature is kept).

    For the LLM methods, called on every request: a plain function binds like the original (one
    C-level bound method), where wrapt's descriptor builds a BoundFunctionWrapper per call; that
    was half of Arc's instructions on a sampled-out call. ``functools.wraps`` keeps name, doc,
    signature and ``__wrapped__``; peers, ``unwrap`` and coroutine checks see what they saw.
    ``make(spec, original)``, for a sync method, builds the replacement function itself (the LLM
    call path puts its fast skip there, see ``llm.call.sync_method``).
    """
    holder, name, current = _target(owner, attr)
    if current is None or getattr(current, PATCHED_FLAG, False):
        return False
    if not isinstance(current, FunctionType):
        return wrap(owner, attr, partial(invoke, spec))
    if is_async and iscoroutinefunction(current):
        @wraps(current)
        async def method(*args, **kwargs):
            return await invoke(spec, current, args[0] if args else None, args, kwargs)
    elif make is not None and not is_async:
        method = wraps(current)(make(spec, current))
    else:  # sync, or async returning ``invoke``'s coroutine, awaited by the caller
        @wraps(current)
        def method(*args, **kwargs):
            return invoke(spec, current, args[0] if args else None, args, kwargs)
    setattr(method, PATCHED_FLAG, True)
    setattr(holder, name, method)
    return True


def unwrap(owner: Any, attr: str) -> None:
    holder, name, current = _target(owner, attr)
    if current is not None and getattr(current, PATCHED_FLAG, False):
        setattr(holder, name, current.__wrapped__)
