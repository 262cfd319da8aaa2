"""Secrets never leave: an app under ``arc-instrument`` that hands Arc credentials everywhere an app
can (``apps/secrets_app.py``) leaves none of them in its output, Arc's logs (DEBUG), the WAL written
while the collector is down, the cassette (``ARC_CAPTURE``), the spans stored in ClickHouse (content
capture on), the collector's output or ``arc query``'s."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.helpers.collector import CollectorProcess, arc_command
from tests.helpers.ports import free_port
from tests.helpers.procs import clean_env, run

APP = str(Path(__file__).parent / "apps" / "secrets_app.py")
CANARY = "CANARY"
CALLS = 4  # spans per run of the app


def _leaks(where: str, text: str) -> list:
    return [f"{where}: ...{text[max(0, i - 60):i + 30]!r}..." for i in _find_all(text, CANARY)]


def _find_all(text: str, word: str):
    i = text.find(word)
    while i >= 0:
        yield i
        i = text.find(word, i + 1)


def _files(folder: Path) -> list:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_no_credential_reaches_any_output_file_span_or_row(devllm, tmp_path):
    wal, cassette = tmp_path / "spans.wal", tmp_path / "calls.jsonl"
    env = clean_env(DEVLLM_URL=devllm.base_url, OPENAI_API_KEY="sk-proj-CANARYenv000000011",
                    ARC_ENDPOINT=f"grpc://127.0.0.1:{free_port()}", ARC_EXPORT_TIMEOUT="0.3",
                    ARC_WAL_PATH=str(wal), ARC_CAPTURE=str(cassette), ARC_CAPTURE_RATE="1",
                    ARC_LOG_LEVEL="DEBUG", ARC_HOME=str(tmp_path / "home"),
                    OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true")
    leaks = []
    down = run(["python", APP], env, timeout=120)  # collector down: the spans wait in the WAL
    assert down.returncode == 0, down.stderr
    leaks += _leaks("app output (collector down)", down.stdout + down.stderr)
    assert wal.stat().st_size > 0
    for path in _files(tmp_path):
        leaks += _leaks(str(path), path.read_bytes().decode("latin-1"))
    with CollectorProcess(tmp_path / "store") as col:
        env["ARC_ENDPOINT"] = col.otlp_endpoint
        up = run(["python", APP], env, timeout=120)  # ships the WAL too
        assert up.returncode == 0, up.stderr
        leaks += _leaks("app output", up.stdout + up.stderr)
        assert col.wait_for_count("SELECT count() FROM otel_traces", 2 * CALLS) == 2 * CALLS
        rows = subprocess.run(arc_command("query", "--store", str(col.store), "SELECT * FROM otel_traces "
                                          "FORMAT JSONEachRow"), capture_output=True, text=True, timeout=60,
                              env={**os.environ, "ARC_QUERY_URL": col.query_url})
        assert rows.returncode == 0 and rows.stdout.count("\n") >= 2 * CALLS, rows.stderr
        assert "gen_ai.input.messages" in rows.stdout  # content capture was on: the rows are complete
        leaks += _leaks("otel_traces rows (arc query)", rows.stdout + rows.stderr)
    leaks += _leaks("collector output", "".join(col.output))
    for path in (cassette, wal):
        leaks += _leaks(str(path), path.read_bytes().decode("latin-1"))
    assert not leaks, "\n".join(leaks)
