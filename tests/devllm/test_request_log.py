"""The request log golden tests read: exact bodies, no credentials, bounded, clearable over HTTP."""

from __future__ import annotations

import json
import urllib.request

import anthropic
import openai
import pytest

from arc_agent.devllm import REDACTED, DevLLMClient, DevLLMServer

from .conftest import ANTHROPIC_KEY, OPENAI_KEY, user


def test_records_what_the_sdks_sent_without_secrets(srv, oai, ant):
    oai.chat.completions.create(model="arc-demo", messages=user("hi"), temperature=0.95,
                                extra_headers={"api-key": "azure-SECRET-key", "X-Trace": "t1"})
    ant.messages.create(model="arc-demo", max_tokens=32, messages=user("yo"), system="sys",
                        extra_headers={"x-api-key": "another-SECRET"})

    chat, msg = srv.requests()
    assert (chat["method"], chat["path"], chat["status"]) == ("POST", "/v1/chat/completions", 200)
    assert chat["body"] == {"model": "arc-demo", "messages": user("hi"), "temperature": 0.95}
    assert chat["headers"]["authorization"] == chat["headers"]["api-key"] == REDACTED
    assert chat["headers"]["x-trace"] == "t1"
    # anthropic 2.12 sends its api_key as a bearer token; x-api-key came from extra_headers
    assert msg["path"] == "/v1/messages" and msg["headers"]["x-api-key"] == REDACTED
    assert msg["headers"]["authorization"] == REDACTED
    assert msg["body"] == {"model": "arc-demo", "max_tokens": 32, "messages": user("yo"), "system": "sys"}
    assert msg["seq"] > chat["seq"]

    with urllib.request.urlopen(srv.base_url + "/_dev/requests") as response:
        raw = response.read().decode()
    for secret in (OPENAI_KEY, ANTHROPIC_KEY, "azure-SECRET-key", "another-SECRET"):
        assert secret not in raw and secret not in json.dumps(srv.requests())
    assert json.loads(raw) == srv.requests()


def test_streamed_and_failed_requests_are_marked(srv, oai):
    list(oai.chat.completions.create(model="arc-demo", messages=user("x"), stream=True))
    with pytest.raises(openai.RateLimitError):
        oai.chat.completions.create(model="fail-429", messages=user("x"))
    streamed, failed = srv.requests()
    assert streamed["stream"] is True and streamed["status"] == 200
    assert failed["status"] == failed["injected"] == 429 and "injected" in failed["error"]


def test_filters_clear_and_http_client(srv, oai):
    client = DevLLMClient(srv.openai_base_url)
    oai.embeddings.create(model="m", input="a")
    oai.chat.completions.create(model="arc-demo", messages=user("x"))
    assert [r["path"] for r in client.requests(path="/v1/embeddings")] == ["/v1/embeddings"]
    first_seq = client.requests()[0]["seq"]
    assert [r["path"] for r in client.requests(since=first_seq)] == ["/v1/chat/completions"]
    assert client.clear() == 2
    assert client.requests() == [] and srv.requests() == []
    assert client.health()["status"] == "ok"


def test_log_is_a_ring_buffer():
    with DevLLMServer(log_size=5) as small:
        client = openai.OpenAI(base_url=small.openai_base_url, api_key="k", max_retries=0)
        for i in range(8):
            client.embeddings.create(model="m", input=f"text {i}")
        kept = small.requests()
    assert [r["body"]["input"] for r in kept] == [f"text {i}" for i in range(3, 8)]


def test_unknown_paths_and_bad_json_are_logged_and_answered_in_provider_shape(srv):
    def post(path, data, headers=None):
        req = urllib.request.Request(srv.base_url + path, data=data, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
        try:
            urllib.request.urlopen(req)
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
        raise AssertionError("expected an HTTP error")

    assert post("/v1/nope", b"{}") == (404, {"error": {"message": "arc dev-llm has no POST /v1/nope",
                                                       "type": "not_found_error", "param": None, "code": None}})
    status, body = post("/v1/messages", b"{not json", {"anthropic-version": "2023-06-01"})
    assert status == 400 and body["type"] == "error" and "not valid JSON" in body["error"]["message"]
    assert [r["body"] for r in srv.requests()] == [{}, "{not json"]


def test_runtime_config_over_http(srv, oai):
    client = DevLLMClient(srv.base_url)
    assert client.configure(fail_rate=1, fail_status=503)["fail_status"] == 503
    with pytest.raises(openai.InternalServerError):
        oai.embeddings.create(model="m", input="x")
    with pytest.raises(RuntimeError, match="unknown dev-llm setting 'nope'"):
        client.configure(nope=1)
    with pytest.raises(RuntimeError, match="fail_rate must be within 0..1"):
        client.configure(fail_rate=3)
    client.configure(fail_rate=0)


def test_anthropic_sdk_exception_carries_request_id(srv, ant):
    with pytest.raises(anthropic.RateLimitError) as info:
        ant.messages.create(model="fail-429", max_tokens=5, messages=user("x"))
    assert info.value.request_id == f"req_devllm_{srv.requests()[-1]['seq']}"


def test_huge_bodies_are_logged_truncated_and_log_size_0_keeps_nothing(srv, oai):
    big = "word " * 250_000  # 1.25 MB
    out = oai.embeddings.create(model="m", input=big)
    assert out.usage.prompt_tokens == 250_000
    logged = srv.requests()[-1]["body"]
    assert logged["_truncated"] is True and logged["bytes"] > 1024 * 1024 and len(logged["head"]) == 4096
    srv.configure(log_size=0)
    try:
        oai.embeddings.create(model="m", input="x")
        assert srv.requests() == []
    finally:
        srv.configure(log_size=10_000)


def test_chunked_request_body_is_read(srv):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    conn.request("POST", "/v1/embeddings", body=iter([b'{"model": "m", ', b'"input": "a b"}']),
                 headers={"Content-Type": "application/json"}, encode_chunked=True)
    response = conn.getresponse()
    assert response.status == 200 and json.loads(response.read())["usage"]["prompt_tokens"] == 2
    conn.close()
    assert srv.requests()[-1]["body"] == {"model": "m", "input": "a b"}
