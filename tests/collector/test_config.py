"""The production otelcol-contrib config and the embedded collector agree on pipeline and tables."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from arc_agent.collector import schema
from tests.helpers.collector import CollectorProcess

CONFIG = Path(__file__).resolve().parents[2] / "collector_config" / "otelcol.yaml"


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    with CollectorProcess(tmp_path_factory.mktemp("config") / "store") as col:
        yield col


def load() -> dict:
    return yaml.safe_load(CONFIG.read_text())


def test_pipeline_is_otlp_memory_limiter_batch_clickhouse():
    cfg = load()
    traces = cfg["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp"]
    assert traces["processors"] == ["memory_limiter", "batch"]  # the limiter must come first
    assert traces["exporters"] == ["clickhouse"]
    assert cfg["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert set(cfg["processors"]) >= {"memory_limiter", "batch"}
    exporter = cfg["exporters"]["clickhouse"]
    assert exporter["create_schema"] is False
    assert exporter["compress"] == "lz4"
    assert exporter["sending_queue"]["enabled"] is True and exporter["retry_on_failure"]["enabled"] is True
    assert exporter["endpoint"].split(":-", 1)[-1].startswith("tcp://")
    assert exporter["ttl"]


def test_exporter_tables_are_the_ones_the_embedded_collector_creates(embedded):
    exporter = load()["exporters"]["clickhouse"]
    options = schema.SchemaOptions()
    assert (exporter["database"], exporter["traces_table_name"]) == (options.database, options.table)
    created = {r["name"] for r in embedded.query(
        f"SELECT name FROM system.tables WHERE database = '{exporter['database']}'")}
    table = exporter["traces_table_name"]
    assert {table, f"{table}_trace_id_ts", f"{table}_trace_id_ts_mv", *schema.VIEWS} <= created
    assert set(options.tables) <= created


def test_created_table_matches_the_contrib_exporter_ddl(embedded):
    """Spot-check the engine-level facts readers and the exporter rely on."""
    (t,) = embedded.query("SELECT engine, partition_key, sorting_key, primary_key FROM system.tables "
                           "WHERE database = 'default' AND name = 'otel_traces'")
    assert t["engine"] == "MergeTree" and t["partition_key"] == "toDate(Timestamp)"
    assert t["sorting_key"] == "ServiceName, SpanName, toDateTime(Timestamp), Timestamp"
    assert t["primary_key"] == "ServiceName, SpanName, toDateTime(Timestamp)"
    columns = {r["name"]: r["type"] for r in embedded.query(
        "SELECT name, type FROM system.columns WHERE database = 'default' AND table = 'otel_traces'")}
    assert columns["Timestamp"] == "DateTime64(9)" and columns["Duration"] == "UInt64"
    assert columns["SpanAttributes"] == "Map(LowCardinality(String), String)"
    assert columns["Events.Attributes"] == "Array(Map(LowCardinality(String), String))"
    assert columns["Links.TraceState"] == "Array(String)"
    indexes = {r["name"] for r in embedded.query(
        "SELECT name FROM system.data_skipping_indices WHERE database = 'default' AND table = 'otel_traces'")}
    assert indexes == {"idx_trace_id", "idx_res_attr_key", "idx_res_attr_value", "idx_span_attr_key",
                       "idx_span_attr_value", "idx_duration", "idx_lower_span_name"}


def test_training_jobs_table_is_created_with_its_columns(embedded):
    columns = {r["name"]: r["type"] for r in embedded.query(
        "SELECT name, type FROM system.columns WHERE database = 'default' AND table = 'arc_training_jobs'")}
    assert columns == {"id": "String", "kind": "LowCardinality(String)", "status": "LowCardinality(String)",
                       "started": "DateTime64(3)", "finished": "Nullable(DateTime64(3))", "metrics": "String",
                       "artifact": "String", "updated": "DateTime64(3)"}
