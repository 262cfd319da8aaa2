"""POST /v1/responses through the real openai SDK: plain, SSE events, stream helper, async, tools."""

from __future__ import annotations

import json

import pytest

REPLY = "This is a deterministic reply from the arc dev-llm server (model arc-demo) to: hello there"


def test_plain_response_has_text_and_usage(oai):
    out = oai.responses.create(model="arc-demo", input="hello there", instructions="be nice")
    assert out.object == "response" and out.id.startswith("resp_") and out.status == "completed"
    assert out.output_text == REPLY
    assert out.output[0].type == "message" and out.output[0].role == "assistant"
    assert (out.usage.input_tokens, out.usage.output_tokens, out.usage.total_tokens) == (4, 22, 26)
    assert out.incomplete_details is None


def test_message_list_input_uses_the_last_user_turn(oai):
    out = oai.responses.create(model="arc-demo", input=[
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "input_text", "text": "hello there"}]},
    ])
    assert out.output_text == REPLY
    assert out.usage.input_tokens == 4


def test_stream_events_in_order_with_usage_on_completed(oai):
    events = list(oai.responses.create(model="arc-demo", input="hello there", stream=True))
    types = [e.type for e in events]
    assert types[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert types[-4:] == ["response.output_text.done", "response.content_part.done",
                          "response.output_item.done", "response.completed"]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) == 22 and "".join(deltas) == REPLY
    assert events[-4].text == REPLY
    completed = events[-1].response
    assert completed.id == events[0].response.id and completed.output_text == REPLY
    assert (completed.usage.input_tokens, completed.usage.output_tokens) == (2, 22)


def test_stream_helper_builds_the_final_response(oai):
    with oai.responses.stream(model="arc-demo", input="hello there") as stream:
        text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert text == final.output_text == REPLY


async def test_async_plain_and_stream(aoai):
    plain = await aoai.responses.create(model="arc-demo", input="hello there")
    stream = await aoai.responses.create(model="arc-demo", input="hello there", stream=True)
    events = [e async for e in stream]
    assert plain.output_text == events[-1].response.output_text == REPLY


def test_small_max_output_tokens_makes_an_incomplete_response(oai):
    out = oai.responses.create(model="arc-demo", input="hello there", max_output_tokens=8)
    assert out.status == "incomplete" and out.incomplete_details.reason == "max_output_tokens"
    assert out.usage.output_tokens == 8
    assert out.output_text == "This is a deterministic reply from the arc"
    events = list(oai.responses.create(model="arc-demo", input="hello there", max_output_tokens=8, stream=True))
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details.reason == "max_output_tokens"


@pytest.mark.parametrize("temperature, valid", [(0.7, True), (0.9, True), (0.95, False), (1.5, False)])
def test_json_format_is_malformed_only_above_0_9(oai, temperature, valid):
    out = oai.responses.create(model="arc-demo", input="hello", temperature=temperature,
                               text={"format": {"type": "json_object"}})
    if valid:
        assert json.loads(out.output_text)["echo"] == "hello"
    else:
        with pytest.raises(ValueError):
            json.loads(out.output_text)


TOOL = {"type": "function", "name": "lookup", "strict": False,
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}


def test_function_call_then_text_after_its_output(oai):
    first = oai.responses.create(model="arc-demo", input="please lookup cats", tools=[TOOL])
    call = first.output[0]
    assert call.type == "function_call" and call.name == "lookup" and json.loads(call.arguments) == {"q": "arc"}
    second = oai.responses.create(model="arc-demo", tools=[TOOL], input=[
        {"role": "user", "content": "please lookup cats"},
        {"type": "function_call", "call_id": call.call_id, "name": "lookup", "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": "3 cats"},
    ])
    assert second.output[0].type == "message" and second.output_text


def test_streamed_function_call(oai):
    with oai.responses.stream(model="arc-demo", input="x", tools=[TOOL], tool_choice="required") as stream:
        final = stream.get_final_response()
    assert final.output[0].type == "function_call" and json.loads(final.output[0].arguments) == {"q": "arc"}
