"""Where UI spans go: Arc's tracer (the app's SDK provider when it has one, else Arc's own)."""

from __future__ import annotations


def tracer():
    from ..telemetry.tracing import get_tracer

    return get_tracer()
