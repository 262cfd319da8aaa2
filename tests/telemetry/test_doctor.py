"""``arc doctor``: libraries, settings (bad and unknown flagged, secrets hidden), collector and store."""

import subprocess
import sys
from importlib.metadata import version

from tests.helpers.otlp import OTLPReceiver
from tests.helpers.procs import ROOT, clean_env

from .conftest import free_port

ARC = [sys.executable, "-m", "arc_agent.cli"]


def doctor(args: list, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([*ARC, "doctor", *args], env=env, capture_output=True, text=True, timeout=60,
                          cwd=str(ROOT))


def test_doctor_reports_environment_and_flags_problems(tmp_path):
    secret = "sk-doctor-SECRET-42"
    env = clean_env(ARC_SAMPLE_RATE="2", ARC_BREAKER_MS="10", ARC_SAMPL_QPS="5", ARC_API_KEY=secret,
                    OTEL_EXPORTER_OTLP_HEADERS=f"authorization=Bearer {secret}",
                    OTEL_EXPORTER_OTLP_ENDPOINT=f"grpc://127.0.0.1:{free_port()}",
                    ARC_QUERY_URL=f"http://127.0.0.1:{free_port()}", ARC_DISABLED_INSTRUMENTATIONS="anthropic")
    out = doctor([], env)
    text = out.stdout
    assert out.returncode == 1, text
    assert secret not in text + out.stderr
    assert f"ok   openai      {version('openai')}" in text
    assert "disabled by ARC_DISABLED_INSTRUMENTATIONS" in text
    assert "BAD  ARC_SAMPLE_RATE='2' is outside [0, 1]; the default (0.1) is used" in text
    assert "ok   ARC_BREAKER_MS='10'" in text
    assert "warn ARC_SAMPL_QPS is not a setting Arc knows (typo?)" in text
    assert "ARC_API_KEY=(set, hidden)" in text
    assert "UNREACHABLE" in text and "header(s), values hidden" in text
    assert "BAD  collector query endpoint http://127.0.0.1:" in text and "Connection refused" in text


def test_doctor_all_good_with_a_live_collector(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    with OTLPReceiver() as rec:
        out = doctor([], clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=rec.endpoint, ARC_STORE=str(store)))
    assert "reachable, accepts OTLP exports" in out.stdout
    assert f"chDB store {store} exists" in out.stdout
    assert out.returncode == 0 and out.stdout.rstrip().endswith("All good."), out.stdout
    assert rec.spans == []  # the probe export carries no span


def test_doctor_off_switch_and_unreachable_agent():
    port = free_port()
    out = doctor([], clean_env(ARC_DISABLE="1", ARC_METRICS_PORT=str(port)))
    assert "Arc is OFF (ARC_DISABLE='1')" in out.stdout
    assert f"Running agent (http://127.0.0.1:{port}/arc/runtime/status)" in out.stdout
    assert "no answer: unreachable" in out.stdout


def test_doctor_says_where_spans_go_under_otel_traces_exporter():
    """With OTEL_TRACES_EXPORTER=none/console (or the SDK off) Arc sends nothing to the collector, so
    doctor says so instead of warning that none runs; an unknown exporter name is a warning."""
    unreachable = f"grpc://127.0.0.1:{free_port()}"
    for env, said in (({"OTEL_TRACES_EXPORTER": "none"}, "OTEL_TRACES_EXPORTER=none: Arc's own spans are not"),
                      ({"OTEL_TRACES_EXPORTER": "console"}, "OTEL_TRACES_EXPORTER=console: Arc's own spans are not"),
                      ({"OTEL_SDK_DISABLED": "true"}, "OTEL_SDK_DISABLED=true: Arc's own spans are not")):
        out = doctor([], clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=unreachable, **env))
        assert said in out.stdout and "UNREACHABLE" not in out.stdout, out.stdout
    out = doctor([], clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=unreachable, OTEL_TRACES_EXPORTER="bogus"))
    assert "warn OTEL_TRACES_EXPORTER: unknown exporter 'bogus'" in out.stdout and "UNREACHABLE" in out.stdout
