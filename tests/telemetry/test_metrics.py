"""The metrics endpoint and status page of a running app agree with what the app did; doctor reads them."""

import json
import urllib.error
import urllib.request
from importlib.metadata import version

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.procs import clean_env

from .conftest import free_port
from .test_doctor import doctor


def scrape(url: str) -> dict:
    """{(sample name, frozenset(labels)): value} of a Prometheus text page."""
    with urllib.request.urlopen(url, timeout=5) as resp:
        text = resp.read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as resp:
        assert resp.headers["Content-Type"] == "application/json"
        return json.loads(resp.read())


def test_metrics_and_status_match_what_happened(interactive, receiver):
    port = free_port()
    app = interactive("metrics", 5, receiver.endpoint, ARC_METRICS_PORT=str(port))
    app.read_until("WAITING")
    base = f"http://127.0.0.1:{port}"
    try:
        m = scrape(base + "/arc/runtime/metrics")
        assert set(scrape(base + "/metrics")) == set(m)

        def v(name, **labels):
            return m[(name, frozenset(labels.items()))]

        assert v("arc_requests_intercepted_total", provider="openai", operation="chat") == 10
        assert v("arc_requests_intercepted_total", provider="openai", operation="embeddings") == 1
        assert v("arc_requests_intercepted_total", provider="anthropic", operation="chat") == 1
        assert v("arc_request_errors_total", provider="openai", operation="chat",
                 error_type="InternalServerError") == 2
        assert v("arc_fixes_applied_total", pattern_id="test-fix") == 3
        assert v("arc_interception_latency_seconds_count") == 12
        assert v("arc_interception_latency_seconds_bucket", le="+Inf") == 12
        assert v("arc_interception_latency_seconds_sum") > 0
        assert v("arc_telemetry_exported_spans_total") == 12  # flushed before the scrape
        assert v("arc_telemetry_dropped_total") == 0
        assert v("arc_telemetry_buffered_spans") == 0
        assert v("arc_telemetry_queue_depth") == 0
        assert v("arc_circuit_open") == 0
        assert v("arc_last_flush_timestamp_seconds") > 1.6e9
        assert ("arc_pattern_cache_hit_ratio", frozenset()) in m
        assert ("arc_bloom_false_positive_ratio", frozenset()) in m

        status = get_json(base + "/arc/runtime/status")
        assert status["version"]
        assert status["integrations"]["openai"] == {"patched": True, "version": version("openai"), "skipped": None}
        assert status["integrations"]["anthropic"]["version"] == version("anthropic")
        assert status["telemetry"]["endpoint"] == receiver.endpoint
        assert status["telemetry"]["sampler"].startswith("ArcSampler{ParentBased{root:AlwaysOnSampler")
        assert status["telemetry"]["export_state"] == "ok" and status["telemetry"]["buffered_spans"] == 0
        assert status["breaker_open"] is False and status["guards"]["breaker"]["opens"] == 0

        with pytest.raises(urllib.error.HTTPError) as nope:
            urllib.request.urlopen(base + "/nope", timeout=5)
        assert nope.value.code == 404

        out = doctor(["--url", base], clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint))
        assert f"Running agent ({base}/arc/runtime/status)" in out.stdout
        assert f"pid {status['pid']}" in out.stdout
        assert f"openai {version('openai')}" in out.stdout
        assert "circuit breaker closed" in out.stdout and "exported 12" in out.stdout
        as_json = doctor(["--url", base + "/metrics", "--json"], clean_env())
        assert json.loads(as_json.stdout)["pid"] == status["pid"]
    finally:
        app.proceed()
    app.finish()
    assert len(receiver.wait_for(12)) == 12


def test_metrics_port_in_use_is_reported_and_the_app_runs(run_app_proc, receiver):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result, err = run_app_proc("numbered", 3, receiver.endpoint, ARC_METRICS_PORT=str(port))
    assert f"cannot serve metrics on 127.0.0.1:{port} (ARC_METRICS_PORT)" in err
    assert result["status"]["guards"]["metrics_url"] is None
    assert len(receiver.wait_for(3)) == 3


def test_bad_guard_settings_are_named_and_defaults_used(run_app_proc, receiver):
    result, err = run_app_proc("numbered", 3, receiver.endpoint, ARC_BREAKER_MS="fast", ARC_SAMPLE_QPS="-5",
                               ARC_SAMPLE_RATE="1.5", ARC_METRICS_PORT="70000", ARC_QUEUE_SIZE="-1")
    assert "ARC_BREAKER_MS='fast' is not a number; using the default (50.0)" in err
    assert "ARC_SAMPLE_QPS='-5' is outside" in err
    assert "ARC_METRICS_PORT='70000' is outside [0, 65535]" in err
    assert "ARC_QUEUE_SIZE='-1' is outside" in err
    assert "ARC_SAMPLE_RATE" not in err  # not read: sampling is off (QPS fell back to 0)
    assert result["status"]["guards"]["breaker"]["max_ms"] == 50.0
    assert len(receiver.wait_for(3)) == 3  # and the app ran, spans and all



def test_doctor_names_no_otlp_exporter_under_otel_traces_exporter_console(interactive, receiver):
    """A running agent with OTEL_TRACES_EXPORTER=console has no OTLP exporter: doctor says so (it
    printed 'exporter None')."""
    port = free_port()
    app = interactive("metrics", 1, receiver.endpoint, ARC_METRICS_PORT=str(port), OTEL_TRACES_EXPORTER="console")
    app.read_until("WAITING")
    try:
        out = doctor(["--url", f"http://127.0.0.1:{port}"], clean_env())
        assert "exporter none of Arc's over OTLP (OTEL_TRACES_EXPORTER)" in out.stdout, out.stdout
        assert "exporter None" not in out.stdout
    finally:
        app.proceed()
    app.finish()
    assert receiver.spans == []
