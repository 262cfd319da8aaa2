"""Playwright integration (sync and async APIs): Locator actions and the Page/Frame selector
shortcuts, patched at class level on the public classes of ``playwright.sync_api`` and
``playwright.async_api``.

Each user action becomes one ``ui.<action>`` span through ``arc_agent.vision.actions``; Page
methods delegate to the implementation layer (not to the wrapped Frame methods) and any nested
wrapped call made while an action is handled passes straight through (``driver.ACTIVE``).
"""

from __future__ import annotations

import importlib

from .. import failopen
from .base import unwrap, wrap

TARGET = "playwright"
DISTRIBUTION = "playwright"
SUPPORTED = ("1.45.0", "2.0.0")  # the oldest tested (tests/vision); fast paths: vision/pw_compat.TESTED
NEEDS_EXTRA = "vision"  # scoring and healing (onnxruntime, Pillow, ImageHash); without it: not patched

LOCATOR_ACTIONS = ("click", "dblclick", "fill", "type", "press_sequentially", "press", "check", "uncheck",
                   "hover", "select_option")
SHORTCUT_ACTIONS = ("click", "dblclick", "fill", "type", "press", "check", "uncheck", "hover",
                    "select_option")
_MODULES = (("playwright.sync_api", False), ("playwright.async_api", True))


def _wrapper(action: str, shortcut: bool, is_async: bool):
    def wrapper(wrapped, instance, args, kwargs):
        from ..vision.driver import ACTIVE

        if ACTIVE.get():
            return wrapped(*args, **kwargs)
        try:
            from ..vision import actions
            from ..vision.pw_target import PlaywrightTarget

            target = PlaywrightTarget(action, wrapped, instance, args, kwargs, shortcut)
        except Exception as exc:
            failopen.record("vision.playwright", exc)
            return wrapped(*args, **kwargs)

        def call():
            return wrapped(*args, **kwargs)

        return actions.run_async(target, call) if is_async else actions.run_sync(target, call)

    return wrapper


def _targets():
    for module_name, is_async in _MODULES:
        module = importlib.import_module(module_name)
        for name in LOCATOR_ACTIONS:
            yield module.Locator, name, False, is_async
        for cls in (module.Page, module.Frame):
            for name in SHORTCUT_ACTIONS:
                yield cls, name, True, is_async


def patch() -> None:
    for owner, name, shortcut, is_async in _targets():
        if name in vars(owner):
            wrap(owner, name, _wrapper(name, shortcut, is_async))


def unpatch() -> None:
    for owner, name, _shortcut, _is_async in _targets():
        unwrap(owner, name)
