"""The process-wide agent: activated by the first target import (or ``Arc()``), never at start-up.

Owns the patched integrations, the fixer and the hot-path state (``state.RUNTIME``). Everything
here is fail-open: a problem is logged with a clear message and the app runs unpatched.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading

from . import failopen, settings, state
from .instrumentation import INTEGRATIONS, integration_module
from .instrumentation.base import installed_version, is_supported

log = logging.getLogger("arc")


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is emitted, not the one at activation: pytest
    swaps in capture streams and closes them, so a bound stream loses Arc's exit messages."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _ensure_log_handler(level: str | int = "INFO") -> None:
    if not log.handlers:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.propagate = False
    try:
        log.setLevel(level.upper() if isinstance(level, str) else level)
    except (ValueError, TypeError):
        log.setLevel(logging.INFO)
        log.error("arc: unknown log level %r; using INFO", level)


class Runtime:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.patched: dict = {}  # integration name -> library version
        self.skipped: dict = {}  # integration name -> reason
        self.patterns = None  # arc_agent.patterns.PatternEngine, created on demand
        self._activated = False

    # -- activation ------------------------------------------------------------------------------
    def activate(self) -> None:
        """Set up everything the call path needs; runs once, on the first target import."""
        with self._lock:
            if self._activated:
                return
            self._activated = True
            _ensure_log_handler(settings.text("ARC_LOG_LEVEL"))
            state.RUNTIME.capture_content = settings.boolean(
                os.environ.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "")) is True
            for step in (self._load_patterns_from_env, self._start_telemetry_guards, self._flush_on_stop,
                         self._start_capture, self._preload_exporter, self._start_control):
                try:
                    step()
                except Exception as exc:
                    failopen.record(step.__name__.strip("_"), exc)

    def _load_patterns_from_env(self) -> None:
        setting = settings.text("ARC_PATTERNS")
        if setting:  # a big set loads in the background: this runs inside the app's `import openai`
            from .patterns import startup

            startup.begin(setting, self.pattern_engine)

    @staticmethod
    def _start_capture() -> None:
        """``ARC_CAPTURE``: record calls into a cassette (opt-in; nothing is imported without it)."""
        if settings.text("ARC_CAPTURE"):
            from .llm.capture import from_env

            state.RUNTIME.capture = from_env()

    @staticmethod
    def _preload_exporter() -> None:
        """Import grpc + the OTLP exporter (slow imports) off the app's thread, so the first LLM call does
        not pay it. Only imports: which tracer provider to use is still decided at the first span. A fork
        meanwhile waits for the one package being imported, not for all of them (``forkgate``)."""
        from .telemetry import tracing

        threading.Thread(target=tracing.preload, name="arc-preload", daemon=True).start()

    @staticmethod
    def _flush_on_stop() -> None:
        """Stop signals and pool children flush spans first (``telemetry/stop.py``)."""
        from .telemetry import stop, tracing

        stop.install(tracing.shutdown, tracing.pipeline)

    def _start_control(self) -> None:
        """With ARC_CONTROL_ENDPOINT: follow the control server from a daemon thread (``control/agent.py``)."""
        from .control import agent

        agent.start_from_env(self)

    def _start_telemetry_guards(self) -> None:
        from .telemetry import guards

        guards.install_from_env(self)

    def pattern_engine(self):
        """The pattern store, created on first need (it imports numpy, rbloom and re2); a big
        ``ARC_PATTERNS`` set loads in the background (``patterns.startup``)."""
        if self.patterns is None:
            from .patterns import PatternEngine  # outside the lock: its imports must not hold up patching

            with self._lock:
                if self.patterns is None:
                    self.patterns = PatternEngine.from_env(background=True)
                    state.RUNTIME.fixer = self.patterns
        return self.patterns

    @property
    def active(self) -> bool:
        return self._activated

    # -- integrations ----------------------------------------------------------------------------
    def patch_integration(self, name: str) -> bool:
        try:
            return self._patch_integration(name)
        finally:
            startup = sys.modules.get("arc_agent.patterns.startup")
            if startup is not None:  # a background pattern load starts once this import is done
                startup.import_done()

    def _patch_integration(self, name: str) -> bool:
        self.activate()
        with self._lock:
            if name in self.patched:
                return False
            module = importlib.import_module(integration_module(name))
            version = installed_version(module.DISTRIBUTION)
            if not is_supported(version, module.SUPPORTED):
                reason = (f"{module.DISTRIBUTION} {version} is outside the supported range "
                          f">={module.SUPPORTED[0]},<{module.SUPPORTED[1]}")
                self.skipped[name] = reason
                log.warning("arc: not instrumenting %s: %s", name, reason)
                return False
            extra = getattr(module, "NEEDS_EXTRA", None)  # e.g. the UI integrations need [vision]
            if extra:
                from .extras import install_hint, missing

                gone = missing(extra)
                if gone:
                    reason = f"the {extra} extra is not installed ({', '.join(gone)} missing): {install_hint(extra)}"
                    self.skipped[name] = reason
                    log.warning("arc: not instrumenting %s: %s", name, reason)
                    return False
            module.patch()
            self.patched[name] = version
            self.skipped.pop(name, None)
            log.debug("arc: instrumented %s %s", name, version)
            return True

    def unpatch_all(self) -> None:
        with self._lock:
            for name in list(self.patched):
                try:
                    importlib.import_module(integration_module(name)).unpatch()
                except Exception as exc:
                    failopen.record("unpatch", exc)
                self.patched.pop(name, None)

    def status(self) -> dict:
        from ._version import __version__
        from .telemetry import tracing

        info = {
            "version": __version__,
            "pid": os.getpid(),
            "disabled": settings.flag("ARC_DISABLE"),
            "integrations": {n: {"patched": n in self.patched, "version": self.patched.get(n),
                                 "skipped": self.skipped.get(n)} for n in INTEGRATIONS},
            "telemetry": tracing.provider_info(),
            "breaker_open": state.RUNTIME.breaker_open,
            "internal_errors": failopen.counts(),
        }
        if self.patterns is not None:
            try:
                info["patterns"] = self.patterns.stats()
            except Exception as exc:
                info["patterns"] = {"error": repr(exc)}
        control = sys.modules.get("arc_agent.control.agent")
        if control is not None:
            info["control"] = control.status()
        if state.RUNTIME.capture is not None:
            info["capture"] = state.RUNTIME.capture.writer.stats()
        report = sys.modules.get("arc_agent.llm.report")
        if report is not None:
            info["report_failure"] = report.counts()
        guards = sys.modules.get("arc_agent.telemetry.guards")
        if guards is not None:
            info["guards"] = guards.GUARDS.status()
        try:
            from .vision.status import status as vision_status

            info["vision"] = vision_status()
        except Exception as exc:
            info["vision"] = {"error": repr(exc)}
        return info

    def shutdown(self) -> None:
        from .telemetry import tracing

        self.unpatch_all()
        capture, state.RUNTIME.capture = state.RUNTIME.capture, None
        if capture is not None:
            capture.writer.close()
        if self.patterns is not None:
            try:
                self.patterns.stop()
            except Exception as exc:
                failopen.record("patterns_stop", exc)
        tracing.shutdown()


_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def get_runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        with _runtime_lock:
            if _runtime is None:
                _runtime = Runtime()
                if hasattr(os, "register_at_fork"):
                    os.register_at_fork(after_in_child=_after_fork_in_child)
    return _runtime


def _after_fork_in_child() -> None:
    """The runtime's lock, held at the fork by another thread (e.g. the background pattern start creating
    the engine), would stay held for ever in the child: the child's restarted start would wait on it."""
    if _runtime is not None:
        _runtime._lock = threading.RLock()
