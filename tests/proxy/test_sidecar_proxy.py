"""``arc proxy``: real clients (curl, plain httpx, the SDKs under ``ARC_SIDECAR``) through a real
proxy process to ``arc dev-llm``, spans read back from a real ``arc collector``."""

import asyncio
import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from arc_agent.telemetry.sampling import DynamicSampler
from tests.helpers.collector import CollectorProcess, arc_command
from tests.helpers.procs import ROOT, clean_env, run_json
from tests.helpers.proxy import ProxyProcess

SECRET = "sk-proxy-test-secret-0123456789"
APP = str(Path(__file__).parent / "apps" / "sidecar_app.py")
ASK_JSON = [{"role": "user", "content": "Answer in JSON please"}]
SERVICE = "arc-proxy-test"
TRACE_ID, PARENT_ID = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"


@pytest.fixture(scope="module")
def col(tmp_path_factory):
    with CollectorProcess(tmp_path_factory.mktemp("proxy-store") / "store") as c:
        yield c


def _proxy_env(col, service: str = SERVICE, **extra) -> dict:
    return clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=col.otlp_endpoint, OTEL_SERVICE_NAME=service,
                     ARC_EXPORT_DELAY_MS="50", ARC_PATTERNS="demo", **extra)


@pytest.fixture(scope="module")
def proxy(col, devllm, tmp_path_factory):
    sock = str(tmp_path_factory.mktemp("sock") / "arc.sock")
    # the latency breaker off: on a loaded machine 200 concurrent streams can push Arc's p99 over
    # ARC_BREAKER_MS, and the calls after them would get the breaker's minimal spans (streams
    # unobserved: a mid-stream error not on the span); the breaker has its own test below
    env = _proxy_env(col, ARC_BREAKER_MS="0")
    with ProxyProcess(["--unix", sock, "--upstream", devllm.openai_base_url], env) as p:
        p.socket = sock
        yield p
    assert p.proc.returncode == 0, p.text
    assert not os.path.exists(sock)  # removed on SIGTERM
    assert SECRET not in p.text  # never logged


def spans(col, where: str, expected: int, service: str = SERVICE) -> list:
    sql_where = f"ServiceName = '{service}' AND {where}"
    assert col.wait_for_count(f"SELECT count() FROM otel_traces WHERE {sql_where}", expected) == expected
    rows = col.query("SELECT SpanName, StatusCode, SpanAttributes, ResourceAttributes, Events.Attributes, TraceId, "
                     "ParentSpanId "
                     f"FROM otel_traces WHERE {sql_where} ORDER BY Timestamp")
    assert SECRET not in json.dumps(rows)
    return rows


def model_is(*models: str) -> str:
    return "SpanAttributes['gen_ai.request.model'] IN (" + ", ".join(f"'{m}'" for m in models) + ")"


def test_curl_and_plain_httpx_get_fixed_requests_upstream_and_spans(proxy, devllm, col):
    assert stat.S_IMODE(os.stat(proxy.socket).st_mode) == 0o600
    devllm.clear()
    body = {"model": "gpt-4", "temperature": 0.95, "messages": ASK_JSON, "response_format": {"type": "json_object"}}
    out = subprocess.run(["curl", "-sS", "--unix-socket", proxy.socket, "http://localhost/v1/chat/completions",
                          "-H", f"Authorization: Bearer {SECRET}", "-H", "Content-Type: application/json",
                          "-H", f"traceparent: 00-{TRACE_ID}-{PARENT_ID}-01",
                          "-d", json.dumps(body)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    json.loads(json.loads(out.stdout)["choices"][0]["message"]["content"])  # fixed: valid JSON came back
    with httpx.Client(transport=httpx.HTTPTransport(uds=proxy.socket), base_url="http://localhost") as client:
        reply = client.post("/v1/messages", headers={"x-api-key": SECRET, "anthropic-version": "2023-06-01"},
                            json={"model": "arc-demo", "max_tokens": 64, "temperature": 0.95, "messages": ASK_JSON})
    assert reply.status_code == 200 and reply.json()["type"] == "message"

    chat, = devllm.requests("/v1/chat/completions")
    message, = devllm.requests("/v1/messages")
    assert chat["body"]["temperature"] == 0.7 and message["body"]["temperature"] == 0.7
    assert chat["body"]["messages"] == ASK_JSON  # the rest as sent
    assert chat["headers"]["authorization"] == "REDACTED" and message["headers"]["x-api-key"] == "REDACTED"

    rows = spans(col, model_is("gpt-4", "arc-demo") + " AND SpanAttributes['gen_ai.request.stream'] = 'false'", 2)
    by_provider = {r["SpanAttributes"]["gen_ai.provider.name"]: r for r in rows}
    for provider, prefix in (("openai", "chatcmpl-"), ("anthropic", "msg_")):
        attrs = by_provider[provider]["SpanAttributes"]
        assert attrs["arc.fix.applied"] == "true" and attrs["gen_ai.request.temperature"] == "0.7"
        assert attrs["arc.fix.pattern_ids"] == '["demo-high-temperature"]'
        assert attrs["gen_ai.response.id"].startswith(prefix) and int(attrs["gen_ai.usage.output_tokens"]) > 0
        assert attrs["server.address"] == "127.0.0.1" and attrs["server.port"] == str(devllm.port)
        assert by_provider[provider]["SpanName"] == f"chat {attrs['gen_ai.request.model']}"
    assert (by_provider["openai"]["TraceId"], by_provider["openai"]["ParentSpanId"]) == (TRACE_ID, PARENT_ID)
    assert by_provider["anthropic"]["TraceId"] != TRACE_ID and by_provider["anthropic"]["ParentSpanId"] == ""


def _attrs(row: dict) -> dict:
    varying = ("gen_ai.response.id", "arc.interception.latency_us", "arc.pattern.lookup_us",
               "gen_ai.response.time_to_first_chunk")
    return {k: v for k, v in row["SpanAttributes"].items() if k not in varying}


def test_arc_sidecar_routes_sdk_clients_through_the_proxy_with_the_in_process_spans(proxy, devllm, col):
    """The same app, in-process and with ARC_SIDECAR: same fixes upstream, one span per call (the
    side-car's, none from the app), with the attributes the in-process spans have."""
    base = dict(DEVLLM_URL=devllm.base_url, APP_SECRET=SECRET, OTEL_EXPORTER_OTLP_ENDPOINT=col.otlp_endpoint,
                ARC_EXPORT_DELAY_MS="50", ARC_PATTERNS="demo")
    devllm.clear()
    before = col.scalar(f"SELECT count() FROM otel_traces WHERE ServiceName = '{SERVICE}' AND "
                        + model_is("gpt-4", "arc-demo", "reasoning-mini"))
    routed = run_json([sys.executable, APP], clean_env(OTEL_SERVICE_NAME="sidecar-app",
                                                       ARC_SIDECAR=f"unix://{proxy.socket}", **base))
    sent = devllm.requests()
    assert [r["body"]["temperature"] for r in sent] == [0.7, 0.7, 0.7, 0.5]
    assert all(r["headers"].get("authorization") or r["headers"].get("x-api-key") for r in sent)
    in_process = run_json([sys.executable, APP], clean_env(OTEL_SERVICE_NAME="in-process-app", **base))
    assert routed["chunks"] == in_process["chunks"] > 2 and routed["anthropic"] == in_process["anthropic"]
    assert routed["error"] == in_process["error"] == "unsupported_parameter"

    app_calls = model_is("gpt-4", "arc-demo", "reasoning-mini")
    local = spans(col, app_calls, 4, service="in-process-app")  # exported after anything the routed app sent
    assert col.scalar("SELECT count() FROM otel_traces WHERE ServiceName = 'sidecar-app'") == 0
    through = spans(col, app_calls, before + 4)[-4:]  # the proxy's, for the routed app's calls
    key = lambda r: (r["SpanName"], r["SpanAttributes"]["gen_ai.request.stream"])  # noqa: E731
    local, through = sorted(local, key=key), sorted(through, key=key)
    for mine, theirs in zip(local, through):
        assert mine["SpanName"] == theirs["SpanName"] and mine["StatusCode"] == theirs["StatusCode"]
        expected, got = _attrs(mine), _attrs(theirs)
        if expected["gen_ai.provider.name"] == "anthropic":  # in-process the SDK takes it in extra_body only
            assert got.pop("gen_ai.request.temperature") == "0.7"
        assert got == expected
        assert "gen_ai.response.time_to_first_chunk" in theirs["SpanAttributes"] or \
            expected["gen_ai.request.stream"] == "false"


def _timed_stream(client: httpx.Client, url: str, headers: dict) -> list:
    """Seconds from sending to each SSE event's arrival."""
    body = {"model": "stream-timing", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    t0 = time.perf_counter()
    arrivals = []
    with client.stream("POST", url, json=body, headers=headers) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data:"):
                arrivals.append(time.perf_counter() - t0)
    return arrivals


def test_stream_chunks_arrive_as_produced_and_first_chunk_within_5ms_of_direct(proxy, devllm, col):
    gap_ms = 30
    headers = {"X-Dev-LLM-Chunk-Delay-Ms": str(gap_ms), "X-Dev-LLM-Reply": "one two three four five",
               "Authorization": f"Bearer {SECRET}"}
    direct, through = [], []
    with httpx.Client(transport=httpx.HTTPTransport(uds=proxy.socket), timeout=30) as via, \
            httpx.Client(timeout=30) as plain:
        for _ in range(8):  # alternating, so load on this shared machine hits both alike; best of 8 each
            direct.append(_timed_stream(plain, devllm.openai_base_url + "/chat/completions", headers))
            through.append(_timed_stream(via, "http://localhost/v1/chat/completions", headers))
    for arrivals in through:  # relayed as produced: spread like the upstream's, not bunched at the end
        assert len(arrivals) == len(direct[0]) >= 6
        assert arrivals[-2] - arrivals[0] >= 0.6 * (len(arrivals) - 3) * gap_ms / 1000
    first_direct, first_through = min(a[0] for a in direct), min(a[0] for a in through)
    assert first_through <= first_direct + 0.005, (first_direct, first_through)
    rows = spans(col, model_is("stream-timing"), 8)
    assert all(float(r["SpanAttributes"]["gen_ai.response.time_to_first_chunk"]) > 0 for r in rows)
    assert all(r["SpanAttributes"]["gen_ai.response.finish_reasons"] == '["stop"]' for r in rows)


def test_200_concurrent_streams(proxy, col):
    n = 200

    async def one(client: httpx.AsyncClient, i: int) -> str:
        body = {"model": "many-streams", "stream": True, "messages": [{"role": "user", "content": f"n{i}"}]}
        text = []
        async with client.stream("POST", "/v1/chat/completions", json=body,
                                 headers={"X-Dev-LLM-Chunk-Delay-Ms": "5", "X-Dev-LLM-Reply": f"reply {i}"}) as r:
            assert r.status_code == 200
            async for line in r.aiter_lines():
                if line.startswith("data: {"):
                    text.append(json.loads(line[6:])["choices"][0]["delta"].get("content") or "")
                elif line == "data: [DONE]":
                    text.append("[DONE]")
        return "".join(text)

    async def main() -> list:
        transport = httpx.AsyncHTTPTransport(uds=proxy.socket, limits=httpx.Limits(max_connections=n))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=60) as client:
            return await asyncio.gather(*(one(client, i) for i in range(n)))

    replies = asyncio.run(main())
    assert replies == [f"reply {i}[DONE]" for i in range(n)]
    rows = spans(col, model_is("many-streams"), n)
    assert all(r["StatusCode"] != "Error" for r in rows)


def test_upstream_down_is_a_clear_502_with_an_error_span_and_tcp_needs_the_token(col, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("proxy-token-0123456789abcdef\n")
    token_file.chmod(0o600)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    args = ["--listen", "127.0.0.1:0", "--auth-token-file", str(token_file),
            "--upstream", f"http://127.0.0.1:{closed}/v1"]
    with ProxyProcess(args, _proxy_env(col, service="arc-proxy-down")) as p:
        body = {"model": "down-model", "messages": ASK_JSON}
        with httpx.Client(base_url=p.where, timeout=30) as client:
            refused = client.post("/v1/chat/completions", json=body)
            assert refused.status_code == 401 and "Proxy-Authorization" in refused.json()["error"]["message"]
            auth = {"Proxy-Authorization": "Bearer proxy-token-0123456789abcdef", "Authorization": f"Bearer {SECRET}"}
            down = client.post("/v1/chat/completions", json=body, headers=auth)
            down_stream = client.post("/v1/messages", json=dict(body, max_tokens=10, stream=True),
                                      headers=dict(auth, **{"anthropic-version": "2023-06-01"}))
    assert down.status_code == 502 and down_stream.status_code == 502
    assert "upstream openai API not reachable" in down.json()["error"]["message"]
    assert down_stream.json()["error"]["type"] == "bad_gateway"
    rows = spans(col, model_is("down-model"), 2, service="arc-proxy-down")
    for r in rows:
        assert r["StatusCode"] == "Error" and r["SpanAttributes"]["error.type"] == "APIConnectionError"
    assert SECRET not in p.text


def test_listening_beyond_loopback_needs_tls_and_a_token():
    out = subprocess.run(arc_command("proxy", "--listen", "0.0.0.0:0", "--upstream", "http://127.0.0.1:1/v1"),
                         capture_output=True, text=True, timeout=60, cwd=str(ROOT), env=clean_env())
    assert out.returncode == 2 and "--tls-cert" in out.stderr and "--auth-token-file" in out.stderr
    out = subprocess.run(arc_command("proxy", "--unix", "/tmp/x.sock", "--upstream", "http://u:p@127.0.0.1:1/v1"),
                         capture_output=True, text=True, timeout=60, cwd=str(ROOT), env=clean_env())
    assert out.returncode == 2 and "credentials in the URL" in out.stderr and "u:p" not in out.stderr


def test_upstream_breaking_off_mid_stream_breaks_the_clients_stream_and_ends_its_span_in_error(proxy, col):
    body = {"model": "abort-model", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    received = []
    with httpx.Client(transport=httpx.HTTPTransport(uds=proxy.socket), base_url="http://localhost") as client:
        with pytest.raises(httpx.RemoteProtocolError):  # not a complete-looking answer
            with client.stream("POST", "/v1/chat/completions", json=body,
                               headers={"X-Dev-LLM-Stream-Abort-After": "2"}) as r:
                for line in r.iter_lines():
                    if line.startswith("data:"):
                        received.append(line)
    assert len(received) == 2
    row, = spans(col, model_is("abort-model"), 1)
    assert row["StatusCode"] == "Error" and row["SpanAttributes"]["error.type"] == "APIConnectionError"


@pytest.mark.parametrize("value, expected", [
    ("unix:///run/arc/arc.sock", ("http://arc-sidecar", "/run/arc/arc.sock")),
    ("http://127.0.0.1:8790", ("http://127.0.0.1:8790", None)),
    ("unix://relative/arc.sock", None),  # bad values: logged, in-process interception applies
    ("http://user:pw@127.0.0.1:8790", None),
    ("ftp://host", None),
    ("", None),
])
def test_arc_sidecar_values(value, expected):
    from arc_agent.instrumentation.sidecar import configured

    got = configured({"ARC_SIDECAR": value})
    assert (tuple(got) if got else None) == expected


def test_the_proxy_samples_like_the_in_process_agent(col, devllm, tmp_path):
    """Load shedding at rate 0 (``ARC_SAMPLE_QPS``/``ARC_SAMPLE_RATE``): once the rate was measured
    above the limit (a window of ``DynamicSampler.window_s``), ordinary calls are not exported,
    applied fixes and errors are; a request under an unsampled parent (``traceparent`` flags 00) is
    fixed but not exported. The healthy calls go first, so when the kept spans have arrived the shed
    ones would have too (one ordered export queue)."""
    service = "arc-proxy-sampled"
    sock = str(tmp_path / "arc.sock")
    env = _proxy_env(col, service=service, ARC_SAMPLE_QPS="0.001", ARC_SAMPLE_RATE="0")
    auth = {"Authorization": f"Bearer {SECRET}"}
    devllm.clear()
    with ProxyProcess(["--unix", sock, "--upstream", devllm.openai_base_url], env) as p, \
            httpx.Client(transport=httpx.HTTPTransport(uds=sock), base_url="http://localhost", timeout=30) as client:
        def chat(model: str, temperature: float, headers: dict = auth) -> httpx.Response:
            return client.post("/v1/chat/completions", headers=headers,
                               json={"model": model, "temperature": temperature, "messages": ASK_JSON,
                                     "response_format": {"type": "json_object"}})

        warm_until = time.monotonic() + 2 * DynamicSampler(1, 0).window_s  # the rate is measured per window
        warmups = 0
        while time.monotonic() < warm_until or warmups < 2:
            assert chat("sampled-warmup", 0.5).status_code == 200
            warmups += 1
        for _ in range(3):
            assert chat("sampled-healthy", 0.5).status_code == 200
        unsampled = dict(auth, traceparent=f"00-{TRACE_ID}-{PARENT_ID}-00")
        assert chat("gpt-4", 0.95, unsampled).status_code == 200  # fixed (demo pattern), parent not sampled
        assert chat("gpt-4", 0.95).status_code == 200              # fixed: kept
        assert chat("reasoning-mini", 0.5).status_code == 400      # provider error: kept
        kept = spans(col, model_is("gpt-4", "reasoning-mini"), 2, service=service)
        shed = col.query(f"SELECT count() AS n FROM otel_traces WHERE ServiceName = '{service}' "
                         f"AND ({model_is('sampled-healthy')} OR TraceId = '{TRACE_ID}')")
    assert shed[0]["n"] == 0
    by_model = {r["SpanAttributes"]["gen_ai.request.model"]: r for r in kept}
    assert by_model["gpt-4"]["SpanAttributes"]["arc.fix.applied"] == "true"
    assert by_model["reasoning-mini"]["StatusCode"] == "Error"
    sent = [r["body"]["temperature"] for r in devllm.requests("/v1/chat/completions")]
    assert sent[warmups:] == [0.5, 0.5, 0.5, 0.7, 0.7, 0.5]
    assert p.proc.returncode == 0, p.text


def test_the_proxy_opens_the_same_circuit_breaker_and_passes_requests_through(devllm, tmp_path):
    """Spans piling up (no collector listens) open the breaker as in process (``ARC_BREAKER_QUEUE``):
    the proxy then relays requests unfixed instead of adding work, and says so once."""
    with socket.socket() as s:  # a collector port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    sock = str(tmp_path / "arc.sock")
    env = clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{closed}", OTEL_SERVICE_NAME="arc-proxy-breaker",
                    ARC_PATTERNS="demo", ARC_BREAKER_QUEUE="5", ARC_BREAKER_COOLDOWN_S="600", ARC_WAL_DIR=str(tmp_path))
    devllm.clear()
    body = {"model": "gpt-4", "temperature": 0.95, "messages": ASK_JSON, "response_format": {"type": "json_object"}}
    with ProxyProcess(["--unix", sock, "--upstream", devllm.openai_base_url], env) as p, \
            httpx.Client(transport=httpx.HTTPTransport(uds=sock), base_url="http://localhost", timeout=30) as client:
        for _ in range(200):
            assert client.post("/v1/chat/completions", json=body,
                               headers={"Authorization": f"Bearer {SECRET}"}).status_code == 200
            if devllm.requests("/v1/chat/completions")[-1]["body"]["temperature"] == 0.95:
                break  # relayed as sent: the breaker is open
        temps = [r["body"]["temperature"] for r in devllm.requests("/v1/chat/completions")]
        assert temps[-1] == 0.95 and temps[0] == 0.7, temps  # fixed until it opened
        assert client.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {SECRET}"}) \
            .status_code == 200
        assert devllm.requests("/v1/chat/completions")[-1]["body"]["temperature"] == 0.95  # still open
    assert p.text.count("circuit breaker OPEN") == 1 and "ARC_BREAKER_QUEUE=5" in p.text
    assert SECRET not in p.text


def test_service_name_from_otel_resource_attributes_is_kept(col, devllm, tmp_path):
    """``OTEL_RESOURCE_ATTRIBUTES=service.name=…`` names the proxy's spans, as the SDK's precedence says
    (the proxy's default OTEL_SERVICE_NAME=arc-proxy won over it); without either it is arc-proxy."""
    env = clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=col.otlp_endpoint, ARC_EXPORT_DELAY_MS="50",
                    OTEL_RESOURCE_ATTRIBUTES="service.name=llm-gateway,deployment.environment=prod")
    sock = str(tmp_path / "arc.sock")
    with ProxyProcess(["--unix", sock, "--upstream", devllm.openai_base_url], env):
        with httpx.Client(transport=httpx.HTTPTransport(uds=sock), base_url="http://arc", timeout=30) as client:
            answer = client.post("/v1/chat/completions", json={"model": "named-model", "messages": ASK_JSON})
            assert answer.status_code == 200, answer.text
    rows = spans(col, model_is("named-model"), 1, service="llm-gateway")
    assert rows[0]["ResourceAttributes"]["deployment.environment"] == "prod"
