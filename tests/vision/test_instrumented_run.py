"""End to end: ``arc-instrument python ui_app.py`` patches Playwright and Selenium through the import
hook, exports the UI spans over OTLP/gRPC to a real ``arc collector``, and ``arc heal-report``
lists the healed selectors from its store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers.collector import CollectorProcess, arc_command
from tests.helpers.procs import clean_env, run_json

APP = str(Path(__file__).parent / "apps" / "ui_app.py")


def test_instrumented_ui_suite_is_reported_and_heal_report_lists_it(tmp_path):
    with CollectorProcess(tmp_path / "store") as col:
        env = clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=col.otlp_endpoint, OTEL_SERVICE_NAME="ui-suite",
                        ARC_EXPORT_DELAY_MS="50", ARC_PRIVACY_MODE="local_inference")
        out = run_json([sys.executable, APP], env, timeout=120)
        assert out == {"playwright": "ordered", "selenium": "ordered", "_stderr": out["_stderr"]}
        col.wait_for_count("SELECT count() FROM otel_traces WHERE SpanName LIKE 'ui.%'", 4)
        rows = col.query("SELECT span_name, framework, selector, healed_selector, healed, success, "
                         "confidence_before, service FROM arc_ui_actions ORDER BY time")
        assert [(r["span_name"], r["framework"]) for r in rows] == [
            ("ui.click", "playwright"), ("ui.click", "playwright"), ("ui.find", "selenium"),
            ("ui.click", "selenium")]
        assert all(r["success"] and r["service"] == "ui-suite" for r in rows)
        assert rows[1]["healed"] and rows[1]["healed_selector"] == "#place-order-v2"
        assert rows[0]["confidence_before"] is not None

        report = subprocess.run(arc_command("heal-report", "--store", str(col.store), "--json"),
                                capture_output=True, text=True, timeout=60)
        assert report.returncode == 0, report.stderr
        healed = [json.loads(line) for line in report.stdout.splitlines()]
        by_framework = {r["framework"]: r for r in healed}
        assert by_framework["playwright"]["selector"] == "#target"
        assert by_framework["playwright"]["healed_selector"] == "#place-order-v2"
        assert by_framework["playwright"]["strategy"] == "fingerprint"
        assert by_framework["selenium"]["selector"] == "id=target"
        assert by_framework["selenium"]["strategy"] == "wait"

        table = subprocess.run(arc_command("heal-report", "--store", str(col.store)), capture_output=True,
                               text=True, timeout=60)
        assert "#target -> #place-order-v2" in table.stdout and "hint:" in table.stdout
        bad = subprocess.run(arc_command("heal-report", "--store", str(col.store), "--since", "soon"),
                             capture_output=True, text=True, timeout=60)
        assert bad.returncode == 2 and "--since 'soon'" in bad.stderr
