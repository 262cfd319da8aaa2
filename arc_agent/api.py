"""``Arc``: the in-process API for apps that cannot use the ``arc-instrument`` launcher."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, Mapping

from . import failopen, hook
from .runtime import _ensure_log_handler, get_runtime

log = logging.getLogger("arc")


def settings_from_arguments(cache_dir: str | os.PathLike | None, privacy_mode: str | None,
                            environ: Mapping[str, str]) -> dict:
    """The ``ARC_*`` settings ``Arc(cache_dir=, privacy_mode=)`` stands for, as environment entries,
    so the modules that read them (and child processes) see one value.

    ``cache_dir`` is Arc's folder for what it keeps on disk: ``ARC_HOME`` (the snapshot key),
    pattern snapshots (``snapshots/``), UI captures (``blobs/``), the control plane's registry mirror
    (``control-mirror/``, with ``ARC_CONTROL_ENDPOINT``) and a relative ``ARC_CAPTURE`` cassette path
    (under ``captures/``). A setting already in the environment is more specific and is kept.
    ``privacy_mode`` is an explicit choice and wins over ``ARC_PRIVACY_MODE``."""
    out: dict = {}
    if cache_dir is not None:
        root = os.path.abspath(os.path.expanduser(os.fspath(cache_dir)))
        defaults = {"ARC_HOME": root, "ARC_PATTERNS_SNAPSHOT": os.path.join(root, "snapshots"),
                    "ARC_BLOB_DIR": os.path.join(root, "blobs")}
        if (environ.get("ARC_CONTROL_ENDPOINT") or "").strip():
            defaults["ARC_REGISTRY"] = os.path.join(root, "control-mirror")
        out = {k: v for k, v in defaults.items() if not (environ.get(k) or "").strip()}
        capture = (environ.get("ARC_CAPTURE") or "").strip()
        if capture and not os.path.isabs(os.path.expanduser(capture)):
            out["ARC_CAPTURE"] = os.path.join(root, "captures", capture)
    if privacy_mode is not None:
        out["ARC_PRIVACY_MODE"] = str(privacy_mode)
        vision_settings = sys.modules.get("arc_agent.vision.settings")
        if vision_settings is not None:  # the vision side already read its settings: read them again
            vision_settings.reload({**environ, **out})
    return out


class Arc:
    """Install Arc in this process: patch target libraries now (if imported) or when imported.

    Calling ``Arc()`` twice is harmless: both objects drive the same process-wide runtime.
    """

    def __init__(self, endpoint: str | None = None, api_key: str | None = None, log_level: str = "INFO",
                 patterns: Any = None, *, cache_dir: str | os.PathLike | None = None,
                 privacy_mode: str | None = None) -> None:
        """``endpoint``/``api_key``: the collector and its key (over ``ARC_ENDPOINT``/``ARC_API_KEY``);
        ``cache_dir``: where Arc's files go (see ``settings_from_arguments``); ``privacy_mode``: what
        UI-action spans may carry (``ARC_PRIVACY_MODE``); ``patterns``: bundle path(s) or ``"demo"``."""
        from .telemetry import tracing

        _ensure_log_handler(log_level)
        try:
            os.environ.update(settings_from_arguments(cache_dir, privacy_mode, os.environ))
        except Exception as exc:
            failopen.record("arc_arguments", exc)
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
