"""Spans survive the ways production stops a process: stop signals, server worker exits, pool children.

Python's default ``SIGTERM``/``SIGHUP`` action ends the process without ``atexit``, uvicorn re-raises
the signal with the default action after its graceful shutdown, and multiprocessing children end in
``os._exit``: each of these would drop what the batch processor still holds. So, once Arc is active:

- a stop signal left at its default action gets Arc's handler: a bounded final flush, then the
  default action is restored and the signal raised again (same exit status, same core behaviour);
- an app's (or server's) own Python handler is chained: a bounded flush, then the app's handler;
  ``SIG_IGN`` and Python's ``default_int_handler`` (``KeyboardInterrupt``, then ``atexit``) are left;
- ``signal.signal``/``signal.getsignal`` are wrapped so a handler installed after Arc (gunicorn and
  uvicorn workers do) is chained the same way and the app still reads back what it installed;
- multiprocessing children flush from a ``multiprocessing.util.Finalize`` (run before ``os._exit``).

Every flush waits at most ``ARC_SHUTDOWN_FLUSH_MS`` (a helper thread does the work, so a lock held by
the interrupted code can only cost the bound); sends still open near the bound are cancelled and
their spans go to the WAL (``ARC_WAL_PATH``) for the next process, or are counted as lost at exit.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from time import monotonic
from typing import Callable

from .. import failopen
from .stats import STATS

log = logging.getLogger("arc")

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name))

_real_signal = signal.signal
_real_getsignal = signal.getsignal
_app_handlers: dict = {}  # signal -> the handler the app installed (what ``signal.getsignal`` reports)
_wrapped = False
_in_stop = False  # a stop signal's flush is running (a second signal then acts at once)
_final_pid = -1  # the process whose final flush has run
_mp_registered_pid = -1
_cut_off_pid = -1  # the process whose last stop flush hit the bound: its later stop flushes only spill
_final_thread = None  # the thread running a final flush (exit, pool child end) now
_final_done = threading.Event()
_celery_hooked = False
_deferred: list = []  # stop signals that came during the main thread's own final flush: raised after it
# the span pipeline, handed over by ``install`` (tracing.py calls ``flush`` here, so this module does not
# import it): ``shutdown(reason=)`` flushes and stops it, ``pipeline()`` is ``(provider, owned, exporter)``
_pipeline_shutdown: Callable[..., None] | None = None
# ending.SpanEnder.drain/stop of Arc's own provider (tracing.py sets it): queued span ends run first
before_flush: Callable[[bool], None] | None = None
_pipeline: Callable[[], tuple] | None = None


def bound_s() -> float:
    """``ARC_SHUTDOWN_FLUSH_MS`` in seconds (a bad value is logged and the default used)."""
    from .. import settings

    return float(settings.value("ARC_SHUTDOWN_FLUSH_MS")) / 1000.0


def _reserve(bound: float) -> float:
    """Time kept back at the end of a flush to cancel open sends and spill their spans."""
    return min(0.5, max(0.05, bound * 0.25))


def run_bounded(work: Callable[[], object]) -> threading.Event:
    """Start ``work`` in a helper thread; the returned event is set when it is done.

    A helper thread, because a signal handler runs between two bytecodes of the main thread, which
    may hold a lock the flush needs: waiting on an event with a timeout is the only safe wait."""
    done = threading.Event()

    def run() -> None:
        try:
            work()
        except Exception as exc:
            failopen.record("stop_flush", exc)
        finally:
            done.set()

    try:
        threading.Thread(target=run, name="arc-stop-flush", daemon=True).start()
    except RuntimeError:  # no new threads (interpreter finalizing): sends are bounded by the exporter
        run()
    return done


def flush(provider, owned: bool, exporter, reason: str, final: bool, bound: float | None = None) -> bool:
    """One bounded flush (``final``: and shut Arc's own provider down); True when it finished in time."""
    global _final_thread
    if not final:
        return _flush(provider, owned, exporter, reason, final, bound)
    _final_thread = threading.get_ident()
    _final_done.clear()
    try:
        return _flush(provider, owned, exporter, reason, final, bound)
    finally:
        _final_thread = None
        _final_done.set()
        while _deferred:  # e.g. Pool.terminate's SIGTERM to a worker that was already flushing at its end
            sig = _deferred.pop(0)
            _real_signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)


def _flush(provider, owned: bool, exporter, reason: str, final: bool, bound: float | None) -> bool:
    global _cut_off_pid
    bound = bound_s() if bound is None else bound
    deadline = monotonic() + bound
    send_deadline = deadline - _reserve(bound)
    mine = exporter if owned else None
    if mine is not None:
        mine.begin_stop(send_deadline)
        if final and _cut_off_pid == os.getpid():  # the collector did not answer a moment ago: one
            mine.cancel_sends(final)                # bound per stop, so spill to the WAL at once

    def work() -> None:
        ending = before_flush if owned else None
        if ending is not None:
            ending(final)
        if final and owned:
            provider.shutdown()  # the batch processor exports all it holds, then the exporter closes
        else:
            provider.force_flush(int(bound * 1000))
            if mine is not None:
                mine.force_flush(int(bound * 1000))

    done = run_bounded(work)
    finished = done.wait(max(0.0, send_deadline - monotonic()))
    if not finished and mine is not None:
        mine.cancel_sends(final)  # open sends fail now: their spans go to the WAL or are counted
        finished = done.wait(max(0.0, deadline - monotonic()))
    if mine is not None and mine.cut_off:
        _cut_off_pid = os.getpid()
    if mine is not None and not final:
        mine.end_stop()
    if not finished and final:
        lost = mine.inflight_spans if mine is not None else 0
        STATS.dropped_at_exit += lost
        log.warning("arc: span flush at %s did not finish within ARC_SHUTDOWN_FLUSH_MS=%d ms; at least %d "
                    "span(s) still queued are lost", reason, round(bound * 1000), lost)
    elif not finished:  # the app goes on: what is left is sent later, or at the final flush
        log.debug("arc: span flush at %s did not finish within %d ms", reason, round(bound * 1000))
    return finished


def final_flush(reason: str) -> None:
    """The process is about to end: flush and stop Arc's pipeline once, within the bound."""
    global _final_pid
    if _final_pid == os.getpid():
        return
    _final_pid = os.getpid()
    if _pipeline_shutdown is not None:
        _pipeline_shutdown(reason=reason)


def _flush_before_app_handler(reason: str) -> None:
    provider, owned, exporter = _pipeline() if _pipeline is not None else (None, False, None)
    if provider is not None:
        flush(provider, owned, exporter, reason, final=False)


# -- signals ---------------------------------------------------------------------------------------
def _on_stop_signal(signum: int, frame) -> object:
    """Arc's handler for a stop signal; what the app installed (``_app_handlers``) decides the rest."""
    global _in_stop
    app = _app_handlers.get(signum, signal.SIG_DFL)
    name = signal.Signals(signum).name
    if app in (signal.SIG_DFL, None):
        if _in_stop:  # a second signal during the flush: the default action at once
            pass
        elif _final_thread == threading.get_ident():  # it interrupted the exit flush: raised after it
            _in_stop = True
            _deferred.append(signum)
            return None
        else:
            _in_stop = True
            try:
                if _final_thread is not None:  # another thread is flushing for the exit: let it end
                    _final_done.wait(bound_s())
                else:
                    final_flush(name)
            except Exception as exc:
                failopen.record("stop_signal", exc)
        _real_signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)  # the default action: same exit status and core behaviour as without Arc
        return None
    if app is signal.SIG_IGN:
        return None
    if not _in_stop:
        _in_stop = True
        try:
            _flush_before_app_handler(name)
        except Exception as exc:
            failopen.record("stop_signal", exc)
        finally:
            _in_stop = False
    return app(signum, frame)


def _arc_takes(handler) -> bool:
    """Whether Arc's handler goes in front of ``handler`` (SIG_IGN and KeyboardInterrupt are left)."""
    return handler is signal.SIG_DFL or (callable(handler) and handler is not signal.default_int_handler
                                         and handler is not _on_stop_signal)


def _signal(signalnum, handler):
    """``signal.signal`` as the app sees it: same errors and return value; stop signals get Arc's flush."""
    if signalnum not in STOP_SIGNALS or not _arc_takes(handler) or \
            threading.current_thread() is not threading.main_thread():
        previous = _real_signal(signalnum, handler)  # raises exactly as without Arc
        shown = _app_handlers.pop(signalnum, signal.SIG_DFL) if previous is _on_stop_signal else previous
        return shown
    previous = _real_signal(signalnum, _on_stop_signal)
    shown = _app_handlers.get(signalnum, signal.SIG_DFL) if previous is _on_stop_signal else previous
    _app_handlers[signalnum] = handler
    return shown


def _getsignal(signalnum):
    current = _real_getsignal(signalnum)
    return _app_handlers.get(signalnum, signal.SIG_DFL) if current is _on_stop_signal else current


def _take_over_signals() -> None:
    """Put Arc's handler in front of each stop signal the app left at default or handles itself."""
    for sig in STOP_SIGNALS:
        current = _real_getsignal(sig)
        if _arc_takes(current):
            _real_signal(sig, _on_stop_signal)
            _app_handlers[sig] = current


# -- multiprocessing children ----------------------------------------------------------------------
def _mp_child_exit() -> None:
    final_flush("multiprocessing child exit")


def _register_mp_final(_obj=None) -> None:
    """In a multiprocessing child: flush from its exit function (it ends with ``os._exit``)."""
    global _mp_registered_pid
    if _mp_registered_pid == os.getpid():
        return
    _mp_registered_pid = os.getpid()
    from multiprocessing import util

    util.Finalize(None, _mp_child_exit, exitpriority=100)


class _ForkToken:
    """Key for ``multiprocessing.util.register_after_fork`` (it keeps a weak reference)."""


_FORK_TOKEN = _ForkToken()


def _celery_child_exit(**_kwargs) -> None:
    final_flush("celery worker_process_shutdown")


def _hook_celery() -> None:
    """A Celery prefork child ends in ``os._exit`` right after Celery's public ``worker_process_shutdown``
    signal: flush there (not relying on billiard's SIGTERM to the dying child). Only if Celery is loaded."""
    global _celery_hooked
    signals = sys.modules.get("celery.signals")
    if _celery_hooked or signals is None:
        return
    _celery_hooked = True
    signals.worker_process_shutdown.connect(_celery_child_exit, weak=False)


def _after_fork_in_child() -> None:
    """A forked child (gunicorn worker, multiprocessing pool, Celery prefork) flushes at its own exit."""
    global _in_stop, _final_thread, _final_done
    _in_stop, _final_thread = False, None
    _final_done = threading.Event()  # its lock may have been held at the fork by a thread gone in the child
    _deferred.clear()
    util = sys.modules.get("multiprocessing.util")
    if util is not None:  # run by the child's bootstrap after it clears the parent's finalizers
        util.register_after_fork(_FORK_TOKEN, _register_mp_final)
    try:
        _hook_celery()
    except Exception as exc:
        failopen.record("stop_celery", exc)


def _in_multiprocessing_child() -> bool:
    mp = sys.modules.get("multiprocessing")
    try:
        return mp is not None and mp.parent_process() is not None
    except Exception:
        return False


def install(shutdown: Callable[..., None], pipeline: Callable[[], tuple]) -> None:
    """Called once at activation (never at interpreter start) with the span pipeline's ``shutdown`` and
    ``pipeline`` (``tracing.py``). Signal handlers can only be set from the main thread: elsewhere only
    ``signal.signal`` is wrapped, so the app's later handlers chain."""
    global _wrapped, _pipeline_shutdown, _pipeline
    _pipeline_shutdown, _pipeline = shutdown, pipeline
    if _wrapped:
        return
    _wrapped = True
    signal.signal, signal.getsignal = _signal, _getsignal
    if threading.current_thread() is threading.main_thread():
        _take_over_signals()
    else:
        log.debug("arc: activated off the main thread; stop signals are flushed once the app sets a handler")
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
    if _in_multiprocessing_child():
        _register_mp_final()
    _hook_celery()
