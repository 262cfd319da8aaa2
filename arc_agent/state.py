"""Hot-path runtime state, read once per intercepted call.

One module-level object so the call path does a single global lookup. The fixer, sampler and
breaker are swapped in by ``runtime.Runtime``; defaults cost nothing.
"""

from __future__ import annotations

from typing import Callable

from . import fastpaths

# opentelemetry-api versions whose private ``context._SUPPRESS_INSTRUMENTATION_KEY`` Arc was tested with
SUPPRESS_KEY_TESTED = ("1.30.0", "1.46.0")
SUPPRESS_PATH = "otel.suppress_key"  # fast path name (arc_fast_path_off_total{path})
PLAIN_SUPPRESS_KEY = "suppress_instrumentation"  # also set by opentelemetry-instrumentation's public helper


def suppression_check() -> tuple[Callable, str]:
    """``(suppressed(ctx) -> bool, how)``: OTel's "don't instrument this" switch, honoured like every
    OTel instrumentation does. The API has no public name for its key (a per-process random string),
    so, in order: opentelemetry-instrumentation's public ``is_instrumentation_enabled`` (reads the
    current context, which is the ``ctx`` the call path passes); else the API's private key, on
    tested API versions only; else only the plain ``"suppress_instrumentation"`` key that the public
    ``suppress_instrumentation()`` helper also sets (the SDK's own exporters, which set only the
    private key, are then not seen), counted and warned about once."""
    from opentelemetry import context

    try:
        from opentelemetry.instrumentation.utils import is_instrumentation_enabled
    except Exception:
        is_instrumentation_enabled = None
    if is_instrumentation_enabled is not None:
        return (lambda ctx: not is_instrumentation_enabled()), "opentelemetry-instrumentation"
    reason, detail = fastpaths.gate("opentelemetry-api", SUPPRESS_KEY_TESTED)
    key = getattr(context, "_SUPPRESS_INSTRUMENTATION_KEY", None) if reason is None else None
    if key is not None:
        return (lambda ctx: bool(ctx.get(key) or ctx.get(PLAIN_SUPPRESS_KEY))), "private key (gated)"
    detail = detail or "opentelemetry.context has no _SUPPRESS_INSTRUMENTATION_KEY"
    fastpaths.fallback(SUPPRESS_PATH, reason or "missing",
                       detail + "; only the plain 'suppress_instrumentation' key is honoured")
    return (lambda ctx: bool(ctx.get(PLAIN_SUPPRESS_KEY))), "plain key"


class NoopFixer:
    """The fixer while no pattern is loaded (``llm/fixer.py`` names the seam): ``active`` False lets
    the call path skip building the request view. Defined here so this bottom module imports nothing
    of Arc's."""

    active = False

    def fix(self, request: object) -> None:
        return None


class RuntimeState:
    def __init__(self) -> None:
        self.fixer = NoopFixer()
        self.capture_content = False
        self.breaker_open = False
        self.sampler = None  # callable() -> bool, None = keep every span
        self.observers: list = []  # callables(call: LLMCall, error: bool) for metrics/breaker (guards.py)
        # callable(spec, arc_ns) for a sampled-out call that succeeded without an LLMCall; None =
        # sampled-out calls take the full path (guards.py installs it with the sampler)
        self.on_sampled_out = None
        # the DynamicSampler whose skip runs ``llm/call.py`` may take without start() (guards.py)
        self.skipper = None
        # llm/capture.Capture when ARC_CAPTURE is set: finished calls are offered to the cassette
        self.capture = None
        # suppressed(ctx) -> bool: OTel's "suppress instrumentation" switch (suppression_check)
        self.suppressed, self.suppression = suppression_check()


RUNTIME = RuntimeState()
