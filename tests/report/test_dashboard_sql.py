"""Every panel query of the shipped Grafana dashboard is valid SQL against a real store (macros
expanded the way the ClickHouse plugin expands them), through the collector's authenticated
query endpoint, and returns rows for the spans in it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from arc_agent.report import dashboard

GRAFANA = Path(__file__).resolve().parents[2] / "collector_config" / "grafana"


def test_dashboard_is_a_clickhouse_plugin_dashboard_with_provisioning():
    board = json.loads((GRAFANA / "arc-runtime.json").read_text())
    assert board["uid"] == "arc-runtime" and board["panels"]
    for p in board["panels"]:
        for t in p["targets"]:
            assert t["datasource"]["type"] == "grafana-clickhouse-datasource" and t["editorType"] == "sql"
            assert t["format"] == (0 if p["type"] == "timeseries" else 1)
    source = yaml.safe_load((GRAFANA / "provisioning/datasources/arc-clickhouse.yaml").read_text())
    assert source["datasources"][0]["type"] == "grafana-clickhouse-datasource"
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/arc.yaml").read_text())
    assert provider["providers"][0]["type"] == "file"
    wanted = {"calls per second", "outcome", "model and outcome", "fixes applied", "with and without a fix",
              "top patterns", "p50 / p99", "healed", "tool precision", "policy version"}
    titles = " | ".join(p.title.lower() for p in dashboard.panels(board))
    assert all(w in titles for w in wanted), titles


def test_every_panel_query_runs_on_the_store_and_sees_its_spans(filled):
    window = dashboard.TimeRange.last(3600, int(time.time()) + 60)
    results = {}
    for panel in dashboard.panels(dashboard.load()):
        sql = dashboard.expand(panel.sql, window)
        assert "$" not in sql, sql
        results[panel.title] = filled.query(sql)  # the query endpoint, with the collector's token
    assert all(results.values()), [t for t, rows in results.items() if not rows]
    patterns = results["Top patterns (fixes applied)"]
    assert patterns == [{"pattern": "demo-high-temperature", "fixes": 4}]
    failing = {(r["model"], r["outcome"]): r["failure_rate"] for r in results["Failure rate by model and outcome"]}
    assert failing[("reasoning-mini", "http_error")] == 1.0
    assert failing[("gpt-4o-mini", "invalid_json")] == pytest.approx(2 / 6, abs=1e-4)
    assert failing[("gpt-4o-mini", "truncated")] == pytest.approx(1 / 6, abs=1e-4)
    effect = {(r["model"], r["fix"]): r["failure_rate"]
              for r in results["Failure rate with and without a fix, by model"]}
    assert effect[("arc-demo", "fixed")] == 0.0
    healed = {r["strategy"]: r["healed_actions"] for r in results["UI actions healed, by strategy"]}
    assert healed == {"wait": 2, "fingerprint": 1, "scroll": 1}
    precision = {r["tool"]: r["precision"] for r in results["UI tool precision, by tool"]}
    assert precision == {"wait": 1.0, "zoom": 0.0, "inspect": 0.0}
    policies = {r["policy"]: r["actions"] for r in results["UI actions by policy version"]}
    assert policies == {"policy-v2": 3, "policy-v1": 1, "(seed rule)": 3}


def test_unknown_macro_is_refused_by_name():
    with pytest.raises(dashboard.MacroError, match=r"\$__conditionalAll"):
        dashboard.expand("SELECT 1 WHERE $__conditionalAll(x, $v)", dashboard.TimeRange(0, 60, 1))
    with pytest.raises(dashboard.MacroError, match="one column"):
        dashboard.expand("SELECT 1 WHERE $__timeFilter(a) OR $__timeFilter(1; DROP)", dashboard.TimeRange(0, 60, 1))
