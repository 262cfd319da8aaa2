"""Spans from the real OTel SDK, over real gRPC, into a real chDB store, read back every way a reader can.

Expected values are what the contrib ClickHouse exporter writes for the same spans."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from tests.helpers.collector import CollectorProcess, arc_command, sdk_tracer_provider

LLM_ATTRS = {
    "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
    "gen_ai.request.temperature": 0.62, "gen_ai.request.max_tokens": 256, "gen_ai.request.stream": True,
    "gen_ai.usage.input_tokens": 120, "gen_ai.usage.output_tokens": 42, "arc.fix.applied": True,
    "arc.fix.pattern_ids": ["p-temp", "p-max"], "arc.interception.latency_us": 12.5,
    "error.type": "RateLimitError", "gen_ai.response.finish_reasons": ["stop"],
    "arc.fix.confidence": 0.9, "arc.pattern.matched": True, "arc.patterns.bundle_version": "b-7",
}
UI_ATTRS = {
    "arc.vision.framework": "playwright", "arc.vision.action": "click", "arc.vision.selector": "#buy",
    "arc.vision.healed_selector": "text=Buy", "arc.vision.url": "http://shop.test/cart",
    "arc.vision.privacy_tier": "metadata", "arc.vision.confidence_before": 0.42,
    "arc.vision.confidence_after": 0.91, "arc.vision.bbox": [10, 20, 110, 60],
    "arc.vision.viewport": [1280, 720], "arc.vision.tools": ["ocr", "detector"],
    "arc.vision.success": True, "arc.vision.healed": True, "arc.vision.tool_ms": 12.5,
    "arc.vision.inference_ms": 3.25, "arc.vision.heal_strategy": "fingerprint", "arc.vision.heal_score": 0.83,
    "arc.vision.element_visible": True, "arc.vision.pre_action_ms": 8.5, "arc.vision.model_version": "m-3",
}
ODD_ATTRS = {
    "f.one": 1.0, "f.tiny": 1e-7, "f.big": 1e21, "f.small": 1.5e-5, "f.e16": 1e16, "i.neg": -7,
    "b.false": False, "list.bool": [True, False], "list.float": [0.5, 1.0, 2.25], "s.html": "a<b & c>d",
    "s.unicode": "grüße ✓",
}


@pytest.fixture(scope="module")
def sent(tmp_path_factory):
    """One collector; a known set of spans sent through the SDK; the SDK's own view of them."""
    with CollectorProcess(tmp_path_factory.mktemp("ingest") / "store") as col:
        provider = sdk_tracer_provider(col.otlp_target, service="checkout",
                                       resource={"deployment.environment": "test"})
        memory = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(memory))
        tracer = provider.get_tracer("arc.test", "1.2.3")
        with tracer.start_as_current_span("ui.click", kind=SpanKind.INTERNAL, attributes=UI_ATTRS) as ui:
            ui_context = ui.get_span_context()
        with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT, attributes=LLM_ATTRS,
                                          links=[Link(ui_context, {"link.kind": "caused-by"})]) as llm:
            llm.add_event("arc.fix", {"pattern": "p-temp", "count": 2})
            llm.set_status(Status(StatusCode.ERROR, "boom"))
        with tracer.start_as_current_span("odd", kind=SpanKind.SERVER, attributes=ODD_ATTRS) as odd:
            odd.set_status(Status(StatusCode.OK))
            with tracer.start_as_current_span("child", kind=SpanKind.PRODUCER):
                pass
        with tracer.start_as_current_span("consume", kind=SpanKind.CONSUMER):
            pass
        provider.force_flush()
        assert col.wait_for_count("SELECT count() FROM otel_traces", 5) == 5
        spans = {s.name: s for s in memory.get_finished_spans()}
        yield col, spans
        provider.shutdown()


def row(col, name: str) -> dict:
    rows = col.query(f"SELECT *, toUnixTimestamp64Nano(Timestamp) AS ts_ns FROM otel_traces WHERE SpanName = '{name}'")
    assert len(rows) == 1, rows
    return rows[0]


def test_ids_times_kinds_status_and_resource(sent):
    col, spans = sent
    llm, sdk = row(col, "chat gpt-4o"), spans["chat gpt-4o"]
    assert llm["TraceId"] == format(sdk.context.trace_id, "032x")
    assert llm["SpanId"] == format(sdk.context.span_id, "016x")
    assert llm["ParentSpanId"] == ""
    assert llm["ts_ns"] == sdk.start_time
    assert llm["Duration"] == sdk.end_time - sdk.start_time
    assert (llm["SpanKind"], llm["StatusCode"], llm["StatusMessage"]) == ("Client", "Error", "boom")
    assert llm["ServiceName"] == "checkout"
    assert llm["ResourceAttributes"]["service.name"] == "checkout"
    assert llm["ResourceAttributes"]["deployment.environment"] == "test"
    assert llm["ResourceAttributes"]["telemetry.sdk.language"] == "python"
    assert (llm["ScopeName"], llm["ScopeVersion"]) == ("arc.test", "1.2.3")
    kinds = {r["SpanName"]: (r["SpanKind"], r["StatusCode"]) for r in
             col.query("SELECT SpanName, SpanKind, StatusCode FROM otel_traces")}
    assert kinds == {"ui.click": ("Internal", "Unset"), "chat gpt-4o": ("Client", "Error"),
                     "odd": ("Server", "Ok"), "child": ("Producer", "Unset"), "consume": ("Consumer", "Unset")}
    child, odd = row(col, "child"), row(col, "odd")
    assert child["ParentSpanId"] == odd["SpanId"] and child["TraceId"] == odd["TraceId"]


def test_attribute_values_are_stringified_like_the_exporter(sent):
    col, _ = sent
    llm = row(col, "chat gpt-4o")["SpanAttributes"]
    assert llm["gen_ai.request.temperature"] == "0.62"
    assert llm["gen_ai.request.max_tokens"] == "256"
    assert llm["gen_ai.request.stream"] == "true"
    assert llm["arc.fix.pattern_ids"] == '["p-temp","p-max"]'
    assert llm["arc.interception.latency_us"] == "12.5"
    odd = row(col, "odd")["SpanAttributes"]
    assert odd == {"f.one": "1", "f.tiny": "1e-7", "f.big": "1e+21", "f.small": "0.000015",
                   "f.e16": "10000000000000000", "i.neg": "-7", "b.false": "false",
                   "list.bool": "[true,false]", "list.float": "[0.5,1,2.25]",
                   "s.html": "a<b & c>d", "s.unicode": "grüße ✓"}


def test_events_and_links_are_nested(sent):
    col, spans = sent
    llm, sdk = row(col, "chat gpt-4o"), spans["chat gpt-4o"]
    assert llm["Events.Name"] == ["arc.fix"]
    assert llm["Events.Attributes"] == [{"pattern": "p-temp", "count": "2"}]
    ev = col.query("SELECT toUnixTimestamp64Nano(Events.Timestamp[1]) AS t FROM otel_traces "
                   "WHERE SpanName = 'chat gpt-4o'")[0]["t"]
    assert ev == sdk.events[0].timestamp
    ui = row(col, "ui.click")
    assert llm["Links.TraceId"] == [ui["TraceId"]] and llm["Links.SpanId"] == [ui["SpanId"]]
    assert llm["Links.TraceState"] == [""]
    assert llm["Links.Attributes"] == [{"link.kind": "caused-by"}]


def test_trace_id_lookup_table_is_filled_by_the_view(sent):
    col, _ = sent
    rows = col.query("SELECT TraceId, min(Start) AS s, max(End) AS e FROM otel_traces_trace_id_ts GROUP BY TraceId")
    traces = {r["TraceId"] for r in col.query("SELECT DISTINCT TraceId FROM otel_traces")}
    assert {r["TraceId"] for r in rows} == traces
    assert all(r["s"] <= r["e"] for r in rows)


def test_llm_view_has_typed_values(sent):
    col, spans = sent
    (call,) = col.query("SELECT * FROM arc_llm_calls")
    sdk = spans["chat gpt-4o"]
    assert call["service"] == "checkout" and call["provider"] == "openai" and call["model"] == "gpt-4o"
    assert call["temperature"] == 0.62 and call["max_tokens"] == 256 and call["stream"] is True
    assert call["fix_applied"] is True and call["pattern_ids"] == ["p-temp", "p-max"]
    assert call["interception_latency_us"] == 12.5
    assert call["input_tokens"] == 120 and call["output_tokens"] == 42
    assert call["finish_reasons"] == ["stop"] and call["error_type"] == "RateLimitError"
    assert call["fix_confidence"] == 0.9 and call["pattern_matched"] is True and call["bundle_version"] == "b-7"
    assert call["breaker_open"] is False and call["pattern_lookup_us"] is None and call["sampled_out"] is False
    assert call["duration_ns"] == sdk.end_time - sdk.start_time
    assert call["span_id"] == format(sdk.context.span_id, "016x")
    types = {r["name"]: r["type"] for r in col.query("DESCRIBE TABLE arc_llm_calls")}
    assert types["temperature"] == "Nullable(Float64)" and types["max_tokens"] == "Nullable(Int64)"
    assert types["stream"] == "Nullable(Bool)" and types["fix_applied"] == "Bool"
    assert types["pattern_ids"] == "Array(String)"


def test_ui_view_has_typed_values(sent):
    col, _ = sent
    (action,) = col.query("SELECT * FROM arc_ui_actions")
    assert action["action"] == "click" and action["framework"] == "playwright"
    assert action["selector"] == "#buy" and action["healed_selector"] == "text=Buy"
    assert action["url"] == "http://shop.test/cart" and action["privacy_tier"] == "metadata"
    assert action["confidence_before"] == 0.42 and action["confidence_after"] == 0.91
    assert action["bbox"] == [10, 20, 110, 60] and action["viewport"] == [1280, 720]
    assert action["tools"] == ["ocr", "detector"]
    assert action["success"] is True and action["healed"] is True
    assert action["tool_ms"] == 12.5 and action["inference_ms"] == 3.25
    assert action["heal_strategy"] == "fingerprint" and action["heal_score"] == 0.83
    assert action["element_visible"] is True and action["pre_action_ms"] == 8.5
    assert action["model_version"] == "m-3" and action["policy_version"] == "" and action["blob_key"] == ""
    types = {r["name"]: r["type"] for r in col.query("DESCRIBE TABLE arc_ui_actions")}
    assert types["bbox"] == "Array(Float64)" and types["confidence_after"] == "Nullable(Float64)"
    assert types["success"] == "Nullable(Bool)" and types["healed"] == "Bool"


def test_arc_query_cli_through_the_collector(sent):
    col, _ = sent
    with_password = col.query_url.replace("://", f"://default:{col.token}@")  # as a ClickHouse client passes it
    out = subprocess.run(arc_command("query", "SELECT count() FROM otel_traces", "--url", with_password),
                         capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout) == (0, "5\n"), out.stderr
    out = subprocess.run(arc_command("query", "SELECT SpanName, SpanKind FROM otel_traces ORDER BY SpanName",
                                     "--format", "json", "--store", str(col.store)),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr  # the store is owned by the collector: went through it
    data = json.loads(out.stdout)["data"]
    assert [d["SpanName"] for d in data] == ["chat gpt-4o", "child", "consume", "odd", "ui.click"]


def test_arc_query_finds_the_collector_of_the_default_store(sent, tmp_path):
    col, _ = sent
    env = {**os.environ, "ARC_STORE": str(col.store)}
    out = subprocess.run(arc_command("query", "SELECT count() FROM otel_traces"), env=env,
                         capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout) == (0, "5\n"), out.stderr
    missing = subprocess.run(arc_command("query", "SELECT 1", "--store", str(tmp_path / "nothing-here")),
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "no store at" in missing.stderr


def http(url: str, data: bytes | None = None, token: str = "") -> tuple:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=30) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read().decode()


def test_http_endpoint_speaks_clickhouse_formats(sent):
    col, _ = sent
    base = col.query_url
    assert http(base + "/ping", token=col.token)[2] == "Ok.\n"
    status, ctype, body = http(base + "/?query=SELECT%20count()%20FROM%20otel_traces", token=col.token)
    assert (status, body) == (200, "5\n") and ctype.startswith("text/tab-separated-values")
    status, ctype, body = http(base + "/", b"SELECT SpanName FROM otel_traces WHERE SpanKind = 'Server' FORMAT JSON",
                               col.token)
    assert status == 200 and ctype.startswith("application/json")
    assert json.loads(body)["data"] == [{"SpanName": "odd"}]
    status, _, body = http(base + "/?default_format=JSONEachRow", b"SELECT SpanName FROM otel_traces "
                                                                    b"WHERE SpanKind = 'Client'", col.token)
    assert json.loads(body) == {"SpanName": "chat gpt-4o"}
    status, _, body = http(base + "/?query=SELECT%20nope%20FROM%20otel_traces", token=col.token)
    assert status == 400 and "nope" in body


@pytest.mark.parametrize("sql", [
    "INSERT INTO otel_traces (SpanName) VALUES ('x')",
    "ALTER TABLE otel_traces DELETE WHERE 1",
    "DROP TABLE otel_traces",
    "SELECT 1; DROP TABLE otel_traces",
    "SELECT * FROM otel_traces INTO OUTFILE '/tmp/arc-leak.tsv'",
    "TRUNCATE TABLE otel_traces",
    "SET readonly = 0",
])
def test_non_select_is_refused(sent, sql):
    col, _ = sent
    status, _, body = http(col.query_url + "/", sql.encode(), col.token)
    assert status == 403 and body.startswith("Refused:"), body
    out = subprocess.run(arc_command("query", sql, "--store", str(col.store)), capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 1 and "Refused" in out.stderr
    assert col.scalar("SELECT count() FROM otel_traces") == 5
