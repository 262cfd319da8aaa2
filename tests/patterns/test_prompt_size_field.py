"""``prompt_tokens_est``: a request-view field patterns match on, equal to the span feature
``arc.request.prompt_tokens_est`` for every API, and computed only when a pattern reads it."""

from __future__ import annotations

import pytest

from arc_agent.llm.features import request_features
from arc_agent.llm.request import from_anthropic_messages, from_openai_chat, from_openai_responses
from arc_agent.patterns import PatternEngine

REQUESTS = [
    ("chat.completions", from_openai_chat, {"model": "m", "messages": [
        {"role": "system", "content": "be brief " * 7},
        {"role": "user", "content": [{"type": "text", "text": "hi"}]}]}),
    ("responses", from_openai_responses, {"model": "m", "instructions": "sys", "input": "x" * 41}),
    ("messages", from_anthropic_messages, {"model": "c", "max_tokens": 9, "system": "s" * 13,
                                           "messages": [{"role": "user", "content": "hello there"}]}),
]


@pytest.mark.parametrize("api,view,kwargs", REQUESTS, ids=[r[0] for r in REQUESTS])
def test_view_field_equals_the_span_feature(api, view, kwargs):
    expected = request_features(api, kwargs)["arc.request.prompt_tokens_est"]
    assert expected > 0
    request = view(kwargs)
    assert request.prompt_tokens_est == expected == request.field("prompt_tokens_est")


def _engine() -> PatternEngine:
    engine = PatternEngine(poll_interval=0, threshold=0.0)
    engine.register({"provider": "openai", "model": "small-4k", "prompt_tokens_est": {">": 300}},
                    {"model": "large-128k"}, id="big-prompt")
    engine.register({"model": "tiny", "prompt_tokens_est": 3}, {"temperature": 0.1}, id="exact")
    return engine


def _chat(model: str, chars: int) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": "w" * chars}]}


def test_a_range_on_prompt_size_switches_only_big_prompts():
    engine = _engine()
    big = engine.fix(from_openai_chat(_chat("small-4k", 1204)))  # 301 tokens
    assert big.kwargs["model"] == "large-128k" and big.attributes["arc.fix.pattern_ids"] == ("big-prompt",)
    for chars in (12, 1200):  # 3 and exactly 300 tokens: not above the bound
        assert engine.fix(from_openai_chat(_chat("small-4k", chars))).kwargs is None


def test_equality_on_prompt_size_goes_through_the_key_index():
    out = _engine().fix(from_openai_chat(_chat("tiny", 10)))  # ceil(10 / 4) = 3
    assert out.kwargs["temperature"] == 0.1


def test_not_computed_unless_a_pattern_reads_it():
    engine = PatternEngine(poll_interval=0, threshold=0.0)
    engine.register({"model": "gpt-4o"}, {"temperature": 0.2}, id="plain")
    request = from_openai_chat(_chat("gpt-4o", 4000))
    assert engine.fix(request).kwargs["temperature"] == 0.2
    assert request._tokens is None  # the lazy slot was never filled
