"""An app's own TracerProvider is reused, and OTel's openai instrumentation never yields a 2nd span."""

import sys
from pathlib import Path

import pytest

from tests.helpers.procs import clean_env, run_json

APP = str(Path(__file__).parent / "apps" / "coexist_app.py")


@pytest.mark.parametrize("mode", ["launcher", "inprocess"])
@pytest.mark.parametrize("with_peer", ["0", "1"])
def test_one_span_per_call_in_the_apps_provider(devllm, receiver, mode, with_peer):
    if with_peer == "1":  # absent under OTel < 1.43 (the pinned peer set needs it): nox otel(oldest)
        pytest.importorskip("opentelemetry.instrumentation.openai_v2")
    env = clean_env(DEVLLM_URL=devllm.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
                    WITH_PEER=with_peer)
    spans = run_json([sys.executable, APP, mode], env, instrument=mode == "launcher")["result"]
    assert sorted(s["name"] for s in spans) == ["chat gpt-4", "embeddings text-embedding-3-small"]
    for s in spans:
        # Arc's attributes are on the one span, whoever created it
        assert s["attrs"]["arc.fix.applied"] is False
        assert "arc.interception.latency_us" in s["attrs"]
        if with_peer == "1":
            assert s["scope"].startswith("opentelemetry.")  # the peer's span, enriched by Arc
        else:
            assert s["scope"] == "arc_agent"
    assert receiver.spans == []  # nothing went around the app's own pipeline
