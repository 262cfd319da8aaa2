"""Anthropic SDK integration: ``messages.create`` (sync, async, ``stream=True``) and the
``messages.stream(...)`` context managers, patched at class level.

``messages.stream`` does not go through ``create``; it is wrapped on its own and its raw event
stream is observed by the same stream proxy as ``create(stream=True)``.
"""

from __future__ import annotations

import importlib
from time import perf_counter_ns
from typing import Any

import wrapt

from .. import failopen
from ..llm import request as views
from ..llm.call import CallSpec, LLMCall, invoke_async, invoke_sync, messages_json, start, sync_method, usage_attributes
from ..llm.streams import StreamObserver, finish_stream, wrap_stream
from ..telemetry import attributes as A
from ..telemetry.encodable import text
from .base import unwrap, wrap, wrap_method

TARGET = "anthropic"
DISTRIBUTION = "anthropic"
SUPPORTED = ("0.30.0", "3.0.0")

PROVIDER = "anthropic"


def message_attributes(msg: Any) -> dict:
    attrs: dict = {}
    if isinstance(getattr(msg, "id", None), str):
        attrs[A.GEN_AI_RESPONSE_ID] = text(msg.id)  # provider data: may hold lone surrogates
    if isinstance(getattr(msg, "model", None), str):
        attrs[A.GEN_AI_RESPONSE_MODEL] = text(msg.model)
    if isinstance(getattr(msg, "stop_reason", None), str) and msg.stop_reason:
        attrs[A.GEN_AI_RESPONSE_FINISH_REASONS] = (text(msg.stop_reason),)
    usage_attributes(getattr(msg, "usage", None), attrs)
    return attrs


class MessageStreamObserver(StreamObserver):
    """Reads the raw SSE events: message_start carries id/model/input usage, message_delta the
    stop reason and output usage."""

    __slots__ = ("attrs",)

    def __init__(self) -> None:
        self.attrs: dict = {}

    def on_chunk(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        if kind == "message_start":
            self.attrs.update(message_attributes(event.message))
        elif kind == "message_delta":
            reason = getattr(event.delta, "stop_reason", None)
            if isinstance(reason, str) and reason:
                self.attrs[A.GEN_AI_RESPONSE_FINISH_REASONS] = (text(reason),)
            usage = getattr(event, "usage", None)
            out = getattr(usage, "output_tokens", None)
            if isinstance(out, int):
                self.attrs[A.GEN_AI_USAGE_OUTPUT_TOKENS] = out
            inp = getattr(usage, "input_tokens", None)
            if isinstance(inp, int):
                self.attrs[A.GEN_AI_USAGE_INPUT_TOKENS] = inp

    def attributes(self) -> dict:
        return self.attrs


def _content(kwargs: dict) -> dict:
    attrs = {A.GEN_AI_INPUT_MESSAGES: messages_json(kwargs.get("messages"))}
    system = views.content_text(kwargs.get("system"))
    if system:
        attrs[A.GEN_AI_SYSTEM_INSTRUCTIONS] = text(system)
    return attrs


def _output(msg: Any) -> dict:
    return {A.GEN_AI_OUTPUT_MESSAGES: messages_json(getattr(msg, "content", None))}


MESSAGES = CallSpec(PROVIDER, "chat", views.from_anthropic_messages, message_attributes,
                    MessageStreamObserver, _content, _output)


def _observe_raw(message_stream: Any, call: LLMCall) -> None:
    """Swap the MessageStream's raw SSE stream for an observing proxy (read lazily by its iterator)."""
    try:
        message_stream._raw_stream = wrap_stream(message_stream._raw_stream, call, MessageStreamObserver())
    except Exception as exc:
        failopen.record("anthropic_stream", exc)
        finish_stream(call, MessageStreamObserver())


class _StreamManagerProxy(wrapt.ObjectProxy):
    """Proxy for ``MessageStreamManager`` / ``AsyncMessageStreamManager``: the request is sent on
    enter; the call finishes when the raw stream ends, the manager exits, or it is collected."""

    def __init__(self, manager: Any, call: LLMCall) -> None:
        super().__init__(manager)
        self._self_call = call

    def __enter__(self):
        try:
            stream = self.__wrapped__.__enter__()
        except BaseException as exc:
            finish_stream(self._self_call, MessageStreamObserver(), exc)
            raise
        _observe_raw(stream, self._self_call)
        return stream

    def __exit__(self, exc_type, exc, tb):
        try:
            return self.__wrapped__.__exit__(exc_type, exc, tb)
        finally:
            finish_stream(self._self_call, MessageStreamObserver(), exc)

    async def __aenter__(self):
        try:
            stream = await self.__wrapped__.__aenter__()
        except BaseException as exc:
            finish_stream(self._self_call, MessageStreamObserver(), exc)
            raise
        _observe_raw(stream, self._self_call)
        return stream

    async def __aexit__(self, exc_type, exc, tb):
        try:
            return await self.__wrapped__.__aexit__(exc_type, exc, tb)
        finally:
            finish_stream(self._self_call, MessageStreamObserver(), exc)

    def __del__(self) -> None:
        finish_stream(self._self_call, MessageStreamObserver())


def _stream(wrapped, instance, args, kwargs):
    t0 = perf_counter_ns()
    try:
        call = start(MESSAGES, instance, dict(kwargs, stream=True), t0)
    except Exception as exc:
        failopen.record("start", exc)
        call = None
    if call is None:
        return wrapped(*args, **kwargs)
    send = dict(call.kwargs)
    send.pop("stream", None)
    call.arc_ns += perf_counter_ns() - t0
    try:
        manager = wrapped(*args, **send)
    except BaseException as exc:
        finish_stream(call, MessageStreamObserver(), exc)
        raise
    return _StreamManagerProxy(manager, call)


_MODULE = "anthropic.resources.messages"


def _resources():
    try:
        module = importlib.import_module(_MODULE)
    except ImportError:
        return None, None
    return getattr(module, "Messages", None), getattr(module, "AsyncMessages", None)


def patch() -> None:
    sync_cls, async_cls = _resources()
    if sync_cls is not None:
        wrap_method(sync_cls, "create", invoke_sync, MESSAGES, make=sync_method)
        wrap(sync_cls, "stream", _stream)
    if async_cls is not None:
        wrap_method(async_cls, "create", invoke_async, MESSAGES, is_async=True)
        wrap(async_cls, "stream", _stream)


def unpatch() -> None:
    for cls in _resources():
        if cls is not None:
            unwrap(cls, "create")
            unwrap(cls, "stream")
