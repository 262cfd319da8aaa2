"""Run a framework app under arc-instrument with the test bundle; read its spans back from the collector."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

from tests.helpers.collector import CollectorProcess
from tests.helpers.procs import clean_env, run_json

APPS = Path(__file__).parent / "apps"


def run_framework_app(app: str, devllm, collector: CollectorProcess) -> tuple:
    """``(app output, service name)``: the app's spans carry that ``service.name``."""
    service = f"{app}-{uuid.uuid4().hex[:8]}"
    env = clean_env(DEVLLM_URL=devllm.base_url, ARC_ENDPOINT=collector.otlp_endpoint, OTEL_SERVICE_NAME=service,
                    ARC_PATTERNS=str(APPS / "frameworks.yaml"))
    return run_json([sys.executable, str(APPS / f"{app}.py")], env, timeout=180), service


def llm_spans(collector: CollectorProcess, service: str, expected: int) -> list:
    """The service's GenAI spans once ``expected`` arrived (waiting a little longer would show more)."""
    where = f"FROM otel_traces WHERE ServiceName = '{service}' AND SpanKind = 'Client'"
    collector.wait_for_count(f"SELECT count() {where}", expected, timeout=30)
    rows = collector.query(f"SELECT SpanName AS name, SpanId AS id, Duration AS duration, "
                           f"SpanAttributes AS attrs {where} ORDER BY Timestamp")
    return [{**row, "attrs": dict(row["attrs"])} for row in rows]


def sent_bodies(devllm, path: str, since: int) -> list:
    return [r["body"] for r in devllm.requests(path)[since:]]

