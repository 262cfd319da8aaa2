"""Selenium ``find_element`` healing: a lookup that raised NoSuchElementException gets, within the
heal budget, polling for the element (late render), a shadow-piercing search for the same CSS, and
re-location from the fingerprint of the element's last successful action.

A successful lookup costs nothing beyond remembering its selector on the element; a ``ui.find``
span is emitted only when healing was attempted, so healed lookups show up in ``arc heal-report``.

``find_elements`` is healed only when ``ARC_HEAL_FIND_ELEMENTS=1``: an empty list is an ordinary
answer (absence checks, polling loops, optional elements), not an error, and turning it into a
look-alike element would break a test that passes without Arc. When enabled, an empty result for a
selector whose element had a successful action on this page (a recorded fingerprint) gets one
fingerprint search, no waiting, and a ``[element]`` only for a unique candidate above
``ARC_HEAL_MIN_SCORE``.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any, Optional

from opentelemetry.trace import Status, StatusCode

from .. import failopen
from . import attributes as A
from . import privacy
from . import settings as vision_settings
from .driver import ACTIVE, Outcome, UserCall, drive_sync
from .fingerprint import best_candidate
from .healing import CANDIDATE_LIMIT, fingerprints
from .observe import safe
from .se_target import NTH, SeleniumDriverOps, css_for, healable_find_error, remember_selector, selector_text
from .telemetry import tracer

POLL_MS = 100
FINGERPRINT_EVERY_MS = 500

# Set while the test's own ``WebDriverWait.until/until_not`` runs: its lookups are not healed, as
# the test's wait already polls and decides when to give up (and ``until_not`` waits for absence).
IN_USER_WAIT: ContextVar = ContextVar("arc_selenium_user_wait", default=False)


def _found(result: Any, selector: str) -> Any:
    remember_selector(result, selector)
    return result


def _found_all(found: Any, selector: str) -> Any:
    for index, element in enumerate(found or ()):
        remember_selector(element, f"{selector}{NTH}{index}")
    return found


def find_flow(driver: Any, by: Any, value: Any, call, settings):
    """Generator (see ``driver.py``) returning the element or raising the original error."""
    selector = selector_text(by, value)
    start_ns = time.time_ns()
    try:
        element = yield UserCall(call)
    except BaseException as exc:  # noqa: B036 - handed back unchanged below
        error = exc
    else:
        return _found(element, selector)
    if not (settings.heal and healable_find_error(error)) or IN_USER_WAIT.get():
        raise error

    ops = SeleniumDriverOps(driver)
    healed: Optional[tuple] = None  # (element, strategy, healed selector, score)
    url = None
    try:
        healed, url = yield from _heal(ops, by, value, selector, call, settings)
    except Exception as exc:
        failopen.record("vision.heal", exc)
    try:
        _span(start_ns, settings, selector, url, healed, error)
    except Exception as exc:
        failopen.record("vision.span", exc)
    if healed is None:
        raise error
    return _found(healed[0], selector)


def _heal(ops: SeleniumDriverOps, by, value, selector: str, call, settings):
    """Poll the lookup and a shadow-piercing search until the budget ends; once ``wait_ms`` has
    passed, also try the fingerprint (every ``FINGERPRINT_EVERY_MS``), as the target may simply
    be late, or renamed."""
    now = time.monotonic()
    deadline = now + settings.heal_timeout_ms / 1000.0
    fingerprint_from = now + settings.wait_ms / 1000.0
    next_fingerprint = fingerprint_from
    css = css_for(str(by), str(value))
    url = yield from safe(ops.location())
    old = fingerprints(settings).get(url, selector) if url else None
    while True:
        try:
            element = yield UserCall(call, primary=False)
            return (element, "wait", None, None), url
        except Exception as exc:
            if not healable_find_error(exc):
                return None, url
        if css:
            deep = yield from safe(ops.deep_query(css))
            if deep and deep.get("n") == 1 and deep.get("el") is not None:
                if not deep.get("hosts"):  # in the light DOM: it just rendered since the lookup above
                    return (deep["el"], "wait", None, None), url
                healed_selector = "css selector=" + " >>> ".join([*deep["hosts"], deep["sel"]])
                return (deep["el"], "shadow_pierce", healed_selector, 1.0), url
        if old is not None and time.monotonic() >= next_fingerprint:
            next_fingerprint = time.monotonic() + FINGERPRINT_EVERY_MS / 1000.0
            found = yield from _by_fingerprint(ops, old, settings)
            if found is not None:
                return found, url
        if time.monotonic() >= deadline:
            return None, url
        yield ops.sleep(POLL_MS)


def _by_fingerprint(ops: SeleniumDriverOps, old, settings):
    cands = yield from safe(ops.candidates({"tag": old.tag, "text": old.text, "limit": CANDIDATE_LIMIT}))
    best, score = best_candidate(old, cands or [], settings.heal_min_score)
    if best is None or best.get("el") is None:
        return None
    healed_selector = yield from safe(ops.unique_selector(best))
    if not healed_selector:
        return None
    return best["el"], "fingerprint", healed_selector, score


def _span(start_ns: int, settings, selector: str, url, healed, error, action: str = "find") -> None:
    tier = settings.privacy_tier
    attrs = {A.FRAMEWORK: "selenium", A.ACTION: action, A.SELECTOR: selector, A.URL: url,
             A.PRIVACY_TIER: tier, A.SUCCESS: healed is not None, A.HEALED: healed is not None}
    if healed is None:
        attrs[A.ERROR_TYPE] = type(error).__qualname__
    else:
        attrs[A.HEAL_STRATEGY], attrs[A.HEALED_SELECTOR] = healed[1], healed[2]
        attrs[A.HEAL_SCORE] = round(healed[3], 4) if healed[3] is not None else None
    span = tracer().start_span("ui." + action, start_time=start_ns)
    span.set_attributes(privacy.filter_attributes(tier, attrs))
    if healed is None:
        span.set_status(Status(StatusCode.ERROR))
    span.end()


def find_elements_flow(driver: Any, by: Any, value: Any, call, settings):
    """Generator (see ``driver.py``) returning the user's list, or ``[healed element]``."""
    selector = selector_text(by, value)
    start_ns = time.time_ns()
    found = yield UserCall(call)
    if found or not (settings.heal and settings.heal_find_elements):
        return _found_all(found, selector)
    healed = None
    url = None
    try:
        healed, url = yield from _heal_empty(SeleniumDriverOps(driver), selector, settings)
    except Exception as exc:
        failopen.record("vision.heal", exc)
    if healed is None:
        return _found_all(found, selector)
    try:
        _span(start_ns, settings, selector, url, healed, None, action="find_elements")
    except Exception as exc:
        failopen.record("vision.span", exc)
    return _found_all([healed[0]], selector)


def _heal_empty(ops: SeleniumDriverOps, selector: str, settings):
    """One fingerprint search for a selector with a recorded successful action on this page."""
    url = yield from safe(ops.location())
    if not url:
        return None, url
    store = fingerprints(settings)
    old = store.get(url, selector) or store.get(url, f"{selector}{NTH}0")
    if old is None:
        return None, url
    return (yield from _by_fingerprint(ops, old, settings)), url


def run_find(driver: Any, by: Any, value: Any, call, many: bool = False):
    """The user's ``find_element`` (``many``: ``find_elements``) ``call`` through its healing flow."""
    if ACTIVE.get():
        return call()
    token = ACTIVE.set(True)
    try:
        flow = (find_elements_flow if many else find_flow)(driver, by, value, call, vision_settings.current())
        return drive_sync(flow, Outcome(), call)
    finally:
        ACTIVE.reset(token)
