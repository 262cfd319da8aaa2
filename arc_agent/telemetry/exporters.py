"""``OTEL_TRACES_EXPORTER`` for Arc's own provider, read as OTel's auto-instrumentation reads it.

A user of OTel's launcher expects ``none`` to export nothing, ``console`` to print spans to stdout and
``otlp`` (the default) to send them to the collector; a comma-separated list sets up each one. Any
other name is looked up in the ``opentelemetry_traces_exporter`` entry points (e.g. ``zipkin_json``
when its package is installed). A name that is neither is logged once, naming the variable, and
ignored; with nothing usable left Arc falls back to ``otlp`` so no span is lost to a typo.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger("arc")

VARIABLE = "OTEL_TRACES_EXPORTER"
OTLP = "otlp"
NONE = "none"
CONSOLE = "console"
ENTRY_POINT_GROUP = "opentelemetry_traces_exporter"


def requested(environ=os.environ) -> tuple:
    """The exporter names in ``OTEL_TRACES_EXPORTER`` (lower case, in order, no duplicates); ``()``
    means ``none``: Arc's spans are not exported at all."""
    raw = environ.get(VARIABLE, "")
    names = [n.strip().lower() for n in raw.split(",") if n.strip()]
    if not names:
        return (OTLP,)
    if NONE in names:
        if len(names) > 1:
            log.error("arc: %s=%r: 'none' cannot be combined with other exporters; exporting nothing",
                      VARIABLE, raw)
        return ()
    return tuple(dict.fromkeys(names))


def entry_point(name: str):
    """The installed ``opentelemetry_traces_exporter`` entry point called ``name``, or None."""
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return ep
    return None


def sends_otlp(names: tuple) -> bool:
    """Whether spans go over OTLP with these names: asked for, or nothing else usable (the fallback)."""
    if not names:
        return False
    return OTLP in names or not any(n == CONSOLE or entry_point(n) is not None for n in names)


def build_extra(names: tuple) -> tuple:
    """``(exporters, kept_otlp)``: an exporter object for every name but ``otlp`` (console, entry
    points); unknown or failing names are logged and left out. ``kept_otlp`` is False only when
    ``otlp`` was not asked for and something else usable was."""
    exporters = []
    for name in names:
        if name == OTLP:
            continue
        try:
            if name == CONSOLE:
                from opentelemetry.sdk.trace.export import ConsoleSpanExporter

                exporters.append(ConsoleSpanExporter())
                continue
            ep = entry_point(name)
            if ep is None:
                log.error("arc: %s: unknown exporter %r (use otlp, console or none, or install the package "
                          "that provides it); ignored", VARIABLE, name)
                continue
            exporters.append(ep.load()())
        except Exception as exc:  # a third-party exporter failing to build must not stop the app
            log.error("arc: %s: exporter %r could not be set up (%r); ignored", VARIABLE, name, exc)
    keep_otlp = OTLP in names or not exporters
    if OTLP not in names and not exporters:
        log.error("arc: %s names no usable exporter; sending spans over OTLP", VARIABLE)
    return tuple(exporters), keep_otlp
