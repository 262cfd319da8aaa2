"""Translate neutral fix ops into the SDK's keyword arguments, per provider and operation.

Copy-on-write: the caller's kwargs dict, messages list, message dicts, content lists and
``extra_body`` are never mutated; only what changes is copied. Headers, credentials, timeouts
and responses are never touched. A parameter the SDK method does not accept as a keyword (e.g.
``temperature`` on anthropic 2.x's ``messages.create``) goes into ``extra_body``, which the SDK
merges into the JSON body.

``changes`` maps field → [old, new]; for the system prompt and the user prompt the caller's text
is elided as "…" so that message content never reaches a span unless content capture is on.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Mapping
from typing import Any

from .fixes import FixOp

ELIDED = "…"
SEPARATOR = "\n\n"
_MISSING = object()

_SDK_METHODS = {
    ("openai", "chat"): ("openai.resources.chat.completions", "Completions"),
    ("openai", "responses"): ("openai.resources.responses", "Responses"),
    ("openai", "embeddings"): ("openai.resources.embeddings", "Embeddings"),
    ("anthropic", "chat"): ("anthropic.resources.messages", "Messages"),
}
_accepted_cache: dict = {}


def accepted_params(provider: str, operation: str) -> frozenset | None:
    """Keyword names the installed SDK method accepts (None: unknown, assume any)."""
    key = (provider, operation)
    if key in _accepted_cache:
        return _accepted_cache[key]
    result = None
    target = _SDK_METHODS.get(key)
    module = None
    if target is not None and target[0].split(".", 1)[0] in sys.modules:  # never import an unused SDK
        try:
            module = importlib.import_module(target[0])
        except ImportError:
            module = None
    if module is not None:
        try:
            params = inspect.signature(getattr(module, target[1]).create).parameters.values()
            if not any(p.kind is p.VAR_KEYWORD for p in params):
                result = frozenset(p.name for p in params if p.name != "self")
        except (AttributeError, TypeError, ValueError):
            result = None
        _accepted_cache[key] = result  # cache only once the SDK is imported
    return result


def _param_name(name: str, provider: str, operation: str, kwargs: Mapping) -> str:
    if name == "max_tokens" and provider == "openai":
        if operation == "responses":
            return "max_output_tokens"
        if operation == "chat" and "max_completion_tokens" in kwargs:
            return "max_completion_tokens"
    return name


class Draft:
    """The kwargs being fixed: copies made lazily, changes recorded."""

    __slots__ = ("provider", "operation", "kwargs", "copied", "changes", "_extra_copied")

    def __init__(self, provider: str, operation: str, kwargs: Mapping) -> None:
        self.provider = provider
        self.operation = operation
        self.kwargs = kwargs
        self.copied = False
        self.changes: dict = {}
        self._extra_copied = False

    def _own(self) -> dict:
        if not self.copied:
            self.kwargs = dict(self.kwargs)
            self.copied = True
        return self.kwargs

    def _extra(self) -> dict:
        kw = self._own()
        if not self._extra_copied:
            eb = kw.get("extra_body")
            kw["extra_body"] = dict(eb) if isinstance(eb, Mapping) else {}
            self._extra_copied = True
        return kw["extra_body"]

    # -- parameters ----------------------------------------------------------------------------
    def apply(self, op: FixOp) -> None:
        if op.slot == "system":
            self._system(op)
        elif op.slot == "prompt":
            self._prompt(op)
        elif op.slot == "model":
            self._set_top("model", "model", op.value)
        else:
            self._param(op)

    def _param(self, op: FixOp) -> None:
        if op.kind == "rename":
            self._rename(op.slot, op.value)
            return
        kw = self.kwargs
        name = _param_name(op.slot, self.provider, self.operation, kw)
        eb = kw.get("extra_body")
        in_top = name in kw
        in_extra = eb is not None and (type(eb) is dict or isinstance(eb, Mapping)) and name in eb
        old = kw[name] if in_top else (eb[name] if in_extra else _MISSING)
        if op.kind == "remove":
            if old is _MISSING:
                return
            if in_top:
                del self._own()[name]
            if in_extra:
                del self._extra()[name]
            self.changes[op.slot] = [old, None]
            return
        if op.kind == "clamp":
            if old is _MISSING or isinstance(old, bool) or not isinstance(old, (int, float)):
                return
            lo, hi = op.value
            new = old
            if hi is not None and new > hi:
                new = hi
            if lo is not None and new < lo:
                new = lo
        else:
            new = op.value
        if old is not _MISSING and type(old) is type(new) and old == new:
            return
        if in_top or (not in_extra and self._top_level_ok(name)):
            self._own()[name] = new
        else:
            self._extra()[name] = new
        self.changes[op.slot] = [None if old is _MISSING else old, new]

    def _rename(self, name: str, target: str) -> None:
        """Move ``name``'s value to ``target`` (top level when the SDK takes it, else ``extra_body``);
        a value the caller already gave ``target`` is kept and ``name`` is only dropped."""
        kw = self.kwargs
        eb = kw.get("extra_body")
        in_extra = eb is not None and isinstance(eb, Mapping)
        if name in kw:
            value = kw[name]
            del self._own()[name]
        elif in_extra and name in eb:
            value = eb[name]
            del self._extra()[name]
        else:
            return
        self.changes[name] = [value, None]
        if target in self.kwargs or (in_extra and target in self.kwargs.get("extra_body", {})):
            return
        if self._top_level_ok(target):
            self._own()[target] = value
        else:
            self._extra()[target] = value
        self.changes[target] = [None, value]

    def _top_level_ok(self, name: str) -> bool:
        accepted = accepted_params(self.provider, self.operation)
        return accepted is None or name in accepted

    def _set_top(self, field: str, name: str, new: Any) -> None:
        old = self.kwargs.get(name)
        if old == new and type(old) is type(new):
            return
        self._own()[name] = new
        self.changes[field] = [old, new]

    # -- system prompt ---------------------------------------------------------------------------
    def _system(self, op: FixOp) -> None:
        prepend = op.kind == "prepend"
        if self.provider == "anthropic":
            self._top_text("system", "system", op.value, prepend, "text")
        elif self.operation == "responses":
            self._top_text("system", "instructions", op.value, prepend, "input_text")
        elif self.operation == "chat":
            self._chat_system(op.value, prepend)

    def _top_text(self, field: str, name: str, text: str, prepend: bool, block_type: str) -> None:
        old = self.kwargs.get(name)
        new = _edit_content(old, text, prepend, block_type)
        if new is None:
            return
        self._own()[name] = new
        self._text_changed(field, old is None, text, prepend)

    def _text_changed(self, field: str, was_absent: bool, text: str, prepend: bool) -> None:
        """Record [old, new] for a text slot with the caller's text elided; composes edits."""
        if field in self.changes:
            old, current = self.changes[field]
        else:
            old = current = None if was_absent else ELIDED
        self.changes[field] = [old, text if current is None else _join(text, current, prepend)]

    def _chat_system(self, text: str, prepend: bool) -> None:
        messages = self.kwargs.get("messages")
        if not isinstance(messages, (list, tuple)):
            return
        pos = _find_role(messages, ("system",), first=True)
        if pos is None:
            pos = _find_role(messages, ("developer",), first=True)
        new_messages = list(messages)
        if pos is None:
            new_messages.insert(0, {"role": "system", "content": text})
            self._text_changed("system", True, text, prepend)
        else:
            msg = messages[pos]
            content = _edit_content(msg.get("content"), text, prepend, "text")
            if content is None:
                return
            new_messages[pos] = {**msg, "content": content}
            self._text_changed("system", msg.get("content") is None, text, prepend)
        self._own()["messages"] = new_messages

    # -- user prompt -----------------------------------------------------------------------------
    def _prompt(self, op: FixOp) -> None:
        prepend = op.kind == "prefix"
        key = "messages" if self.operation == "chat" else "input"
        value = self.kwargs.get(key)
        if isinstance(value, str):
            self._own()[key] = _join(op.value, value, prepend)
            self._text_changed("prompt", False, op.value, prepend)
            return
        if not isinstance(value, (list, tuple)):
            return
        pos = _find_role(value, ("user",), first=False)
        if pos is None:
            return
        msg = value[pos]
        block_type = "input_text" if self.operation == "responses" else "text"
        content = _edit_content(msg.get("content"), op.value, prepend, block_type, in_place=True)
        if content is None:
            return
        new_list = list(value)
        new_list[pos] = {**msg, "content": content}
        self._own()[key] = new_list
        self._text_changed("prompt", False, op.value, prepend)


def _find_role(messages: Any, roles: tuple, first: bool) -> int | None:
    indexes = range(len(messages)) if first else range(len(messages) - 1, -1, -1)
    for i in indexes:
        msg = messages[i]
        if (type(msg) is dict or isinstance(msg, Mapping)) and msg.get("role") in roles:
            return i
    return None


def _join(text: str, existing: str, prepend: bool) -> str:
    if not existing:
        return text
    return text + SEPARATOR + existing if prepend else existing + SEPARATOR + text


def _edit_content(content: Any, text: str, prepend: bool, block_type: str, in_place: bool = False) -> Any:
    """New content with ``text`` added: a string stays a string; a list of blocks gets the text
    merged into its first/last text block (``in_place``) or a new text block. None: cannot edit."""
    if content is None:
        return text
    if isinstance(content, str):
        return _join(text, content, prepend)
    if not isinstance(content, (list, tuple)):
        return None
    blocks = list(content)
    if in_place:
        order = range(len(blocks)) if prepend else range(len(blocks) - 1, -1, -1)
        for i in order:
            block = blocks[i]
            if isinstance(block, Mapping) and isinstance(block.get("text"), str):
                blocks[i] = {**block, "text": _join(text, block["text"], prepend)}
                return blocks
    new_block = {"type": block_type, "text": text}
    if prepend:
        blocks.insert(0, new_block)
    else:
        blocks.append(new_block)
    return blocks
