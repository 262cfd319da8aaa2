"""Hot reload: a daemon thread polls the bundle files' (mtime, size) and reloads on change."""

from __future__ import annotations

import os
import threading
from typing import Callable

from .bundle import resolve_paths
from .errors import BundleError


def signature(paths: list) -> tuple:
    """What identifies the current content of ``paths`` cheaply: the file list and their stats."""
    try:
        files = resolve_paths(paths)
    except BundleError:
        return ("missing", tuple(paths))
    out = []
    for f in files:
        try:
            st = os.stat(f)
            out.append((f, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((f, None, None))
    return tuple(out)


class Watcher:
    """Calls ``on_change()`` when ``current()`` differs from ``seen()``; ``stop()`` ends it."""

    def __init__(self, interval: float, seen: Callable[[], tuple], paths: Callable[[], list],
                 on_change: Callable[[], object]) -> None:
        self.interval = interval
        self._seen = seen
        self._paths = paths
        self._on_change = on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="arc-patterns-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if signature(self._paths()) != self._seen():
                    self._on_change()
            except Exception as exc:  # never let the watcher die on a bad poll
                from .. import failopen

                failopen.record("patterns_watch", exc)
