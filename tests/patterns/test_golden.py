"""The shipped golden cases: engine level, and end to end through the real OpenAI/Anthropic SDKs
(patched by ``Arc`` in a child process running ``arc golden --e2e``) against ``arc dev-llm``,
checking what the server received and the spans the agent exported."""

import json
import subprocess
import sys

import pytest

from arc_agent.llm.request import from_anthropic_messages
from arc_agent.patterns import golden
from tests.helpers.otlp import OTLPReceiver
from tests.helpers.procs import ROOT, clean_env

CASES = golden.load_cases()


def test_request_view_sees_extra_body_sampling_params():
    # anthropic 2.x takes temperature only via extra_body; patterns must still match it
    view = from_anthropic_messages({"model": "m", "max_tokens": 1, "messages": [],
                                    "extra_body": {"temperature": 1.0}, "top_k": golden_not_given()})
    assert view.params["temperature"] == 1.0 and "top_k" not in view.params


def golden_not_given():
    from anthropic import NOT_GIVEN

    return NOT_GIVEN


def test_cases_cover_what_the_issue_asks():
    names = {c["name"] for c in CASES}
    assert len(CASES) >= 8
    assert {c["sdk"].split(".")[0] for c in CASES} == {"openai", "anthropic"}
    assert {"demo-gpt4-temperature", "below-threshold-passthrough", "expired-pattern",
            "fuzzy-prompt-suffix", "anthropic-clamp-max-tokens-and-system"} <= names


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_engine_level(case):
    result = golden.run_engine_case(case)
    assert result.ok, result.problems


def test_end_to_end_through_the_sdks_and_dev_llm():
    with OTLPReceiver() as receiver:
        env = clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, ARC_EXPORT_DELAY_MS="50",
                        OTEL_SERVICE_NAME="golden")
        proc = subprocess.run([sys.executable, "-m", "arc_agent.cli", "golden", "--e2e", "--json"], env=env,
                              capture_output=True, text=True, timeout=120, cwd=str(ROOT))
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        e2e = {r["name"]: r for r in report["results"] if r["mode"] == "e2e"}
        assert set(e2e) == {c["name"] for c in CASES}
        for name, r in e2e.items():
            assert r["ok"], (name, r["problems"], proc.stderr)
        spans = receiver.wait_for(len(CASES), timeout=30)
    by_model = {s.attributes.get("gen_ai.request.model"): s.attributes for s in spans}
    for case in CASES:
        attrs = by_model[golden.expected_kwargs(case)["model"]]
        assert golden.check_attributes(case, attrs) == [], (case["name"], attrs)
        if case["expect"].get("applied"):
            assert json.loads(attrs["arc.fix.changes"])
            assert attrs["arc.patterns.bundle_version"] in ("arc-demo@1,golden@1", "golden@1,arc-demo@1")
