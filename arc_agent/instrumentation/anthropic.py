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

from .. import failopen, fastpaths
from ..llm import request as views
from ..llm.call import CallSpec, LLMCall, invoke_async, invoke_sync, messages_json, start, sync_method, usage_attributes
from ..llm.outcome import classify, parses
from ..llm.server import forget_clients, remember_clients
from ..llm.streams import StreamObserver, finish_stream, wrap_stream
from ..telemetry import attributes as A
from ..telemetry.encodable import text
from . import sidecar
from .base import unwrap, wrap, wrap_method

TARGET = "anthropic"
DISTRIBUTION = "anthropic"
SUPPORTED = ("0.30.0", "3.0.0")

PROVIDER = "anthropic"
# anthropic versions whose MessageStream reads its SSE events from the private ``_raw_stream`` (tested:
# the newest in the dev extra here; its layout is the same since MessageStream exists). Outside them, or
# with ARC_PRIVATE_READS=0, ``messages.stream`` spans are filled from the public
# ``current_message_snapshot`` when the manager exits (no time to first chunk).
RAW_STREAM_TESTED = ("0.30.0", "3.0.0")
RAW_STREAM_PATH = "anthropic.raw_stream"  # fast path name (arc_fast_path_off_total{path})
_raw_stream_gate: tuple = ("missing", "not patched")  # fastpaths.gate: (None, "") = on


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


_TRUNCATED = frozenset({"max_tokens", "model_context_window_exceeded"})


def _outcome(stop_reason: Any, has_output: bool, json_kind: str, json_text: str | None) -> str:
    json_ok = json_kind == "text" or parses(json_text)
    return classify(stop_reason == "refusal", stop_reason in _TRUNCATED, has_output, json_ok)


def message_outcome(msg: Any, json_kind: str) -> str:
    """``arc.outcome`` of a message. JSON asked as a forced tool call must come back as tool input
    (the SDK has parsed it: an object); asked through ``output_config`` it is the first text."""
    has_output = False
    json_text = None
    for block in getattr(msg, "content", None) or ():
        kind = getattr(block, "type", None)
        if kind == "text":
            text = getattr(block, "text", None)
            if text:
                has_output = True
                if json_text is None and json_kind == "json_schema":
                    json_text = text
        elif kind == "tool_use":
            has_output = True
            if json_text is None and json_kind == "tool":
                json_text = "{}" if isinstance(getattr(block, "input", None), dict) else None
        elif kind is not None and kind != "thinking" and kind != "redacted_thinking":
            has_output = True
    return _outcome(getattr(msg, "stop_reason", None), has_output, json_kind, json_text)


class MessageStreamObserver(StreamObserver):
    """Reads the raw SSE events: message_start carries id/model/input usage, message_delta the
    stop reason and output usage; text / tool input is collected only when JSON was asked."""

    __slots__ = ("attrs", "stop_reason", "has_output", "parts", "block", "tool_seen")

    def __init__(self) -> None:
        self.attrs: dict = {}
        self.stop_reason = None
        self.has_output = False
        self.parts: list | None = None  # the JSON answer's pieces (first matching block)
        self.block = None  # index of that block
        self.tool_seen = False

    def on_chunk(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        if kind == "content_block_delta":
            delta = event.delta
            dtype = getattr(delta, "type", None)
            piece = getattr(delta, "text", None) if dtype == "text_delta" else \
                getattr(delta, "partial_json", None) if dtype == "input_json_delta" else None
            if piece:
                self.has_output = True
                if self.json_kind != "text" and (self.block is None or self.block == event.index) and \
                        (dtype == "input_json_delta") == (self.json_kind == "tool"):
                    self.block = event.index
                    if self.parts is None:
                        self.parts = []
                    self.parts.append(piece)
        elif kind == "content_block_start":
            if getattr(event.content_block, "type", None) == "tool_use":
                self.has_output = self.tool_seen = True
        elif kind == "message_start":
            self.attrs.update(message_attributes(event.message))
        elif kind == "message_delta":
            reason = getattr(event.delta, "stop_reason", None)
            if isinstance(reason, str) and reason:
                self.stop_reason = reason
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

    def outcome(self) -> str | None:
        if self.stop_reason is None:  # the stream did not reach its end: not known
            return None
        text = "".join(self.parts) if self.parts else None
        if text is None and self.json_kind == "tool" and self.tool_seen:
            text = "{}"  # a tool call without arguments streams no input delta
        return _outcome(self.stop_reason, self.has_output, self.json_kind, text)


def _content(kwargs: dict) -> dict:
    attrs = {A.GEN_AI_INPUT_MESSAGES: messages_json(kwargs.get("messages"))}
    system = views.content_text(kwargs.get("system"))
    if system:
        attrs[A.GEN_AI_SYSTEM_INSTRUCTIONS] = text(system)
    return attrs


def _output(msg: Any) -> dict:
    return {A.GEN_AI_OUTPUT_MESSAGES: messages_json(getattr(msg, "content", None))}


MESSAGES = CallSpec(PROVIDER, "chat", views.from_anthropic_messages, message_attributes,
                    MessageStreamObserver, _content, _output, api="messages", outcome=message_outcome)


class SnapshotObserver(StreamObserver):
    """The public fallback of ``_observe_raw``: the stream's own ``current_message_snapshot`` (the
    message as received so far), read once when the manager exits."""

    __slots__ = ("stream",)

    def __init__(self, stream: Any, json_kind: str) -> None:
        self.stream = stream
        self.json_kind = json_kind

    def _snapshot(self) -> Any:
        try:
            return self.stream.current_message_snapshot
        except AssertionError:  # no event received yet
            return None

    def on_chunk(self, chunk: Any) -> None:  # not fed: the snapshot is read at the end
        pass

    def attributes(self) -> dict:
        snapshot = self._snapshot()
        return message_attributes(snapshot) if snapshot is not None else {}

    def outcome(self) -> str | None:
        snapshot = self._snapshot()
        if snapshot is None or not getattr(snapshot, "stop_reason", None):  # did not reach its end
            return None
        return message_outcome(snapshot, self.json_kind)


def _end_observer(stream: Any, call: LLMCall) -> StreamObserver:
    """What finishes a ``messages.stream`` call at manager exit: nothing more when the raw events were
    observed (the observer is then unused: the call already finished or finishes as they end)."""
    if stream is None:
        return MessageStreamObserver()
    return SnapshotObserver(stream, call.json_kind)


def _observe_raw(message_stream: Any, call: LLMCall) -> Any:
    """Swap the MessageStream's raw SSE stream for an observing proxy (read lazily by its iterator),
    on tested anthropic versions; else return the stream for the snapshot fallback at exit."""
    reason, detail = _raw_stream_gate
    if reason is not None:
        fastpaths.fallback(RAW_STREAM_PATH, reason, detail + "; messages.stream spans are filled from the public "
                           "current_message_snapshot at exit, without time to first chunk")
        return message_stream
    try:
        message_stream._raw_stream = wrap_stream(message_stream._raw_stream, call, MessageStreamObserver())
    except Exception as exc:
        failopen.record("anthropic_stream", exc)
        finish_stream(call, MessageStreamObserver())
    return None


class _StreamManagerProxy(wrapt.ObjectProxy):
    """Proxy for ``MessageStreamManager`` / ``AsyncMessageStreamManager``: the request is sent on
    enter; the call finishes when the raw stream ends, the manager exits, or it is collected."""

    def __init__(self, manager: Any, call: LLMCall) -> None:
        super().__init__(manager)
        self._self_call = call
        self._self_stream = None  # the MessageStream, when its end is read from its public snapshot

    def __enter__(self):
        try:
            stream = self.__wrapped__.__enter__()
        except BaseException as exc:
            finish_stream(self._self_call, MessageStreamObserver(), exc)
            raise
        self._self_stream = _observe_raw(stream, self._self_call)
        return stream

    def __exit__(self, exc_type, exc, tb):
        try:
            return self.__wrapped__.__exit__(exc_type, exc, tb)
        finally:
            finish_stream(self._self_call, _end_observer(self._self_stream, self._self_call), exc)

    async def __aenter__(self):
        try:
            stream = await self.__wrapped__.__aenter__()
        except BaseException as exc:
            finish_stream(self._self_call, MessageStreamObserver(), exc)
            raise
        self._self_stream = _observe_raw(stream, self._self_call)
        return stream

    async def __aexit__(self, exc_type, exc, tb):
        try:
            return await self.__wrapped__.__aexit__(exc_type, exc, tb)
        finally:
            finish_stream(self._self_call, _end_observer(self._self_stream, self._self_call), exc)

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
    global _raw_stream_gate
    if sidecar.route_clients(TARGET, "Anthropic", "AsyncAnthropic", ""):  # ARC_SIDECAR: the side-car does it all
        return
    _raw_stream_gate = fastpaths.gate(DISTRIBUTION, RAW_STREAM_TESTED)
    sync_cls, async_cls = _resources()
    for cls in (sync_cls, async_cls):
        if cls is not None:
            remember_clients(cls)  # server.address from the client's public base_url (llm/server.py)
    if sync_cls is not None:
        wrap_method(sync_cls, "create", invoke_sync, MESSAGES, make=sync_method)
        wrap(sync_cls, "stream", _stream)
    if async_cls is not None:
        wrap_method(async_cls, "create", invoke_async, MESSAGES, is_async=True)
        wrap(async_cls, "stream", _stream)


def unpatch() -> None:
    sidecar.unroute_clients(TARGET, "Anthropic", "AsyncAnthropic")
    for cls in _resources():
        if cls is not None:
            unwrap(cls, "create")
            unwrap(cls, "stream")
            forget_clients(cls)
