"""Web services as users run them, under ``arc-instrument`` with their own OpenTelemetry (issue 17 §2).

FastAPI with ``opentelemetry-instrumentation-fastapi`` and the app's SDK provider, served by
``uvicorn --workers 2`` (spawned workers) and ``gunicorn -k uvicorn_worker.UvicornWorker -w 2``
(forked workers); each request makes one real openai call to ``arc dev-llm``. The spans go through the
app's own pipeline to a real ``arc collector``; the server is stopped with SIGTERM right after the
last request. Every LLM span must arrive once, from the worker that served it, as the child of its
request's server span.
"""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers.collector import CollectorProcess
from tests.helpers.procs import ARC_INSTRUMENT, BIN, ROOT, clean_env
from tests.helpers.servers import get, server_command, wait_serving
from tests.telemetry.conftest import free_port

APPS = Path(__file__).parent / "apps"
APP_PATH = os.pathsep.join([str(APPS), str(ROOT / "tests" / "telemetry" / "apps")])


def serve(server: str, app: str, collector: CollectorProcess, devllm_url: str, **env) -> tuple:
    """Start ``server`` on ``app`` under arc-instrument; ``(process, base URL)`` once it serves."""
    port = free_port()
    name, *args = server_command(server, port, app)
    settings = clean_env(DEVLLM_URL=devllm_url, OTEL_EXPORTER_OTLP_ENDPOINT="http://" + collector.otlp_target,
                         PYTHONPATH=APP_PATH, **env)
    proc = subprocess.Popen([ARC_INSTRUMENT, str(BIN / name), *args], env=settings, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=str(ROOT))
    base = f"http://127.0.0.1:{port}"
    wait_serving(proc, base + "/call?model=warm-up")
    return proc, base


def call_every_worker(url: str, workers: int = 2, at_least: int = 10, limit: int = 80) -> list:
    """Concurrent rounds of requests until ``at_least`` were made and every worker answered one;
    returns the answering pids, one per request."""
    pids: list = []
    with ThreadPoolExecutor(4) as pool:
        while len(pids) < at_least or len(set(pids)) < workers:
            pids += pool.map(lambda _: get(url).strip('"'), range(4))  # FastAPI: a JSON string
            assert len(pids) <= limit, f"only workers {set(pids)} answered"
    return pids


def stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err and "arc: " not in err, err[-3000:]  # a clean stop: nothing failed or lost
    return err


def assert_llm_spans_under_server_spans(collector: CollectorProcess, model: str, pids: list) -> None:
    n = len(pids)
    llm = f"FROM otel_traces WHERE SpanName = 'chat {model}'"
    # the request's URL: old (http.url / http.target) or new (url.query) HTTP semantic conventions
    server = (f"FROM otel_traces WHERE SpanKind = 'Server' AND position(concat(SpanAttributes['http.url'], "
              f"SpanAttributes['http.target'], SpanAttributes['url.query']), '{model}') > 0")
    assert collector.wait_for_count(f"SELECT count() {llm}", n, timeout=30) == n
    assert collector.wait_for_count(f"SELECT count() {server}", n, timeout=30) == n
    assert collector.scalar(f"SELECT uniqExact(SpanId) {llm}") == n  # nothing exported twice
    by_pid = collector.query(f"SELECT ResourceAttributes['process.pid'] AS pid, count() AS n {llm} GROUP BY pid")
    assert {row["pid"]: int(row["n"]) for row in by_pid} == {p: pids.count(p) for p in set(pids)}
    parented = collector.scalar(
        f"SELECT count() FROM (SELECT TraceId, ParentSpanId {llm}) AS l "
        f"INNER JOIN (SELECT TraceId, SpanId {server}) AS s ON l.TraceId = s.TraceId AND l.ParentSpanId = s.SpanId")
    assert parented == n


@pytest.mark.parametrize("server", ["uvicorn-workers", "gunicorn-uvicorn"])
def test_fastapi_workers_report_each_llm_call_once_under_its_request(slow_devllm, collector, server):
    model = "web-" + uuid.uuid4().hex[:10]
    proc, base = serve(server, "fastapi_otel", collector, slow_devllm.base_url)
    try:
        pids = call_every_worker(f"{base}/call?model={model}")
    finally:
        stop(proc)
    assert_llm_spans_under_server_spans(collector, model, pids)
