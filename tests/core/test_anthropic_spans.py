"""Anthropic messages.create (sync/async/stream), messages.stream context managers and a raw streamed
``with_raw_response.create`` read through its ``parse()`` (LangChain's ChatAnthropic)."""


def test_anthropic_sync(run_app, receiver):
    bare = run_app("anthropic_sync", instrument=False)
    out = run_app("anthropic_sync")
    assert out["result"] == bare["result"]
    spans = receiver.wait_for(4)
    assert len(spans) == 4
    for s in spans:
        a = s.attributes
        assert s.name == "chat claude-sonnet-4-6"
        assert a["gen_ai.provider.name"] == "anthropic" and a["gen_ai.operation.name"] == "chat"
        assert a["gen_ai.request.max_tokens"] == 64
        assert a["gen_ai.response.id"] and a["gen_ai.response.model"]
        assert a["gen_ai.response.finish_reasons"] == ("end_turn",)
        assert a["gen_ai.usage.input_tokens"] > 0 and a["gen_ai.usage.output_tokens"] > 0
    create = [s for s in spans if not s.attributes["gen_ai.request.stream"]]
    assert len(create) == 1 and create[0].attributes["gen_ai.request.stop_sequences"] == ("END",)
    streamed = [s for s in spans if s.attributes["gen_ai.request.stream"]]
    assert len(streamed) == 3
    assert all(s.attributes["gen_ai.response.time_to_first_chunk"] > 0 for s in streamed)


def test_anthropic_async(run_app, receiver):
    bare = run_app("anthropic_async", instrument=False)
    out = run_app("anthropic_async")
    assert out["result"] == bare["result"]
    assert "never awaited" not in out["_stderr"]  # Arc awaited nothing for the app, left nothing unawaited
    spans = receiver.wait_for(5)
    assert len(spans) == 5
    assert all(s.attributes["gen_ai.response.finish_reasons"] == ("end_turn",) for s in spans)
    assert all(s.attributes["gen_ai.usage.output_tokens"] > 0 for s in spans)  # the raw ones read when parsed
