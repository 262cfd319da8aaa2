"""Making Arc's kept spans off the app's thread: ``start_span(start_time=)``, ``set_attributes``,
``end(end_time=)`` through the SDK's public ``Tracer``/``Span`` API, in batches, in a worker thread.

Why: with Arc's own provider, most of a kept call's cost on the app's thread was the SDK building
the span (ids, ``Span`` with its locks and bounded containers), checking its attributes
(``BoundedAttributes``) and ending it (the ``ReadableSpan`` copy, the processor chain): work whose
result nobody on that thread waits for. What must be known on the app's thread is decided there:
the sampler's decision (``sampled`` below: a sampled-out call builds nothing) and the span's ids
(``report_failure`` links to them at once). The worker then makes the span with exactly those: Arc's
provider is built with ``PresetSampler`` and ``PresetIds``, which hand the SDK the decision and ids
the app's thread made (public ``Sampler``/``IdGenerator`` extension points), and with the call's
own start and end times. The exported span is the one the app's thread would have made.

The app's thread only appends to a deque (no lock taken by Arc, no wait); the worker wakes when a
batch is ready, when the first span arrives after a quiet spell, or after ``batch_s``. Nothing is
lost: past ``max_pending`` spans the app's thread ends its span itself; every flush and stop ends
what is queued first (``drain``); a forked child drops its copy of the parent's queue (the parent
ends those). Only for Arc's own provider: an app's provider may have processors that expect
``on_end`` in the caller's thread (an in-memory exporter read right after the call).
"""

from __future__ import annotations

import collections
import os
import threading
import weakref
from time import time_ns
from typing import Any

BATCH = 64  # spans that wake the worker at once
MAX_PENDING = 4096  # past this the app's thread ends its own span (never dropped)
QUIET_TURNS = 3  # empty turns before the worker sleeps until the next span


class _Preset(threading.local):
    ids = None  # (trace_id, span_id) of the next span this thread starts through Arc's tracer
    result = None  # the SamplingResult the app's thread got for it


PRESET = _Preset()


def preset_parts():
    """``(PresetSampler, PresetIds)`` classes (the SDK is imported only when Arc builds its provider)."""
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
    from opentelemetry.sdk.trace.sampling import Sampler

    class PresetSampler(Sampler):
        """``inner``'s decisions, except for a span the worker starts: the app thread's decision."""

        def __init__(self, inner) -> None:
            self.inner = inner

        def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None, links=None,
                          trace_state=None):
            result = PRESET.result
            if result is not None:
                return result
            return self.inner.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

        def get_description(self) -> str:
            return self.inner.get_description()

    class PresetIds(RandomIdGenerator):
        """Random ids, except for a span the worker starts: the ids the app's thread gave it."""

        def generate_span_id(self) -> int:
            ids = PRESET.ids
            return ids[1] if ids is not None else super().generate_span_id()

        def generate_trace_id(self) -> int:
            ids = PRESET.ids
            return ids[0] if ids is not None else super().generate_trace_id()

    return PresetSampler, PresetIds


class PendingSpan:
    """A kept span decided on the app's thread, made by the worker (``make``) when its call ends."""

    __slots__ = ("name", "parent", "kind", "attributes", "start_ns", "trace_id", "span_id", "result",
                 "flags", "_context")

    def __init__(self, name: str, parent: Any, kind: Any, attributes: dict, start_ns: int, trace_id: int,
                 span_id: int, result: Any, flags: int) -> None:
        self.name, self.parent, self.kind, self.attributes = name, parent, kind, attributes
        self.start_ns, self.trace_id, self.span_id, self.result = start_ns, trace_id, span_id, result
        self.flags = flags  # the trace flags the SDK will give the span (sampled, random trace id)
        self._context = None

    def is_recording(self) -> bool:
        return True

    def get_span_context(self):
        """The ``SpanContext`` the worker's span will have (ids, flags, trace state)."""
        context = self._context
        if context is None:
            from opentelemetry.trace import SpanContext, TraceFlags

            context = self._context = SpanContext(self.trace_id, self.span_id, is_remote=False,
                                                  trace_flags=TraceFlags(self.flags),
                                                  trace_state=self.result.trace_state)
        return context

    def make(self, tracer: Any) -> Any:
        """The SDK span, started through ``tracer`` with this span's decision, ids and start time."""
        PRESET.ids, PRESET.result = (self.trace_id, self.span_id), self.result
        try:
            return tracer.start_span(self.name, context=self.parent, kind=self.kind, attributes=self.attributes,
                                     start_time=self.start_ns)
        finally:
            PRESET.ids = PRESET.result = None


class SpanEnder:
    def __init__(self, tracer: Any = None, batch_s: float = 0.1, idle_s: float = 1.0, batch: int = BATCH,
                 max_pending: int = MAX_PENDING) -> None:
        self.tracer = tracer  # makes the ``PendingSpan``s
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
        if self._stopped or len(queue) >= self.max_pending or (self._thread is None and not self._running()):
            self._finish(span, attributes, status, end_ns)
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
        """Wake every ``batch_s`` while spans come (or at once when a batch is full): one GIL turn
        makes many spans. After a few empty turns, sleep until the next span sets ``_wake``."""
        queue, wake = self._queue, self._wake
        quiet = 0
        while True:
            wake.wait(self.batch_s if quiet < QUIET_TURNS else self.idle_s)
            wake.clear()
            self._idle = False
            if self._stopped or queue is not self._queue:  # stopped, or forked: this thread is done
                self.drain()
                return
            if queue:
                quiet = 0
                self.drain()
            elif quiet < QUIET_TURNS:
                quiet += 1
                if quiet == QUIET_TURNS:
                    self._idle = True  # announced before the queue is looked at again (end() sets _wake)
                    if queue:
                        quiet = 0
                        self._idle = False

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
                self._finish(span, attributes, status, end_ns)
                n += 1

    def pending(self) -> int:
        return len(self._queue)

    def stop(self) -> None:
        """Final stop: end what is queued; later spans end on their own thread."""
        self._stopped = True
        self._wake.set()
        self.drain()


    def _finish(self, span: Any, attributes: dict | None, status: Any, end_ns: int) -> None:
        try:
            if type(span) is PendingSpan:
                span = span.make(self.tracer)
        except Exception as exc:
            from .. import failopen

            failopen.record("span_start", exc)
            return
        _finish(span, attributes, status, end_ns)


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
