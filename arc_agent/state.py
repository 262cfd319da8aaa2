"""Hot-path runtime state, read once per intercepted call.

One module-level object so the call path does a single global lookup. The fixer, sampler and
breaker are swapped in by ``runtime.Runtime``; defaults cost nothing.
"""

from __future__ import annotations

try:  # OTel's own "don't instrument this" switch, honoured like every OTel instrumentation does
    from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY as SUPPRESS_KEY
except ImportError:  # pragma: no cover - very old API
    SUPPRESS_KEY = None


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


RUNTIME = RuntimeState()
