"""What Arc needs from Selenium beyond its public API, behind an explicit check.

``selenium.element_repoint``: after healing found the target again (a stale element re-found by its
selector, or a fingerprint match), the test's own ``WebElement`` is pointed at the new node by
setting its ``_id`` (``WebElement.id`` is read-only), so the test's later calls on that object work
too. Used only on the Selenium versions it was tested on. Off: the healed action runs on the new
element through the public API; the test's element stays stale, so its next call heals again.
Off is logged once and counted per use (``arc_agent.fastpaths``); ``ARC_VISION_FAST_PATHS_OFF``
or ``ARC_PRIVATE_READS=0`` switches it off.
"""

from __future__ import annotations

from typing import Any

from .. import fastpaths
from . import settings as vision_settings

TESTED = ("4.20.0", "4.53.0")  # [oldest, newest) Selenium the internals were tested on (tests/vision)
ELEMENT_REPOINT = "selenium.element_repoint"


def _has_private_id(element: Any) -> bool:
    return isinstance(getattr(type(element), "id", None), property) and getattr(element, "_id", None) == element.id


def repoint(element: Any, new: Any) -> bool:
    """Point ``element`` at ``new``'s node; False (the fallback counted) when the fast path is off."""
    off = vision_settings.current().fast_paths_off
    if "all" in off or ELEMENT_REPOINT in off:
        fastpaths.fallback(ELEMENT_REPOINT, "setting", "ARC_VISION_FAST_PATHS_OFF")
        return False
    reason, detail = fastpaths.gate("selenium", TESTED)
    if reason is not None:
        fastpaths.fallback(ELEMENT_REPOINT, reason, detail)
        return False
    if not (_has_private_id(element) and _has_private_id(new)):
        fastpaths.fallback(ELEMENT_REPOINT, "missing", "WebElement._id")
        return False
    element._id = new.id
    return element.id == new.id
