"""OpenAI SDK integration: chat completions, responses and embeddings (sync, async, streaming,
``with_raw_response`` / ``with_streaming_response``, the ``parse`` / ``stream`` helpers), patched at
class level.

Supports openai 1.66 (the first with the Responses API; ``httpx``) through 3.x (``httpx2``), the range
``noxfile.py`` tests: only the public resource classes and the response objects' public fields are touched.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..llm import request as views
from ..llm.call import CallSpec, invoke_async, invoke_sync, messages_json, sync_method, usage_attributes
from ..llm.features import JSON_KINDS
from ..llm.outcome import INVALID_JSON, OK, REFUSED, TRUNCATED, classify, parses
from ..llm.server import forget_clients, remember_clients
from ..llm.streams import StreamObserver
from ..telemetry import attributes as A
from ..telemetry.encodable import text, texts
from . import sidecar
from .base import unwrap, wrap_method

TARGET = "openai"
DISTRIBUTION = "openai"
SUPPORTED = ("1.66.0", "4.0.0")

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


def chat_outcome(resp: Any, json_kind: str) -> str:
    """``arc.outcome`` of a chat completion; the first choice's text is parsed only when JSON was asked."""
    refused = truncated = has_output = False
    text = None
    for choice in getattr(resp, "choices", None) or ():
        reason = choice.finish_reason
        if reason == "length":
            truncated = True
        elif reason == "content_filter":
            refused = True
        message = choice.message
        if message is None:
            continue
        if getattr(message, "refusal", None):
            refused = True
        content = message.content
        if content:
            has_output = True
            if text is None:
                text = content
        elif getattr(message, "tool_calls", None) or getattr(message, "function_call", None):
            has_output = True
    return classify(refused, truncated, has_output, json_kind not in JSON_KINDS or parses(text))


def responses_outcome(resp: Any, json_kind: str) -> str:
    """``arc.outcome`` of a Responses API response (``output_text`` is the SDK's own join of the text)."""
    reason = responses_finish_reason(resp)
    refused = reason == "content_filter"
    truncated = reason == "max_output_tokens"
    has_output = False
    for item in getattr(resp, "output", None) or ():
        kind = getattr(item, "type", None)
        if kind == "message":
            for part in getattr(item, "content", None) or ():
                ptype = getattr(part, "type", None)
                if ptype == "refusal":
                    refused = True
                elif ptype == "output_text" and getattr(part, "text", None):
                    has_output = True
        elif kind != "reasoning":  # a tool call is an answer
            has_output = True
    json_ok = json_kind not in JSON_KINDS or parses(getattr(resp, "output_text", None))
    return classify(refused, truncated, has_output, json_ok)


def embeddings_outcome(resp: Any, json_kind: str) -> str:
    return OK


def embeddings_response_attributes(resp: Any) -> dict:
    return _common(resp, {})


class ChatStreamObserver(StreamObserver):
    __slots__ = ("attrs", "reasons", "has_output", "refused", "text")

    def __init__(self) -> None:
        self.attrs: dict = {}
        self.reasons: dict = {}
        self.has_output = False
        self.refused = False
        self.text: list | None = None  # the first choice's text, collected only when JSON was asked

    def on_chunk(self, chunk: Any) -> None:
        if A.GEN_AI_RESPONSE_ID not in self.attrs:
            _common(chunk, self.attrs)
        elif getattr(chunk, "usage", None) is not None:
            usage_attributes(chunk.usage, self.attrs)
        for choice in getattr(chunk, "choices", None) or ():
            if choice.finish_reason:
                self.reasons[choice.index] = choice.finish_reason
            delta = choice.delta
            if delta is None:
                continue
            content = delta.content
            if content:
                self.has_output = True
                if choice.index == 0 and self.json_kind in JSON_KINDS:
                    if self.text is None:
                        self.text = []
                    self.text.append(content)
            elif getattr(delta, "tool_calls", None):
                self.has_output = True
            if getattr(delta, "refusal", None):
                self.refused = True

    def outcome(self) -> str | None:
        if not self.reasons:  # the stream did not reach its end (closed early): not known
            return None
        reasons = self.reasons.values()
        json_ok = self.json_kind not in JSON_KINDS or parses("".join(self.text) if self.text else None)
        return classify(self.refused or "content_filter" in reasons, "length" in reasons, self.has_output, json_ok)

    def attributes(self) -> dict:
        if self.reasons:
            self.attrs[A.GEN_AI_RESPONSE_FINISH_REASONS] = texts(tuple(self.reasons[i] for i in sorted(self.reasons)))
        return self.attrs


class ResponsesStreamObserver(StreamObserver):
    __slots__ = ("attrs", "final")

    def __init__(self) -> None:
        self.attrs: dict = {}
        self.final = None  # the response of the completed / incomplete event: the whole answer

    def on_chunk(self, event: Any) -> None:
        response = getattr(event, "response", None)
        if response is not None:  # created / in_progress / completed / incomplete / failed events
            self.attrs.update(responses_response_attributes(response))
            if getattr(event, "type", None) in ("response.completed", "response.incomplete"):
                self.final = response

    def outcome(self) -> str | None:
        return responses_outcome(self.final, self.json_kind) if self.final is not None else None

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
                _chat_content, _chat_output, api="chat.completions", outcome=chat_outcome)
RESPONSES = CallSpec(PROVIDER, "chat", views.from_openai_responses, responses_response_attributes,
                     ResponsesStreamObserver, _responses_content, _responses_output, api="responses",
                     outcome=responses_outcome)


def parse_error_outcome(exc: BaseException) -> str | None:
    """``arc.outcome`` of a ``parse`` call whose reply came back but was refused by the SDK's parser:
    its own finish-reason errors, else a ``ValueError`` (pydantic's ``ValidationError`` is one) for a
    reply that is not the asked JSON. None (an HTTP or connection error) otherwise."""
    if getattr(exc, "status_code", None) is not None:
        return None
    import openai

    if isinstance(exc, getattr(openai, "LengthFinishReasonError", ())):
        return TRUNCATED
    if isinstance(exc, getattr(openai, "ContentFilterFinishReasonError", ())):
        return REFUSED
    return INVALID_JSON if isinstance(exc, ValueError) else None


# parse(): the same request and response as create, a ParsedChatCompletion / ParsedResponse back
CHAT_PARSE = CallSpec(PROVIDER, "chat", views.from_openai_chat, chat_response_attributes, ChatStreamObserver,
                      _chat_content, _chat_output, api="chat.completions", outcome=chat_outcome,
                      error_outcome=parse_error_outcome)
RESPONSES_PARSE = CallSpec(PROVIDER, "chat", views.from_openai_responses, responses_response_attributes,
                           ResponsesStreamObserver, _responses_content, _responses_output, api="responses",
                           outcome=responses_outcome, error_outcome=parse_error_outcome)
EMBEDDINGS = CallSpec(PROVIDER, "embeddings", views.from_openai_embeddings, embeddings_response_attributes,
                      api="embeddings", outcome=embeddings_outcome)


# (module, sync class, async class, method, spec). ``parse`` (openai >= 1.92; ``beta.chat`` before)
# posts the request itself, not through ``create``: patched on its own, one span per call either way.
# ``stream`` helpers and the ``with_raw_response`` / ``with_streaming_response`` wrappers call these
# methods through the resource object, so they are covered here too.
_TARGETS = (
    ("openai.resources.chat.completions", "Completions", "AsyncCompletions", "create", CHAT),
    ("openai.resources.chat.completions", "Completions", "AsyncCompletions", "parse", CHAT_PARSE),
    ("openai.resources.beta.chat.completions", "Completions", "AsyncCompletions", "parse", CHAT_PARSE),
    ("openai.resources.responses", "Responses", "AsyncResponses", "create", RESPONSES),
    ("openai.resources.responses", "Responses", "AsyncResponses", "parse", RESPONSES_PARSE),
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
    if sidecar.route_clients(TARGET, "OpenAI", "AsyncOpenAI", "/v1"):  # ARC_SIDECAR: the side-car does it all
        return
    for cls, is_async, method, spec in _classes():
        if cls is not None:
            remember_clients(cls)  # server.address from the client's public base_url (llm/server.py)
            wrap_method(cls, method, invoke_async if is_async else invoke_sync, spec, is_async, make=sync_method)


def unpatch() -> None:
    sidecar.unroute_clients(TARGET, "OpenAI", "AsyncOpenAI")
    for cls, _is_async, method, _spec in _classes():
        if cls is not None:
            unwrap(cls, method)
            forget_clients(cls)
