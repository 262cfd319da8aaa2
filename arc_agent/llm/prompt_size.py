"""The prompt's size as Arc estimates it (characters of all message, system and input text / 4,
rounded up), shared by the span feature ``arc.request.prompt_tokens_est`` and the request view's
``prompt_tokens_est`` field that patterns match on, so a learned range means the same on both sides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _given(value: Any) -> bool:
    """False for the SDKs' "not given" sentinels (openai/anthropic ``NotGiven`` / ``Omit``)."""
    return type(value).__name__ not in ("NotGiven", "Omit")


def _text_len(content: Any) -> int:
    """Characters of a message content: a string, or the ``text`` of its parts."""
    if type(content) is str:
        return len(content)
    n = 0
    if isinstance(content, (list, tuple)):
        for part in content:
            if type(part) is str:
                n += len(part)
            elif isinstance(part, Mapping):
                text = part.get("text")
                if type(text) is str:
                    n += len(text)
    return n


def _text(content: Any) -> str:
    if type(content) is str:
        return content
    if isinstance(content, (list, tuple)):
        return "\n".join(p if type(p) is str else p.get("text") for p in content
                         if type(p) is str or (isinstance(p, Mapping) and type(p.get("text")) is str))
    return ""


def prompt_parts(api: str, kwargs: Mapping[str, Any]) -> tuple:
    """(characters of all prompt text, message count, system prompt text) of one request; ``api`` is
    ``chat.completions``, ``responses`` or ``messages`` (Anthropic)."""
    chars = 0
    count = 0
    system = ""
    if api == "responses":
        inp = kwargs.get("input")
        if type(inp) is str:
            chars, count = len(inp), 1
        elif isinstance(inp, (list, tuple)):
            count = len(inp)
            for item in inp:
                if isinstance(item, Mapping):
                    chars += _text_len(item.get("content"))
        instructions = kwargs.get("instructions")
        if type(instructions) is str:
            chars += len(instructions)
            system = instructions
    else:
        messages = kwargs.get("messages")
        if isinstance(messages, (list, tuple)):
            count = len(messages)
            for m in messages:
                if type(m) is dict or isinstance(m, Mapping):  # a plain dict skips the ABC check
                    content = m.get("content")
                    chars += _text_len(content)
                    if m.get("role") in ("system", "developer"):
                        text = _text(content)
                        system = text if not system else system + "\n" + text
        if api == "messages" and kwargs.get("system") is not None and _given(kwargs["system"]):
            system = _text(kwargs["system"])
            chars += len(system)
            count += 1
    return chars, count, system


def tokens_est(chars: int) -> int:
    return -(-chars // 4)


def view_tokens_est(provider: str, operation: str, kwargs: Mapping[str, Any]) -> int:
    """``prompt_tokens_est`` of a request view (its provider and neutral operation name)."""
    if provider == "anthropic":
        api = "messages"
    elif operation == "chat":
        api = "chat.completions"
    else:
        api = "responses"  # responses, and embeddings' ``input`` string
    return tokens_est(prompt_parts(api, kwargs)[0])
