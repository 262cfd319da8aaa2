"""``opentelemetry-instrument`` runs Arc through its ``opentelemetry_instrumentor`` entry point (issue 17 §3).

Real launchers in real processes: OTel's alone (Arc is not on PYTHONPATH, only its entry point is
installed), and both launchers nested either way. The app (``apps/coexist_app.py``) sets up its own
SDK ``TracerProvider``; OTel's openai-v2 instrumentor is loaded by the launcher next to Arc's. Every
call must give exactly one span, carrying Arc's ``arc.*`` attributes and its fix.
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.procs import ARC_INSTRUMENT, BIN, ROOT, clean_env, run_json

APP = str(Path(__file__).parent / "apps" / "coexist_app.py")
OTEL_INSTRUMENT = str(BIN / "opentelemetry-instrument")
pytestmark = pytest.mark.skipif(not Path(OTEL_INSTRUMENT).exists(),
                                reason="opentelemetry-instrumentation (.ci/requirements-peers.txt) not installed")
HAS_PEER = importlib.util.find_spec("opentelemetry.instrumentation.openai_v2") is not None
LAUNCHERS = {
    "otel": [OTEL_INSTRUMENT],
    "arc-then-otel": [ARC_INSTRUMENT, OTEL_INSTRUMENT],
    "otel-then-arc": [OTEL_INSTRUMENT, ARC_INSTRUMENT],
}


def launch(launchers: list, env: dict) -> list:
    """The app under these launchers, in this order; the spans its own provider saw."""
    return run_json([*launchers, sys.executable, APP, "launcher"], env, instrument=False)["result"]


@pytest.mark.parametrize("launchers, peer", [("otel", True), ("otel", False), ("arc-then-otel", True),
                                             ("otel-then-arc", True)])
def test_one_span_per_call_with_arcs_fix_and_attributes(devllm, receiver, launchers, peer):
    if peer and not HAS_PEER:
        pytest.skip("opentelemetry-instrumentation-openai-v2 not installed")
    env = clean_env(DEVLLM_URL=devllm.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, WITH_PEER="0",
                    ARC_PATTERNS="demo", TEMPERATURE="0.95", MODEL="gpt-4",
                    OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="" if peer else "openai")
    before = len(devllm.requests("/v1/chat/completions"))
    spans = launch(LAUNCHERS[launchers], env)
    assert sorted(s["name"] for s in spans) == ["chat gpt-4", "embeddings text-embedding-3-small"]
    for s in spans:
        assert "arc.interception.latency_us" in s["attrs"] and "arc.outcome" in s["attrs"], s
        assert s["scope"].startswith("opentelemetry.") if peer else s["scope"] == "arc_agent"
    (chat,) = [s for s in spans if s["name"] == "chat gpt-4"]
    assert chat["attrs"]["arc.fix.applied"] is True
    sent = [r["body"] for r in devllm.requests("/v1/chat/completions")[before:]]
    assert [b["temperature"] for b in sent] == [0.7]  # fixed before it left the process
    assert receiver.spans == []  # Arc used the app's provider, nothing went around it


def test_arc_can_be_disabled_the_otel_way(devllm, receiver):
    env = clean_env(DEVLLM_URL=devllm.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, WITH_PEER="0",
                    ARC_PATTERNS="demo", TEMPERATURE="0.95", OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="arc")
    spans = launch(LAUNCHERS["otel"], env)
    assert sorted(s["name"] for s in spans) == ["chat gpt-4", "embeddings text-embedding-3-small"]
    assert not any(k.startswith("arc.") for s in spans for k in s["attrs"])  # the peer's spans only


def test_uninstrument_removes_arcs_patches():
    code = ("import json, openai; from openai.resources.chat.completions import Completions;"
            "from arc_agent.otel_instrumentor import ArcInstrumentor as I;"
            "flag = lambda: bool(getattr(Completions.create, '_self_arc_patched', False));"
            "i = I(); i.instrument(); on = flag(); i.uninstrument();"
            "print(json.dumps([on, flag(), list(i.instrumentation_dependencies())]))")
    out = subprocess.run([sys.executable, "-c", code], env=clean_env(), capture_output=True, text=True, timeout=60,
                         cwd=str(ROOT))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]) == [True, False, []]
