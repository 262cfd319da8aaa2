"""The openai SDK's structured-output helpers under ``arc-instrument``: ``chat.completions.parse``
and ``responses.parse`` post their request themselves (not through ``create``), ``with_raw_response``
wraps them, ``chat.completions.stream`` goes through ``create``; a raw streamed ``create`` is observed
through its ``parse()``. Each call is fixed and makes exactly
one span; a reply ``parse`` refuses is an ``invalid_json`` error span."""

import sys
from pathlib import Path

from opentelemetry.proto.trace.v1.trace_pb2 import Status

from tests.helpers.procs import clean_env, run_json

APPS = Path(__file__).parent / "apps"
REPLY = "deterministic reply from arc dev-llm"  # the "reply" field of dev-llm's JSON answer


def run_parse_app(devllm, receiver, mode: str) -> dict:
    env = clean_env(DEVLLM_URL=devllm.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
                    OTEL_SERVICE_NAME="parse-app", ARC_EXPORT_DELAY_MS="50",
                    ARC_PATTERNS=str(APPS / "parse_patterns.yaml"))
    return run_json([sys.executable, str(APPS / "parse_app.py"), mode], env)


def sent_temperatures(devllm, since: dict) -> list:
    return [r["body"]["temperature"] for path in ("/v1/chat/completions", "/v1/responses")
            for r in devllm.requests(path)[since[path]:]]


def request_counts(devllm) -> dict:
    return {path: len(devllm.requests(path)) for path in ("/v1/chat/completions", "/v1/responses")}


def test_sync_parse_helpers_fixed_one_span_each(devllm, receiver):
    before = request_counts(devllm)
    out = run_parse_app(devllm, receiver, "sync")
    assert out["patched"]
    # without Arc dev-llm's JSON breaks at 1.5 and parse raises; with the fix every helper parses it
    assert out["result"] == {"parse": REPLY, "raw_parse": REPLY, "stream": REPLY, "responses_parse": REPLY,
                             "raw_stream": REPLY, "invalid": "ValidationError"}
    assert sent_temperatures(devllm, before) == [0.7] * 6

    spans = receiver.wait_for(6)
    assert len(spans) == 6 and len({s.span_id for s in spans}) == 6  # the app flushed at exit: no second span
    assert sorted(s.name for s in spans) == ["chat gpt-4"] * 6
    for s in spans:
        assert s.attributes["arc.fix.applied"] is True and s.attributes["gen_ai.request.temperature"] == 0.7
        assert s.attributes["arc.request.response_format"] in ("json_schema", "json_object")
    ok = [s for s in spans if s.status_code != Status.STATUS_CODE_ERROR]
    assert len(ok) == 5 and all(s.attributes["arc.outcome"] == "ok" for s in ok)
    streamed = [s for s in ok if s.attributes["gen_ai.request.stream"]]  # stream() and the raw stream, read to the end
    assert len(streamed) == 2 and all(s.attributes["gen_ai.response.finish_reasons"] == ("stop",) for s in streamed)
    (bad,) = [s for s in spans if s.status_code == Status.STATUS_CODE_ERROR]
    assert bad.attributes["error.type"] == "ValidationError" and bad.attributes["arc.outcome"] == "invalid_json"


def test_async_parse_and_raw_parse_fixed_one_span_each(devllm, receiver):
    before = request_counts(devllm)
    out = run_parse_app(devllm, receiver, "async")
    assert out["result"] == {"parse": REPLY, "raw_parse": REPLY}
    assert sent_temperatures(devllm, before) == [0.7, 0.7]
    spans = receiver.wait_for(2)
    assert len(spans) == 2
    for s in spans:
        assert s.attributes["arc.fix.applied"] is True and s.attributes["arc.outcome"] == "ok"
        assert s.attributes["gen_ai.response.finish_reasons"] == ("stop",)
