"""Ending Arc's kept spans off the app's thread: ``set_attributes`` + ``end(end_time=...)`` in batches.

Why: with Arc's own provider, most of a kept call's cost on the app's thread is the SDK checking
the span's attributes (``BoundedAttributes``) and ending it (the ``ReadableSpan`` copy, the processor
chain), work whose result nobody on that thread waits for. The span is still started on the app's
thread (the sampler decides there, its ids are known at once for ``report_failure``), and ended here
with the call's own end time, through the public ``Span`` API only: the exported span is the same.

The app's thread only appends to a deque (no lock taken by Arc, no wait); the worker wakes when a
batch is ready, when the first span arrives after a quiet spell, or after ``batch_s``. Nothing is
lost: past ``max_pending`` spans the app's thread ends its span itself; every flush and stop ends
what is queued first (``drain``); a forked child drops its copy of the parent's queue (the parent
ends those). Only for Arc's own provider: an app's provider may have processors that expect
``on_end`` in the caller's thread (an in-memory exporter read right after the call).
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import weakref
from time import time_ns
from typing import Any

log = logging.getLogger("arc")

BATCH = 64  # spans that wake the worker at once
MAX_PENDING = 4096  # past this the app's thread ends its own span (never dropped)


class SpanEnder:
    def __init__(self, batch_s: float = 0.02, idle_s: float = 1.0, batch: int = BATCH,
                 max_pending: int = MAX_PENDING) -> None:
        self.batch_s = batch_s
        self.idle_s = idle_s
        self.batch = batch
        self.max_pending = max_pending
        self._reset()
        if hasattr(os, "register_at_fork"):
            ref = weakref.WeakMethod(self._after_fork_in_child)
            os.register_at_fork(after_in_child=lambda: ref() and ref()())

    def start(self) -> None:
        """Start the worker now (with the provider), not inside an app's call."""
        self._running()

    def _after_fork_in_child(self) -> None:
        stopped = self._stopped
        self._reset()  # the parent ends the spans its queue held
        if not stopped:
            self._running()

    def _reset(self) -> None:
        self._queue: collections.deque = collections.deque()
        self._wake = threading.Event()
        self._draining = threading.Lock()  # a flush's drain waits for the worker's batch in progress
        self._idle = True
        self._thread: threading.Thread | None = None
        self._stopped = False

    def end(self, span: Any, attributes: dict | None, status: Any = None) -> None:
        """Give ``span`` its last ``attributes`` (and ``status``) and end it as of now, off this thread."""
        end_ns = time_ns()
        queue = self._queue
        if self._stopped or len(queue) >= self.max_pending or not self._running():
            _finish(span, attributes, status, end_ns)
            return
        queue.append((span, attributes, status, end_ns))
        if self._idle or len(queue) == self.batch:
            self._idle = False
            self._wake.set()

    def _running(self) -> bool:
        thread = self._thread
        if thread is not None:
            return True
        try:
            thread = threading.Thread(target=self._run, name="arc-span-ender", daemon=True)
            thread.start()
        except RuntimeError:  # interpreter shutting down: end on the caller's thread
            return False
        self._thread = thread
        return True

    def _run(self) -> None:
        queue, wake = self._queue, self._wake
        while True:
            self.drain()
            self._idle = True
            if not queue:  # checked after announcing idleness: a span appended meanwhile is seen
                wake.wait(self.idle_s)
            self._idle = False
            wake.clear()
            if queue and len(queue) < self.batch:
                wake.wait(self.batch_s)  # gather a batch: one GIL turn ends many spans
                wake.clear()
            if self._stopped or queue is not self._queue:  # stopped, or forked: this thread is done
                self.drain()
                return

    def drain(self) -> int:
        """End every queued span now, in this thread (flush, stop, the worker's turn); returns when
        every span queued before the call has ended (also those the worker was ending)."""
        queue, n = self._queue, 0
        with self._draining:  # never taken on the app's thread: end() only appends
            while True:
                try:
                    span, attributes, status, end_ns = queue.popleft()
                except IndexError:
                    return n
                _finish(span, attributes, status, end_ns)
                n += 1

    def pending(self) -> int:
        return len(self._queue)

    def stop(self) -> None:
        """Final stop: end what is queued; later spans end on their own thread."""
        self._stopped = True
        self._wake.set()
        self.drain()


def _finish(span: Any, attributes: dict | None, status: Any, end_ns: int) -> None:
    try:
        if attributes:
            span.set_attributes(attributes)
        if status is not None:
            span.set_status(status)
        span.end(end_time=end_ns)
    except Exception as exc:  # fail open: one bad span never stops the others
        from .. import failopen

        failopen.record("span_end", exc)
