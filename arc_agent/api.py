"""``Arc``: the in-process API for apps that cannot use the ``arc-instrument`` launcher."""

from __future__ import annotations

import logging
from typing import Any

from . import failopen, hook
from .runtime import _ensure_log_handler, get_runtime

log = logging.getLogger("arc")


class Arc:
    """Install Arc in this process: patch target libraries now (if imported) or when imported.

    Calling ``Arc()`` twice is harmless: both objects drive the same process-wide runtime.
    """

    def __init__(self, endpoint: str | None = None, api_key: str | None = None, log_level: str = "INFO",
                 patterns: Any = None) -> None:
        from .telemetry import tracing

        _ensure_log_handler(log_level)
        self._runtime = get_runtime()
        if hook.disabled_by_env():
            log.info("arc: ARC_DISABLE is set; Arc is off")
            self.enabled = False
            return
        self.enabled = True
        tracing.configure(endpoint=endpoint, api_key=api_key)
        self._runtime.activate()
        if patterns is not None:
            paths = [patterns] if isinstance(patterns, (str, bytes)) or hasattr(patterns, "__fspath__") \
                else list(patterns)
            self._runtime.pattern_engine().load([str(p) for p in paths])
        hook.install()

    # -- patterns (delegated to the pattern store) -------------------------------------------------
    def register_pattern(self, pattern: dict, fix: dict, **options: Any) -> str:
        return self._runtime.pattern_engine().register(pattern, fix, **options)

    def unregister_pattern(self, pattern_id: str) -> bool:
        return self._runtime.pattern_engine().unregister(pattern_id)

    def reload_patterns(self) -> None:
        self._runtime.pattern_engine().reload()

    # -- single client ---------------------------------------------------------------------------
    def wrap(self, client: Any) -> Any:
        """Instrument one SDK client object (for when its library's global patching is disabled).

        Returns the same client; if the library is already patched globally it is left as is.
        """
        if not self.enabled:
            return client
        try:
            from .instrumentation.clients import wrap_client

            return wrap_client(client, self._runtime.patched)
        except Exception as exc:
            failopen.record("wrap", exc)
            return client

    def report_failure(self, kind: str, detail: str | None = None) -> bool:
        """``arc_agent.report_failure``: an ``arc.report_failure`` span linked to this context's last
        LLM call (kind: e.g. ``"parse_error"``; detail: up to 256 characters, no secrets please)."""
        if not self.enabled:
            return False
        from .llm.report import report_failure

        return report_failure(kind, detail, hook.arc_active)

    def status(self) -> dict:
        return self._runtime.status()

    def shutdown(self) -> None:
        """Flush spans (bounded), unpatch every integration and stop watching imports."""
        hook.uninstall()
        self._runtime.shutdown()
