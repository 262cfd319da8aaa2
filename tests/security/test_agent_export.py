"""§3 of issue 12: one provider reply with a lone surrogate must not cost the other spans of its
batch, and no error line may print captured content. Real openai SDK over real HTTP, Arc under
``arc-instrument``, spans to a real OTLP/gRPC receiver."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers.collector import CollectorProcess
from tests.helpers.procs import clean_env, run

N = 41
APP = "tests/security/apps/surrogate_app.py"


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        bad = b" bad" in body
        # raw JSON escapes: a lone high surrogate in the id and in the reply text
        rid = "c1\\ud83d" if bad else f"c-{threading.get_ident() % 1000}"
        text = "reply \\ud83d CAPTURED-REPLY-TEXT" if bad else "fine"
        reply = {"id": "@ID@", "object": "chat.completion", "created": 1, "model": "gpt-4",
                 "choices": [{"index": 0, "message": {"role": "assistant", "content": "@TEXT@"},
                              "finish_reason": "stop"}],
                 "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        out = json.dumps(reply).replace("@ID@", rid).replace("@TEXT@", text).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


@pytest.fixture
def surrogate_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_lone_surrogate_in_a_reply_costs_no_span_and_prints_no_content(surrogate_server, tmp_path):
    """The issue's reproduction, end to end: 41 calls in one batch, one reply with ``"id":
    "c1\\ud83d"``, content capture on; every span lands in ClickHouse through ``arc collector``."""
    with CollectorProcess(tmp_path / "store") as col:
        env = clean_env(SURROGATE_URL=surrogate_server, ARC_ENDPOINT=col.otlp_endpoint,
                        OTEL_SERVICE_NAME="surrogate-app", OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true",
                        ARC_EXPORT_DELAY_MS="600000")  # every span in the one batch flushed at exit
        proc = run(["python", APP, str(N)], env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout.splitlines()[-1])["ids"][N // 2] == "c1\ud83d"  # the app saw it as sent
        where = "FROM otel_traces WHERE ServiceName = 'surrogate-app'"
        assert col.wait_for_count(f"SELECT count() {where}", N) == N
        rows = col.query(f"SELECT SpanAttributes['gen_ai.output.messages'] AS out {where} "
                         "AND SpanAttributes['gen_ai.response.id'] = 'c1\ufffd'")
    assert len(rows) == 1 and "reply \ufffd CAPTURED-REPLY-TEXT" in rows[0]["out"]
    assert "CAPTURED" not in proc.stderr and "\\ud83d" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_exporter_sends_every_other_span_of_a_batch_that_does_not_encode(receiver, caplog):
    """Spans that reach the exporter with text no encoder takes (an app's own SDK spans, a path
    without the attribute builders' repair) are sent repaired, one at a time if need be; the log
    line names no value."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from arc_agent.telemetry.endpoint import resolve
    from arc_agent.telemetry.export import ArcSpanExporter
    from arc_agent.telemetry.stats import TelemetryStats

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("t")
    for i in range(40):
        bad = i in (7, 23)
        with tracer.start_as_current_span(f"chat m{i}" + ("\udc80" if i == 23 else "")) as span:
            span.set_attribute("gen_ai.response.id", "c1\ud83d" if i == 7 else f"c{i}")
            span.set_attribute("gen_ai.input.messages", "SECRET-PROMPT \ud800" if bad else "SECRET-PROMPT")
            span.add_event("e", {"k": "v\udfff" if bad else "v"})
    stats = TelemetryStats()
    exporter = ArcSpanExporter(resolve(receiver.endpoint, environ={}), stats=stats)
    try:
        with caplog.at_level("ERROR", logger="arc"):
            assert exporter.export(memory.get_finished_spans()).name == "SUCCESS"
            assert exporter.export(memory.get_finished_spans()[7:8]).name == "SUCCESS"
    finally:
        exporter.shutdown()
    spans = receiver.wait_for(41)
    names = sorted(s.name for s in spans)
    assert "chat m23\ufffd" in names and len(set(names)) == 40  # repaired, and no other span lost
    # Arc's encoder raises on such text (the span is then repaired); the SDK's encoder drops the
    # attribute and logs the error: either way the span and every other one arrive
    assert {s.attributes.get("gen_ai.response.id") for s in spans if s.name == "chat m7"} <= {"c1\ufffd", None}
    assert stats.dropped_spans == 0 and stats.exported_spans == 41 and stats.repaired_spans >= 1
    assert len([r for r in caplog.records if r.name == "arc"]) == 1  # logged once
    assert "SECRET" not in caplog.text and "UnicodeEncodeError" in caplog.text
