"""Tracer set-up: reuse the app's SDK TracerProvider if it has one, else build Arc's own.

Arc's own provider is *not* installed as the global one, so an app that configures OpenTelemetry
after importing an SDK keeps full control of its own pipeline (and nothing is exported twice).
Exit is bounded: shutdown runs with a deadline, so an unreachable collector never hangs the app.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading

from opentelemetry import trace

from .._version import __version__
from .stats import STATS

log = logging.getLogger("arc")

_lock = threading.Lock()
_tracer = None
_emitter = None
_provider = None
_owned = False
_exporter = None
_settings: dict = {}

def configure(endpoint: str | None = None, api_key: str | None = None) -> None:
    """Record explicit settings (from ``Arc(...)``) before the first tracer is built."""
    if endpoint is not None:
        _settings["endpoint"] = endpoint
    if api_key is not None:
        _settings["api_key"] = api_key


def _env_float(name: str, default: float) -> float:
    from . import settings

    if name in settings.SETTINGS:  # range-checked too (a negative ARC_QUEUE_SIZE must not break set-up)
        value = settings.value(name)
        return default if value is None else float(value)
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        log.error("arc: %s=%r is not a number; using %s", name, raw, default)
        return default


def _build_provider():
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    from .endpoint import EndpointError, resolve
    from .export import ArcSpanExporter
    from .queue import CountingBatchSpanProcessor  # a BatchSpanProcessor that counts queue overflow
    from .wal import WriteAheadLog

    global _exporter
    try:
        endpoint = resolve(_settings.get("endpoint"), _settings.get("api_key"))
    except EndpointError as exc:
        log.error("arc: bad collector endpoint: %s; using grpc://localhost:4317", exc)
        endpoint = resolve("grpc://localhost:4317", _settings.get("api_key"))
    wal = None
    wal_path = os.environ.get("ARC_WAL_PATH")
    if wal_path:
        try:
            wal = WriteAheadLog(wal_path, max_bytes=int(_env_float("ARC_WAL_MAX_BYTES", 256 << 20)))
        except Exception as exc:
            log.error("arc: ARC_WAL_PATH=%r cannot be used (%r); buffering in memory only", wal_path, exc)
    _exporter = ArcSpanExporter(endpoint, timeout_s=_env_float("ARC_EXPORT_TIMEOUT", 2.0),
                                max_buffer_bytes=int(_env_float("ARC_BUFFER_MAX_BYTES", 64 << 20)), wal=wal)
    provider = TracerProvider(resource=Resource.create(), shutdown_on_exit=False)
    provider.add_span_processor(CountingBatchSpanProcessor(
        _exporter, max_queue_size=int(_env_float("ARC_QUEUE_SIZE", 65536)),
        # 5 s as OTel's BatchSpanProcessor: each export wakes a Python thread that must win the GIL
        # from a busy app, which cost ~6 ms of system time per export in benchmarks/cpu_1k_qps.py
        schedule_delay_millis=int(_env_float("ARC_EXPORT_DELAY_MS", 5000)), max_export_batch_size=1024))
    atexit.register(shutdown)
    return provider


def preload() -> None:
    """Import what building Arc's provider needs; safe to run in a background thread."""
    try:
        from opentelemetry.sdk.trace import TracerProvider  # noqa: F401
        from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: F401

        from . import export  # noqa: F401  (grpc, protobuf, the encoder)
    except Exception as exc:  # the first span will import again and report properly
        log.debug("arc: preload failed: %r", exc)


def get_tracer():
    """The tracer for Arc's spans; builds the provider on first use (never at start-up)."""
    global _tracer, _provider, _owned
    if _tracer is not None:
        return _tracer
    with _lock:
        if _tracer is None:
            from opentelemetry.sdk.trace import TracerProvider

            current = trace.get_tracer_provider()
            if isinstance(current, TracerProvider):
                _provider, _owned = current, False
            else:
                _provider, _owned = _build_provider(), True
            _tracer = _provider.get_tracer("arc_agent", __version__)
    return _tracer


def get_emitter():
    """How finished LLM spans are emitted (``telemetry/emit.py``): straight to Arc's own span
    processors when Arc owns the provider, else through the app's provider's tracer."""
    global _emitter
    emitter = _emitter
    if emitter is not None:
        return emitter
    tracer = get_tracer()
    with _lock:
        if _emitter is None:
            from .emit import DirectEmitter, SdkEmitter

            scope = getattr(tracer, "_instrumentation_scope", None)
            _emitter = DirectEmitter(_provider, scope) if _owned and scope is not None else SdkEmitter(tracer)
        return _emitter


def emits_records() -> bool:
    """Whether finished spans go to Arc's own encoder as span records (``emit.py``): then their
    attributes may be given as ``(builder, *args)``, built by the export thread."""
    emitter = _emitter
    return emitter is not None and emitter.records


def exporter():
    return _exporter


def provider_info() -> dict:
    return {"owned": _owned, "endpoint": _exporter.endpoint.describe() if _exporter else None,
            **STATS.as_dict()}


def force_flush(timeout_s: float = 5.0) -> bool:
    """Flush the span processor queue, then the exporter's outage backlog (memory or WAL)."""
    if _provider is None:
        return True
    flushed = bool(_provider.force_flush(int(timeout_s * 1000)))
    if _owned and _exporter is not None:
        flushed = _exporter.force_flush(int(timeout_s * 1000)) and flushed
    return flushed


def pipeline() -> tuple:
    """``(provider, owned, exporter)`` Arc's spans go through now (``stop.py`` flushes them)."""
    return _provider, _owned, _exporter


def shutdown(deadline_s: float | None = None, reason: str = "exit") -> None:
    """Flush (and, when Arc owns it, stop) the provider within ``deadline_s`` (``ARC_SHUTDOWN_FLUSH_MS``);
    the app's own provider is flushed, never shut down. Safe from a signal handler (``stop.py``)."""
    global _tracer, _provider, _owned, _emitter
    from . import stop

    if not _lock.acquire(timeout=0.1):  # held by the code a stop signal interrupted: the provider is
        return                          # still being built, so nothing was queued yet
    try:
        provider, owned = _provider, _owned
        _tracer = _provider = _emitter = None
        _owned = False
    finally:
        _lock.release()
    if provider is not None:
        stop.flush(provider, owned, _exporter if owned else None, reason, final=True, bound=deadline_s)
