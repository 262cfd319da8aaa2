"""Injected failures raise each SDK's proper exception; JSON breaks above 0.9; small limits truncate."""

from __future__ import annotations

import json

import anthropic
import openai
import pytest

from .conftest import OPENAI_KEY, user


@pytest.mark.parametrize("status, error", [
    (429, openai.RateLimitError), (500, openai.InternalServerError), (503, openai.InternalServerError),
    (401, openai.AuthenticationError), (400, openai.BadRequestError),
])
def test_openai_header_and_model_failures(oai, status, error):
    with pytest.raises(error) as by_header:
        oai.chat.completions.create(model="arc-demo", messages=user("x"),
                                    extra_headers={"X-Dev-LLM-Fail": str(status)})
    with pytest.raises(error) as by_model:
        oai.responses.create(model=f"fail-{status}", input="x")
    assert by_header.value.status_code == by_model.value.status_code == status
    assert "injected" in by_header.value.message and by_model.value.request_id.startswith("req_devllm_")


@pytest.mark.parametrize("status, error", [
    (429, anthropic.RateLimitError), (500, anthropic.InternalServerError),
    (503, anthropic.ServiceUnavailableError), (529, anthropic.OverloadedError),
])
def test_anthropic_header_and_model_failures(ant, status, error):
    with pytest.raises(error) as by_header:
        ant.messages.create(model="arc-demo", max_tokens=10, messages=user("x"),
                            extra_headers={"X-Dev-LLM-Fail": str(status)})
    with pytest.raises(error) as by_model:
        ant.messages.create(model=f"fail-{status}", max_tokens=10, messages=user("x"))
    assert by_header.value.status_code == by_model.value.status_code == status
    assert by_model.value.api_message.startswith("arc dev-llm injected")


async def test_async_and_streaming_calls_fail_at_create(aoai, aant):
    with pytest.raises(openai.RateLimitError):
        await aoai.chat.completions.create(model="fail-429", messages=user("x"), stream=True)
    with pytest.raises(anthropic.InternalServerError):
        await aant.messages.create(model="fail-500", max_tokens=10, messages=user("x"), stream=True)


def test_embeddings_fail_too(oai):
    with pytest.raises(openai.RateLimitError):
        oai.embeddings.create(model="fail-429", input="x")


def test_fail_attempts_lets_sdk_retries_succeed(srv):
    client = openai.OpenAI(base_url=srv.openai_base_url, api_key=OPENAI_KEY, max_retries=2)
    out = client.chat.completions.create(model="arc-demo", messages=user("x"), extra_headers={
        "X-Dev-LLM-Fail": "500", "X-Dev-LLM-Fail-Attempts": "2"})
    assert out.choices[0].finish_reason == "stop"
    seen = srv.requests("/v1/chat/completions")
    assert [r["status"] for r in seen] == [500, 500, 200]
    assert [r["headers"]["x-stainless-retry-count"] for r in seen] == ["0", "1", "2"]


def test_fail_rate_fails_evenly_spread_requests(srv, oai):
    srv.configure(fail_rate=0.5, fail_status=429)
    outcomes = []
    for _ in range(6):
        try:
            oai.embeddings.create(model="m", input="x")
            outcomes.append("ok")
        except openai.RateLimitError:
            outcomes.append(429)
    assert outcomes == ["ok", 429, "ok", 429, "ok", 429]
    srv.configure(fail_rate=0.0)
    oai.embeddings.create(model="m", input="x")


def test_bad_control_header_is_a_400_naming_it(oai):
    with pytest.raises(openai.BadRequestError, match="x-dev-llm-fail"):
        oai.chat.completions.create(model="arc-demo", messages=user("x"), extra_headers={"X-Dev-LLM-Fail": "bad"})


def test_delay_header_trips_the_client_timeout(oai):
    with pytest.raises(openai.APITimeoutError):
        oai.chat.completions.create(model="arc-demo", messages=user("x"), timeout=0.2,
                                    extra_headers={"X-Dev-LLM-Delay-Ms": "3000"})


@pytest.mark.parametrize("temperature, valid", [(None, True), (0.0, True), (0.7, True), (0.9, True),
                                                (0.91, False), (1.0, False), (2.0, False)])
def test_json_object_reply_breaks_only_above_0_9(oai, temperature, valid):
    kwargs = {} if temperature is None else {"temperature": temperature}
    out = oai.chat.completions.create(model="arc-demo", messages=user("hello"),
                                      response_format={"type": "json_object"}, **kwargs)
    content = out.choices[0].message.content
    if valid:
        assert json.loads(content) == {"model": "arc-demo", "reply": "deterministic reply from arc dev-llm",
                                       "echo": "hello"}
    else:
        with pytest.raises(json.JSONDecodeError):
            json.loads(content)


def test_prompt_mentioning_json_counts_as_a_json_request(oai):
    hot = oai.chat.completions.create(model="arc-demo", messages=user("Reply in json"), temperature=1.2)
    cool = oai.chat.completions.create(model="arc-demo", messages=user("Reply in json"), temperature=0.7)
    with pytest.raises(json.JSONDecodeError):
        json.loads(hot.choices[0].message.content)
    assert json.loads(cool.choices[0].message.content)["echo"] == "Reply in json"


def test_malformed_json_also_in_streams(oai):
    chunks = oai.chat.completions.create(model="arc-demo", messages=user("json please"), temperature=0.95,
                                         stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


@pytest.mark.parametrize("max_tokens, finish", [(1, "length"), (8, "length"), (15, "length"), (100, "stop")])
def test_max_tokens_below_16_truncates(oai, max_tokens, finish):
    for key in ("max_tokens", "max_completion_tokens"):
        out = oai.chat.completions.create(model="arc-demo", messages=user("hi"), **{key: max_tokens})
        assert out.choices[0].finish_reason == finish
        assert out.usage.completion_tokens == (max_tokens if finish == "length" else 21)


def test_truncation_applies_even_to_a_short_forced_reply(oai, ant):
    out = oai.chat.completions.create(model="arc-demo", messages=user("hi"), max_tokens=10,
                                      extra_headers={"X-Dev-LLM-Reply": "short"})
    msg = ant.messages.create(model="arc-demo", max_tokens=10, messages=user("hi"),
                              extra_headers={"X-Dev-LLM-Reply": "short"})
    assert (out.choices[0].finish_reason, out.choices[0].message.content) == ("length", "short")
    assert (msg.stop_reason, msg.content[0].text) == ("max_tokens", "short")


def test_reply_header_sets_the_text(oai):
    out = oai.chat.completions.create(model="arc-demo", messages=user("hi"),
                                      extra_headers={"X-Dev-LLM-Reply": "exactly this"})
    assert out.choices[0].message.content == "exactly this" and out.usage.completion_tokens == 2


def test_stream_error_mid_stream(oai, ant):
    headers = {"X-Dev-LLM-Stream-Error-After": "3"}
    seen = []
    with pytest.raises(openai.APIError, match="injected stream error"):
        for chunk in oai.chat.completions.create(model="arc-demo", messages=user("x"), stream=True,
                                                 extra_headers=headers):
            seen.append(chunk)
    assert len(seen) == 3
    with pytest.raises(anthropic.APIStatusError, match="injected stream error"):
        list(ant.messages.create(model="arc-demo", max_tokens=100, messages=user("x"), stream=True,
                                 extra_headers=headers))


def test_stream_abort_mid_stream_then_the_client_still_works(oai, srv):
    with pytest.raises(openai.APIConnectionError):
        list(oai.chat.completions.create(model="arc-demo", messages=user("x"), stream=True,
                                         extra_headers={"X-Dev-LLM-Stream-Abort-After": "2"}))
    assert srv.requests()[-1]["stream_end"] == "aborted"
    assert oai.chat.completions.create(model="arc-demo", messages=user("x")).choices[0].finish_reason == "stop"


def test_client_breaking_out_of_a_stream_leaves_the_server_healthy(oai, srv):
    stream = oai.chat.completions.create(model="arc-demo", messages=user("x"), stream=True,
                                         extra_headers={"X-Dev-LLM-Chunk-Delay-Ms": "20"})
    next(iter(stream))
    stream.close()
    assert oai.models.list().data


def test_thresholds_are_configurable(srv, oai):
    srv.configure(truncate_below=4, malformed_json_above=0.5)
    try:
        tiny = oai.chat.completions.create(model="arc-demo", messages=user("hi"), max_tokens=5,
                                           extra_headers={"X-Dev-LLM-Reply": "ok"})
        assert tiny.choices[0].finish_reason == "stop"  # 5 is no longer "small"; the reply fits
        forced = oai.chat.completions.create(model="arc-demo", messages=user("hi"), max_tokens=3,
                                             extra_headers={"X-Dev-LLM-Reply": "ok"})
        assert forced.choices[0].finish_reason == "length"
        warm = oai.chat.completions.create(model="arc-demo", messages=user("json"), temperature=0.6)
        with pytest.raises(json.JSONDecodeError):
            json.loads(warm.choices[0].message.content)
    finally:
        srv.configure(truncate_below=16, malformed_json_above=0.9)
