"""The outcome of one replayed call, in the span contract's words (``arc.outcome``): ``ok``,
``http_error``, ``truncated``, ``invalid_json``, ``empty``, ``refused``; plus the provider's error
fields for an HTTP error. Read from the SDK's public response/exception objects only."""

from __future__ import annotations

import json
from typing import Any


def _wants_json(kwargs: dict) -> bool:
    rf = kwargs.get("response_format")
    if isinstance(rf, dict) and rf.get("type") in ("json_object", "json_schema"):
        return True
    text = kwargs.get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    return isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema")


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _text_outcome(text: str | None, wants_json: bool) -> str:
    if not text:
        return "empty"
    if wants_json and not _parses(text):
        return "invalid_json"
    return "ok"


def of_response(provider: str, operation: str, kwargs: dict, response: Any) -> str:
    if provider == "anthropic":
        stop = getattr(response, "stop_reason", None)
        if stop == "max_tokens":
            return "truncated"
        if stop == "refusal":
            return "refused"
        blocks = getattr(response, "content", None) or []
        if any(getattr(b, "type", "") == "tool_use" for b in blocks):
            return "ok"
        return _text_outcome("".join(getattr(b, "text", "") or "" for b in blocks), False)
    if operation == "responses":
        details = getattr(response, "incomplete_details", None)
        if getattr(response, "status", None) == "incomplete" and getattr(details, "reason", "") == "max_output_tokens":
            return "truncated"
        return _text_outcome(getattr(response, "output_text", None), _wants_json(kwargs))
    choices = getattr(response, "choices", None) or []
    if not choices:
        return "empty"
    choice = choices[0]
    if choice.finish_reason == "length":
        return "truncated"
    message = choice.message
    if getattr(message, "refusal", None):
        return "refused"
    if getattr(message, "tool_calls", None):
        return "ok"
    return _text_outcome(message.content, _wants_json(kwargs))


def of_exception(exc: BaseException) -> tuple:
    """(outcome, error dict) for an SDK exception: status, code, param, type where it carries them."""
    status = getattr(exc, "status_code", None)
    error: dict = {"status": status if isinstance(status, int) else None, "class": type(exc).__name__}
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):  # anthropic: {"type": "error", "error": {...}}
        body = body["error"]
    for key in ("code", "param", "type"):
        value = getattr(exc, key, None)
        if value is None and isinstance(body, dict):
            value = body.get(key)
        error[key] = value if isinstance(value, str) else ""
    return "http_error", error
