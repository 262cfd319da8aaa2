"""POST /v1/messages through the real anthropic SDK: plain, raw SSE events, stream helper, async, tools."""

from __future__ import annotations

import json

import anthropic
import pytest

from .conftest import user

REPLY = "This is a deterministic reply from the arc dev-llm server (model arc-demo) to: hello there"


def test_plain_message(ant):
    msg = ant.messages.create(model="arc-demo", max_tokens=256, messages=user("hello there"), system="be kind")
    assert msg.type == "message" and msg.role == "assistant" and msg.id.startswith("msg_")
    assert msg.content[0].type == "text" and msg.content[0].text == REPLY
    assert msg.stop_reason == "end_turn" and msg.stop_sequence is None
    assert (msg.usage.input_tokens, msg.usage.output_tokens) == (4, 22)


def test_raw_stream_events(ant):
    events = list(ant.messages.create(model="arc-demo", max_tokens=256, messages=user("hello there"),
                                      stream=True))
    types = [e.type for e in events]
    assert types[:2] == ["message_start", "content_block_start"]
    assert types[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(types[2:-3]) == {"content_block_delta"}
    assert events[0].message.usage.input_tokens == 2
    assert "".join(e.delta.text for e in events if e.type == "content_block_delta") == REPLY
    delta = events[-2]
    assert delta.delta.stop_reason == "end_turn" and delta.usage.output_tokens == 22


def test_stream_helper(ant):
    with ant.messages.stream(model="arc-demo", max_tokens=256, messages=user("hello there")) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == final.content[0].text == REPLY
    assert (final.usage.input_tokens, final.usage.output_tokens) == (2, 22)


async def test_async_plain_and_stream(aant):
    msg = await aant.messages.create(model="arc-demo", max_tokens=256, messages=user("hello there"))
    async with aant.messages.stream(model="arc-demo", max_tokens=256, messages=user("hello there")) as stream:
        final = await stream.get_final_message()
    assert msg.content[0].text == final.content[0].text == REPLY


def test_small_max_tokens_truncates_with_stop_reason_max_tokens(ant):
    msg = ant.messages.create(model="arc-demo", max_tokens=8, messages=user("hello there"))
    assert msg.stop_reason == "max_tokens" and msg.usage.output_tokens == 8
    assert msg.content[0].text == "This is a deterministic reply from the arc"
    events = list(ant.messages.create(model="arc-demo", max_tokens=8, messages=user("hello there"), stream=True))
    assert events[-2].delta.stop_reason == "max_tokens"


def test_stop_sequences(ant):
    msg = ant.messages.create(model="arc-demo", max_tokens=256, messages=user("hi"), stop_sequences=["dev-llm"])
    assert msg.stop_reason == "stop_sequence" and msg.stop_sequence == "dev-llm"
    assert msg.content[0].text == "This is a deterministic reply from the arc "


@pytest.mark.parametrize("temperature, valid", [(0.5, True), (0.9, True), (0.95, False)])
def test_json_prompt_is_malformed_only_above_0_9(ant, temperature, valid):
    # anthropic 2.x's messages.create has no temperature argument; it still reaches the API in the body
    msg = ant.messages.create(model="arc-demo", max_tokens=256, messages=user("answer in JSON"),
                              extra_body={"temperature": temperature})
    if valid:
        assert json.loads(msg.content[0].text)["echo"] == "answer in JSON"
    else:
        with pytest.raises(ValueError):
            json.loads(msg.content[0].text)


def test_count_tokens_matches_message_usage(ant):
    kwargs = {"model": "arc-demo", "messages": user("one two three"), "system": "four five"}
    counted = ant.messages.count_tokens(**kwargs)
    msg = ant.messages.create(max_tokens=256, **kwargs)
    assert counted.input_tokens == msg.usage.input_tokens == 5


TOOL = {"name": "get_weather", "description": "weather",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}


def test_tool_use_then_text_after_the_tool_result(ant):
    first = ant.messages.create(model="arc-demo", max_tokens=256, tools=[TOOL],
                                messages=user("call get_weather please"))
    block = first.content[0]
    assert first.stop_reason == "tool_use" and block.type == "tool_use"
    assert (block.name, block.input) == ("get_weather", {"city": "arc"})
    second = ant.messages.create(model="arc-demo", max_tokens=256, tools=[TOOL], messages=[
        *user("call get_weather please"),
        {"role": "assistant", "content": [block.model_dump(exclude_none=True)]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": block.id, "content": "sunny"}]},
    ])
    assert second.stop_reason == "end_turn" and second.content[0].type == "text"


def test_streamed_tool_use_input_accumulates(ant):
    with ant.messages.stream(model="arc-demo", max_tokens=256, tools=[TOOL], tool_choice={"type": "any"},
                             messages=user("hi")) as stream:
        final = stream.get_final_message()
    assert final.content[0].input == {"city": "arc"} and final.stop_reason == "tool_use"


def test_models_list_in_anthropic_shape(ant):
    ids = [m.id for m in ant.models.list().data]
    assert "arc-demo" in ids


def test_out_of_range_temperature_is_a_400(ant):
    with pytest.raises(anthropic.BadRequestError, match="temperature"):
        ant.messages.create(model="arc-demo", max_tokens=10, messages=user("x"), extra_body={"temperature": 1.5})
