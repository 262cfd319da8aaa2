"""Reading Playwright selector strings: is it plain CSS, and which part enters child frames.

Playwright's parser splits a selector on ``>>``; a part is ``engine=body`` when it starts with an
engine name and ``=``, XPath when it starts with ``//`` or ``..``, text when quoted, else CSS.
``frame_locator`` chains encode frame entry as an ``internal:control=enter-frame`` part.
"""

from __future__ import annotations

import re
from typing import Tuple

_ENGINE = re.compile(r"^\s*[a-zA-Z_0-9\-+:*]+=")
ENTER_FRAME = "internal:control=enter-frame"
_SEP = " >> "


def plain_css(selector: str) -> bool:
    """True when ``selector`` is one CSS part that ``document.querySelectorAll`` may evaluate.
    (Playwright-only pseudo-classes make the page throw, and the caller falls back.)"""
    s = (selector or "").strip()
    return bool(s) and ">>" not in s and not _ENGINE.match(s) and not s.startswith(("//", "..", '"', "'"))


def split_frame_prefix(selector: str) -> Tuple[str, str]:
    """(everything up to and including the last frame entry plus " >> ", the rest)."""
    at = selector.rfind(ENTER_FRAME)
    if at < 0:
        return "", selector
    rest = selector[at + len(ENTER_FRAME):]
    stripped = rest.lstrip()
    if not stripped.startswith(">>"):
        return "", selector
    return selector[:at + len(ENTER_FRAME)] + _SEP, stripped[2:].strip()
