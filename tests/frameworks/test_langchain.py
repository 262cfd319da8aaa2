"""LangChain's ChatOpenAI and ChatAnthropic under ``arc-instrument`` (issue 17 §2; ``nox -s
"frameworks(langchain)"``): the real SDKs underneath, against ``arc dev-llm``, spans into a real
``arc collector``. One GenAI span per model call (LangChain's retries and callbacks add none), Arc's
fixes reach the server through the framework, and a stream read through LangChain ends its span once;
sync (``invoke``, ``stream``) and async (``ainvoke``, ``astream``) alike."""

import json

import pytest

from .framework_run import llm_spans, run_framework_app, sent_bodies

pytest.importorskip("langchain_openai")
pytest.importorskip("langchain_anthropic")


def test_langchain_chat_models(devllm, collector):
    chat_before, messages_before = len(devllm.requests("/v1/chat/completions")), len(devllm.requests("/v1/messages"))
    out, service = run_framework_app("langchain_app", devllm, collector)

    for key in ("gpt_invoke", "gpt_stream", "gpt_ainvoke", "gpt_astream"):  # fixed: valid JSON came back
        assert isinstance(json.loads(out[key]), dict), (key, out[key])
    assert out["claude_invoke"] and out["claude_ainvoke"]  # claude-haiku-small took the fixed limit
    assert out["claude_stream_chunks"] > 0 and out["claude_astream_chunks"] > 0
    assert [b["temperature"] for b in sent_bodies(devllm, "/v1/chat/completions", chat_before)] == [0.7] * 4
    assert [b["max_tokens"] for b in sent_bodies(devllm, "/v1/messages", messages_before)] == [4096] * 4

    spans = llm_spans(collector, service, 8)
    assert sorted(s["name"] for s in spans) == ["chat claude-haiku-small"] * 4 + ["chat gpt-4"] * 4
    assert len({s["id"] for s in spans}) == 8
    for span in spans:
        assert span["attrs"]["arc.fix.applied"] == "true" and span["attrs"]["arc.outcome"] == "ok", span
    streamed = [s for s in spans if s["attrs"].get("gen_ai.request.stream") == "true"]
    assert len(streamed) == 4  # one span per stream, ended at its end (finish reason read from the last chunk)
    assert all(s["attrs"].get("gen_ai.response.finish_reasons") for s in streamed), streamed
