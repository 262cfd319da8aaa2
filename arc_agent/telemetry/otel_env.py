"""The OTel SDK variables of Arc's own span pipeline (``OTEL_BSP_*``, span limits, the OTLP export
timeout), read with bounds.

Why Arc reads what the SDK would read itself: a negative or zero queue size, or a negative span
limit, makes the SDK raise (every span of Arc's provider lost), a huge value is taken as is (a queue
that grows without bound during an outage, a batch delay of years) and ``1e15`` prints a traceback.
Each variable is read as the SDK reads it (an integer), checked against bounds, and a bad value is
replaced by the SDK's default with one error line naming the variable; the SDK then gets explicit values.
Out of reach: a bad ``OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`` fails the SDK's own import (it is read at module
level), so no span can be made; Arc then passes calls through and logs the SDK's message once.
"""

from __future__ import annotations

import logging
import os

from .. import settings

log = logging.getLogger("arc")

# variable: (SDK default, low, high)
BSP_BOUNDS = {
    "OTEL_BSP_SCHEDULE_DELAY": (5000, 1, 600_000),  # ms (ARC_EXPORT_DELAY_MS has the same bounds)
    "OTEL_BSP_EXPORT_TIMEOUT": (30_000, 1, 600_000),  # ms
    "OTEL_BSP_MAX_QUEUE_SIZE": (2048, 1, 10**8),  # spans (ARC_QUEUE_SIZE has the same bounds)
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": (512, 1, 10**8),
}
# SpanLimits argument: (variable, fallback when bad: a number, or the argument whose value to use)
_LIMITS = {
    "max_attributes": ("OTEL_ATTRIBUTE_COUNT_LIMIT", 128),
    "max_events": ("OTEL_SPAN_EVENT_COUNT_LIMIT", 128),
    "max_links": ("OTEL_SPAN_LINK_COUNT_LIMIT", 128),
    "max_span_attributes": ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "max_attributes"),
    "max_event_attributes": ("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "max_attributes"),
    "max_link_attributes": ("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "max_attributes"),
    "max_attribute_length": ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", None),  # None: no limit
    "max_span_attribute_length": ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "max_attribute_length"),
}


def bsp_value(name: str, environ=os.environ) -> int | None:
    """``name``'s value within its bounds, None when unset; a bad value logs and gives the default."""
    raw = environ.get(name)
    if raw is None:
        return None
    default, low, high = BSP_BOUNDS[name]
    try:
        value = int(raw.strip())
    except ValueError:
        log.error("arc: %s=%r is not an integer; Arc's span pipeline uses %d", name, raw[:40], default)
        return default
    if not low <= value <= high:
        log.error("arc: %s=%d is outside [%d, %d]; Arc's span pipeline uses %d", name, value, low, high, default)
        return default
    return value


def bsp_options(max_queue_size: int, schedule_delay_ms: float | None, environ=os.environ) -> dict:
    """Keyword arguments for the SDK's ``BatchSpanProcessor``: every value explicit and bounded."""
    batch = bsp_value("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", environ) or BSP_BOUNDS["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"][0]
    if batch > max_queue_size:
        log.error("arc: OTEL_BSP_MAX_EXPORT_BATCH_SIZE=%d is above the queue size (%d); using %d", batch,
                  max_queue_size, max_queue_size)
        batch = max_queue_size
    delay = schedule_delay_ms if schedule_delay_ms is not None else bsp_value("OTEL_BSP_SCHEDULE_DELAY", environ)
    timeout = bsp_value("OTEL_BSP_EXPORT_TIMEOUT", environ)
    return {"max_queue_size": max_queue_size, "max_export_batch_size": batch,
            "schedule_delay_millis": BSP_BOUNDS["OTEL_BSP_SCHEDULE_DELAY"][0] if delay is None else int(delay),
            "export_timeout_millis": BSP_BOUNDS["OTEL_BSP_EXPORT_TIMEOUT"][0] if timeout is None else timeout}


def export_timeout(environ=os.environ) -> float:
    """``ARC_EXPORT_TIMEOUT`` if set, else ``OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`` / ``OTEL_EXPORTER_OTLP_TIMEOUT``
    read as the Python SDK's OTLP exporter reads them (seconds), within ``ARC_EXPORT_TIMEOUT``'s bounds; a
    bad value is logged naming its variable, and Arc's default is used."""
    if not settings.is_set("ARC_EXPORT_TIMEOUT", environ):
        setting = settings.SETTINGS["ARC_EXPORT_TIMEOUT"]
        for variable in ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"):
            raw = (environ.get(variable) or "").strip()
            if raw:
                try:
                    return settings.parse(setting, raw)
                except settings.BadValue as exc:
                    log.warning("arc: %s=%r %s (seconds, as the SDK's OTLP exporter reads it); using %g s",
                                variable, raw, exc, setting.default)
                    break
    return settings.number("ARC_EXPORT_TIMEOUT", environ)


def span_limits(environ=os.environ):
    """The SDK's ``SpanLimits`` as it reads them, except that a bad variable gets its default (logged)
    instead of making every span of Arc's provider fail."""
    from opentelemetry.sdk.trace import SpanLimits

    values: dict = {}
    for arg, (name, fallback) in _LIMITS.items():
        raw = environ.get(name)
        if raw is None:
            continue
        text = raw.strip().lower()
        if text == "unset":
            values[arg] = SpanLimits.UNSET
            continue
        try:
            value = int(text)
        except ValueError:
            value = -1
        if value >= 0:
            values[arg] = value
            continue
        if isinstance(fallback, str):
            fallback = values.get(fallback, SpanLimits.UNSET if fallback == "max_attribute_length" else 128)
        values[arg] = SpanLimits.UNSET if fallback is None else fallback
        log.error("arc: %s=%r is not a non-negative integer; Arc's spans use %s", name, raw[:40],
                  "no limit" if values[arg] == SpanLimits.UNSET else values[arg])
    return SpanLimits(**values)
