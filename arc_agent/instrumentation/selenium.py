"""Selenium 4 integration: ``WebElement.click/send_keys/clear/submit`` become ``ui.<action>`` spans
through the shared vision flow; ``WebDriver.find_element`` is healed when it raises
NoSuchElementException (``find_elements`` returning nothing only with ``ARC_HEAL_FIND_ELEMENTS=1``),
and ``find_element(s)`` remember the selector on each element they return. Lookups made inside the
test's own ``WebDriverWait.until/until_not`` are not healed (the test's wait polls and decides).
"""

from __future__ import annotations

import importlib

from .. import failopen
from .base import unwrap, wrap

TARGET = "selenium"
DISTRIBUTION = "selenium"
SUPPORTED = ("4.20.0", "5.0.0")  # the oldest tested (tests/vision); fast path: vision/se_compat.TESTED
NEEDS_EXTRA = "vision"  # scoring and healing (onnxruntime, Pillow, ImageHash); without it: not patched

ELEMENT_ACTIONS = ("click", "send_keys", "clear", "submit")
_ELEMENT_MODULE = "selenium.webdriver.remote.webelement"
_DRIVER_MODULE = "selenium.webdriver.remote.webdriver"
_WAIT_MODULE = "selenium.webdriver.support.wait"


def _by_value(args: tuple, kwargs: dict) -> tuple:
    by = args[0] if args else kwargs.get("by", "id")
    value = args[1] if len(args) > 1 else kwargs.get("value")
    return by, value


def _action_wrapper(action: str):
    def wrapper(wrapped, instance, args, kwargs):
        from ..vision.driver import ACTIVE

        if ACTIVE.get():
            return wrapped(*args, **kwargs)
        try:
            from ..vision import actions
            from ..vision.se_target import SeleniumTarget

            target = SeleniumTarget(action, wrapped, instance, args, kwargs)
        except Exception as exc:
            failopen.record("vision.selenium", exc)
            return wrapped(*args, **kwargs)
        return actions.run_sync(target, lambda: wrapped(*args, **kwargs))

    return wrapper


def _find_wrapper(many: bool):
    """``find_element`` (``many``: ``find_elements``) through the vision healing flow."""
    def wrapper(wrapped, instance, args, kwargs):
        from ..vision.driver import ACTIVE

        if ACTIVE.get():
            return wrapped(*args, **kwargs)
        try:
            from ..vision.finding import run_find

            by, value = _by_value(args, kwargs)
        except Exception as exc:
            failopen.record("vision.selenium", exc)
            return wrapped(*args, **kwargs)
        return run_find(instance, by, value, lambda: wrapped(*args, **kwargs), many)

    return wrapper


def _user_wait(wrapped, instance, args, kwargs):
    """``WebDriverWait.until/until_not``: the lookups the test's own wait makes are not healed."""
    try:
        from ..vision.finding import IN_USER_WAIT

        token = IN_USER_WAIT.set(True)
    except Exception as exc:
        failopen.record("vision.selenium", exc)
        return wrapped(*args, **kwargs)
    try:
        return wrapped(*args, **kwargs)
    finally:
        IN_USER_WAIT.reset(token)


def _targets():
    element_cls = importlib.import_module(_ELEMENT_MODULE).WebElement
    driver_cls = importlib.import_module(_DRIVER_MODULE).WebDriver
    wait_cls = importlib.import_module(_WAIT_MODULE).WebDriverWait
    for name in ELEMENT_ACTIONS:
        yield element_cls, name, _action_wrapper(name)
    yield driver_cls, "find_element", _find_wrapper(many=False)
    yield driver_cls, "find_elements", _find_wrapper(many=True)
    yield wait_cls, "until", _user_wait
    yield wait_cls, "until_not", _user_wait


def patch() -> None:
    for owner, name, wrapper in _targets():
        wrap(owner, name, wrapper)


def unpatch() -> None:
    for owner, name, _wrapper in _targets():
        unwrap(owner, name)
