"""Every OpenAI surface becomes exactly one GenAI span, exported over real OTLP/gRPC."""

from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from tests.core.apps.llm_app import SECRET


def by_name(spans):
    out = {}
    for s in spans:
        out.setdefault(s.name, []).append(s)
    return out


def test_openai_sync_surfaces(run_app, receiver):
    bare = run_app("openai_sync", instrument=False)
    out = run_app("openai_sync")
    assert out["result"] == bare["result"]  # the app sees exactly what it sees without Arc
    assert out["patched"] and not bare["patched"]
    spans = receiver.wait_for(7)
    assert len(spans) == 7
    names = by_name(spans)
    assert len(names["chat gpt-4"]) == 4 and len(names["chat gpt-4o"]) == 2
    assert len(names["embeddings text-embedding-3-small"]) == 1
    for s in spans:
        assert s.kind == Span.SPAN_KIND_CLIENT
        a = s.attributes
        assert a["gen_ai.provider.name"] == "openai"
        assert a["server.address"] == "127.0.0.1" and isinstance(a["server.port"], int)
        assert a["arc.fix.applied"] is False
        assert a["arc.interception.latency_us"] >= 0
        assert s.resource["service.name"] == "test-app"
        assert s.status_code != Status.STATUS_CODE_ERROR
    first = names["chat gpt-4"][0].attributes
    assert first["gen_ai.operation.name"] == "chat"
    assert first["gen_ai.request.temperature"] == 0.5 and first["gen_ai.request.top_p"] == 0.9
    assert first["gen_ai.request.max_tokens"] == 50 and first["gen_ai.request.seed"] == 7
    assert first["gen_ai.request.stop_sequences"] == ("\n\n",)
    assert first["gen_ai.request.stream"] is False
    assert first["gen_ai.response.id"] and first["gen_ai.response.model"]
    assert first["gen_ai.response.finish_reasons"] == ("stop",)
    assert first["gen_ai.usage.input_tokens"] > 0 and first["gen_ai.usage.output_tokens"] > 0
    stream = names["chat gpt-4"][1].attributes
    assert stream["gen_ai.request.stream"] is True
    assert stream["gen_ai.response.finish_reasons"] == ("stop",)
    assert stream["gen_ai.usage.output_tokens"] > 0  # from the usage chunk
    assert stream["gen_ai.response.time_to_first_chunk"] > 0
    raw = names["chat gpt-4"][2].attributes
    assert raw["gen_ai.response.id"] and raw["gen_ai.usage.input_tokens"] > 0
    resp, resp_stream = (x.attributes for x in names["chat gpt-4o"])
    assert resp["gen_ai.request.max_tokens"] == 40 and resp["gen_ai.usage.output_tokens"] > 0
    assert resp_stream["gen_ai.request.stream"] is True and resp_stream["gen_ai.usage.output_tokens"] > 0
    emb = names["embeddings text-embedding-3-small"][0].attributes
    assert emb["gen_ai.operation.name"] == "embeddings" and emb["gen_ai.usage.input_tokens"] > 0
    # content capture is off by default, and no secret is in any exported byte
    assert not any(k.startswith("gen_ai.input") or k.startswith("gen_ai.output") for s in spans for k in s.attributes)
    blob = b"".join(receiver.raw)
    assert SECRET.encode() not in blob and b"Bearer" not in blob


def test_openai_async_surfaces(run_app, receiver):
    bare = run_app("openai_async", instrument=False)
    out = run_app("openai_async")
    assert out["result"] == bare["result"]
    spans = receiver.wait_for(4)
    assert sorted(s.name for s in spans) == ["chat gpt-4", "chat gpt-4", "chat gpt-4o",
                                             "embeddings text-embedding-3-small"]
    stream = [s for s in spans if s.attributes["gen_ai.request.stream"]][0].attributes
    assert stream["gen_ai.response.finish_reasons"] == ("stop",)


def test_streams_abandoned_early_end_once(run_app, receiver):
    run_app("early_break")
    spans = receiver.wait_for(3)
    assert len(spans) == 3
    assert all(s.end_ns >= s.start_ns > 0 for s in spans)
    assert len({s.span_id for s in spans}) == 3


def test_async_stream_closed_from_another_task(run_app, receiver):
    out = run_app("cross_task_close")
    spans = receiver.wait_for(2)
    assert len(spans) == 2 and all(s.end_ns >= s.start_ns for s in spans)
    assert "Failed to detach context" not in out["_stderr"]
    assert "Traceback" not in out["_stderr"]


def test_errors_reach_app_unchanged_and_mark_span(run_app, receiver):
    bare = run_app("errors", instrument=False)
    out = run_app("errors")
    assert out["result"] == bare["result"] == {"openai": ["RateLimitError", 429],
                                                "anthropic": ["InternalServerError", 500]}
    spans = receiver.wait_for(2)
    for s in spans:
        assert s.status_code == Status.STATUS_CODE_ERROR
    assert sorted(s.attributes["error.type"] for s in spans) == ["InternalServerError", "RateLimitError"]


def test_content_capture_is_opt_in(run_app, receiver):
    run_app("plain", OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true")
    (span,) = receiver.wait_for(1)
    assert "Say hello" in span.attributes["gen_ai.input.messages"]
    assert span.attributes["gen_ai.output.messages"]
    assert SECRET.encode() not in b"".join(receiver.raw)
