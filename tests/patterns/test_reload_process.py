"""Big hot reloads are built by a child Python process (``rebuild.py``): same patterns and verdicts
as an in-process load, the same errors for a bad edit, and an in-process reload whenever no
child can do it."""

import json
import logging
import os
import random

import pytest

from arc_agent.llm.request import from_openai_chat
from arc_agent.patterns import PatternEngine, rebuild
from arc_agent.patterns.snapshot import SnapshotPolicy

from .test_bulk import mixed_records, verdicts
from .test_index import random_request


@pytest.fixture
def every_reload_is_big(monkeypatch):
    monkeypatch.setattr(rebuild, "MIN_BYTES", 0)
    monkeypatch.delenv("ARC_PATTERNS_PROCESS", raising=False)


def views(seed=6, n=200):
    rng = random.Random(seed)
    return [from_openai_chat(random_request(rng)) for _ in range(n)]


def write_records(path, records, version=1):
    path.write_text(json.dumps({"version": version, "name": "big", "patterns": records}))


def test_a_reload_built_by_a_child_gives_the_same_set(tmp_path, every_reload_is_big):
    path = tmp_path / "b.json"
    write_records(path, mixed_records(n=400, seed=1))
    engine = PatternEngine([str(path)], poll_interval=0, snapshot=SnapshotPolicy(enabled=False))
    assert engine.load_mode == "in_process"
    records = mixed_records(n=600, seed=2)
    write_records(path, records, version=2)
    assert engine.reload() == []
    assert engine.load_mode == "helper_process"
    assert engine.stats()["patterns"] == len(records) and engine.stats()["bundle_version"] == "big@2"
    fresh = PatternEngine([str(path)], poll_interval=0, snapshot=SnapshotPolicy(enabled=False))
    assert fresh.load_mode == "in_process"
    vs = views()
    assert verdicts(engine, vs) == verdicts(fresh, vs)
    assert sum(bool(trace) for trace, _ in verdicts(engine, vs)) > 20
    assert not [p for p in os.listdir(tmp_path) if p != "b.json"]  # snapshots off: nothing left behind


def test_the_childs_snapshot_serves_the_next_start(tmp_path, every_reload_is_big):
    path = tmp_path / "b.json"
    write_records(path, mixed_records(n=300, seed=1))
    policy = SnapshotPolicy(directory=str(tmp_path / "snaps"), min_patterns=10**9)  # no start writes one
    engine = PatternEngine([str(path)], poll_interval=0, snapshot=policy)
    assert not os.path.exists(tmp_path / "snaps")
    write_records(path, mixed_records(n=500, seed=4), version=2)
    assert engine.reload() == [] and engine.load_mode == "helper_process"
    (snap,) = os.listdir(tmp_path / "snaps")
    assert os.stat(tmp_path / "snaps" / snap).st_size > 0
    restarted = PatternEngine([str(path)], poll_interval=0, snapshot=policy)
    vs = views(seed=9)
    assert verdicts(restarted, vs) == verdicts(engine, vs)


def test_errors_found_by_the_child_reject_the_reload_like_in_process(tmp_path, every_reload_is_big):
    path = tmp_path / "b.json"
    good = mixed_records(n=200, seed=1)
    write_records(path, good)
    engine = PatternEngine([str(path)], poll_interval=0, snapshot=SnapshotPolicy(enabled=False))
    edits = [[{"id": "rx", "pattern": {"prompt": {"regex": "(unclosed"}}, "fix": {"seed": 1}}],
             [{"id": "p3", "pattern": {"model": "x"}, "fix": {"seed": 1}}]]  # a duplicate id
    problems = []
    for version, extra in enumerate(edits, start=2):
        write_records(path, good + extra, version=version)
        errors = engine.reload()
        assert engine.load_mode == "in_process"  # still the first load's
        in_process = PatternEngine(poll_interval=0, snapshot=SnapshotPolicy(enabled=False)).load([str(path)])
        assert [str(e) for e in errors] == [str(e) for e in in_process] and len(errors) == 1
        assert errors[0].pattern_id == extra[0]["id"] and errors[0].file == str(path)
        assert engine.stats()["patterns"] == len(good) and engine.stats()["bundle_version"] == "big@1"
        problems.append(errors[0].problem)
    assert "invalid regex" in problems[0] and "duplicate id" in problems[1]

@pytest.mark.parametrize("why", ["no interpreter", "child crashes", "switched off"])
def test_without_a_working_child_the_reload_is_in_process(tmp_path, every_reload_is_big, monkeypatch, caplog,
                                                          why):
    path = tmp_path / "b.json"
    write_records(path, mixed_records(n=100, seed=1))
    engine = PatternEngine([str(path)], poll_interval=0, snapshot=SnapshotPolicy(enabled=False))
    if why == "no interpreter":  # e.g. an app embedding Python: sys.executable is not python
        monkeypatch.setattr("sys.executable", str(tmp_path / "uwsgi"))
    elif why == "child crashes":
        monkeypatch.setattr(rebuild, "_CHILD", "import os; os.abort()")
    else:
        monkeypatch.setenv("ARC_PATTERNS_PROCESS", "0")
    records = mixed_records(n=150, seed=3)
    write_records(path, records, version=2)
    with caplog.at_level(logging.WARNING, logger="arc"):
        assert engine.reload() == []
    assert engine.load_mode == "in_process" and engine.stats()["patterns"] == len(records)
    crashed = [r for r in caplog.records if "helper process failed" in r.getMessage()]
    assert bool(crashed) == (why == "child crashes")
