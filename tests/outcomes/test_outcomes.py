"""arc.outcome, provider error facts and request features on the spans of real openai/anthropic SDK
calls against `arc dev-llm`, exported over real OTLP/gRPC."""

import math

import pytest

from arc_agent.llm.simhash import distance
from tests.outcomes.apps.outcome_app import AUTH, SECRET, SYSTEM
from tests.outcomes.conftest import run_scenario, spans_by_tag

OPENAI = {
    "ok": "ok", "truncated": "truncated", "invalid_json": "invalid_json", "valid_json": "ok", "empty": "empty",
    "refused": "refused", "err_temperature": "http_error", "err_max_tokens": "http_error",
    "err_context": "http_error", "stream_ok": "ok", "stream_truncated": "truncated",
    "stream_invalid_json": "invalid_json", "stream_refused": "refused", "stream_empty": "empty",
    "resp_ok": "ok", "resp_truncated": "truncated", "resp_invalid_json": "invalid_json", "resp_stream_ok": "ok",
    "resp_stream_invalid_json": "invalid_json", "resp_refused": "refused", "resp_stream_refused": "refused",
    "async_ok": "ok", "async_invalid_json": "invalid_json",
    "async_err": "http_error", "async_stream_truncated": "truncated", "features": "ok",
}
ANTHROPIC = {
    "ok": "ok", "truncated": "truncated", "empty": "empty", "refused": "refused", "invalid_json": "invalid_json",
    "valid_json": "ok", "tool_ok": "ok", "err_max_tokens": "http_error", "stream_ok": "ok",
    "stream_truncated": "truncated", "stream_invalid_json": "invalid_json", "stream_tool_ok": "ok",
    "helper_stream_refused": "refused", "async_ok": "ok", "async_stream_refused": "refused", "async_err": "http_error",
}


@pytest.fixture(scope="module")
def openai_run(devllm, module_receiver):
    out = run_scenario(devllm, module_receiver.endpoint, "openai")
    return out, spans_by_tag(out, module_receiver)


@pytest.fixture(scope="module")
def anthropic_run(devllm, module_receiver):
    out = run_scenario(devllm, module_receiver.endpoint, "anthropic")
    return out, spans_by_tag(out, module_receiver)


def outcomes(spans: dict) -> dict:
    return {tag: span.attributes.get("arc.outcome") for tag, span in spans.items()}


def test_openai_outcomes_sync_async_stream_responses(openai_run):
    out, spans = openai_run
    assert {t: o for t, o in outcomes(spans).items() if t in OPENAI} == OPENAI
    for tag, expected in OPENAI.items():  # the app saw what the outcome says: an error only for HTTP errors
        assert (out["seen"][tag] == "ok") == (expected != "http_error"), tag


def test_openai_error_code_param_type(openai_run):
    _, spans = openai_run
    expected = {"err_temperature": ("unsupported_parameter", "temperature"),
                "err_max_tokens": ("unsupported_parameter", "max_tokens"),
                "err_context": ("context_length_exceeded", "messages"),
                "async_err": ("unsupported_parameter", "temperature")}
    for tag, (code, param) in expected.items():
        a = spans[tag].attributes
        assert a["http.response.status_code"] == 400 and a["error.type"] == "BadRequestError", tag
        assert (a["arc.error.code"], a["arc.error.param"], a["arc.error.type"]) == \
            (code, param, "invalid_request_error"), tag
    assert not any(k.startswith(("arc.error.", "http.response")) for k in spans["ok"].attributes)


def test_anthropic_outcomes_and_error(anthropic_run):
    out, spans = anthropic_run
    assert {t: o for t, o in outcomes(spans).items() if t in ANTHROPIC} == ANTHROPIC
    for tag in ("err_max_tokens", "async_err"):
        a = spans[tag].attributes
        assert a["http.response.status_code"] == 400 and a["arc.error.type"] == "invalid_request_error"
        assert a["arc.error.param"] == "max_tokens"  # from "max_tokens: 8000 > 4096, ..." (a request param)
        assert "arc.error.code" not in a
    assert spans["tool_ok"].attributes["arc.request.response_format"] == "tool"
    assert spans["invalid_json"].attributes["arc.request.response_format"] == "json_schema"
    ok = spans["ok"].attributes  # a separate system prompt counts as a message
    assert ok["arc.request.message_count"] == 2 and len(ok["arc.request.system_fingerprint"]) == 16
    assert ok["arc.request.params"] == ("max_tokens", "messages", "model", "system")
    assert spans["invalid_json"].attributes["arc.request.params"] == (
        "max_tokens", "messages", "model", "output_config", "temperature")  # extra_body's keys are sent too


def test_request_features(openai_run):
    _, spans = openai_run
    a = spans["features"].attributes
    assert a["arc.request.params"] == ("max_completion_tokens", "messages", "model", "response_format",
                                       "temperature", "tool_choice", "tools")
    chars = len(SYSTEM) + len("Give a JSON object with a greeting")
    assert a["arc.request.prompt_tokens_est"] == math.ceil(chars / 4)
    assert a["arc.request.message_count"] == 2 and a["arc.request.tool_count"] == 1
    assert a["arc.request.response_format"] == "json_schema" and a["arc.request.max_completion_tokens"] == 300
    plain = spans["ok"].attributes
    assert plain["arc.request.response_format"] == "text" and plain["arc.request.tool_count"] == 0
    assert "arc.request.system_fingerprint" not in plain and "arc.request.max_completion_tokens" not in plain
    assert spans["truncated"].attributes["arc.request.max_completion_tokens"] == 8
    assert spans["resp_truncated"].attributes["arc.request.max_completion_tokens"] == 8
    assert spans["resp_ok"].attributes["arc.request.message_count"] == 1


def test_system_fingerprints_same_near_far(openai_run, anthropic_run):
    _, spans = openai_run
    fp = spans["features"].attributes["arc.request.system_fingerprint"]
    # the same system prompt through another SDK and request gives the same fingerprint
    assert anthropic_run[1]["ok"].attributes["arc.request.system_fingerprint"] == fp
    assert distance(fp, spans["features_near"].attributes["arc.request.system_fingerprint"]) <= 12
    assert distance(fp, spans["features_far"].attributes["arc.request.system_fingerprint"]) >= 20


def test_no_content_or_secret_in_any_exported_byte(openai_run, anthropic_run, module_receiver):
    blob = b"".join(module_receiver.raw)
    for secret in (SECRET, AUTH, "bookstore", "Give a JSON object", "deterministic reply", "I can't help"):
        assert secret.encode() not in blob, secret
