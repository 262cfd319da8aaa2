"""OpenAI SDK integration: chat completions, responses and embeddings (sync, async, streaming,
``with_raw_response`` / ``with_streaming_response``), patched at class level.

Supports openai 1.x (``httpx``) through 3.x (``httpx2``): only the public resource classes and the
response objects' public fields are touched.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..llm import request as views
from ..llm.call import CallSpec, invoke_async, invoke_sync, messages_json, sync_method, usage_attributes
from ..llm.streams import StreamObserver
from ..telemetry import attributes as A
from ..telemetry.encodable import text, texts
from .base import unwrap, wrap_method

TARGET = "openai"
DISTRIBUTION = "openai"
SUPPORTED = ("1.0.0", "4.0.0")

PROVIDER = "openai"


def _common(obj: Any, attrs: dict) -> dict:
    rid = getattr(obj, "id", None)
    if isinstance(rid, str):
        attrs[A.GEN_AI_RESPONSE_ID] = text(rid)  # provider data: may hold lone surrogates
    model = getattr(obj, "model", None)
    if isinstance(model, str):
        attrs[A.GEN_AI_RESPONSE_MODEL] = text(model)
    usage_attributes(getattr(obj, "usage", None), attrs)
    return attrs


def chat_response_attributes(resp: Any) -> dict:
    attrs = _common(resp, {})
    reasons = ()
    for choice in getattr(resp, "choices", None) or ():  # a loop, not a comprehension: no frame
        reason = choice.finish_reason
        if reason:
            reasons += (reason,)
    if reasons:
        attrs[A.GEN_AI_RESPONSE_FINISH_REASONS] = texts(reasons)
    return attrs


def responses_finish_reason(resp: Any) -> str | None:
    status = getattr(resp, "status", None)
    details = getattr(resp, "incomplete_details", None)
    reason = getattr(details, "reason", None) if details is not None else None
    return reason or status


def responses_response_attributes(resp: Any) -> dict:
    attrs = _common(resp, {})
    reason = responses_finish_reason(resp)
    if isinstance(reason, str) and reason:
        attrs[A.GEN_AI_RESPONSE_FINISH_REASONS] = (text(reason),)
    return attrs


def embeddings_response_attributes(resp: Any) -> dict:
    return _common(resp, {})


class ChatStreamObserver(StreamObserver):
    __slots__ = ("attrs", "reasons")

    def __init__(self) -> None:
        self.attrs: dict = {}
        self.reasons: dict = {}

    def on_chunk(self, chunk: Any) -> None:
        if A.GEN_AI_RESPONSE_ID not in self.attrs:
            _common(chunk, self.attrs)
        elif getattr(chunk, "usage", None) is not None:
            usage_attributes(chunk.usage, self.attrs)
        for choice in getattr(chunk, "choices", None) or ():
            if choice.finish_reason:
                self.reasons[choice.index] = choice.finish_reason

    def attributes(self) -> dict:
        if self.reasons:
            self.attrs[A.GEN_AI_RESPONSE_FINISH_REASONS] = texts(tuple(self.reasons[i] for i in sorted(self.reasons)))
        return self.attrs


class ResponsesStreamObserver(StreamObserver):
    __slots__ = ("attrs",)

    def __init__(self) -> None:
        self.attrs: dict = {}

    def on_chunk(self, event: Any) -> None:
        response = getattr(event, "response", None)
        if response is not None:  # created / in_progress / completed / incomplete / failed events
            self.attrs.update(responses_response_attributes(response))

    def attributes(self) -> dict:
        return self.attrs


def _chat_content(kwargs: dict) -> dict:
    return {A.GEN_AI_INPUT_MESSAGES: messages_json(kwargs.get("messages"))}


def _responses_content(kwargs: dict) -> dict:
    attrs = {A.GEN_AI_INPUT_MESSAGES: messages_json(kwargs.get("input"))}
    if isinstance(kwargs.get("instructions"), str):
        attrs[A.GEN_AI_SYSTEM_INSTRUCTIONS] = text(kwargs["instructions"])
    return attrs


def _chat_output(resp: Any) -> dict:
    return {A.GEN_AI_OUTPUT_MESSAGES: messages_json([c.message for c in resp.choices])}


def _responses_output(resp: Any) -> dict:
    return {A.GEN_AI_OUTPUT_MESSAGES: messages_json(getattr(resp, "output", None))}


CHAT = CallSpec(PROVIDER, "chat", views.from_openai_chat, chat_response_attributes, ChatStreamObserver,
                _chat_content, _chat_output)
RESPONSES = CallSpec(PROVIDER, "chat", views.from_openai_responses, responses_response_attributes,
                     ResponsesStreamObserver, _responses_content, _responses_output)
EMBEDDINGS = CallSpec(PROVIDER, "embeddings", views.from_openai_embeddings, embeddings_response_attributes)


# (module, sync class, async class, method, spec)
_TARGETS = (
    ("openai.resources.chat.completions", "Completions", "AsyncCompletions", "create", CHAT),
    ("openai.resources.responses", "Responses", "AsyncResponses", "create", RESPONSES),
    ("openai.resources.embeddings", "Embeddings", "AsyncEmbeddings", "create", EMBEDDINGS),
)


def _classes():
    for module_name, sync_cls, async_cls, method, spec in _TARGETS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        yield getattr(module, sync_cls, None), False, method, spec
        yield getattr(module, async_cls, None), True, method, spec


def patch() -> None:
    for cls, is_async, method, spec in _classes():
        if cls is not None:
            wrap_method(cls, method, invoke_async if is_async else invoke_sync, spec, is_async, make=sync_method)


def unpatch() -> None:
    for cls, _is_async, method, _spec in _classes():
        if cls is not None:
            unwrap(cls, method)
