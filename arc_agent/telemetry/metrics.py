"""Prometheus metrics and the JSON status page, served only when ``ARC_METRICS_PORT`` is set.

Routes: ``/arc/runtime/metrics`` and ``/metrics`` (Prometheus text, prometheus-client exposition),
``/arc/runtime/status`` (JSON). Values are read at scrape time from ``CallStats``, ``STATS``, the
breaker, the sampler and the pattern engine, so serving costs the hot path nothing. Binds
127.0.0.1 unless ``ARC_METRICS_HOST`` says otherwise; beyond loopback only with a token
(``ARC_METRICS_TOKEN_FILE``, sent by Prometheus as ``authorization: {credentials_file: ...}``), which
every request must then carry as ``Authorization: Bearer``. At most ``MAX_CONNECTIONS`` threads. This module imports
prometheus-client, so it is imported only when the endpoint is on.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import choose_encoder

from .. import failopen, fastpaths, state
from ..netutil import ConnectionCap, is_loopback, read_token_file
from . import tracing
from .callstats import BUCKETS_S, CallStats
from .stats import STATS

log = logging.getLogger("arc")

METRICS_PATHS = ("/arc/runtime/metrics", "/metrics")
MAX_CONNECTIONS = 16  # scrapers; more at once are answered 503 (one thread each, in the app's process)
IDLE_TIMEOUT_S = 10.0  # a connection silent this long (per read or write) is closed
STATUS_PATH = "/arc/runtime/status"


def _counter(name: str, doc: str, labels=(), rows=()) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=list(labels))
    for label_values, value in rows:
        family.add_metric(list(label_values), value)
    return family


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


class ArcMetrics:
    """A prometheus-client custom collector: every family is built from live counters per scrape."""

    def __init__(self, calls: CallStats, guards, pattern_stats: Callable[[], dict | None]) -> None:
        self.calls = calls
        self.guards = guards
        self.pattern_stats = pattern_stats

    def collect(self):
        snap = self.calls.snapshot()
        yield _counter("arc_requests_intercepted", "LLM calls Arc intercepted", ("provider", "operation"),
                       snap["requests"].items())
        yield _counter("arc_request_errors", "Intercepted LLM calls that raised", ("provider", "operation",
                       "error_type"), snap["errors"].items())
        yield _counter("arc_fixes_applied", "Calls sent with a fix, by matched pattern", ("pattern_id",),
                       (((pid,), n) for pid, n in snap["fixes"].items()))
        cumulative, buckets = 0, []
        for bound, n in zip((*(repr(b) for b in BUCKETS_S), "+Inf"), snap["buckets"]):
            cumulative += n
            buckets.append((bound, cumulative))
        yield HistogramMetricFamily("arc_interception_latency_seconds",
                                    "Arc's own time per intercepted call (excludes the provider call)",
                                    buckets=buckets, sum_value=snap["sum_s"])
        patterns = None
        try:
            patterns = self.pattern_stats()
        except Exception as exc:
            failopen.record("metrics_patterns", exc)
        patterns = patterns or {}
        yield _gauge("arc_pattern_cache_hit_ratio", "Pattern spec cache hit ratio",
                     patterns.get("cache_hit_ratio", 0.0))
        yield _gauge("arc_bloom_false_positive_ratio", "Observed Bloom filter false-positive ratio",
                     patterns.get("bloom_false_positive_ratio", 0.0))
        yield _gauge("arc_patterns_loaded", "Patterns in the active set", patterns.get("patterns", 0))
        yield _gauge("arc_telemetry_queue_depth", "Spans waiting in the span processor queue",
                     tracing.processor_depth())
        yield _gauge("arc_telemetry_buffered_spans", "Spans buffered (memory or WAL) until the collector answers",
                     STATS.buffered_spans)
        yield _counter("arc_telemetry_dropped", "Spans lost for good (buffer full, rejected)",
                       rows=(((), STATS.dropped_spans),))
        yield _counter("arc_telemetry_repaired_spans", "Spans sent with text that did not encode replaced",
                       rows=(((), STATS.repaired_spans),))
        yield _counter("arc_telemetry_dropped_at_exit", "Spans lost because the process stopped before they "
                       "left (ARC_SHUTDOWN_FLUSH_MS)", rows=(((), STATS.dropped_at_exit),))
        yield _counter("arc_telemetry_exported_spans", "Spans the collector accepted",
                       rows=(((), STATS.exported_spans),))
        yield _counter("arc_spans_sampled_out", "Calls whose span dynamic sampling skipped",
                       rows=(((), STATS.sampled_out_total()),))
        yield _gauge("arc_last_flush_timestamp_seconds", "Unix time of the last successful export",
                     STATS.last_flush_ts)
        breaker = self.guards.breaker
        yield _gauge("arc_circuit_open", "1 while the circuit breaker passes calls through",
                     1.0 if state.RUNTIME.breaker_open else 0.0)
        yield _counter("arc_circuit_opens", "Times the circuit breaker opened",
                       rows=(((), breaker.opens if breaker else 0),))
        sampler = self.guards.sampler
        yield _gauge("arc_sampling_active", "1 while dynamic sampling keeps only ARC_SAMPLE_RATE of spans",
                     1.0 if sampler is not None and sampler.active else 0.0)
        yield _counter("arc_internal_errors", "Arc's own errors (the call went through unchanged)", ("kind",),
                       (((kind,), n) for kind, n in failopen.counts().items()))
        yield _counter("arc_fast_path_off", "Uses of the public fallback of a fast path on a dependency's internals",
                       ("path", "reason"), fastpaths.counts().items())


def metrics_token(host: str, token_file: str | None) -> str | None:
    """The token requests must carry (None: loopback without one). Raises ``ValueError`` when binding
    beyond loopback without a token, or when the token file is unusable."""
    if token_file:
        return read_token_file(token_file, "ARC_METRICS_TOKEN_FILE")
    if not is_loopback(host):
        raise ValueError(f"ARC_METRICS_HOST={host} is reachable beyond this machine: set ARC_METRICS_TOKEN_FILE "
                         "(a 0600 file with a token of 16+ characters) or bind 127.0.0.1")
    return None


def _handler(registry: CollectorRegistry, status: Callable[[], dict], token: str | None):
    expected = f"Bearer {token}".encode() if token else None

    class Handler(BaseHTTPRequestHandler):
        timeout = IDLE_TIMEOUT_S  # else a client that never sends its request holds a thread forever

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            path = self.path.split("?", 1)[0]
            if expected is not None and not hmac.compare_digest(
                    self.headers.get("Authorization", "").strip().encode(), expected):
                self._reply(401, b"send 'Authorization: Bearer <token from ARC_METRICS_TOKEN_FILE>'\n", "text/plain")
                return
            try:
                if path in METRICS_PATHS:
                    encoder, content_type = choose_encoder(self.headers.get("Accept"))
                    self._reply(200, encoder(registry), content_type)
                elif path == STATUS_PATH:
                    body = json.dumps(status(), default=str, indent=1).encode()
                    self._reply(200, body, "application/json")
                else:
                    self._reply(404, b"not found; try /arc/runtime/metrics or /arc/runtime/status\n",
                                "text/plain")
            except Exception as exc:
                failopen.record("metrics_http", exc)
                self._reply(500, f"arc: {exc!r}\n".encode(), "text/plain")

        def _reply(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # scrapes are not worth a log line each
            pass

    return Handler


class _MetricsHTTPServer(ConnectionCap, ThreadingHTTPServer):
    daemon_threads = True
    max_connections = MAX_CONNECTIONS


class MetricsServer:
    def __init__(self, host: str, port: int, collector: ArcMetrics, status: Callable[[], dict],
                 token: str | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(collector)
        self.httpd = _MetricsHTTPServer((host, port), _handler(self.registry, status, token))
        self.host, self.port = self.httpd.server_address[:2]
        self.pid = os.getpid()
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.5},
                                        name="arc-metrics", daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> MetricsServer:
        self._thread.start()
        log.info("arc: metrics at %s/arc/runtime/metrics, status at %s%s", self.url, self.url, STATUS_PATH)
        return self

    def stop(self) -> None:
        if self.pid == os.getpid():
            self.httpd.shutdown()
        self.httpd.server_close()

    def after_fork(self) -> None:
        """The serving thread stays in the parent; the child lets go of the inherited socket, so the
        port never hangs on a process that does not answer."""
        try:
            self.httpd.socket.close()
        except OSError:
            pass
        log.debug("arc: forked process %d does not serve metrics (the port belongs to pid %d)",
                  os.getpid(), self.pid)
