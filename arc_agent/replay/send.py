"""Send one recorded request through the real SDK (openai or anthropic) to a provider base URL.

The clients are built once per ``Sender``, with retries off (a replay must see what the provider
answers) and a dummy key unless ``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY`` are set. Fields a
cassette cannot hold safely are never sent: ``stream`` is forced off so every reply is whole.
"""

from __future__ import annotations

import os
from typing import Any

from . import outcome as outcomes

_NEVER_SENT = ("stream", "api_key", "extra_headers", "timeout")


def _unreachable(provider: str, exc: Exception) -> bool:
    """No answer at all (refused, DNS, timeout): the SDK's ``APIConnectionError`` (timeouts included)."""
    import importlib

    sdk = importlib.import_module("anthropic" if provider == "anthropic" else "openai")
    return isinstance(exc, sdk.APIConnectionError)


class Sender:
    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._clients: dict = {}
        self.sent = 0
        self.unreachable = 0  # sends that never got an answer (connection refused, DNS, timeout)
        self.last_unreachable = ""

    def _client(self, provider: str) -> Any:
        client = self._clients.get(provider)
        if client is None:
            if provider == "anthropic":
                import anthropic

                client = anthropic.Anthropic(base_url=self.base_url, max_retries=0, timeout=self.timeout,
                                             api_key=os.environ.get("ANTHROPIC_API_KEY") or "arc-replay")
            else:
                import openai

                client = openai.OpenAI(base_url=self.base_url + "/v1", max_retries=0, timeout=self.timeout,
                                       api_key=os.environ.get("OPENAI_API_KEY") or "arc-replay")
            self._clients[provider] = client
        return client

    def send(self, provider: str, operation: str, kwargs: dict) -> tuple:
        """(outcome, error dict) of sending ``kwargs``; a transport failure is ``http_error`` too."""
        clean = {k: v for k, v in kwargs.items() if k not in _NEVER_SENT}
        client = self._client(provider)
        if provider == "anthropic":
            method = client.messages.create
        elif operation == "responses":
            method = client.responses.create
        else:
            method = client.chat.completions.create
        self.sent += 1
        try:
            response = method(**clean)
        except Exception as exc:  # the SDK's APIError family, or a bad recorded argument
            if _unreachable(provider, exc):
                self.unreachable += 1
                self.last_unreachable = f"{type(exc).__name__}: {exc}"
            return outcomes.of_exception(exc)
        return outcomes.of_response(provider, operation, clean, response), {}

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
