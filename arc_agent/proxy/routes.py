"""Which provider and which integration ``CallSpec`` a proxied request belongs to, and the upstream
URL it goes to.

Upstreams are given as an SDK's ``base_url``: OpenAI's includes its version segment
(``https://api.openai.com/v1``) and is served under ``/v1``; Anthropic's does not
(``https://api.anthropic.com``) and takes the path as sent. A request is Anthropic's when it
carries the ``anthropic-version`` header its SDK always sends, or its path is ``/v1/messages…``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..instrumentation import anthropic as anthropic_integration
from ..instrumentation import openai as openai_integration
from ..llm.call import CallSpec

OPENAI_PREFIX = "/v1"
_OPENAI_SPECS = {
    "/v1/chat/completions": openai_integration.CHAT,
    "/v1/responses": openai_integration.RESPONSES,
    "/v1/embeddings": openai_integration.EMBEDDINGS,
}
_ANTHROPIC_SPECS = {"/v1/messages": anthropic_integration.MESSAGES}

# HTTP status -> the exception class name the provider's SDK raises for it (``error.type`` on the
# span, as in-process interception records it); the rest: >= 500 InternalServerError, else APIStatusError
_STATUS_ERRORS = {400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError",
                  404: "NotFoundError", 409: "ConflictError", 422: "UnprocessableEntityError",
                  429: "RateLimitError"}
_ANTHROPIC_STATUS_ERRORS = {**_STATUS_ERRORS, 408: "RequestTimeoutError", 413: "ContentTooLargeError",
                            503: "ServiceUnavailableError", 504: "GatewayTimeoutError", 529: "OverloadedError"}


class Route(NamedTuple):
    provider: str
    spec: CallSpec | None  # None: forwarded as is, no span (models lists, token counts, ...)
    url: str  # upstream URL without the query string


def route(method: str, path: str, headers: Any, openai_base: str, anthropic_base: str) -> Route | None:
    """The route of a request, or None when its path is no provider API path."""
    if "anthropic-version" in headers or path.startswith("/v1/messages"):
        spec = _ANTHROPIC_SPECS.get(path) if method == "POST" else None
        return Route("anthropic", spec, anthropic_base + path)
    if path == OPENAI_PREFIX or path.startswith(OPENAI_PREFIX + "/"):
        spec = _OPENAI_SPECS.get(path) if method == "POST" else None
        return Route("openai", spec, openai_base + path[len(OPENAI_PREFIX):])
    return None


def status_error_name(provider: str, status: int) -> str:
    table = _ANTHROPIC_STATUS_ERRORS if provider == "anthropic" else _STATUS_ERRORS
    name = table.get(status)
    if name is None:
        name = "InternalServerError" if status >= 500 else "APIStatusError"
    return name
