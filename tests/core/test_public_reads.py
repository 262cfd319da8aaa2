"""Private reads of dependencies only behind a tested version gate, with a tested public fallback
(``fastpaths``): OTel's suppress-instrumentation switch, Anthropic's MessageStream events, and
``server.address`` (real SDKs, real HTTP, real gRPC)."""

import sys
from pathlib import Path

from tests.helpers.procs import clean_env, run_json

APP = str(Path(__file__).parent / "apps" / "compat_app.py")


def run(devllm, receiver, scenario: str, instrument: bool = True, **env) -> dict:
    e = clean_env(DEVLLM_URL=devllm.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
                  ARC_EXPORT_DELAY_MS="50", **env)
    return run_json([sys.executable, APP, scenario], e, instrument=instrument)


def models(receiver, n: int) -> list:
    return sorted(s.attributes["gen_ai.request.model"] for s in receiver.wait_for(n))


def test_suppression_through_opentelemetry_instrumentation(devllm, receiver):
    out = run(devllm, receiver, "suppress")
    assert out["how"] == "opentelemetry-instrumentation" and out["fallbacks"] == {}
    assert models(receiver, 1) == ["normal"]


def test_suppression_by_the_gated_api_key_without_the_instrumentation_package(devllm, receiver):
    out = run(devllm, receiver, "suppress", COMPAT_HIDE_OTEL_INSTRUMENTATION="1")
    assert out["how"] == "private key (gated)" and out["fallbacks"] == {}
    assert models(receiver, 1) == ["normal"]


def test_suppression_public_fallback_when_private_reads_are_off(devllm, receiver):
    out = run(devllm, receiver, "suppress", COMPAT_HIDE_OTEL_INSTRUMENTATION="1", ARC_PRIVATE_READS="0")
    assert out["how"] == "plain key" and out["fallbacks"] == {"otel.suppress_key:setting": 1}
    assert models(receiver, 2) == ["api-key", "normal"]  # the SDK-only key is not seen: the documented cost
    assert "fast path otel.suppress_key is off (switched off by the user: ARC_PRIVATE_READS=0" in out["_stderr"]


def test_server_address_from_public_client_constructor_then_gated_private_read(devllm, receiver):
    out = run(devllm, receiver, "server_early", instrument=False)
    spans = {s.attributes["gen_ai.request.model"]: s.attributes for s in receiver.wait_for(2)}
    for model in ("late", "early"):  # late: the constructor's client; early: _client on a tested openai
        assert spans[model]["server.address"] == "127.0.0.1" and spans[model]["server.port"] == devllm.port
    assert out["fallbacks"] == {}


def test_server_address_public_fallback_when_private_reads_are_off(devllm, receiver):
    out = run(devllm, receiver, "server_early", instrument=False, ARC_PRIVATE_READS="0")
    spans = {s.attributes["gen_ai.request.model"]: s.attributes for s in receiver.wait_for(2)}
    assert spans["late"]["server.address"] == "127.0.0.1" and spans["late"]["server.port"] == devllm.port
    assert "server.address" not in spans["early"] and "server.port" not in spans["early"]
    assert out["fallbacks"] == {"llm.server_address:setting": 1}
    assert "fast path llm.server_address is off (switched off by the user: ARC_PRIVATE_READS=0; a resource " \
           "built before Arc patched its class" in out["_stderr"]


def test_anthropic_message_stream_public_snapshot_fallback(run_app, receiver):
    bare = run_app("anthropic_sync", instrument=False)
    out = run_app("anthropic_sync", ARC_PRIVATE_READS="0")
    assert out["result"] == bare["result"]
    spans = receiver.wait_for(4)
    assert len(spans) == 4
    for s in spans:  # the messages.stream span too, from current_message_snapshot at the manager's exit
        a = s.attributes
        assert a["gen_ai.response.id"] and a["gen_ai.response.finish_reasons"] == ("end_turn",)
        assert a["gen_ai.usage.input_tokens"] > 0 and a["gen_ai.usage.output_tokens"] > 0
        assert a["arc.outcome"] == "ok"
    ttfc = sorted("gen_ai.response.time_to_first_chunk" in s.attributes
                  for s in spans if s.attributes["gen_ai.request.stream"])
    assert ttfc == [False, True, True]  # create(stream=True), raw or not, is observed publicly; messages.stream is not
    assert "fast path anthropic.raw_stream is off (switched off by the user: ARC_PRIVATE_READS=0" in out["_stderr"]
