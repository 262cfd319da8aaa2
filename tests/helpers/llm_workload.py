"""A mixed LLM workload for the learning tests and benchmark: every dev-llm catalogue failure,
healthy calls, and (from the server's ``fail_rate``) random 429s, sent through the real SDKs.

``Emitter`` plays the agent's part until its side is merged: each call becomes one span carrying
the contract's attributes (``/work/contract-learning.md``), sent by the OTel SDK's OTLP exporter to
a real collector, and one cassette record. ``fixer`` applies a bundle the way the agent does.
"""

from __future__ import annotations

import json
import math
import random

import anthropic
import openai
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from arc_agent.replay.outcome import of_exception, of_response
from arc_agent.replay.records import Record
from arc_agent.replay.runner import fixed_kwargs

HEALTHY_MODEL = "gpt-4o-mini"
OPERATIONS = {"openai": "chat.completions", "anthropic": "messages"}


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(("alpha", "delta", "order", "refund", "ship", "parcel", "status", "invoice"))
                    for _ in range(n))


def workload(seed: int, rounds: int) -> list:
    """[(provider, kwargs, category)]; a different seed gives different prompts and values."""
    rng = random.Random(seed)
    calls = []
    for i in range(rounds):
        user = [{"role": "user", "content": f"{i} " + _words(rng, rng.randint(5, 30))}]
        calls += [
            ("openai", {"model": HEALTHY_MODEL, "messages": user, "temperature": round(rng.uniform(0, 0.8), 2),
                        "max_tokens": rng.choice((64, 128, 256, 512))}, "healthy"),
            ("openai", {"model": HEALTHY_MODEL, "messages": user, "max_tokens": rng.randint(100, 400)}, "healthy"),
            ("openai", {"model": "reasoning-mini", "messages": user,
                        "temperature": round(rng.uniform(0.1, 0.9), 2)}, "unsupported_temperature"),
            ("openai", {"model": "reasoning-mini", "messages": user, "max_tokens": rng.randint(100, 900)},
             "unsupported_max_tokens"),
            ("openai", {"model": "reasoning-mini", "messages": user,
                        "max_completion_tokens": rng.randint(100, 900)}, "healthy"),
            ("openai", {"model": "small-4k", "messages": [{"role": "user", "content": _words(rng, rng.randint(
                2600, 4000))}], "max_tokens": 256}, "context"),
            ("openai", {"model": "small-4k", "messages": user, "max_tokens": 256}, "healthy"),
            ("openai", {"model": "large-128k", "messages": [{"role": "user", "content": _words(
                rng, rng.randint(3000, 6000))}], "max_tokens": 256}, "healthy"),
            ("openai", {"model": HEALTHY_MODEL, "messages": user, "response_format": {"type": "json_object"},
                        "temperature": round(rng.uniform(0.95, 1.4), 2)}, "invalid_json"),
            ("openai", {"model": HEALTHY_MODEL, "messages": user, "response_format": {"type": "json_object"},
                        "temperature": round(rng.uniform(0.0, 0.9), 2)}, "healthy"),
            ("openai", {"model": HEALTHY_MODEL, "messages": user, "max_tokens": rng.randint(2, 12)}, "truncated"),
            ("anthropic", {"model": "claude-haiku-small", "messages": user, "max_tokens": rng.randint(5000, 9000)},
             "out_of_range"),
            ("anthropic", {"model": "claude-haiku-small", "messages": user,
                           "max_tokens": rng.choice((256, 1024, 4096))}, "healthy"),
        ]
    rng.shuffle(calls)
    return calls


def contract_attributes(provider: str, kwargs: dict, outcome: str, error: dict) -> dict:
    """The span attributes the agent emits for a call (names from the contract; never content)."""
    texts = [m.get("content", "") for m in kwargs.get("messages", []) if isinstance(m.get("content"), str)]
    rf = kwargs.get("response_format", {}).get("type", "text") if isinstance(kwargs.get("response_format"),
                                                                           dict) else "text"
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": provider,
             "gen_ai.request.model": kwargs["model"], "arc.outcome": outcome,
             "arc.request.params": sorted(k for k in kwargs if k not in ("model", "messages")),
             "arc.request.prompt_tokens_est": math.ceil(sum(len(t) for t in texts) / 4),
             "arc.request.message_count": len(kwargs.get("messages", [])), "arc.request.response_format": rf,
             "arc.request.tool_count": 0}
    for name in ("temperature", "max_tokens", "top_p"):
        if name in kwargs:
            attrs[f"gen_ai.request.{name}"] = kwargs[name]
    if "max_completion_tokens" in kwargs:
        attrs["arc.request.max_completion_tokens"] = kwargs["max_completion_tokens"]
    if outcome == "http_error":
        attrs["error.type"] = error.get("class", "")
        if error.get("status"):
            attrs["http.response.status_code"] = error["status"]
        for key in ("code", "param", "type"):
            if error.get(key):
                attrs[f"arc.error.{key}"] = error[key]
    return attrs


class Emitter:
    """Send calls through the real SDKs; one span per call to ``otlp_endpoint``; cassette records."""

    def __init__(self, base_url: str, otlp_endpoint: str, cassette: str | None = None, fixer=None) -> None:
        self.provider = TracerProvider(resource=Resource.create({"service.name": "learn-workload"}))
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(
            endpoint=otlp_endpoint.replace("grpc://", ""), insecure=True)))
        self.tracer = self.provider.get_tracer("workload")
        self.oai = openai.OpenAI(base_url=base_url + "/v1", api_key="sk-workload", max_retries=0)
        self.ant = anthropic.Anthropic(base_url=base_url, api_key="sk-ant-workload", max_retries=0)
        self.cassette = open(cassette, "a", encoding="utf-8") if cassette else None
        self.fixer = fixer

    def call(self, provider: str, kwargs: dict) -> str:
        record = Record(provider, OPERATIONS[provider], kwargs)
        sent, ids = fixed_kwargs(self.fixer, record)
        method = self.ant.messages.create if provider == "anthropic" else self.oai.chat.completions.create
        error: dict = {}
        try:
            outcome = of_response(provider, record.operation, sent, method(**sent))
        except (openai.APIError, anthropic.APIError) as exc:
            outcome, error = of_exception(exc)
        attrs = contract_attributes(provider, sent, outcome, error)
        if ids:
            attrs.update({"arc.fix.applied": True, "arc.fix.pattern_ids": list(ids)})
        span = self.tracer.start_span(f"chat {kwargs['model']}", attributes=attrs)
        span.end()
        if self.cassette:
            ctx = span.get_span_context()
            self.cassette.write(json.dumps({
                "v": 1, "time": 0, "provider": provider, "operation": record.operation, "kwargs": kwargs,
                "sent_kwargs": sent, "fix": {"applied": bool(ids), "pattern_ids": list(ids)}, "outcome": outcome,
                "error": {k: error.get(k) for k in ("status", "code", "param", "type")} if error else None,
                "trace_id": f"{ctx.trace_id:032x}", "span_id": f"{ctx.span_id:016x}"}) + "\n")
        return outcome

    def run(self, calls: list) -> list:
        return [(category, self.call(provider, kwargs)) for provider, kwargs, category in calls]

    def close(self) -> None:
        self.provider.force_flush()
        self.provider.shutdown()
        if self.cassette:
            self.cassette.close()
        self.oai.close()
        self.ant.close()
