"""Nothing acknowledged is lost: spans the store refuses are re-inserted in pieces or dead-lettered.

Real collector processes on real chDB stores. A store is made to refuse with a table constraint
added before the collector opens it (the DDL is ``CREATE ... IF NOT EXISTS``, so it stays).
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys

import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from tests.helpers.collector import CollectorProcess, raw_export, status, wait_until

DAY_NS = 86_400 * 10**9
BASE_NS = 1_700_000_000 * 10**9


def request(names: list, days_apart: int = 0) -> ExportTraceServiceRequest:
    """One span per name; span i starts ``i * days_apart`` days after the first."""
    spans = [Span(trace_id=os.urandom(16), span_id=os.urandom(8), name=name,
                  start_time_unix_nano=BASE_NS + i * days_apart * DAY_NS,
                  end_time_unix_nano=BASE_NS + i * days_apart * DAY_NS + 1000)
             for i, name in enumerate(names)]
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])])


def alter_store(store, sql: str) -> None:
    """Create the store's schema (if needed) and run ``sql`` on it, in a process of its own."""
    code = ("import sys; from arc_agent.collector.store import ChdbStore\n"
            "s = ChdbStore(sys.argv[1]); s._connections[0].query(sys.argv[2]); s.close()")
    out = subprocess.run([sys.executable, "-c", code, str(store), sql], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


def dead_letters(store) -> list:
    path = store / "arc_dead_letter" / "dead_letter.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_request_over_more_than_100_days_and_its_batch_neighbour_are_all_stored(tmp_path):
    # one request with start times spread over 150 days (150 partitions: ClickHouse refuses the insert,
    # chDB's streaming insert without an error) and a normal span in the same batching window
    with CollectorProcess(tmp_path / "store", args=("--linger-ms", "2000")) as col:
        wide = request(["wide"] * 150, days_apart=1)
        assert raw_export(col.otlp_target, wide.SerializeToString())[0] == grpc.StatusCode.OK
        assert raw_export(col.otlp_target, request(["normal"]).SerializeToString())[0] == grpc.StatusCode.OK
        assert col.wait_for_count("SELECT count() FROM otel_traces", 151, timeout=60) == 151
        assert col.scalar("SELECT uniqExact(toDate(Timestamp)) FROM otel_traces WHERE SpanName = 'wide'") == 150
        assert col.scalar("SELECT count() FROM otel_traces WHERE SpanName = 'normal'") == 1
        counters = status(col)
        assert counters["insert_failures"] >= 1  # the refusal was seen, not taken for a success
        assert counters["salvaged_spans"] == 151 and counters["dead_lettered_spans"] == 0
        assert wait_until(lambda: status(col)["log_segments"] == 0)
    assert "0 spans dead-lettered" in "".join(col.output)


def test_spans_the_store_refuses_alone_go_to_the_dead_letter_file(tmp_path):
    store = tmp_path / "store"
    alter_store(store, "ALTER TABLE otel_traces ADD CONSTRAINT no_poison CHECK SpanName != 'poison'")
    col = CollectorProcess(store, args=("--linger-ms", "100")).start()
    try:
        # alone, a refused request proves nothing (the store may be down): it waits in the span log...
        poison_only = request(["poison", "poison"])
        assert raw_export(col.otlp_target, poison_only.SerializeToString())[0] == grpc.StatusCode.OK
        assert wait_until(lambda: status(col)["deferred_batches"] == 1)
        # ...until the store is seen taking other rows; a mixed request is narrowed down span by span
        mixed = request(["good", "poison", "good", "good", "poison", "good"])
        assert raw_export(col.otlp_target, mixed.SerializeToString())[0] == grpc.StatusCode.OK
        assert wait_until(lambda: status(col)["dead_lettered_spans"] == 4, timeout=60)
        assert col.scalar("SELECT count() FROM otel_traces WHERE SpanName = 'good'") == 4
        assert wait_until(lambda: status(col)["log_segments"] == 0 and status(col)["queued_spans"] == 0)
    finally:
        assert col.terminate() == 0
    output = "".join(col.output)
    assert "4 spans dead-lettered" in output and "refused 1 spans even alone" in output
    folder = store / "arc_dead_letter"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "dead_letter.jsonl").stat().st_mode) == 0o600
    kept = {span.span_id for record in dead_letters(store)
            for rs in ExportTraceServiceRequest.FromString(base64.b64decode(record["otlp"])).resource_spans
            for ss in rs.scope_spans for span in ss.spans}
    sent = [s for r in (poison_only, mixed) for s in r.resource_spans[0].scope_spans[0].spans if s.name == "poison"]
    assert kept == {s.span_id for s in sent}
    assert all("no_poison" in record["reason"] or "refused" in record["reason"] for record in dead_letters(store))


def test_a_store_that_refuses_everything_keeps_the_spans_in_the_log_for_the_next_start(tmp_path):
    store = tmp_path / "store"
    alter_store(store, "ALTER TABLE otel_traces ADD CONSTRAINT refuse_all CHECK SpanName = 'nothing-is-this'")
    col = CollectorProcess(store, args=("--linger-ms", "100")).start()
    assert raw_export(col.otlp_target, request(["kept"] * 20).SerializeToString())[0] == grpc.StatusCode.OK
    assert wait_until(lambda: status(col)["insert_failures"] >= 2, timeout=60)  # retried, with backoff
    counters = status(col)
    assert counters["queued_spans"] == 20 and counters["log_segments"] == 1
    assert counters["dead_lettered_spans"] == 0 and counters["spans_written"] == 0
    assert col.terminate() == 1  # not drained: said so, and the segment stays
    assert "some spans stay in the span log" in "".join(col.output)
    assert len(list((store / "arc_wal").glob("*.seg"))) == 1
    alter_store(store, "ALTER TABLE otel_traces DROP CONSTRAINT refuse_all")  # the store is fixed
    with CollectorProcess(store) as col:
        assert col.scalar("SELECT count() FROM otel_traces WHERE SpanName = 'kept'") == 20
        assert status(col)["log_segments"] == 0
