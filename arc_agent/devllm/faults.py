"""Deterministic failure injection: which API request gets an HTTP error, and how long to wait.

Three triggers, first match wins:
  * header ``X-Dev-LLM-Fail: 429`` on the request;
  * a model named ``fail-<status>`` (e.g. ``"fail-500"``), handy where headers are hard to set;
  * the server-wide ``fail_rate`` (``--fail-rate`` / ``ARC_DEVLLM_FAIL_RATE``) with ``fail_status``:
    request k fails when floor(k * rate) grows, so 0.25 fails exactly every 4th request.
``X-Dev-LLM-Fail-Attempts: N`` limits a header/model failure to the first N attempts of a call (the
SDKs send their attempt number in ``x-stainless-retry-count``), so SDK retries can be exercised
without server state.
"""

from __future__ import annotations

import math
import re
import threading
from typing import Mapping, Optional

from .config import DevLLMConfig
from .exchange import ApiError

FAIL_HEADER = "x-dev-llm-fail"
FAIL_ATTEMPTS_HEADER = "x-dev-llm-fail-attempts"
DELAY_HEADER = "x-dev-llm-delay-ms"
CHUNK_DELAY_HEADER = "x-dev-llm-chunk-delay-ms"
REPLY_HEADER = "x-dev-llm-reply"
REFUSAL_HEADER = "x-dev-llm-refusal"  # answer with a refusal carrying this text (OpenAI chat, Anthropic)
STREAM_ERROR_AFTER_HEADER = "x-dev-llm-stream-error-after"
STREAM_ABORT_AFTER_HEADER = "x-dev-llm-stream-abort-after"
_FAIL_MODEL = re.compile(r"^fail-(\d{3})(?:\b|$)")


def header_int(headers: Mapping[str, str], name: str, low: int = 0, high: int = 10**7) -> Optional[int]:
    """An integer control header, or None when absent; a bad value is the caller's 400."""
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ApiError(400, f"header {name} must be an integer in {low}..{high}, got {raw!r}")
    return value


class FaultPlan:
    """Counts API requests for ``fail_rate`` and decides each request's injected status, if any."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._count = 0

    def injected(self, config: DevLLMConfig, headers: Mapping[str, str], model: object) -> Optional[ApiError]:
        """The error to answer this request with, or None to answer normally."""
        status, source = header_int(headers, FAIL_HEADER, 400, 599), "header X-Dev-LLM-Fail"
        if status is None and isinstance(model, str):
            match = _FAIL_MODEL.match(model)
            if match and 400 <= int(match.group(1)) <= 599:
                status, source = int(match.group(1)), f"model {model!r}"
        if status is not None:
            attempts = header_int(headers, FAIL_ATTEMPTS_HEADER, 0)
            attempt = _int_or_zero(headers.get("x-stainless-retry-count"))
            if attempts is not None and attempt >= attempts:
                return None
        elif config.fail_rate > 0:
            with self._lock:
                self._count += 1
                k = self._count
            if math.floor(k * config.fail_rate + 1e-9) > math.floor((k - 1) * config.fail_rate + 1e-9):
                status, source = config.fail_status, f"fail_rate {config.fail_rate}, request {k}"
        if status is None:
            return None
        return ApiError(status, f"arc dev-llm injected HTTP {status} ({source})")


def _int_or_zero(raw: Optional[str]) -> int:
    try:
        return int(raw) if raw is not None else 0
    except ValueError:
        return 0
