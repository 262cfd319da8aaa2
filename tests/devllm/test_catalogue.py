"""The model catalogue: each provider limit fails as the real API does, and the fixed request succeeds."""

from __future__ import annotations

import anthropic
import openai
import pytest

from .conftest import user


def test_reasoning_model_rejects_temperature_and_accepts_the_default(oai, srv):
    with pytest.raises(openai.BadRequestError) as err:
        oai.chat.completions.create(model="reasoning-mini", messages=user("hi"), temperature=0.2)
    e = err.value
    assert (e.status_code, e.type, e.code, e.param) == (400, "invalid_request_error", "unsupported_parameter",
                                                        "temperature")
    assert e.body == {"message": "Unsupported parameter: 'temperature' does not support 0.2 with this model. "
                                 "Only the default (1) value is supported.",
                      "type": "invalid_request_error", "param": "temperature", "code": "unsupported_parameter"}
    for fixed in ({}, {"temperature": 1}):
        out = oai.chat.completions.create(model="reasoning-mini", messages=user("hi"), **fixed)
        assert out.choices[0].finish_reason == "stop"
    assert [r["status"] for r in srv.requests("/v1/chat/completions")] == [400, 200, 200]


def test_reasoning_model_rejects_max_tokens_and_takes_max_completion_tokens(oai):
    with pytest.raises(openai.BadRequestError) as err:
        oai.chat.completions.create(model="reasoning-mini", messages=user("hi"), max_tokens=200)
    e = err.value
    assert (e.code, e.param, e.type) == ("unsupported_parameter", "max_tokens", "invalid_request_error")
    assert "Use 'max_completion_tokens' instead" in e.body["message"]
    out = oai.chat.completions.create(model="reasoning-mini", messages=user("hi"), max_completion_tokens=200)
    assert out.choices[0].finish_reason == "stop" and out.choices[0].message.content


def test_reasoning_model_on_responses_rejects_temperature(oai):
    with pytest.raises(openai.BadRequestError) as err:
        oai.responses.create(model="reasoning-mini", input="hi", temperature=0.5)
    assert (err.value.code, err.value.param) == ("unsupported_parameter", "temperature")
    assert oai.responses.create(model="reasoning-mini", input="hi").status == "completed"


def test_other_models_keep_taking_temperature_and_max_tokens(oai):
    out = oai.chat.completions.create(model="gpt-4o", messages=user("hi"), temperature=0.2, max_tokens=200)
    assert out.choices[0].finish_reason == "stop"


def test_small_context_model_rejects_prompt_plus_output_above_4096(oai):
    system = {"role": "system", "content": "s" * 2000}  # 500 estimated tokens, system messages count
    prompt = [system, {"role": "user", "content": "u" * 12_000}]  # + 3000 = 3500
    with pytest.raises(openai.BadRequestError) as err:
        oai.chat.completions.create(model="small-4k", messages=prompt, max_tokens=597)
    e = err.value
    assert (e.code, e.param, e.type) == ("context_length_exceeded", "messages", "invalid_request_error")
    assert "maximum context length is 4096 tokens" in e.body["message"]
    assert "4097 tokens (3500 in the messages, 597 in the completion)" in e.body["message"]
    assert oai.chat.completions.create(model="small-4k", messages=prompt, max_tokens=596).choices
    with pytest.raises(openai.BadRequestError, match="context_length_exceeded|maximum context length"):
        oai.chat.completions.create(model="small-4k", messages=prompt, max_completion_tokens=1000)
    out = oai.chat.completions.create(model="large-128k", messages=prompt, max_tokens=1000)
    assert out.choices[0].finish_reason == "stop"


def test_large_context_model_has_its_limit_too(oai):
    prompt = user("w" * 400_000)  # 100k estimated tokens
    assert oai.chat.completions.create(model="large-128k", messages=prompt, max_tokens=28_000).choices
    with pytest.raises(openai.BadRequestError) as err:
        oai.chat.completions.create(model="large-128k", messages=prompt, max_tokens=28_001)
    assert err.value.code == "context_length_exceeded"


async def test_async_stream_request_fails_before_streaming(aoai):
    with pytest.raises(openai.BadRequestError) as err:
        await aoai.chat.completions.create(model="reasoning-mini", messages=user("hi"), max_tokens=5,
                                           stream=True)
    assert err.value.param == "max_tokens"


def test_claude_haiku_small_rejects_max_tokens_above_4096(ant):
    with pytest.raises(anthropic.BadRequestError) as err:
        ant.messages.create(model="claude-haiku-small", max_tokens=8192, messages=user("hi"))
    e = err.value
    assert e.status_code == 400 and e.type == "invalid_request_error"
    assert e.body["type"] == "error" and e.body["error"]["type"] == "invalid_request_error"
    assert e.body["error"]["message"] == ("max_tokens: 8192 > 4096, which is the maximum allowed number of "
                                          "output tokens for claude-haiku-small")
    out = ant.messages.create(model="claude-haiku-small", max_tokens=4096, messages=user("hi"))
    assert out.stop_reason == "end_turn"


def test_other_claude_models_allow_64k(ant):
    # the SDK insists on streaming for limits this large
    with ant.messages.stream(model="claude-sonnet-4-5", max_tokens=64_000, messages=user("hi")) as stream:
        assert stream.get_final_message().stop_reason == "end_turn"
    with pytest.raises(anthropic.BadRequestError, match="64001 > 64000"):
        ant.messages.create(model="claude-sonnet-4-5", max_tokens=64_001, messages=user("hi"), stream=True)


def test_catalogue_models_are_listed(oai, ant):
    assert {"reasoning-mini", "small-4k", "large-128k"} <= {m.id for m in oai.models.list()}
    assert "claude-haiku-small" in {m.id for m in ant.models.list()}
