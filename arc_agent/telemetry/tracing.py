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

from .. import forkgate, settings
from .._version import __version__
from . import exporters, otel_env
from .stats import STATS

log = logging.getLogger("arc")

_lock = threading.Lock()
# what building Arc's provider imports (grpc, protobuf, the SDK's encoder), one package at a time
PRELOAD = ("opentelemetry.sdk.trace", "opentelemetry.sdk.trace.export", "grpc", "google.protobuf",
           "opentelemetry.exporter.otlp.proto.common.trace_encoder", "arc_agent.telemetry.export",
           "arc_agent.telemetry.processor", "arc_agent.telemetry.shedding")
_tracer = None
_presampler = None
_processor = None
_provider = None
_owned = False
_exporter = None
_ender = None  # ending.SpanEnder: Arc's own provider makes and ends kept spans off the app's thread
_begin = None  # decides a kept span on the app's thread (see begin_span)
_settings: dict = {}

def configure(endpoint: str | None = None, api_key: str | None = None) -> None:
    """Record explicit settings (from ``Arc(...)``) before the first tracer is built."""
    if endpoint is not None:
        _settings["endpoint"] = endpoint
    if api_key is not None:
        _settings["api_key"] = api_key


def _queue_size() -> int:
    """``ARC_QUEUE_SIZE`` if set, else ``OTEL_BSP_MAX_QUEUE_SIZE`` (bounded, ``otel_env``: a bad value
    means the SDK's default, 2048), else Arc's default (65536: an outage's first timeouts at 1k calls/s)."""
    if settings.is_set("ARC_QUEUE_SIZE"):
        return settings.integer("ARC_QUEUE_SIZE")
    size = otel_env.bsp_value("OTEL_BSP_MAX_QUEUE_SIZE")
    return 65536 if size is None else size


def _batch_processor(exporter, max_queue_size: int):
    """The SDK's BatchSpanProcessor; what Arc's own variables do not set comes from ``OTEL_BSP_*``
    (schedule delay, batch size, export timeout), read as the SDK reads them but bounded (``otel_env``)."""
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    delay = settings.number("ARC_EXPORT_DELAY_MS") if settings.is_set("ARC_EXPORT_DELAY_MS") else None
    return BatchSpanProcessor(exporter, **otel_env.bsp_options(max_queue_size, delay))


def _build_provider():
    """Arc's private provider: the SDK reads ``OTEL_TRACES_SAMPLER``/``_ARG`` (a provider built without
    a sampler), the ``OTEL_ATTRIBUTE_*``/``OTEL_SPAN_*`` limits, ``OTEL_SDK_DISABLED`` and the resource
    variables itself; Arc's load shedding is composed in front of the configured sampler.
    ``OTEL_TRACES_EXPORTER`` picks the exporters (``exporters.py``)."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import Tracer, TracerProvider

    from .endpoint import EndpointError, resolve
    from .export import ArcSpanExporter
    from .processor import CountingSpanProcessor
    from .shedding import ArcSampler
    from .wal import WriteAheadLog

    global _exporter, _processor
    limits = otel_env.span_limits()
    configured = TracerProvider(resource=Resource.get_empty(), shutdown_on_exit=False, span_limits=limits).sampler
    sampler = ArcSampler(configured)
    off_thread = settings.flag("ARC_SPANS_OFF_THREAD")
    if off_thread:  # the worker's spans get the decision and ids the app's thread made (ending.py)
        from .ending import preset_parts

        preset_sampler, preset_ids = preset_parts()
        provider = TracerProvider(sampler=preset_sampler(sampler), id_generator=preset_ids(),
                                  resource=Resource.create(), shutdown_on_exit=False, span_limits=limits)
    else:
        provider = TracerProvider(sampler=sampler, resource=Resource.create(), shutdown_on_exit=False,
                                  span_limits=limits)
    tracer = provider.get_tracer("arc_agent", __version__)
    if not isinstance(tracer, Tracer):  # OTEL_SDK_DISABLED: a no-op tracer, nothing to export
        return provider, tracer
    names = exporters.requested()
    if not names:  # OTEL_TRACES_EXPORTER=none: nothing exported, so no span is made either
        log.info("arc: OTEL_TRACES_EXPORTER=none: Arc's spans are not exported")
        return provider, trace.NoOpTracer()
    extra, keep_otlp = exporters.build_extra(names)
    for other in extra:
        provider.add_span_processor(_batch_processor(other, _queue_size()))
    if not keep_otlp:
        if off_thread:
            _start_ender(tracer, sampler)
        atexit.register(shutdown)
        return provider, tracer
    try:
        endpoint = resolve(_settings.get("endpoint"), _settings.get("api_key"))
    except EndpointError as exc:
        log.error("arc: bad collector endpoint: %s; using grpc://localhost:4317", exc)
        endpoint = resolve("grpc://localhost:4317", _settings.get("api_key"))
    if endpoint.cleartext_credentials():
        log.warning("arc: the collector's credentials (ARC_API_KEY, OTEL_EXPORTER_OTLP_HEADERS or the URL's "
                    "user:password) go unencrypted to %s, beyond this machine: use grpcs://", endpoint.describe())
    wal = None
    wal_path = settings.text("ARC_WAL_PATH")
    if wal_path:
        try:
            wal = WriteAheadLog(wal_path, max_bytes=settings.integer("ARC_WAL_MAX_BYTES"))
        except Exception as exc:
            log.error("arc: ARC_WAL_PATH=%r cannot be used (%r); buffering in memory only", wal_path, exc)
    _exporter = ArcSpanExporter(endpoint, timeout_s=otel_env.export_timeout(),
                                max_buffer_bytes=settings.integer("ARC_BUFFER_MAX_BYTES"), wal=wal)
    queue_size = _queue_size()
    _processor = CountingSpanProcessor(_batch_processor(_exporter, queue_size), _exporter, queue_size)
    provider.add_span_processor(_processor)
    if off_thread:
        _start_ender(tracer, sampler)
    atexit.register(shutdown)
    return provider, tracer


def _start_ender(tracer, sampler) -> None:
    """``ARC_SPANS_OFF_THREAD`` (on): kept spans of Arc's own provider are decided on the app's thread
    (``begin_span``) and made, given their attributes and ended in a background thread (ending.py)."""
    global _ender, _begin
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
    from opentelemetry.trace import TraceFlags, get_current_span

    from . import stop
    from .ending import PendingSpan, SpanEnder

    ender = SpanEnder(tracer)
    ender.start()
    ids = RandomIdGenerator()
    sample_under = sampler.sample_under
    # as the SDK sets them: sampled, and (API >= 1.40) a random trace id of its own or its parent's
    sampled = TraceFlags.SAMPLED
    random_root = sampled | getattr(TraceFlags, "RANDOM_TRACE_ID", 0)

    def begin(name: str, parent, kind, attributes: dict, start_ns: int):
        parent_span = get_current_span(parent).get_span_context()
        if parent_span.is_valid:
            trace_id = parent_span.trace_id
            flags = random_root if getattr(parent_span.trace_flags, "random_trace_id", False) else sampled
        else:
            trace_id, flags = ids.generate_trace_id(), random_root
        result = sample_under(parent_span, parent, trace_id, name, kind, attributes)
        if not result.decision.is_sampled():  # not exported either way: nothing to make
            return None
        return PendingSpan(name, parent, kind, attributes, start_ns, trace_id, ids.generate_span_id(), result,
                           flags)

    def before_flush(final: bool) -> None:
        if final:
            ender.stop()
        else:
            ender.drain()

    _ender, _begin = ender, begin
    stop.before_flush = before_flush


ON_THIS_THREAD = object()  # begin_span: make the span on the caller's thread (start_span)


def begin_span(name: str, parent, kind, attributes: dict, start_ns: int):
    """With Arc's own provider and ``ARC_SPANS_OFF_THREAD``: a kept span decided now (sampler, ids) and
    made when ``end_span`` hands it to the worker, or None when the sampler drops it. Else
    ``ON_THIS_THREAD``."""
    if _tracer is None:
        get_tracer()
    begin = _begin
    if begin is None or not _owned:
        return ON_THIS_THREAD
    return begin(name, parent, kind, attributes, start_ns)


def end_span(span, attributes: dict | None, status=None) -> None:
    """Give a kept span its last attributes (and status) and end it now: on this thread, or with Arc's
    own provider in the span ender's thread (same end time, same exported span)."""
    ender = _ender
    if ender is not None and _owned:
        ender.end(span, attributes, status)
        return
    if attributes:
        span.set_attributes(attributes)
    if status is not None:
        span.set_status(status)
    span.end()


def preload() -> None:
    """Import what building Arc's provider needs; safe to run in a background thread."""
    try:
        forkgate.import_modules(*PRELOAD)
    except Exception as exc:  # the first span will import again and report properly
        log.debug("arc: preload failed: %r", exc)


def get_tracer():
    """The tracer for Arc's spans; builds the provider on first use (never at start-up)."""
    global _tracer, _provider, _owned, _presampler
    if _tracer is not None:
        return _tracer
    with _lock:
        if _tracer is None:
            from opentelemetry.sdk.trace import TracerProvider

            current = trace.get_tracer_provider()
            if isinstance(current, TracerProvider):
                from opentelemetry.sdk.trace.sampling import ALWAYS_ON

                from .shedding import ArcSampler

                _provider, _owned = current, False
                _presampler = ArcSampler(ALWAYS_ON)
                tracer = current.get_tracer("arc_agent", __version__)
            else:
                (_provider, tracer), _owned = _build_provider(), True
                _presampler = None
            _tracer = tracer
    return _tracer


def presampler():
    """With the app's provider, Arc's load shedding cannot sit in that provider's sampler: the call
    path asks this ``ArcSampler`` (configured part: always on) before the app's tracer, so both
    must keep a span. None with Arc's own provider (its sampler already is an ``ArcSampler``)."""
    return _presampler


def processor_depth() -> int:
    """Spans waiting in Arc's own span processor (0 with the app's provider: its pipeline is its own)."""
    processor = _processor
    return processor.pending() if processor is not None and _owned else 0


def depth() -> int:
    """Everything not yet accepted by the collector: spans still to be made off the app's thread +
    processor queue + exporter backlog."""
    ender = _ender
    pending = ender.pending() if ender is not None and _owned else 0
    return pending + processor_depth() + STATS.buffered_spans


def exporter():
    return _exporter


def provider_info() -> dict:
    sampler = getattr(_provider, "sampler", None) if _owned else None
    return {"owned": _owned, "endpoint": _exporter.endpoint.describe() if _exporter else None,
            "sampler": sampler.get_description() if sampler is not None else None,
            "queued_spans": processor_depth(), **STATS.as_dict()}


def force_flush(timeout_s: float = 5.0) -> bool:
    """Flush the span processor queue, then the exporter's outage backlog (memory or WAL)."""
    if _provider is None:
        return True
    if _ender is not None and _owned:
        _ender.drain()
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
    global _tracer, _provider, _owned, _presampler, _begin
    from . import stop

    if not _lock.acquire(timeout=0.1):  # held by the code a stop signal interrupted: the provider is
        return                          # still being built, so nothing was queued yet
    try:
        provider, owned = _provider, _owned
        _tracer = _provider = _presampler = _begin = None
        _owned = False
    finally:
        _lock.release()
    if provider is not None:
        stop.flush(provider, owned, _exporter if owned else None, reason, final=True, bound=deadline_s)


def _after_fork_in_child() -> None:
    """``_lock``, held at the fork by another thread building the provider, would stay held in the child:
    its first span would wait for ever. The child builds what was not finished."""
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
