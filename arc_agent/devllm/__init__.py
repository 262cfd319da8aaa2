"""``arc dev-llm``: a deterministic OpenAI/Anthropic-compatible HTTP server for tests and the demo.

No provider is reachable from CI, so tests drive the real SDKs over real HTTP against this server.
It can fail on purpose (malformed JSON at high temperature, truncation at small max_tokens,
injected 429/5xx, delays), answers a catalogue of models with the providers' real 400s
(``reasoning-mini``: unsupported ``temperature`` / ``max_tokens``; ``small-4k`` / ``large-128k``:
context length; ``claude-haiku-small``: ``max_tokens`` above 4096; see ``catalogue``), and records
every request it received, with credentials redacted.
Names load lazily so ``arc dev-llm`` imports only what it runs.
"""

import importlib
from typing import Any

_EXPORTS = {
    "DevLLMServer": ".server",
    "DevLLMConfig": ".config",
    "DEMO_MODEL": ".config",
    "DevLLMProcess": ".process",
    "DevLLMClient": ".client",
    "REDACTED": ".requestlog",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
