"""POST /v1/chat/completions through the real openai SDK: plain, streamed, async, n, tools, stops."""

from __future__ import annotations

import json

import openai
import pytest

from .conftest import user

HELLO_REPLY = "This is a deterministic reply from the arc dev-llm server (model arc-demo) to: hello there"


def test_reply_is_deterministic_with_sdk_shaped_fields(oai):
    first = oai.chat.completions.create(model="arc-demo", messages=user("hello there"))
    again = oai.chat.completions.create(model="arc-demo", messages=user("hello there"))

    assert first.object == "chat.completion"
    assert first.id.startswith("chatcmpl-") and first.id != again.id
    assert isinstance(first.created, int) and first.model == "arc-demo"
    choice = first.choices[0]
    assert (choice.index, choice.finish_reason, choice.message.role) == (0, "stop", "assistant")
    assert choice.message.content == HELLO_REPLY == again.choices[0].message.content
    assert (first.usage.prompt_tokens, first.usage.completion_tokens, first.usage.total_tokens) == (2, 22, 24)
    assert first.usage == again.usage


def test_stream_with_include_usage_matches_the_plain_reply(oai):
    plain = oai.chat.completions.create(model="arc-demo", messages=user("hello there"))
    chunks = list(oai.chat.completions.create(model="arc-demo", messages=user("hello there"), stream=True,
                                              stream_options={"include_usage": True}))

    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage == plain.usage
    assert all(c.usage is None for c in chunks[:-1])


def test_stream_without_include_usage_has_no_usage_chunk(oai):
    chunks = list(oai.chat.completions.create(model="arc-demo", messages=user("hi"), stream=True))
    assert all(c.usage is None and c.choices for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_stream_helper_accumulates_the_final_completion(oai):
    with oai.chat.completions.stream(model="arc-demo", messages=user("hello there")) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == HELLO_REPLY


async def test_async_plain_and_stream(aoai):
    plain = await aoai.chat.completions.create(model="arc-demo", messages=user("hello there"))
    stream = await aoai.chat.completions.create(model="arc-demo", messages=user("hello there"), stream=True,
                                                stream_options={"include_usage": True})
    pieces, usage = [], None
    async for chunk in stream:
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
        usage = chunk.usage or usage
    assert plain.choices[0].message.content == "".join(pieces) == HELLO_REPLY
    assert usage == plain.usage


def test_n_choices_count_every_choice_in_usage(oai):
    one = oai.chat.completions.create(model="arc-demo", messages=user("hi"))
    three = oai.chat.completions.create(model="arc-demo", messages=user("hi"), n=3)
    assert [c.index for c in three.choices] == [0, 1, 2]
    assert {c.message.content for c in three.choices} == {one.choices[0].message.content}
    assert three.usage.completion_tokens == 3 * one.usage.completion_tokens


def test_n_choices_stream_each_choice(oai):
    chunks = list(oai.chat.completions.create(model="arc-demo", messages=user("hi"), n=2, stream=True))
    texts = {0: "", 1: ""}
    for c in chunks:
        texts[c.choices[0].index] += c.choices[0].delta.content or ""
    assert texts[0] == texts[1] != ""


WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"},
                                     "unit": {"type": "string", "enum": ["c", "f"]}}}}}


def test_tool_call_when_the_prompt_names_the_tool_then_text_after_the_result(oai):
    first = oai.chat.completions.create(model="arc-demo", messages=user("use get_weather for Paris"),
                                        tools=[WEATHER_TOOL])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "arc", "days": 1, "unit": "c"}

    follow_up = user("use get_weather for Paris") + [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    second = oai.chat.completions.create(model="arc-demo", messages=follow_up, tools=[WEATHER_TOOL])
    assert second.choices[0].finish_reason == "stop" and second.choices[0].message.content


def test_no_tool_call_unless_named_or_required(oai):
    plain = oai.chat.completions.create(model="arc-demo", messages=user("hi"), tools=[WEATHER_TOOL])
    required = oai.chat.completions.create(model="arc-demo", messages=user("hi"), tools=[WEATHER_TOOL],
                                           tool_choice="required")
    assert plain.choices[0].finish_reason == "stop"
    assert required.choices[0].finish_reason == "tool_calls"


def test_streamed_tool_call_arguments_accumulate(oai):
    with oai.chat.completions.stream(model="arc-demo", messages=user("hi"), tools=[WEATHER_TOOL],
                                     tool_choice={"type": "function", "function": {"name": "get_weather"}}) as s:
        final = s.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert json.loads(call.function.arguments) == {"city": "arc", "days": 1, "unit": "c"}
    assert final.choices[0].finish_reason == "tool_calls"


def test_stop_sequence_cuts_the_reply(oai):
    out = oai.chat.completions.create(model="arc-demo", messages=user("hi"), stop=["server"])
    assert out.choices[0].message.content == "This is a deterministic reply from the arc dev-llm "
    assert out.choices[0].finish_reason == "stop"


def test_system_and_all_messages_count_as_prompt_tokens(oai):
    out = oai.chat.completions.create(model="arc-demo", messages=[
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "one two"}, {"type": "text", "text": "three"}]},
    ])
    assert out.usage.prompt_tokens == 5
    assert out.choices[0].message.content.endswith("to: one two three")


@pytest.mark.parametrize("kwargs, named", [
    ({"messages": []}, "messages"),
    ({"messages": user("x"), "temperature": 2.5}, "temperature"),
    ({"messages": user("x"), "max_tokens": 0}, "max_tokens"),
    ({"messages": user("x"), "n": 0}, "'n'"),
])
def test_invalid_requests_get_a_400_naming_the_field(oai, kwargs, named):
    with pytest.raises(openai.BadRequestError) as info:
        oai.chat.completions.create(model="arc-demo", **kwargs)
    assert named in info.value.message
