"""Arc as an OpenTelemetry instrumentor: ``opentelemetry-instrument python app.py`` runs Arc too.

Registered as the ``arc`` entry point of the ``opentelemetry_instrumentor`` group, so OTel's
launcher loads it like its own instrumentors (``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=arc`` skips it).
Only that launcher imports this module, and it ships ``opentelemetry-instrumentation``; Arc itself
does not depend on it. ``_instrument`` installs Arc's lazy import hook (libraries already imported
are patched now, the others when the app imports them: nothing is imported eagerly), so Arc's fixes
and ``arc.*`` attributes apply; next to OTel's own GenAI instrumentors Arc goes beneath their
wrappers and enriches their span rather than making a second one (``instrumentation/base.py``).
"""

from __future__ import annotations

from typing import Collection

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

from . import failopen, hook


class ArcInstrumentor(BaseInstrumentor):
    """``BaseInstrumentor`` over Arc's integrations (openai, anthropic, playwright, selenium)."""

    def instrumentation_dependencies(self) -> Collection[str]:
        # none required: each integration is optional and checks its own library's version range
        # when the library is imported (a version outside it is skipped with a warning)
        return ()

    def _instrument(self, **kwargs) -> None:
        if hook.disabled_by_env():
            return
        try:
            hook.install()
        except Exception as exc:
            failopen.record("otel_instrument", exc)

    def _uninstrument(self, **kwargs) -> None:
        from .runtime import get_runtime

        try:
            hook.uninstall()
            get_runtime().unpatch_all()
        except Exception as exc:
            failopen.record("otel_uninstrument", exc)
