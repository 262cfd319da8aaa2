"""The fixer seam: the one step every intercepted LLM request passes through before it is sent.

``Fixer.fix(request) -> FixOutcome | None`` is a pure function of (request view, pattern snapshot).
The core ships ``NoopFixer``; the pattern store (``arc_agent.patterns``) provides the real one.
``active`` lets the hot path skip building the request view when no pattern is loaded.
"""

from __future__ import annotations

from typing import Protocol

from ..state import NoopFixer
from .request import LLMRequest

__all__ = ["FixOutcome", "Fixer", "NoopFixer"]


class FixOutcome:
    """``kwargs``: the keyword arguments to send (a new dict; None = send the caller's unchanged).
    ``attributes``: ``arc.*`` span attributes describing what matched and what was applied."""

    __slots__ = ("kwargs", "attributes")

    def __init__(self, kwargs: dict | None, attributes: dict) -> None:
        self.kwargs = kwargs
        self.attributes = attributes


class Fixer(Protocol):
    active: bool

    def fix(self, request: LLMRequest) -> FixOutcome | None: ...
