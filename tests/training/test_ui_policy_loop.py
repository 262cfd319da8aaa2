"""The UI learning loop end to end on the flaky fixture site: the suite runs under ``arc-instrument``
into the embedded collector, ``arc train ui-policy`` replays its states on Ray (2 workers, real
Chromium), publishes an ONNX policy to the registry's canary channel and records its job rows; the
agent loads that policy from ``registry:ui-policy@canary``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("ray")

from arc_agent.vision.features import FEATURES  # noqa: E402
from tests.helpers.collector import CollectorProcess, arc_command  # noqa: E402
from tests.helpers.procs import ROOT, clean_env, run  # noqa: E402

SUITE = str(Path(ROOT) / "examples" / "flaky_ui_suite.py")


def test_flaky_suite_states_train_a_policy_the_agent_loads(tmp_path, monkeypatch):
    registry = tmp_path / "registry"
    with CollectorProcess(tmp_path / "store") as col:
        env = clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=col.otlp_endpoint, ARC_EXPORT_DELAY_MS="50",
                        ARC_PRIVACY_MODE="local_inference")
        suite = run([sys.executable, SUITE, "--scenarios", "cookie_banner,late_render", "--max-delay-ms", "900"],
                    env, timeout=120)
        assert suite.returncode == 0, suite.stderr
        col.wait_for_count("SELECT count() FROM arc_ui_actions", 2)
        rows = col.query("SELECT mechanics, ready_ms, length(features) AS nf FROM arc_ui_actions ORDER BY time")
        assert ["covered"] <= rows[0]["mechanics"] and rows[1]["mechanics"] == ["absent"]
        assert all(r["nf"] == len(FEATURES) and r["ready_ms"] > 0 for r in rows)
        compare = subprocess.run(arc_command("policy", "compare", "--store", str(col.store), "--json"),
                                 env=clean_env(), capture_output=True, text=True, timeout=60, cwd=str(ROOT))
        assert compare.returncode == 0, compare.stderr
        per_version = [json.loads(line) for line in compare.stdout.splitlines()]
        assert [(r["version"], r["actions"]) for r in per_version] == [("seed-rule-1", 2)]
        assert per_version[0]["added_ms"] > 0 and 0 <= per_version[0]["failure_rate"] <= 1
        train = subprocess.run(
            arc_command("train", "ui-policy", "--store", str(col.store), "--iterations", "2", "--group", "4",
                        "--workers", "2", "--states-per-iteration", "2", "--held-out", "0", "--publish",
                        "--registry", str(registry), "--out", str(tmp_path / "policy")),
            env=clean_env(), capture_output=True, text=True, timeout=300, cwd=str(ROOT))
        assert train.returncode == 0, train.stderr[-3000:]
        summary = json.loads(train.stdout.strip().splitlines()[-1])
        assert "ui-policy: iteration 2/2 reward" in train.stderr
        assert summary["artifact"] == "models/ui-policy@1" and summary["onnx_max_abs_diff"] <= 1e-4
        assert summary["workers"] == 2 and summary["iterations"] == 2
        col.wait_for_count("SELECT count() FROM arc_training_jobs WHERE kind = 'ui-policy'", 2)
        jobs = col.query("SELECT id, argMax(status, updated) AS status, argMax(artifact, updated) AS artifact "
                         "FROM arc_training_jobs WHERE kind = 'ui-policy' GROUP BY id")
        assert jobs == [{"id": summary["job_id"], "status": "succeeded", "artifact": "models/ui-policy@1"}]

    from arc_agent.vision import policy
    from arc_agent.vision import settings as vision_settings

    monkeypatch.setenv("ARC_REGISTRY", str(registry))
    monkeypatch.setenv("ARC_VISION_POLICY", "registry:ui-policy@canary")
    vision_settings.reload()
    policy.slot.force_check()
    try:
        loaded = policy.slot.get()
        assert loaded is not None and loaded.version == summary["job_id"] and loaded.value.sequential
    finally:
        monkeypatch.delenv("ARC_VISION_POLICY")
        vision_settings.reload()
        policy.slot.force_check()
        policy.slot.get()
