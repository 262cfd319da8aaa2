"""The provider-neutral view of an LLM request that patterns match and fixes write.

Built lazily from the SDK call's keyword arguments (only when patterns are loaded); never mutates
them. ``params`` holds every request parameter by name, plus flattened helpers
(``response_format.type``, ``tools[].name``). ``prompt_tokens_est`` (the span feature's size
estimate, ``prompt_size.py``) is computed on first read, so only when a pattern asks for it.
"""

from __future__ import annotations

from collections.abc import Mapping  # typing.Mapping's isinstance costs more (per call)
from typing import Any

from .prompt_size import _given, view_tokens_est

_SKIP = frozenset({"messages", "system", "input", "instructions", "extra_headers", "extra_query",
                   "extra_body", "timeout"})


class LLMRequest:
    __slots__ = ("provider", "operation", "model", "params", "system", "prompt", "messages", "kwargs", "_tokens")

    def __init__(self, provider: str, operation: str, model: Any, params: dict, system: str | None,
                 prompt: str | None, messages: int, kwargs: Mapping[str, Any]) -> None:
        self.provider = provider
        self.operation = operation
        self.model = model
        self.params = params
        self.system = system
        self.prompt = prompt
        self.messages = messages
        self.kwargs = kwargs
        self._tokens: int | None = None

    @property
    def prompt_tokens_est(self) -> int:
        """ceil(characters of all prompt text / 4), as ``arc.request.prompt_tokens_est`` counts them."""
        tokens = self._tokens
        if tokens is None:
            tokens = self._tokens = view_tokens_est(self.provider, self.operation, self.kwargs)
        return tokens

    def field(self, name: str) -> Any:
        """Value of a match field by name; ``_MISSING`` when absent."""
        if name in ("provider", "operation", "model", "system", "prompt", "messages", "prompt_tokens_est"):
            value = getattr(self, name)
            return _MISSING if value is None else value
        return self.params.get(name, _MISSING)

    def as_dict(self) -> dict:
        return {"provider": self.provider, "operation": self.operation, "model": self.model,
                "system": self.system, "prompt": self.prompt, "messages": self.messages,
                "prompt_tokens_est": self.prompt_tokens_est, **self.params}

    def __repr__(self) -> str:
        return f"LLMRequest({self.as_dict()!r})"


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"

    def __bool__(self) -> bool:
        return False


_MISSING = _Missing()
MISSING = _MISSING


def content_text(content: Any) -> str | None:
    """Text of a message ``content``: a string, or the text parts of a list of content blocks."""
    if content is None:
        return None
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif type(block) is dict or isinstance(block, Mapping):
                text = block.get("text")
                if isinstance(text, str):
                    parts.append(text)
        return "\n".join(parts) if parts else None
    return None


_EXCLUDED = _SKIP | {"model"}
# types of parameter values that are never a "not given" sentinel: checked without the type's name
_PLAIN = frozenset({str, int, float, bool, list, dict, tuple, type(None)})


def _params(kwargs: Mapping[str, Any]) -> dict:
    """Every request parameter by name, never an SDK "not given" sentinel (pattern lookups rely on
    that), plus the flattened helpers."""
    params = {}
    for k, v in kwargs.items():
        if k not in _EXCLUDED and (type(v) in _PLAIN or _given(v)):
            params[k] = v
    extra = kwargs.get("extra_body")
    if extra is not None and isinstance(extra, Mapping):  # anthropic 2.x: sampling params via extra_body
        for key, value in extra.items():
            if isinstance(key, str) and key not in params and key not in _EXCLUDED and _given(value):
                params[key] = value
    rf = kwargs.get("response_format")
    if rf is not None and isinstance(rf, Mapping) and "type" in rf and _given(rf["type"]):
        params["response_format.type"] = rf["type"]
    tools = kwargs.get("tools")
    if isinstance(tools, (list, tuple)):
        names = []
        for tool in tools:
            if isinstance(tool, Mapping):
                fn = tool.get("function")
                name = fn.get("name") if isinstance(fn, Mapping) else tool.get("name")
                if isinstance(name, str):
                    names.append(name)
        params["tools[].name"] = names
    return params


def _last_user_text(messages: Any) -> str | None:
    if not isinstance(messages, (list, tuple)):
        return None
    for msg in reversed(messages):
        if (type(msg) is dict or isinstance(msg, Mapping)) and msg.get("role") == "user":
            return content_text(msg.get("content"))
    return None


def from_openai_chat(kwargs: Mapping[str, Any]) -> LLMRequest:
    messages = kwargs.get("messages") or ()
    if type(messages) is not list and type(messages) is not tuple:
        return _openai_chat_any(kwargs, messages)
    # one pass: the system/developer texts and the last user message (what the general path finds)
    system = user = None
    for m in messages:
        if type(m) is dict or isinstance(m, Mapping):
            role = m.get("role")
            if role == "user":
                user = m
            elif role == "system" or role == "developer":
                text = m.get("content")
                if type(text) is not str:
                    text = content_text(text)
                if text:
                    system = text if system is None else system + "\n" + text
    if user is not None:
        prompt = user.get("content")
        if type(prompt) is not str:
            prompt = content_text(prompt)
    else:
        prompt = None
    return LLMRequest("openai", "chat", kwargs.get("model"), _params(kwargs), system, prompt, len(messages),
                      kwargs)


def _openai_chat_any(kwargs: Mapping[str, Any], messages: Any) -> LLMRequest:
    """``from_openai_chat`` for messages that are not a list or tuple."""
    system_parts = [content_text(m.get("content")) for m in messages
                    if (type(m) is dict or isinstance(m, Mapping)) and m.get("role") in ("system", "developer")]
    system = "\n".join(p for p in system_parts if p) or None
    return LLMRequest("openai", "chat", kwargs.get("model"), _params(kwargs), system,
                      _last_user_text(messages), len(messages) if hasattr(messages, "__len__") else 0,
                      kwargs)


def from_openai_responses(kwargs: Mapping[str, Any]) -> LLMRequest:
    inp = kwargs.get("input")
    if isinstance(inp, str):
        prompt, count = inp, 1
    else:
        prompt, count = _last_user_text(inp), len(inp) if isinstance(inp, (list, tuple)) else 0
    params = _params(kwargs)
    if "max_output_tokens" in kwargs and "max_tokens" not in params:
        params["max_tokens"] = kwargs["max_output_tokens"]
    return LLMRequest("openai", "responses", kwargs.get("model"), params, kwargs.get("instructions"),
                      prompt, count, kwargs)


def from_openai_embeddings(kwargs: Mapping[str, Any]) -> LLMRequest:
    inp = kwargs.get("input")
    prompt = inp if isinstance(inp, str) else None
    count = len(inp) if isinstance(inp, (list, tuple)) else 1
    return LLMRequest("openai", "embeddings", kwargs.get("model"), _params(kwargs), None, prompt, count,
                      kwargs)


def from_anthropic_messages(kwargs: Mapping[str, Any]) -> LLMRequest:
    messages = kwargs.get("messages") or ()
    system = kwargs.get("system")
    if type(system) is not str:
        system = content_text(system)
    return LLMRequest("anthropic", "chat", kwargs.get("model"), _params(kwargs), system,
                      _last_user_text(messages), len(messages) if hasattr(messages, "__len__") else 0,
                      kwargs)
