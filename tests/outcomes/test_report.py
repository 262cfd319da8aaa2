"""report_failure: an arc.report_failure span linked to the app's last LLM call in the same context
(thread or asyncio task), over real OTLP/gRPC and into the embedded collector's otel_traces."""

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.helpers.collector import collector  # noqa: F401 - the shared `arc collector` fixture
from tests.outcomes.conftest import run_scenario, spans_by_tag


def reports(receiver) -> dict:
    return {s.attributes["arc.report.kind"]: s for s in receiver.spans if s.name == "arc.report_failure"}


def test_reports_link_to_the_last_call_of_their_context(devllm, receiver):
    out = run_scenario(devllm, receiver.endpoint, "report")
    assert out["before"] is True and out["r1"] is True and out["r2"] is True
    calls = spans_by_tag(out, receiver)
    receiver.wait_for(len(calls) + 5)
    found = reports(receiver)
    assert sorted(found) == ["no_call_yet", "parse_error", "task_task_a", "task_task_b", "validator"]
    for kind, tag in (("parse_error", "first"), ("validator", "second"), ("task_task_a", "task_a"),
                      ("task_task_b", "task_b")):
        assert found[kind].links == [(calls[tag].trace_id, calls[tag].span_id)], kind
    assert found["no_call_yet"].links == []  # nothing to link yet: reported anyway
    r1 = found["parse_error"]
    assert r1.kind == Span.SPAN_KIND_INTERNAL and r1.attributes["arc.outcome"] == "app_reported"
    assert r1.attributes["arc.report.detail"].startswith("the app could not parse")
    assert len(r1.attributes["arc.report.detail"]) == 256
    assert "arc.report.detail" not in found["validator"].attributes


def test_report_link_lands_in_otel_traces_links(devllm, collector):  # noqa: F811 - fixture
    out = run_scenario(devllm, collector.otlp_endpoint, "report")
    collector.wait_for_count("SELECT count() FROM otel_traces WHERE SpanName = 'arc.report_failure'", 5)
    rows = collector.query("SELECT SpanAttributes['arc.report.kind'] AS kind, Links.TraceId AS t, Links.SpanId AS s "
                           "FROM otel_traces WHERE SpanName = 'arc.report_failure'")
    links = {r["kind"]: (list(r["t"]), list(r["s"])) for r in rows}
    assert links["parse_error"][1] == [out["spans"]["first"]]
    assert links["task_task_b"][1] == [out["spans"]["task_b"]]
    first = collector.query(f"SELECT TraceId FROM otel_traces WHERE SpanId = '{out['spans']['first']}'")
    assert links["parse_error"][0] == [first[0]["TraceId"]]
    assert links["no_call_yet"] == ([], [])


def test_report_failure_is_off_with_arc_disable(devllm, receiver):
    out = run_scenario(devllm, receiver.endpoint, "report", ARC_DISABLE="1")
    assert out["before"] is False and out["r1"] is False
    assert set(out["spans"].values()) == {None}


def test_the_arc_object_reports_too(devllm, receiver):
    out = run_scenario(devllm, receiver.endpoint, "api", instrument=False)
    assert out["reported"] is True
    call = spans_by_tag(out, receiver)["api_call"]
    receiver.wait_for(2)
    (report,) = reports(receiver).values()
    assert report.attributes["arc.report.kind"] == "api_kind" and report.links == [(call.trace_id, call.span_id)]
