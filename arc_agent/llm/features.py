"""Request features for mining failure patterns, computed once per call from the kwargs as sent.

Never content: parameter names, counts, a size estimate, the kind of output asked for, and a
SimHash fingerprint of the system prompt (cached per prompt text: apps reuse a few prompts).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..telemetry import attributes as A
from .prompt_size import prompt_parts, tokens_est
from .request import _given
from .simhash import fingerprint

# kwargs that are transport settings, not request parameters
_NOT_PARAMS = frozenset({"extra_headers", "extra_query", "extra_body", "timeout"})
_OUTPUT_LIMITS = ("max_completion_tokens", "max_output_tokens", "max_tokens")
_PLAIN = frozenset({str, int, float, bool, list, dict, tuple})  # never an SDK "not given" sentinel
JSON_KINDS = frozenset({"json_object", "json_schema", "tool"})  # response formats whose reply must parse
_FINGERPRINTS: dict = {}  # system prompt text -> fingerprint
_FINGERPRINTS_MAX = 256


def system_fingerprint(text: str) -> str:
    fp = _FINGERPRINTS.get(text)
    if fp is None:
        fp = fingerprint(text)
        if len(_FINGERPRINTS) >= _FINGERPRINTS_MAX:
            _FINGERPRINTS.clear()  # rare: an app with many prompts pays the hash again
        _FINGERPRINTS[text] = fp
    return fp


def _format_kind(fmt: Any) -> str:
    if isinstance(fmt, Mapping):
        kind = fmt.get("type")
        if kind in ("json_object", "json_schema"):
            return kind
    return "text"


def response_format(api: str, kwargs: Mapping[str, Any]) -> str:
    """``text``, ``json_object``, ``json_schema`` or (Anthropic, a forced tool call) ``tool``."""
    if api == "chat.completions":
        fmt = kwargs.get("response_format")
        if fmt is None:  # most calls: no ABC check
            return "text"
        return "json_schema" if isinstance(fmt, type) else _format_kind(fmt)  # a class: parse() sends its schema
    if api == "responses":
        if isinstance(kwargs.get("text_format"), type):  # responses.parse(text_format=Model)
            return "json_schema"
        text = kwargs.get("text")
        return _format_kind(text.get("format")) if isinstance(text, Mapping) else "text"
    if api == "messages":
        choice = kwargs.get("tool_choice")
        if isinstance(choice, Mapping) and choice.get("type") in ("tool", "any") and kwargs.get("tools"):
            return "tool"
        config = kwargs.get("output_config")
        if isinstance(config, Mapping) and isinstance(config.get("format"), Mapping) \
                and config["format"].get("type") == "json_schema":
            return "json_schema"
    return "text"


def request_features(api: str, kwargs: Mapping[str, Any]) -> dict:
    """The ``arc.request.*`` attributes of one request."""
    params = []
    for key, value in kwargs.items():
        if key not in _NOT_PARAMS and value is not None and (type(value) in _PLAIN or _given(value)):
            params.append(key)
    extra = kwargs.get("extra_body")
    if extra is not None and isinstance(extra, Mapping):  # sent as top-level request parameters too
        params.extend(k for k in extra if isinstance(k, str) and k not in kwargs)
    chars, count, system = prompt_parts(api, kwargs)
    tools = kwargs.get("tools")
    attrs = {
        A.ARC_REQUEST_PARAMS: tuple(sorted(params)),
        A.ARC_REQUEST_PROMPT_TOKENS_EST: tokens_est(chars),
        A.ARC_REQUEST_MESSAGE_COUNT: count,
        A.ARC_REQUEST_RESPONSE_FORMAT: response_format(api, kwargs),
        A.ARC_REQUEST_TOOL_COUNT: len(tools) if isinstance(tools, (list, tuple)) else 0,
    }
    for name in _OUTPUT_LIMITS:
        limit = kwargs.get(name)
        if type(limit) is int:
            attrs[A.ARC_REQUEST_MAX_COMPLETION_TOKENS] = limit
            break
    if system:
        attrs[A.ARC_REQUEST_SYSTEM_FINGERPRINT] = system_fingerprint(system)
    return attrs
