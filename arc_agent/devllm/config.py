"""Server-wide behaviour knobs of ``arc dev-llm``: defaults < ``ARC_DEVLLM_*`` env < CLI flags < runtime.

Every knob is deterministic: the same requests in the same order get the same answers, so tests
and the fix demo can rely on exactly when a failure happens.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping

DEMO_MODEL = "arc-demo"


@dataclasses.dataclass
class DevLLMConfig:
    """What the server does beyond answering; changeable at runtime via ``POST /_dev/config``."""

    fail_rate: float = 0.0
    """Fraction of API requests answered with ``fail_status``, spread evenly (0.25 = every 4th)."""
    fail_status: int = 500
    delay_ms: int = 0
    """Delay before every API response (per request: header ``X-Dev-LLM-Delay-Ms``)."""
    chunk_delay_ms: int = 0
    """Delay between streamed chunks (per request: header ``X-Dev-LLM-Chunk-Delay-Ms``)."""
    malformed_json_above: float = 0.9
    """A JSON-wanting request with temperature above this gets malformed JSON back."""
    truncate_below: int = 16
    """A max_tokens / max_output_tokens below this always truncates the reply."""
    embedding_dimensions: int = 64
    retry_after_ms: int = 10
    """Sent as ``retry-after-ms`` with injected 429/5xx so SDK retries (if enabled) are quick."""
    log_size: int = 10_000
    """How many received requests ``GET /_dev/requests`` keeps (oldest dropped first; 0 = none)."""

    def updated(self, changes: Mapping[str, Any]) -> DevLLMConfig:
        """A validated copy with ``changes`` applied; unknown names or bad values raise ValueError."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        values = dataclasses.asdict(self)
        for name, raw in changes.items():
            if name not in fields:
                raise ValueError(f"unknown dev-llm setting {name!r}; known: {', '.join(sorted(fields))}")
            kind = float if fields[name].type == "float" else int
            try:
                values[name] = kind(raw)
            except (TypeError, ValueError):
                raise ValueError(f"dev-llm setting {name!r} must be a {kind.__name__}, got {raw!r}") from None
        new = DevLLMConfig(**values)
        new.validate()
        return new

    def validate(self) -> None:
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError(f"fail_rate must be within 0..1, got {self.fail_rate}")
        if not 400 <= self.fail_status <= 599:
            raise ValueError(f"fail_status must be an HTTP error status 400..599, got {self.fail_status}")
        for name in ("delay_ms", "chunk_delay_ms", "retry_after_ms", "truncate_below"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 1 <= self.embedding_dimensions <= 8192:
            raise ValueError(f"embedding_dimensions must be within 1..8192, got {self.embedding_dimensions}")
        if self.log_size < 0:
            raise ValueError(f"log_size must be >= 0, got {self.log_size}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DevLLMConfig:
        """Defaults overridden by ``ARC_DEVLLM_<NAME>`` variables (e.g. ``ARC_DEVLLM_FAIL_RATE=0.5``)."""
        environ = os.environ if environ is None else environ
        changes = {}
        for f in dataclasses.fields(cls):
            key = "ARC_DEVLLM_" + f.name.upper()
            if environ.get(key, "").strip():
                changes[f.name] = environ[key].strip()
        try:
            return cls().updated(changes)
        except ValueError as exc:
            raise ValueError(f"bad ARC_DEVLLM_* environment: {exc}") from None
