"""``arc learn patterns`` on real parts: a mixed workload through the real SDKs against dev-llm (every
catalogue failure, healthy calls, random 429s), spans with the contract's attributes through the OTel
SDK exporter into a real collector, mining in chDB, verification by replay in Ray tasks, a registry
version; then held-out traffic (other prompts and values) with the learned bundle fails far less."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from arc_agent.devllm import DevLLMServer
from arc_agent.patterns import PatternEngine
from tests.helpers.collector import CollectorProcess, arc_command
from tests.helpers.llm_workload import Emitter, workload
from tests.helpers.procs import clean_env, run_json

pytest.importorskip("ray")
FIXABLE = {"unsupported_temperature", "unsupported_max_tokens", "context", "invalid_json", "truncated",
           "out_of_range"}


def _failures(results: list) -> Counter:
    return Counter(cat for cat, outcome in results if outcome != "ok")


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("learn")
    with DevLLMServer(port=0) as srv, CollectorProcess(tmp / "store") as col:
        srv.configure(fail_rate=0.05, fail_status=429)
        emitter = Emitter(srv.base_url, col.otlp_endpoint, str(tmp / "calls.jsonl"))
        results = emitter.run(workload(seed=1, rounds=10))
        emitter.close()
        col.wait_for_count("SELECT count() FROM arc_llm_calls", len(results))
        env = {"ARC_REGISTRY": str(tmp / "registry")}
        out = run_json(arc_command("learn", "patterns", "--store", str(tmp / "store"), "--since", "1h",
                                      "--capture", str(tmp / "calls.jsonl"), "--verify-base-url", srv.base_url,
                                      "--num-cpus", "2", "--publish", "--name", "learned",
                                      "--out", str(tmp / "bundle.json")), clean_env(**env), timeout=300,
                       instrument=False)
        col.wait_for_count("SELECT count() FROM arc_training_jobs", 2)
        jobs = col.query("SELECT status, artifact, metrics FROM arc_training_jobs ORDER BY updated")
        yield {"srv": srv, "col": col, "tmp": tmp, "results": results, "stdout": out,
               "bundle": json.loads((tmp / "bundle.json").read_text()), "jobs": jobs, "env": env}


def test_learning_run_saw_every_catalogue_failure_and_random_429s(learned):
    failures = _failures(learned["results"])
    assert FIXABLE <= set(failures), failures
    assert any(outcome == "http_error" and cat == "healthy" for cat, outcome in learned["results"])  # the 429s


def test_verified_patterns_with_provenance_and_none_for_the_429s(learned):
    patterns = learned["bundle"]["patterns"]
    kinds = {p["provenance"]["kind"] for p in patterns}
    assert len(patterns) >= 5, kinds
    assert not any("429" in k or "rate_limit" in k for k in kinds)
    for p in patterns:
        assert p["verified"] is True and 0.5 <= p["confidence"] < 1
        replay = p["provenance"]["replay"]
        assert replay["broken"] == 0 and replay["resolved"] >= 0.8 * replay["failing"] > 0
        assert p["provenance"]["support"] >= 5 and p["provenance"]["lift"] >= 3
    fixes = [p["fix"] for p in patterns]
    assert {"max_tokens": {"rename": "max_completion_tokens"}} in fixes
    assert {"temperature": {"remove": True}} in fixes


def test_job_rows_and_registry_version(learned):
    statuses = [row["status"] for row in learned["jobs"]]
    assert statuses == ["running", "succeeded"]
    assert learned["jobs"][1]["artifact"] == "patterns/learned@1"
    assert json.loads(learned["jobs"][1]["metrics"])["verified"] == len(learned["bundle"]["patterns"])


def test_held_out_traffic_fails_less_and_no_healthy_call_changes(learned, monkeypatch):
    srv = learned["srv"]
    monkeypatch.setenv("ARC_REGISTRY", learned["env"]["ARC_REGISTRY"])  # the registry is read from the process env
    engine = PatternEngine.from_env({"ARC_PATTERNS": "registry:learned@canary", "ARC_PATTERNS_POLL": "0",
                                     "ARC_PATTERNS_SNAPSHOT": "off"})
    assert engine.active, engine.last_error
    calls = workload(seed=2, rounds=6)
    srv.configure(fail_rate=0.0)
    runs = []
    for fixer in (None, engine):
        emitter = Emitter(srv.base_url, learned["col"].otlp_endpoint, fixer=fixer)
        runs.append(emitter.run(calls))
        emitter.close()
    before, after = _failures(runs[0]), _failures(runs[1])
    fixable_before = sum(n for cat, n in before.items() if cat in FIXABLE)
    assert sum(after.values()) <= fixable_before * 0.34, (before, after)
    for (cat, was), (_, now) in zip(*runs):
        if cat == "healthy":
            assert now == was, cat
