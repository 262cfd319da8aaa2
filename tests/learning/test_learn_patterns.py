"""Issue 14 §6, end to end on real parts: a plain app (``examples/learn_app.py``) whose calls hit every
`arc dev-llm` catalogue failure, healthy calls and dev-llm's evenly spread 429s (``fail_rate``) runs
under ``arc-instrument`` with ``ARC_CAPTURE`` into the embedded collector (chDB); ``arc learn patterns``
mines the spans, verifies candidates by replaying the cassette in Ray tasks and publishes a registry
version; held-out traffic (other prompts and parameter values) then runs twice under
``arc-instrument``, without and with ``ARC_PATTERNS=registry:…``: its fixable failures fall, no
healthy call changes outcome, the 429s stay (no pattern targets them) and short ``small-4k`` prompts
keep their model. The pytest replay plugin is run in a subprocess against the same cassette."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from arc_agent.devllm import DevLLMServer
from tests.helpers.collector import CollectorProcess, arc_command
from tests.helpers.learning import FIXABLE, learn, run_app
from tests.helpers.procs import clean_env, run_json

pytest.importorskip("ray")


@pytest.fixture(scope="module")
def proof(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("learn")
    registry = str(tmp / "registry")
    with DevLLMServer(port=0) as srv, CollectorProcess(tmp / "store") as col:
        learned = run_app(srv, col, "learn-run", 1, 10, ARC_CAPTURE=str(tmp / "calls.jsonl"), ARC_CAPTURE_RATE="1")
        job = learn(tmp / "store", tmp / "calls.jsonl", srv.base_url, registry, tmp / "bundle.json")
        col.wait_for_count("SELECT count() FROM arc_training_jobs", 2)
        before = run_app(srv, col, "held-out-bare", 2, 6, "--held-out")
        after = run_app(srv, col, "held-out-fixed", 2, 6, "--held-out", ARC_REGISTRY=registry,
                        ARC_PATTERNS="registry:learned@canary")
        yield {"srv": srv, "col": col, "tmp": tmp, "learn": learned, "job": job, "before": before, "after": after,
               "bundle": json.loads((tmp / "bundle.json").read_text()), "registry": registry,
               "jobs": col.query("SELECT status, artifact, metrics FROM arc_training_jobs ORDER BY updated")}


def test_learning_run_saw_every_catalogue_failure_and_429s_in_its_spans(proof):
    failed = proof["learn"]["failed"]
    assert FIXABLE <= set(failed), failed
    assert proof["learn"]["rate_limited"] > 0
    rows = proof["col"].query("SELECT outcome, error_code, error_param, http_status, count() AS n FROM arc_llm_calls "
                              "WHERE service = 'learn-run' GROUP BY ALL")
    kinds = {(r["outcome"], r["error_code"], r["error_param"], r["http_status"]) for r in rows}
    assert {("http_error", "unsupported_parameter", "temperature", 400),
            ("http_error", "unsupported_parameter", "max_tokens", 400),
            ("http_error", "context_length_exceeded", "messages", 400),
            ("truncated", "", "", None), ("invalid_json", "", "", None)} <= kinds, kinds
    assert any(k[0] == "http_error" and k[3] == 429 for k in kinds)


def test_verified_patterns_with_evidence_and_none_for_the_429s(proof):
    patterns = proof["bundle"]["patterns"]
    kinds = {p["provenance"]["kind"] for p in patterns}
    assert len(patterns) >= 5, kinds
    assert not any("429" in k for k in kinds)
    for p in patterns:
        assert p["verified"] is True and 0.5 <= p["confidence"] < 1
        replay = p["provenance"]["replay"]
        assert replay["broken"] == 0 and replay["resolved"] >= 0.8 * replay["failing"] > 0
        assert p["provenance"]["support"] >= 5 and p["provenance"]["lift"] >= 3
    fixes = [p["fix"] for p in patterns]
    assert {"max_tokens": {"rename": "max_completion_tokens"}} in fixes
    assert {"temperature": {"remove": True}} in fixes
    context = [p for p in patterns if p["fix"] == {"model": "large-128k"}]
    assert len(context) == 1 and context[0]["pattern"]["model"] == "small-4k"
    assert set(context[0]["pattern"]["prompt_tokens_est"]) == {">"}  # only big prompts change model
    clamp = [p for p in patterns if p["provenance"]["kind"] == "invalid_json"]
    assert clamp[0]["pattern"]["response_format.type"] == "json_object"  # where it was seen, not on text calls


def test_job_rows_and_registry_version(proof):
    assert [row["status"] for row in proof["jobs"]] == ["running", "succeeded"]
    assert proof["jobs"][1]["artifact"] == "patterns/learned@1" == proof["job"]["artifact"]
    assert json.loads(proof["jobs"][1]["metrics"])["verified"] == len(proof["bundle"]["patterns"])
    progress = proof["job"]["_stderr"].splitlines()  # piped: plain lines, no bar (issue 17 §6)
    assert any(line.startswith("arc learn: replay: started (") for line in progress), progress
    assert any(line.startswith("arc learn: replay: done ") for line in progress) and "\r" not in "".join(progress)


def test_held_out_traffic_fails_less_healthy_calls_and_429s_unchanged(proof):
    before, after = proof["before"], proof["after"]
    assert before["fixable_failed"] >= 20, before["failed"]
    assert after["fixable_failed"] <= 0.34 * before["fixable_failed"], (before["failed"], after["failed"])
    pairs = list(zip(before["calls"], after["calls"]))
    assert all(b["category"] == a["category"] for b, a in pairs)
    assert [b["seen"] for b, a in pairs if b["category"] == "healthy"] == \
        [a["seen"] for b, a in pairs if b["category"] == "healthy"]
    assert after["rate_limited"] == before["rate_limited"] > 0  # no pattern touched the random 429s
    # the store agrees: fewer failing spans, fixes applied only in the run with patterns
    counts = {r["service"]: r for r in proof["col"].query(
        "SELECT service, countIf(outcome != 'ok') AS failed, countIf(fix_applied) AS fixed FROM arc_llm_calls "
        "WHERE service LIKE 'held-out-%' GROUP BY service")}
    assert counts["held-out-fixed"]["failed"] < counts["held-out-bare"]["failed"]
    assert counts["held-out-bare"]["fixed"] == 0 < counts["held-out-fixed"]["fixed"]


def test_short_small_4k_prompts_keep_their_model(proof):
    small = [c for c in proof["after"]["calls"] if c["model"] == "small-4k"]
    short = [c for c in small if c["category"] == "healthy"]
    big = [c for c in small if c["category"] == "context"]
    assert short and all(c["answered_by"] == "small-4k" for c in short if c["seen"] == "ok")
    assert big and all(c["answered_by"] == "large-128k" for c in big if c["seen"] == "ok")


PLUGIN_TEST = """
def test_learned_patterns_do_not_regress(arc_replay):
    report = arc_replay({cassette!r}, patterns={patterns!r})
    report.assert_no_regression()
    assert report.failed_after < report.failed_before
"""


def _pytest_with_plugin(tmp, base_url: str, patterns: str, name: str) -> subprocess.CompletedProcess:
    test_file = tmp / f"test_{name}.py"
    test_file.write_text(textwrap.dedent(PLUGIN_TEST.format(cassette=str(tmp / "first.jsonl"), patterns=patterns)))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file),
                           "--arc-replay-base-url", base_url], env=clean_env(), cwd=str(tmp),
                          capture_output=True, text=True, timeout=180)


def test_pytest_replay_plugin_passes_the_learned_set_and_fails_a_regression(proof):
    srv, tmp = proof["srv"], proof["tmp"]
    srv.configure(fail_rate=0.0)  # a replay that must be reproducible: no random 429s
    lines = (tmp / "calls.jsonl").read_text().splitlines(keepends=True)
    (tmp / "first.jsonl").write_text("".join(lines[:52]))  # 4 rounds' worth: every kind of call, fewer sends
    good = _pytest_with_plugin(tmp, srv.base_url, str(tmp / "bundle.json"), "good")
    assert good.returncode == 0, good.stdout + good.stderr
    bad_bundle = tmp / "bad.json"  # truncates every healthy gpt-4o-mini call
    bad_bundle.write_text(json.dumps({"patterns": [
        {"id": "too-short", "pattern": {"model": "gpt-4o-mini"}, "fix": {"max_tokens": 4}, "confidence": 0.9},
        *proof["bundle"]["patterns"]]}))
    bad = _pytest_with_plugin(tmp, srv.base_url, str(bad_bundle), "bad")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "regressed" in bad.stdout and "too-short" in bad.stdout


@pytest.mark.parametrize("command", [("learn", "patterns", "--out", "x.json"), ("train", "ui-policy")])
@pytest.mark.parametrize("since", ["soon", "3x", "7 days"])
def test_a_bad_since_is_a_usage_error_before_any_job_starts(tmp_path, command, since):
    """Both learning jobs read ``--since`` the same way; a bad one stops at the command line."""
    store = tmp_path / "store"
    proc = subprocess.run(arc_command(*command, "--store", str(store), "--since", since), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, env=clean_env())
    assert proc.returncode == 2, proc.stderr
    assert f"--since {since!r}" in proc.stderr and "Traceback" not in proc.stderr
    assert not store.exists()  # no job row written anywhere


def test_since_takes_plain_seconds_and_weeks():
    from arc_agent.collector.reader import since_seconds

    assert since_seconds("3600") == 3600 and since_seconds("2w") == 14 * 86400 and since_seconds("7d") == 604800


def test_a_verify_provider_that_never_answers_verifies_nothing(proof):
    """The same spans and cassette replayed against a port nobody listens on: no pattern is written as
    verified (every candidate was 'verified': a connection error differs from the recorded failure, so
    it counted as resolved), and the job says the replays got no answer."""
    from tests.helpers.ports import free_port

    tmp = proof["tmp"]
    out = run_json(arc_command("learn", "patterns", "--store", str(tmp / "store"), "--since", "1h",
                               "--capture", str(tmp / "calls.jsonl"), "--verify-base-url",
                               f"http://127.0.0.1:{free_port()}", "--num-cpus", "2", "--max-replays", "60",
                               "--out", str(tmp / "unverified.json")), clean_env(), timeout=600, instrument=False)
    assert out["verified"] == 0 and out["patterns"] == 0, out
    assert out["unanswered_replays"] == out["replays"] > 0, out
    assert "replays got no answer from http://127.0.0.1:" in out["_stderr"]
