"""Getting ``ARC_PATTERNS`` loaded without slowing the app's first ``import openai``.

Activation runs inside that import. A set that loads in a few milliseconds (small plain files,
``QUICK_BYTES`` in all) is loaded right there, so it fixes the very first call. Anything bigger,
and every ``registry:`` set (verifying it means hashing it), is loaded by a background thread:
even importing the pattern engine (numpy, rbloom, re2) is left to it. Until the set is ready,
calls go through unfixed and their spans say ``arc.fix.skipped_reason = "loading"``;
``ARC_PATTERNS_WAIT_MS`` lets the first call wait up to that long for it instead (later calls
wait only until the same deadline).

This module is imported on the import path: it must stay light (no numpy, no engine).
"""

from __future__ import annotations

import os
import threading
from time import monotonic
from typing import Any, Callable, Iterable

from .. import failopen, forkgate, state
from ..llm.fixer import FixOutcome, NoopFixer
from ..telemetry import attributes as A

QUICK_BYTES = 64 << 10
IMPORT_WAIT_S = 2.0  # the longest a background load waits for the import that activated Arc
# what creating the engine imports, one package at a time under ``forkgate`` (a fork waits for one)
ENGINE_IMPORTS = ("numpy", "re2", "msgspec", "rbloom", "arc_agent.patterns.engine")
LOADING = "loading"
_SOURCE_EXTENSIONS = (".json", ".yaml", ".yml", ".arcpatterns")


def loading_outcome() -> FixOutcome:
    """What a call gets while the pattern set is not ready: sent unchanged, its span says why."""
    return FixOutcome(None, {A.ARC_PATTERN_MATCHED: False, A.ARC_FIX_APPLIED: False,
                             A.ARC_FIX_SKIPPED_REASON: LOADING})


class WaitBudget:
    """``ARC_PATTERNS_WAIT_MS``: how long calls may wait for a loading set, counted from the
    first call that asks (every call arriving before that deadline waits up to it)."""

    def __init__(self, wait_ms: float | None = None) -> None:
        self._wait_ms = wait_ms
        self._deadline: float | None = None

    @property
    def wait_s(self) -> float:
        if self._wait_ms is None:
            from ..settings import value

            self._wait_ms = float(value("ARC_PATTERNS_WAIT_MS"))
        return self._wait_ms / 1000.0

    def remaining(self) -> float:
        wait_s = self.wait_s
        if wait_s <= 0:
            return 0.0
        if self._deadline is None:
            self._deadline = monotonic() + wait_s
        return max(0.0, self._deadline - monotonic())


WAIT = WaitBudget()
_pending: Pending | None = None  # the background start begun by ``begin``, if any
_import_done = threading.Event()


def import_done() -> None:
    """The runtime has patched the library whose import activated it: the import is about to
    return, and a background load may take the CPU (before, it would compete with the import)."""
    _import_done.set()


class Pending:
    """The fixer while the engine itself is still being imported and created in the background."""

    active = True

    def __init__(self, budget: WaitBudget = WAIT, from_control: bool = False) -> None:
        self.engine: Any = None
        self.created = threading.Event()
        self._budget = budget
        # a registry: set followed through a control server: a fresh mirror has nothing until the
        # subscriber's first download, which the ARC_PATTERNS_WAIT_MS budget waits for too
        self._from_control = from_control

    def fix(self, request: Any) -> FixOutcome | None:
        if self.created.is_set() or self.created.wait(self._budget.remaining()):
            engine = self.engine
            if engine is not None and self._from_control:
                engine.wait_patterns(self._budget.remaining())
                if state.RUNTIME.fixer is self:  # delivered, or the wait is over: the engine takes the calls
                    state.RUNTIME.fixer = engine
            if engine is not None and engine.active:
                return engine.fix(request)
            return None
        return loading_outcome()


def loads_quickly(paths: Iterable[str], limit: int = QUICK_BYTES) -> bool:
    """Whether the set named by ``paths`` is small plain files (``limit`` bytes in all), cheap to
    tell from their sizes alone. ``registry:`` sets and unreadable paths are not (the background
    load verifies and reports them)."""
    total = 0
    for p in paths:
        p = os.fspath(p)
        if p == "demo" and not os.path.exists(p):
            continue  # the shipped demo bundle: a few patterns
        if p.startswith("registry:"):
            return False
        try:
            if os.path.isdir(p):
                for root, _, names in os.walk(p):
                    for n in names:
                        if n.endswith(_SOURCE_EXTENSIONS):
                            total += os.stat(os.path.join(root, n)).st_size
                            if total > limit:
                                return False
            else:
                total += os.stat(p).st_size
        except OSError:
            return False
        if total > limit:
            return False
    return True


def begin(setting: str, make_engine: Callable[[], Any]) -> None:
    """Load the set ``setting`` (``ARC_PATTERNS``) names now if that is quick, else in the
    background. ``make_engine`` imports and creates the engine, which loads the set from the
    environment and installs itself as the fixer."""
    if "registry:" not in setting and loads_quickly(p for p in setting.split(os.pathsep) if p.strip()):
        make_engine()
        return
    global _pending
    from ..settings import text

    pending = _pending = Pending(from_control="registry:" in setting and bool(text("ARC_CONTROL_ENDPOINT")))
    state.RUNTIME.fixer = pending

    def run() -> None:
        try:
            _import_done.wait(IMPORT_WAIT_S)  # also when Arc was activated by ``Arc()``, not an import
            forkgate.import_modules(*ENGINE_IMPORTS)
            pending.engine = make_engine()
            if pending._from_control:  # calls keep coming here to wait for the server's first delivery
                state.RUNTIME.fixer = pending
        except Exception as exc:  # the app runs unfixed, as with a bad bundle
            failopen.record("patterns_load", exc)
            if state.RUNTIME.fixer is pending:
                state.RUNTIME.fixer = NoopFixer()
        finally:
            pending.created.set()

    def start() -> None:
        threading.Thread(target=run, name="arc-patterns-start", daemon=True).start()

    def after_fork_in_child() -> None:  # threads do not survive fork: a worker forked meanwhile starts again
        global _import_done
        _import_done, pending.created = _fresh(_import_done), _fresh(pending.created)
        if not pending.created.is_set() and forkgate.cut_at_fork() is None:  # else its calls say "loading"
            start()

    os.register_at_fork(after_in_child=after_fork_in_child)
    start()


def _fresh(event: threading.Event) -> threading.Event:
    """A new event in the state of ``event``, for a forked child: the old one's lock may have been held
    at the fork by a thread that does not exist there (set/wait take it), and would stay held for ever."""
    fresh = threading.Event()
    if event.is_set():  # reads the flag without the lock
        fresh.set()
    return fresh


def wait_ready(timeout: float) -> bool:
    """Wait (at most ``timeout`` s) until a background start begun by ``begin`` has its set
    loaded; True if it has (or none was begun). For tools and tests: the app never waits here."""
    pending = _pending
    if pending is None:
        return True
    deadline = monotonic() + timeout
    if not pending.created.wait(timeout):
        return False
    engine = pending.engine
    return engine is None or engine.wait_loaded(max(0.0, deadline - monotonic()))
