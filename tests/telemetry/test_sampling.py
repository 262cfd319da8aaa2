"""Dynamic sampling: above ARC_SAMPLE_QPS only ARC_SAMPLE_RATE of ordinary spans are kept; errors and
fixed calls always are, and sampled-out calls are still fixed."""

import math

import pytest

from .conftest import free_port

RATE = 0.25


@pytest.mark.parametrize("fixer", ["fixer", "no-fixer"])
@pytest.mark.parametrize("scenario", ["sampling", "sampling_async"])
def test_sampling_keeps_errors_and_fixes_and_drops_the_rest_at_the_rate(run_app, receiver, devllm, scenario, fixer):
    """With no fixer active (no pattern loaded, the default), sampled-out calls take the call
    path's fast skip (no start(), no LLMCall): the same spans, counts and metrics must come out."""
    devllm.clear()
    result = run_app(scenario, 300, receiver.endpoint, ARC_SAMPLE_QPS="20", ARC_SAMPLE_RATE=str(RATE),
                     ARC_METRICS_PORT=str(free_port()), GUARD_FIXER="on" if fixer == "fixer" else "off")
    n = result["calls"]  # at least 300, and on until the sampler has seen 200 calls while active
    status = result["status"]
    sampled_out = status["telemetry"]["sampled_out"]
    sampler = status["guards"]["sampling"]
    assert sampler["activations"] >= 1 and sampled_out > 0

    expected = n - sampled_out
    spans = receiver.wait_for(expected)
    assert len(spans) == expected  # nothing beyond what the sampler kept
    by_name: dict = {}
    for s in spans:
        by_name.setdefault(s.name, []).append(s)
    assert len(by_name["chat fail-500"]) == result["errors"]  # every error span kept
    assert all(s.status_code == 2 for s in by_name["chat fail-500"])
    # a sampled-out call that fails still gets the whole request description (built when it failed)
    port = int(devllm.base_url.rsplit(":", 1)[1])
    assert all(s.attributes["gen_ai.request.model"] == "fail-500" and s.attributes["server.port"] == port
               and s.attributes["arc.fix.applied"] is False and s.attributes["error.type"]
               for s in by_name["chat fail-500"])
    sent = [r["body"] for r in devllm.requests("/v1/chat/completions") if r["body"].get("model") == "fixme"]
    if fixer == "fixer":
        assert len(by_name["chat fixme"]) == result["fixed"]  # every fixed span kept
        assert all(s.attributes["arc.fix.applied"] is True for s in by_name["chat fixme"])
        assert len(by_name["chat plain"]) == result["plain"] - sampled_out
        # sampled-out or not, every call went through the fixer and every 'fixme' call was sent fixed
        assert result["fixer_calls"] == n
        assert len(sent) == result["fixed"] and all(b["temperature"] == 0.123 for b in sent)
    else:  # 'fixme' calls are ordinary ones: sampled like 'plain', sent unchanged
        ordinary = len(by_name.get("chat plain", ())) + len(by_name.get("chat fixme", ()))
        assert ordinary == result["plain"] + result["fixed"] - sampled_out
        assert all(s.attributes["arc.fix.applied"] is False for s in spans)
        assert result["fixer_calls"] == 0
        assert len(sent) == result["fixed"] and not any("temperature" in b for b in sent)

    # while active, the share kept is the configured rate (binomial, 5 sigma)
    considered, kept = sampler["considered"], sampler["kept"]
    assert considered >= 200, (considered, n)
    sigma = math.sqrt(considered * RATE * (1 - RATE))
    assert abs(kept - considered * RATE) <= 5 * sigma, (kept, considered)

    # the metrics counters count every call, sampled out (no LLMCall on that path) or not
    assert result["requests"] == {"openai/chat": n} and result["latency_count"] == n


def test_no_sampling_by_default(run_app, receiver):
    result = run_app("sampling", 60, receiver.endpoint)
    assert len(receiver.wait_for(60)) == 60
    assert result["status"]["telemetry"]["sampled_out"] == 0
    assert result["status"]["guards"]["sampling"] == {"enabled": False}


def test_shedding_in_front_of_the_apps_provider_keeps_errors(devllm):
    import sys
    from pathlib import Path

    from tests.helpers.procs import clean_env, run_json

    app = str(Path(__file__).parent / "apps" / "shed_app.py")
    out = run_json([sys.executable, app], clean_env(DEVLLM_URL=devllm.base_url, ARC_SAMPLE_QPS="1",
                                                    ARC_SAMPLE_RATE="0"), timeout=90)
    spans = out["spans"]
    root = [s for s in spans if s["name"] == "app-root"]
    calls = [s for s in spans if s["scope"] == "arc_agent"]
    assert len(root) == 1 and len(calls) == 10  # only the failed calls, in and out of the app's span
    assert all(s["name"] == "chat fail-500" and s["status"] == "ERROR" for s in calls)
    assert sum(s["parent"] == root[0]["id"] for s in calls) == 5
