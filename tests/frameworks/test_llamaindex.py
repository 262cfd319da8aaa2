"""LlamaIndex's OpenAI LLM under ``arc-instrument`` (issue 17 §2; ``nox -s "frameworks(llamaindex)"``:
llama-index-llms-openai pins openai 2.x). One GenAI span per model call, Arc's fix reaches dev-llm
through the framework, and ``stream_complete`` / ``astream_complete`` end their span once (sync and
async clients alike)."""

import json

import pytest

from .framework_run import llm_spans, run_framework_app, sent_bodies

pytest.importorskip("llama_index.llms.openai")


def test_llamaindex_openai_llm(devllm, collector):
    before = len(devllm.requests("/v1/chat/completions"))
    out, service = run_framework_app("llamaindex_app", devllm, collector)

    for key in ("complete", "stream", "acomplete", "astream"):  # fixed: valid JSON came back
        assert isinstance(json.loads(out[key]), dict), (key, out[key])
    assert [b["temperature"] for b in sent_bodies(devllm, "/v1/chat/completions", before)] == [0.7] * 4
    spans = llm_spans(collector, service, 4)
    assert [s["name"] for s in spans] == ["chat gpt-4"] * 4 and len({s["id"] for s in spans}) == 4
    assert all(s["attrs"]["arc.fix.applied"] == "true" and s["attrs"]["arc.outcome"] == "ok" for s in spans)
    streamed = [s for s in spans if s["attrs"].get("gen_ai.request.stream") == "true"]
    assert len(streamed) == 2 and all(s["attrs"].get("gen_ai.response.finish_reasons") for s in streamed), spans
