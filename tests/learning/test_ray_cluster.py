"""Issue 14 §4 on a Ray cluster, for real: ``ray start --head`` (token auth, loopback, its own temp dir)
runs while calls of ``examples/learn_app.py`` land in the embedded collector with a cassette; then

- ``arc learn patterns`` with ``RAY_ADDRESS`` set: the driver connects to that cluster (it appears in the
  cluster's job table as a DRIVER job) instead of starting a local Ray, and its replay tasks run there;
- ``ray job submit --runtime-env-json '{"working_dir": ..., "env_vars": ...}' -- python -m
  training_ray.learn_patterns ... --publish``: the job server runs the same job from the uploaded
  working dir; it ends SUCCEEDED, writes the bundle, publishes a registry version (``ARC_REGISTRY`` came
  through the runtime env) and records its rows in ``arc_training_jobs``;
- ``arc train ui-policy`` with ``RAY_ADDRESS``: its GRPO rollouts run in actors (one headless Chromium
  each) on the cluster, from the states of the flaky fixture suite.
The head is stopped by the PID of the ``ray start`` it started.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from arc_agent.devllm import DevLLMServer
from tests.helpers.collector import CollectorProcess, arc_command
from tests.helpers.learning import run_app
from tests.helpers.procs import BIN, ROOT, clean_env, run
from tests.helpers.ray_head import RayHead

pytest.importorskip("ray")
pytest.importorskip("aiohttp_cors", reason="the job server needs ray[default] (.ci/setup installs it)")
pytestmark = pytest.mark.ray_cluster  # .ci/run runs these after the suite, while it is within its time

SUBMISSION = "arc-learn-cluster"


def _learn_args(store, capture, base_url: str, out) -> list:
    return ["--store", str(store), "--since", "1h", "--capture", str(capture), "--verify-base-url", base_url,
            "--min-support", "3", "--max-replays", "60", "--out", str(out)]


@pytest.fixture(scope="module")
def head(tmp_path_factory):
    t0 = time.monotonic()
    with RayHead(tmp_path_factory.mktemp("rayhead")) as started:
        started.start_seconds = time.monotonic() - t0
        yield started
    assert started.proc.poll() is not None and started.alive() == []  # nothing of the head outlived stop()


@pytest.fixture(scope="module")
def cluster(head, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("raycluster")
    registry = tmp / "registry"
    with DevLLMServer(port=0) as srv, CollectorProcess(tmp / "store") as col:
        run_app(srv, col, "cluster-run", 3, 4, ARC_CAPTURE=str(tmp / "calls.jsonl"), ARC_CAPTURE_RATE="1")
        args = _learn_args(tmp / "store", tmp / "calls.jsonl", srv.base_url, tmp / "driver.json")
        driver = subprocess.run(arc_command("learn", "patterns", *args), env=head.env(RAY_ADDRESS=head.address),
                                capture_output=True, text=True, timeout=300, cwd=str(ROOT))
        runtime_env = {"working_dir": str(ROOT), "env_vars": {"ARC_REGISTRY": str(registry)}}
        args = _learn_args(tmp / "store", tmp / "calls.jsonl", srv.base_url, tmp / "submitted.json")
        submit = subprocess.run(
            [str(BIN / "ray"), "job", "submit", "--address", head.dashboard, "--submission-id", SUBMISSION,
             "--runtime-env-json", json.dumps(runtime_env), "--", "python", "-m", "training_ray.learn_patterns",
             *args, "--publish", "--name", "cluster"],
            env=head.env(), capture_output=True, text=True, timeout=300, cwd=str(tmp))  # the deadline
        col.wait_for_count("SELECT count() FROM arc_training_jobs", 4)
        yield {"tmp": tmp, "registry": registry, "driver": driver, "submit": submit, "jobs": head.jobs(),
               "refused": head.get("/api/jobs/", token="not-the-token"),
               "rows": col.query("SELECT id, status, artifact, metrics FROM arc_training_jobs ORDER BY updated")}


def _last_json(stdout: str) -> dict:
    return json.loads([line for line in stdout.splitlines() if line.startswith("{")][-1])


def test_learn_patterns_with_ray_address_runs_on_the_cluster(cluster):
    driver = cluster["driver"]
    assert driver.returncode == 0, driver.stdout[-2000:] + driver.stderr[-4000:]
    result = _last_json(driver.stdout)
    assert result["replays"] > 0 and result["verified"] >= 1
    assert "Started a local Ray instance" not in driver.stderr
    drivers = [j for j in cluster["jobs"] if j["type"] == "DRIVER" and j["job_id"] == result["ray_job_id"]]
    assert len(drivers) == 1, cluster["jobs"]
    assert "training_ray.learn_patterns" in drivers[0]["entrypoint"] and drivers[0]["status"] == "SUCCEEDED"


def test_ray_job_submit_runs_the_job_from_its_working_dir_and_publishes(cluster):
    submit = cluster["submit"]
    assert submit.returncode == 0, submit.stdout[-3000:] + submit.stderr[-3000:]
    job = [j for j in cluster["jobs"] if j.get("submission_id") == SUBMISSION]
    assert len(job) == 1 and job[0]["status"] == "SUCCEEDED", job
    assert job[0]["runtime_env"]["working_dir"].startswith("gcs://_ray_pkg_")  # its code: the uploaded dir
    bundle = json.loads((cluster["tmp"] / "submitted.json").read_text())
    assert bundle["patterns"] and all(p["verified"] for p in bundle["patterns"])
    from arc_agent.registry import Registry

    manifest, _ = Registry(str(cluster["registry"])).resolve("patterns", "cluster", "canary")
    assert manifest.job_id == bundle["job_id"]
    rows = [r for r in cluster["rows"] if r["id"] == bundle["job_id"]]
    assert [r["status"] for r in rows] == ["running", "succeeded"]
    assert rows[1]["artifact"] == f"patterns/cluster@{manifest.version}"
    assert json.loads(rows[1]["metrics"])["ray_job_id"] == job[0]["job_id"]


def test_driver_job_rows_and_an_unauthenticated_client_is_refused(cluster):
    result = _last_json(cluster["driver"].stdout)
    assert [r["status"] for r in cluster["rows"] if r["id"] == result["job_id"]] == ["running", "succeeded"]
    assert cluster["refused"] is None  # the dashboard / job server wants the cluster's token


def test_train_ui_policy_with_ray_address_runs_its_chromium_actors_on_the_cluster(head, tmp_path):
    with CollectorProcess(tmp_path / "store") as col:
        env = clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=col.otlp_endpoint, ARC_EXPORT_DELAY_MS="50",
                        ARC_PRIVACY_MODE="local_inference")
        suite = run([sys.executable, str(ROOT / "examples" / "flaky_ui_suite.py"), "--scenarios",
                     "cookie_banner,late_render", "--max-delay-ms", "900"], env, timeout=120)
        assert suite.returncode == 0, suite.stderr[-2000:]
        col.wait_for_count("SELECT count() FROM arc_ui_actions", 2)
        train = subprocess.run(
            arc_command("train", "ui-policy", "--store", str(col.store), "--iterations", "1", "--group", "2",
                        "--workers", "2", "--states-per-iteration", "2", "--held-out", "0",
                        "--out", str(tmp_path / "policy")),
            env=head.env(RAY_ADDRESS=head.address), capture_output=True, text=True, timeout=300, cwd=str(ROOT))
        assert train.returncode == 0, train.stderr[-3000:]
        summary = _last_json(train.stdout)
        col.wait_for_count("SELECT count() FROM arc_training_jobs WHERE kind = 'ui-policy'", 2)
        rows = col.query("SELECT status, metrics FROM arc_training_jobs WHERE kind = 'ui-policy' ORDER BY updated")
    assert "Started a local Ray instance" not in train.stderr
    assert summary["workers"] == 2 and summary["onnx_max_abs_diff"] <= 1e-4
    assert (tmp_path / "policy" / "policy.onnx").stat().st_size > 0
    drivers = [j for j in head.jobs() if j["type"] == "DRIVER" and j["job_id"] == summary["ray_job_id"]]
    assert len(drivers) == 1 and "training_ray.ui_policy" in drivers[0]["entrypoint"], head.jobs()
    assert drivers[0]["status"] == "SUCCEEDED"
    assert [r["status"] for r in rows] == ["running", "succeeded"]
    assert json.loads(rows[1]["metrics"])["ray_job_id"] == summary["ray_job_id"]
