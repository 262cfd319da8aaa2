"""No loss across collector outages: memory backlog, disk WAL across runs, counted overflow."""

import os
import sqlite3
import stat

from tests.helpers.otlp import OTLPReceiver

from .conftest import free_port

SECRET = "sk-test-SECRET-do-not-leak-123"  # the app's OpenAI key (apps/guard_app.py)
API_KEY = "arc-key-SECRET-abc987"


def names(spans) -> list:
    return [s.name for s in spans]


def test_outage_then_recovery_delivers_every_span_in_order(interactive):
    port = free_port()
    n = 30
    app = interactive("outage", n, f"grpc://127.0.0.1:{port}")
    app.read_until("WAITING")
    with OTLPReceiver(port=port) as rec:
        app.proceed()
        result, err = app.finish()
        spans = rec.wait_for(2 * n)
    assert names(spans) == [f"chat m-{i}" for i in range(2 * n)]  # all, once, in call order
    assert len({s.span_id for s in spans}) == 2 * n
    telemetry = result["status"]["telemetry"]
    assert telemetry["dropped_spans"] == 0 and telemetry["buffered_spans"] == 0
    assert err.count("unreachable") == 1 and "reachable again" in err


def _wal_rows(path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COALESCE(SUM(spans), 0) FROM batches").fetchone()[0]


def test_wal_keeps_spans_across_runs_and_a_later_run_resends_them(run_app, tmp_path):
    wal = tmp_path / "spans.db"
    dead = f"grpc://127.0.0.1:{free_port()}"
    result = run_app("numbered", 20, dead, ARC_WAL_PATH=str(wal), ARC_API_KEY=API_KEY)
    assert result["status"]["telemetry"]["buffered_spans"] == 20
    files = [p for p in tmp_path.iterdir() if p.name.startswith("spans.db")]
    for path in files:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    raw = b"".join(p.read_bytes() for p in files)
    assert b"chat m-19" in raw  # the spans are really in there...
    assert SECRET.encode() not in raw and API_KEY.encode() not in raw  # ...and no key is
    assert _wal_rows(wal) == 20

    with OTLPReceiver() as rec:
        result = run_app("numbered", 5, rec.endpoint, ARC_WAL_PATH=str(wal))
        spans = rec.wait_for(25)
    first = {}  # span id -> name, in order of first arrival (OTLP is at-least-once)
    for s in spans:
        first.setdefault(s.span_id, s.name)
    assert list(first.values()) == [f"chat m-{i}" for i in range(20)] + [f"chat m-{i}" for i in range(5)]
    # normally empty; a batch the collector took but whose answer missed the deadline may stay for a
    # resend (a duplicate OTLP allows), but never one that did not arrive
    assert _wal_span_ids(wal) <= set(first)
    assert result["status"]["telemetry"]["dropped_spans"] == 0


def _wal_span_ids(path) -> set:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    with sqlite3.connect(path) as db:
        payloads = [row[0] for row in db.execute("SELECT payload FROM batches")]
    ids = set()
    for payload in payloads:
        req = ExportTraceServiceRequest.FromString(payload)
        ids.update(s.span_id.hex() for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans)
    return ids


def test_memory_buffer_overflow_is_counted_and_logged(run_app_proc):
    dead = f"grpc://127.0.0.1:{free_port()}"
    result, err = run_app_proc("numbered", 40, dead, ARC_BUFFER_MAX_BYTES="3000", ARC_EXPORT_DELAY_MS="1")
    telemetry = result["status"]["telemetry"]
    assert telemetry["dropped_spans"] > 0
    assert telemetry["buffered_spans"] + telemetry["dropped_spans"] == 40  # every span accounted for
    assert err.count("span buffer full") == 1 and "ARC_BUFFER_MAX_BYTES" in err
