"""Fixes translated per provider, applied copy-on-write (the caller's objects never change)."""

import copy
import json

import anthropic
import openai
import pytest

from arc_agent.llm.request import from_anthropic_messages, from_openai_chat, from_openai_responses
from arc_agent.patterns import PatternEngine, PatternError
from arc_agent.patterns.apply import accepted_params


def fixed(view_builder, kwargs, fix, pattern=None, **options):
    """(kwargs sent, attributes) for a pattern that matches ``kwargs``; asserts no mutation."""
    e = PatternEngine(poll_interval=0)
    e.register(pattern or {"model": kwargs["model"]}, fix, id="p", **options)
    before = copy.deepcopy(kwargs)
    out = e.fix(view_builder(kwargs))
    assert kwargs == before, "the caller's kwargs were mutated"
    return (out.kwargs if out.kwargs is not None else kwargs), out.attributes


def test_openai_chat_set_clamp_remove_model():
    kw = {"model": "gpt-4", "temperature": 1.4, "top_p": 0.5, "max_tokens": 9000, "messages": []}
    sent, attrs = fixed(from_openai_chat, kw, {"temperature": {"max": 0.7}, "top_p": {"remove": True},
                                               "max_tokens": {"min": 10, "max": 4096}, "model": "gpt-4o",
                                               "seed": 42})
    assert sent == {"model": "gpt-4o", "temperature": 0.7, "max_tokens": 4096, "seed": 42, "messages": []}
    assert json.loads(attrs["arc.fix.changes"]) == {
        "temperature": [1.4, 0.7], "top_p": [0.5, None], "max_tokens": [9000, 4096],
        "model": ["gpt-4", "gpt-4o"], "seed": [None, 42]}
    assert attrs["arc.fix.applied"] is True and attrs["arc.fix.confidence"] == 1.0


def test_clamp_leaves_absent_and_in_range_values_alone():
    kw = {"model": "gpt-4", "temperature": 0.3, "messages": []}
    sent, attrs = fixed(from_openai_chat, kw, {"temperature": {"max": 0.7}, "top_p": {"max": 0.5}})
    assert sent is kw and attrs["arc.fix.applied"] is False and attrs["arc.pattern.matched"] is True


def test_max_tokens_aliases_per_api():
    sent, _ = fixed(from_openai_chat, {"model": "m", "max_completion_tokens": 9000, "messages": []},
                    {"max_tokens": {"max": 100}})
    assert sent["max_completion_tokens"] == 100 and "max_tokens" not in sent
    sent, _ = fixed(from_openai_responses, {"model": "m", "max_output_tokens": 9000, "input": "x"},
                    {"max_tokens": {"max": 100}})
    assert sent["max_output_tokens"] == 100 and "max_tokens" not in sent


def test_openai_chat_system_message_variants():
    user = {"role": "user", "content": "hi"}
    # existing string system message: prepend / append
    system = {"role": "system", "content": "Base."}
    kw = {"model": "m", "messages": [system, user]}
    sent, attrs = fixed(from_openai_chat, kw, {"prepend_system": "First.", "append_system": "Last."})
    assert sent["messages"] == [{"role": "system", "content": "First.\n\nBase.\n\nLast."}, user]
    assert sent["messages"][1] is user  # untouched messages are shared, not copied
    assert json.loads(attrs["arc.fix.changes"])["system"] == ["…", "First.\n\n…\n\nLast."]
    # no system message: one is inserted first
    sent, _ = fixed(from_openai_chat, {"model": "m", "messages": [user]}, {"append_system": "Rules."})
    assert sent["messages"] == [{"role": "system", "content": "Rules."}, user]
    # a developer message is used when there is no system message
    dev = {"role": "developer", "content": "Dev."}
    sent, _ = fixed(from_openai_chat, {"model": "m", "messages": [dev, user]}, {"append_system": "More."})
    assert sent["messages"][0] == {"role": "developer", "content": "Dev.\n\nMore."}
    # content as a list of parts gets a new text part
    parts = {"role": "system", "content": [{"type": "text", "text": "A"}]}
    sent, _ = fixed(from_openai_chat, {"model": "m", "messages": [parts, user]}, {"prepend_system": "B"})
    assert sent["messages"][0]["content"] == [{"type": "text", "text": "B"}, {"type": "text", "text": "A"}]


def test_responses_instructions():
    sent, _ = fixed(from_openai_responses, {"model": "m", "input": "q"}, {"prepend_system": "Short."})
    assert sent == {"model": "m", "input": "q", "instructions": "Short."}
    sent, _ = fixed(from_openai_responses, {"model": "m", "input": "q", "instructions": "Be kind."},
                    {"append_system": "Short."})
    assert sent["instructions"] == "Be kind.\n\nShort."


def test_anthropic_system_string_and_blocks():
    msgs = [{"role": "user", "content": "hi"}]
    sent, _ = fixed(from_anthropic_messages, {"model": "c", "max_tokens": 5, "messages": msgs},
                    {"prepend_system": "Rules."})
    assert sent["system"] == "Rules."
    blocks = [{"type": "text", "text": "Cached.", "cache_control": {"type": "ephemeral"}}]
    sent, _ = fixed(from_anthropic_messages, {"model": "c", "max_tokens": 5, "system": blocks, "messages": msgs},
                    {"append_system": "Extra."})
    assert sent["system"] == [blocks[0], {"type": "text", "text": "Extra."}]
    assert blocks == [{"type": "text", "text": "Cached.", "cache_control": {"type": "ephemeral"}}]


def test_prompt_prefix_suffix_string_and_blocks():
    kw = {"model": "m", "messages": [{"role": "user", "content": "old"}, {"role": "assistant", "content": "a"},
                                     {"role": "user", "content": "Question?"}]}
    sent, attrs = fixed(from_openai_chat, kw, {"prefix_prompt": "Context.", "suffix_prompt": "JSON only."})
    assert sent["messages"][2] == {"role": "user", "content": "Context.\n\nQuestion?\n\nJSON only."}
    assert sent["messages"][0] is kw["messages"][0]
    assert json.loads(attrs["arc.fix.changes"])["prompt"][0] == "…"  # the caller's text is not recorded
    kw = {"model": "c", "max_tokens": 5, "messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "url", "url": "http://x"}}, {"type": "text", "text": "What?"}]}]}
    sent, _ = fixed(from_anthropic_messages, kw, {"suffix_prompt": "Be brief."})
    assert sent["messages"][0]["content"][1] == {"type": "text", "text": "What?\n\nBe brief."}
    assert sent["messages"][0]["content"][0] is kw["messages"][0]["content"][0]
    sent, _ = fixed(from_openai_responses, {"model": "m", "input": "Why?"}, {"prefix_prompt": "Briefly:"})
    assert sent["input"] == "Briefly:\n\nWhy?"


def test_credentials_and_transport_are_never_fix_targets():
    e = PatternEngine(poll_interval=0)
    for name in ("extra_headers", "extra_query", "extra_body", "timeout", "api_key", "stream", "messages"):
        with pytest.raises(PatternError, match="cannot be changed"):
            e.register({"model": "m"}, {name: 1})


def test_bad_fixes_are_rejected():
    e = PatternEngine(poll_interval=0)
    for fix, problem in [({}, "non-empty object"), ({"temperature": None}, "null is ambiguous"),
                         ({"temperature": {"max": "x"}}, "must be numbers"),
                         ({"temperature": {"min": 2, "max": 1}}, "greater than max"),
                         ({"temperature": {"remove": False}}, "must be true"),
                         ({"temperature": {"foo": 1}}, "an object value must be"),
                         ({"model": 3}, "non-empty string"), ({"prepend_system": ""}, "non-empty string")]:
        with pytest.raises(PatternError, match=problem):
            e.register({"model": "m"}, fix)


def test_anthropic_sampling_params_go_to_extra_body():
    """anthropic 2.x's messages.create has no temperature keyword: the fix must use extra_body."""
    assert "temperature" not in accepted_params("anthropic", "chat")
    assert "temperature" in accepted_params("openai", "chat")
    kw = {"model": "c", "max_tokens": 5, "messages": [], "extra_body": {"top_k": 3}}
    sent, _ = fixed(from_anthropic_messages, kw, {"temperature": 0.2})
    assert sent["extra_body"] == {"top_k": 3, "temperature": 0.2} and "temperature" not in sent
    assert kw["extra_body"] == {"top_k": 3}


def test_fixed_anthropic_request_is_accepted_by_the_sdk_and_reaches_the_server():
    from arc_agent.devllm import DevLLMServer

    kw = {"model": "claude-test", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}
    sent, _ = fixed(from_anthropic_messages, kw, {"temperature": 0.2, "top_k": 5, "prepend_system": "S."})
    oa_kw = {"model": "gpt-test", "temperature": 1.5, "messages": [{"role": "user", "content": "hi"}]}
    oa_sent, _ = fixed(from_openai_chat, oa_kw, {"temperature": {"max": 0.5}})
    with DevLLMServer(port=0) as server:
        anthropic.Anthropic(base_url=server.base_url, api_key="k", max_retries=0).messages.create(**sent)
        openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0).chat.completions.create(**oa_sent)
        a_body, o_body = (r["body"] for r in server.requests())
    assert a_body["temperature"] == 0.2 and a_body["top_k"] == 5 and a_body["system"] == "S."
    assert o_body["temperature"] == 0.5


def test_rename_moves_the_value_and_keeps_a_given_target():
    kw = {"model": "reasoning-mini", "max_tokens": 300, "messages": []}
    sent, attrs = fixed(from_openai_chat, kw, {"max_tokens": {"rename": "max_completion_tokens"}})
    assert sent == {"model": "reasoning-mini", "max_completion_tokens": 300, "messages": []}
    assert json.loads(attrs["arc.fix.changes"]) == {"max_tokens": [300, None], "max_completion_tokens": [None, 300]}
    both = {"model": "reasoning-mini", "max_tokens": 300, "max_completion_tokens": 50, "messages": []}
    sent, _ = fixed(from_openai_chat, both, {"max_tokens": {"rename": "max_completion_tokens"}})
    assert sent == {"model": "reasoning-mini", "max_completion_tokens": 50, "messages": []}
    absent = {"model": "reasoning-mini", "messages": []}
    sent, attrs = fixed(from_openai_chat, absent, {"max_tokens": {"rename": "max_completion_tokens"}})
    assert sent is absent and attrs["arc.fix.applied"] is False


@pytest.mark.parametrize("fix, message", [({"max_tokens": {"rename": "max_tokens"}}, "another parameter"),
                                          ({"max_tokens": {"rename": ""}}, "another parameter"),
                                          ({"max_tokens": {"rename": "stream"}}, "cannot rename"),
                                          ({"max_tokens": {"rename": "model"}}, "cannot rename")])
def test_rename_rejects_bad_targets(fix, message):
    with pytest.raises(PatternError, match=message):
        PatternEngine(poll_interval=0).register({"model": "m"}, fix)


def test_rename_makes_a_rejected_request_pass_through_the_real_sdk():
    from arc_agent.devllm import DevLLMServer

    kw = {"model": "reasoning-mini", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    sent, _ = fixed(from_openai_chat, kw, {"max_tokens": {"rename": "max_completion_tokens"}})
    with DevLLMServer(port=0) as srv, openai.OpenAI(base_url=srv.openai_base_url, api_key="sk-test",
                                                     max_retries=0) as client:
        with pytest.raises(openai.BadRequestError) as err:
            client.chat.completions.create(**kw)
        assert err.value.code == "unsupported_parameter" and err.value.param == "max_tokens"
        reply = client.chat.completions.create(**sent)
        assert reply.choices[0].message.content
