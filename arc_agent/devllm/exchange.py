"""What an endpoint receives (``Call``) and returns (``JsonReply`` / ``StreamReply`` / ``ApiError``).

Endpoints are plain functions of a ``Call``; the HTTP layer (``server.py``) does the I/O, so the
provider modules hold only the wire formats.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import Any, Callable, Dict, List, Optional

from .config import DevLLMConfig

OPENAI = "openai"
ANTHROPIC = "anthropic"

_OPENAI_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                       404: "not_found_error", 429: "rate_limit_exceeded"}
_ANTHROPIC_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
                          403: "permission_error", 404: "not_found_error", 408: "timeout_error",
                          413: "request_too_large", 429: "rate_limit_error", 529: "overloaded_error"}


class ApiError(Exception):
    """An error answer, rendered in the calling provider's error JSON so its SDK raises the right class."""

    def __init__(self, status: int, message: str, *, param: Optional[str] = None,
                 code: Optional[str] = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code

    def body(self, provider: str, request_id: str) -> dict:
        if provider == ANTHROPIC:
            kind = _ANTHROPIC_ERROR_TYPES.get(self.status) or (
                "api_error" if self.status >= 500 else "invalid_request_error")
            return {"type": "error", "error": {"type": kind, "message": self.message}, "request_id": request_id}
        kind = _OPENAI_ERROR_TYPES.get(self.status) or (
            "server_error" if self.status >= 500 else "invalid_request_error")
        code = self.code or ("rate_limit_exceeded" if self.status == 429 else None)
        return {"error": {"message": self.message, "type": kind, "param": self.param, "code": code}}


@dataclasses.dataclass
class JsonReply:
    body: Any
    status: int = 200


@dataclasses.dataclass
class StreamReply:
    """Server-sent events, already framed (``event: ...\\ndata: ...\\n\\n``), written one by one."""

    frames: List[str]
    error_frame: Callable[[ApiError], str]
    """How this provider reports an error inside an open stream."""


@dataclasses.dataclass
class Call:
    """One API request as the endpoint sees it; ``headers`` have lower-cased names."""

    provider: str
    body: Dict[str, Any]
    headers: Dict[str, str]
    config: DevLLMConfig
    number: int
    """Sequence number of this API request, used in ids (``chatcmpl-devllm-7``)."""
    created: int
    stopping: threading.Event

    def id(self, prefix: str) -> str:
        return f"{prefix}devllm-{self.number}"


def sse(data: Any, event: Optional[str] = None) -> str:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return (f"event: {event}\n" if event else "") + f"data: {payload}\n\n"


# -- request validation: clear 400s naming the field, like the real APIs ------------------------------

def required_str(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ApiError(400, f"'{name}' is required and must be a non-empty string", param=name)
    return value


def required_list(body: dict, name: str) -> list:
    value = body.get(name)
    if not isinstance(value, list) or not value:
        raise ApiError(400, f"'{name}' is required and must be a non-empty array", param=name)
    return value


def optional_number(body: dict, name: str, low: float, high: float) -> Optional[float]:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ApiError(400, f"'{name}' must be a number between {low} and {high}, got {value!r}", param=name)
    return float(value)


def optional_int(body: dict, name: str, low: int, high: int = 10**9) -> Optional[int]:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApiError(400, f"'{name}' must be an integer between {low} and {high}, got {value!r}", param=name)
    return value


def stop_list(value: Any, name: str) -> List[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return value
    raise ApiError(400, f"'{name}' must be a string or an array of strings", param=name)


def content_texts(content: Any) -> List[str]:
    """Text inside a message ``content``: a string, or a list of parts/blocks carrying ``text``."""
    if isinstance(content, str):
        return [content]
    out: List[str] = []
    if isinstance(content, list):
        for part in content:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, dict):
                if isinstance(part.get("text"), str):
                    out.append(part["text"])
                elif "content" in part:  # tool results nest their content
                    out.extend(content_texts(part["content"]))
                elif isinstance(part.get("output"), str):
                    out.append(part["output"])
    return out
