"""Telemetry guards set from ARC_* env at activation: circuit breaker, dynamic sampling, metrics endpoint.

Each guard is installed only when its settings turn it on, so an unused guard costs nothing. The
call path sees them through ``state.RUNTIME``: ``sampler`` (asked once per call) and one observer
(called once per finished call) that feeds the breaker's ring, the metrics counters and the
sampled-out count. Fork-aware: a forked child resets its counters, drops the parent's metrics
socket (``stop.py`` flushes its spans when it exits).
"""

from __future__ import annotations

import logging
import os
from typing import Optional

from .. import failopen, settings, state
from .stats import STATS

log = logging.getLogger("arc")


class Guards:
    def __init__(self) -> None:
        self.breaker = None
        self.sampler = None
        self.calls = None
        self.server = None
        self.observer = None

    def status(self) -> dict:
        return {
            "breaker": self.breaker.status() if self.breaker else {"enabled": False},
            "sampling": self.sampler.status() if self.sampler else {"enabled": False},
            "sampled_out": STATS.sampled_out_total(),
            "metrics_url": self.server.url if self.server and self.server.pid == os.getpid() else None,
        }


GUARDS = Guards()
_fork_hook_installed = False


def make_observer(breaker=None, calls=None, count_sampled_out: bool = False):
    """One callable per finished call doing only what the enabled guards need."""
    if breaker is not None and calls is None and not count_sampled_out:
        return breaker.observe  # the default set-up: no extra call layer
    record = breaker.record if breaker is not None else None
    add = calls.add if calls is not None else None

    def observe(call, error: bool) -> None:
        if record is not None:
            record(call.arc_ns)
        if add is not None:
            add(call, error)
        if count_sampled_out and not call.sampled and not error:
            STATS.sampled_out += 1

    return observe


def make_sampled_out_hook(breaker=None, calls=None):
    """``state.RUNTIME.on_sampled_out``: what the observers would do for a sampled-out call that
    succeeded with nothing fixed, without the ``LLMCall`` the call path skips for it."""
    record = breaker.record if breaker is not None else None
    add = calls.add_spec if calls is not None else None
    stats = STATS

    def on_sampled_out(spec, arc_ns: int) -> None:
        stats.sampled_out += 1
        if record is not None:
            record(arc_ns)
        if add is not None:
            add(spec, arc_ns)

    return on_sampled_out


def install_from_env(runtime, environ=None) -> Guards:
    """Read and validate the guard settings, install what they turn on; never raises."""
    env = os.environ if environ is None else environ
    rt = state.RUNTIME
    if GUARDS.observer is not None:
        return GUARDS
    from .breaker import CircuitBreaker
    from .tracing import depth

    max_ms = settings.value("ARC_BREAKER_MS", env)
    max_queue = settings.value("ARC_BREAKER_QUEUE", env)
    if max_ms or max_queue:
        GUARDS.breaker = CircuitBreaker(max_ms, max_queue, settings.value("ARC_BREAKER_COOLDOWN_S", env), depth)
    max_qps = settings.value("ARC_SAMPLE_QPS", env)
    if max_qps:
        from .sampling import DynamicSampler

        GUARDS.sampler = DynamicSampler(max_qps, settings.value("ARC_SAMPLE_RATE", env))
        rt.sampler = GUARDS.sampler
    port = settings.value("ARC_METRICS_PORT", env)
    if port is not None:
        from .callstats import CallStats

        GUARDS.calls = CallStats()
        _start_metrics(runtime, settings.value("ARC_METRICS_HOST", env) or "127.0.0.1", int(port))
    if GUARDS.breaker or GUARDS.calls or GUARDS.sampler:
        GUARDS.observer = make_observer(GUARDS.breaker, GUARDS.calls, GUARDS.sampler is not None)
        rt.observers.append(GUARDS.observer)
    if GUARDS.sampler is not None:
        rt.on_sampled_out = make_sampled_out_hook(GUARDS.breaker, GUARDS.calls)
        # the call path's fast skip counts per spec for the metrics only; the sampler counts its
        # calls (STATS.sampled_out_total); it records nothing in the breaker (see breaker.py)
        GUARDS.sampler.count_spec = GUARDS.calls.add_spec if GUARDS.calls is not None else None
        STATS.fast_skips = GUARDS.sampler.sampled_out
        rt.skipper = GUARDS.sampler
    _install_fork_hook()
    return GUARDS


def _start_metrics(runtime, host: str, port: int) -> None:
    try:
        from .metrics import ArcMetrics, MetricsServer, metrics_token
    except ImportError as exc:
        log.error("arc: ARC_METRICS_PORT is set but prometheus-client is not importable (%s); no metrics", exc)
        return

    def patterns() -> Optional[dict]:
        return runtime.patterns.stats() if runtime.patterns is not None else None

    def status() -> dict:
        info = runtime.status()
        info.setdefault("guards", GUARDS.status())
        return info

    try:
        token = metrics_token(host, settings.text("ARC_METRICS_TOKEN_FILE"))
    except ValueError as exc:
        GUARDS.calls = None
        log.error("arc: not serving metrics on %s:%s: %s", host, port, exc)
        return
    try:
        GUARDS.server = MetricsServer(host, port, ArcMetrics(GUARDS.calls, GUARDS, patterns), status,
                                      token=token).start()
    except OSError as exc:
        GUARDS.calls = None  # nothing would read the counters
        log.error("arc: cannot serve metrics on %s:%s (ARC_METRICS_PORT): %s; continuing without", host, port,
                  exc.strerror or exc)


def _install_fork_hook() -> None:
    global _fork_hook_installed
    if not _fork_hook_installed and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
        _fork_hook_installed = True


def _after_fork_in_child() -> None:
    try:
        if GUARDS.breaker is not None:
            GUARDS.breaker.after_fork()
        if GUARDS.calls is not None:
            GUARDS.calls.after_fork()
        if GUARDS.server is not None:
            GUARDS.server.after_fork()
        STATS.sampled_out = 0
        if GUARDS.sampler is not None:
            GUARDS.sampler.sync()
            GUARDS.sampler.fast_skipped = GUARDS.sampler.fast_failed = 0
    except Exception as exc:
        failopen.record("after_fork", exc)

