"""One store filled once per module: LLM spans from a real app under ``arc-instrument`` (real SDKs,
``arc dev-llm``, the demo pattern bundle) and UI-action spans sent over OTLP, in a running collector."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from opentelemetry.trace import SpanKind

from arc_agent.devllm import DevLLMServer
from arc_agent.vision import attributes as ui
from tests.helpers.collector import CollectorProcess, sdk_tracer_provider
from tests.helpers.procs import clean_env, run

APP = str(Path(__file__).parent / "apps" / "llm_app.py")
LLM_CALLS = 13
# (selector, healed, strategy, tools, success, confidence before, after, policy version or None)
UI_ACTIONS = [
    ("#buy", True, "wait", ["wait"], True, 0.4, 0.9, "policy-v2"),
    ("#buy", True, "wait", ["wait"], True, 0.5, 0.8, "policy-v2"),
    ("#old-id", True, "fingerprint", [], True, 0.3, 0.3, None),
    ("#menu", False, "", ["zoom"], True, 0.6, 0.5, "policy-v1"),
    ("#menu", False, "", ["zoom", "inspect"], False, 0.6, 0.4, None),
    ("#ok", False, "", [], True, 0.95, 0.95, None),
    ("#covered", True, "scroll", ["wait"], True, 0.2, 0.7, "policy-v2"),
]


def _send_ui_spans(endpoint: str) -> None:
    provider = sdk_tracer_provider(endpoint, service="report-ui")
    tracer = provider.get_tracer("arc.vision")
    for selector, healed, strategy, tools, success, before, after, policy in UI_ACTIONS:
        attrs = {ui.FRAMEWORK: "playwright", ui.ACTION: "click", ui.SELECTOR: selector, ui.URL: "http://shop.test/",
                 ui.SUCCESS: success, ui.HEALED: healed, ui.CONFIDENCE_BEFORE: before, ui.CONFIDENCE_AFTER: after,
                 ui.PRIVACY_TIER: "local_inference"}
        if tools:
            attrs[ui.TOOLS] = tools
        if healed:
            attrs.update({ui.HEAL_STRATEGY: strategy, ui.HEAL_SCORE: 0.8})
            if strategy == "fingerprint":
                attrs[ui.HEALED_SELECTOR] = "#new-id"
        if policy:
            attrs[ui.POLICY_VERSION] = policy
        tracer.start_span("ui.click", kind=SpanKind.INTERNAL, attributes=attrs).end()
    provider.shutdown()


@pytest.fixture(scope="package")
def filled(tmp_path_factory):
    """A running collector whose store holds the spans above."""
    store = tmp_path_factory.mktemp("report") / "store"
    with DevLLMServer(port=0) as llm, CollectorProcess(store) as col:
        out = run([sys.executable, APP], clean_env(DEVLLM_URL=llm.base_url, ARC_PATTERNS="demo",
                                                   OTEL_EXPORTER_OTLP_ENDPOINT=col.otlp_endpoint,
                                                   OTEL_SERVICE_NAME="report-app"))
        assert out.returncode == 0, out.stderr
        _send_ui_spans(col.otlp_target)
        assert col.wait_for_count("SELECT count() FROM arc_llm_calls", LLM_CALLS) == LLM_CALLS
        assert col.wait_for_count("SELECT count() FROM arc_ui_actions", len(UI_ACTIONS)) == len(UI_ACTIONS)
        yield col
