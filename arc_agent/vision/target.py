"""What a framework adapter provides to the shared flow: ops on one action's target.

Every method returns an *op* (a zero-argument callable whose result may be awaitable) or a plain
value; the flow never touches Playwright or Selenium directly. ``Target`` documents the interface
and gives neutral defaults.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Tuple

Op = Callable[[], Any]


class Target:
    framework: str = ""
    action: str = ""
    selector: Optional[str] = None

    def probe(self) -> Op:
        """Op returning the PROBE dict (js.PROBE) for the target, without waiting for it."""
        raise NotImplementedError

    def capture(self, region: Optional[Tuple[int, int, int, int]], probe: dict,
                zoom: float = 1.0, lossless: bool = False) -> Op:
        """Op returning ``(image bytes, px_per_css)`` of ``region`` (viewport CSS px, always PNG), or of
        the whole viewport if None (JPEG unless ``lossless``)."""
        raise NotImplementedError

    def probe_and_capture(self, lossless: bool) -> Optional[Op]:
        """Op returning ``(probe, (viewport bytes, px_per_css) or None)`` with the capture taken while
        the probe runs, when that is possible and worth it (a document new since the last viewport
        capture); None when not offered."""
        return None

    def url_hint(self) -> Optional[str]:
        """The page's URL (origin + path) when known without asking the page and the target can
        capture alongside its action (``capture_with_action``), else None."""
        return None

    def capture_with_action(self, probe: dict, lossless: bool) -> Optional[Op]:
        """Op requesting a viewport capture now, without waiting for it, and returning a handle for
        ``finish_capture``; None when this target cannot (then pixels are taken before the action)."""
        return None

    def finish_capture(self, handle: Any) -> Op:
        """Op returning ``(viewport bytes, px_per_css)`` of a ``capture_with_action`` capture if the
        page proved it was copied before any event of the action reached it, else None."""
        return lambda: None

    def inspect(self, scroll: bool) -> Op:
        raise NotImplementedError

    def scroll_center(self) -> Op:
        raise NotImplementedError

    def dismiss(self) -> Optional[Op]:
        """Op clicking the close/accept button of a layer covering the target (``js.DISMISS``;
        returns what it clicked or ''), or None when this framework does not offer it."""
        return None

    def snapshot(self) -> Optional[Op]:
        """Op returning the page's serialized DOM (str), for replayable states in ``full_data``; or None."""
        return None

    def sleep(self, ms: float) -> Op:
        raise NotImplementedError

    def network_idle(self, timeout_ms: float) -> Optional[Op]:
        """Op waiting (bounded) until the page's network is idle, or None if not observable."""
        return None

    def call(self) -> Op:
        """The user's call exactly as made."""
        raise NotImplementedError

    def retry(self, timeout_ms: float) -> Op:
        """The user's call again, with any timeout argument capped at ``timeout_ms``."""
        raise NotImplementedError

    def healable(self, exc: BaseException) -> bool:
        return False

    def relocate(self, exc: BaseException) -> Optional[Op]:
        """Op re-finding a stale target by its recorded selector (True if it did), or None."""
        return None

    def candidates(self, arg: dict) -> Op:
        raise NotImplementedError

    def retarget(self, candidate: dict, timeout_ms: float) -> Sequence[Any]:
        """Ops that perform the action on a healed candidate: a uniqueness check op (returns the
        healed selector or None), then the call op. Empty when this framework cannot retarget."""
        return ()
