"""Arc's background imports, never cut in half by a fork.

Arc imports heavy packages in daemon threads (grpc and the OTLP exporter, the pattern engine with
numpy, rbloom and re2) so the app's own ``import openai`` does not pay for them. A fork while such a
thread is inside an import leaves the child a half-initialised module whose import lock belongs to a
thread that does not exist there: the child's next import of it (the app's or Arc's) waits for ever,
or, when the child's new thread gets the dead thread's id, returns the half module (a worker forked
while the pattern engine was being imported reported the set ready and sent calls unfixed).

So each background import is one package at a time under a gate, and a fork (``os.fork`` and every
library built on it) takes the gate first: it waits for the rest of the one package being imported
(typically a few hundred milliseconds, and only in the first second or so after activation), never
for the whole start-up. ``FORK_WAIT_S`` bounds that wait in case an import hangs; a fork that could
not wait is logged and counted, and the child knows (``cut_at_fork``) so that Arc does not import
there what was cut (its patterns then stay "loading" in that child, honestly reported).
"""

from __future__ import annotations

import importlib
import os
import threading
from types import ModuleType

from . import failopen

FORK_WAIT_S = 2.0  # only a hung import reaches it: one package import, not the start-up, is waited for
_gate = threading.Lock()
_importing: str | None = None  # the package a background thread is importing under the gate
_holder: int | None = None  # the thread id holding the gate
_fork_has_gate = False
_fork_gave_up = False  # the last fork did not get the gate within FORK_WAIT_S
_cut: str | None = None  # in a forked child: what a background import was in when the fork went ahead


def _register_fork_hooks() -> None:
    """Registered when this module is imported, before the hooks of its users: in a child, the gate is
    free again before any of their hooks starts a thread that takes it."""
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                            after_in_child=_after_fork_in_child)


def import_modules(*names: str) -> None:
    """Import ``names`` in order, each under the gate (a fork between two of them is fine)."""
    for name in names:
        import_module(name)


def import_module(name: str) -> ModuleType:
    """``importlib.import_module(name)`` that a fork cannot interrupt (from any thread)."""
    global _importing, _holder
    if _holder == threading.get_ident():  # nested (an import under the gate imports more): already held
        return importlib.import_module(name)
    with _gate:
        _importing, _holder = name, threading.get_ident()
        try:
            return importlib.import_module(name)
        finally:
            _importing, _holder = None, None


def cut_at_fork() -> str | None:
    """In a forked child: the module a background import was inside when the fork went ahead without
    waiting for it (past ``FORK_WAIT_S``), else None. Nothing of it may be imported in this process."""
    return _cut


def _before_fork() -> None:
    global _fork_has_gate, _fork_gave_up
    if _holder == threading.get_ident():  # the forking thread is inside one of these imports: it goes on in both
        _fork_has_gate = _fork_gave_up = False
        return
    _fork_has_gate = _gate.acquire(timeout=FORK_WAIT_S)
    _fork_gave_up = not _fork_has_gate


def _after_fork_in_parent() -> None:
    global _fork_has_gate, _fork_gave_up
    if _fork_has_gate:
        _gate.release()
    _fork_has_gate = _fork_gave_up = False


def _after_fork_in_child() -> None:
    global _gate, _fork_has_gate, _fork_gave_up, _cut, _importing, _holder
    cut = _importing if _fork_gave_up else None
    if _fork_has_gate:  # the same lock, free again (a thread a hook started here may already wait on it)
        _gate.release()
    elif _fork_gave_up:  # held by a thread that does not exist here
        _gate, _importing, _holder = threading.Lock(), None, None
    _fork_has_gate = _fork_gave_up = False
    _cut = _cut or cut  # sticky: a grandchild inherits the half module too
    if cut is not None:
        failopen.record("fork_cut_import", RuntimeError(
            f"forked while Arc was importing {cut} in the background (waited {FORK_WAIT_S:g} s); "
            f"Arc does not import it in this process (pid {os.getpid()})"))


_register_fork_hooks()
