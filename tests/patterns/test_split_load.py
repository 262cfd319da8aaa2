"""A big JSON bundle is loaded in two halves at once, the second by a helper process
(``split_load``): the same patterns, ids, metadata and verdicts as a whole load; anything odd
(an error, a cut in the wrong place, a failing helper) falls back to the whole-file path."""

import json
import logging
import random

import pytest

from arc_agent.llm.request import from_openai_chat
from arc_agent.patterns import PatternEngine, split_load
from arc_agent.patterns.snapshot import SnapshotPolicy

from .test_bulk import mixed_records, verdicts
from .test_index import random_request

OFF = SnapshotPolicy(enabled=False)


@pytest.fixture
def split_everything(monkeypatch):
    monkeypatch.setattr(split_load, "MIN_BYTES", 0)
    monkeypatch.delenv("ARC_PATTERNS_PROCESS", raising=False)


def load(path, monkeypatch, halves=True):
    """(engine, whether the file was loaded in halves)."""
    monkeypatch.setenv("ARC_PATTERNS_PROCESS", "1" if halves else "0")
    before = split_load.HALVES_LOADED[0]
    engine = PatternEngine([str(path)], poll_interval=0, snapshot=OFF)
    return engine, split_load.HALVES_LOADED[0] - before == 1


def same_sets(a, b, seed=6):
    rng = random.Random(seed)
    views = [from_openai_chat(random_request(rng)) for _ in range(250)]
    got = verdicts(a, views)
    assert got == verdicts(b, views)
    assert sum(bool(trace) for trace, _ in got) > 20
    sa, sb = a.stats(), b.stats()
    assert sa["patterns"] == sb["patterns"] and sa["bundle_version"] == sb["bundle_version"]
    assert sa["bundles"] == sb["bundles"]  # name, version, created_at, count, sha256


def test_halves_load_the_same_set_as_a_whole_load(tmp_path, monkeypatch, split_everything):
    records = mixed_records(n=3000, seed=5)
    for r in records[::7]:
        del r["id"]  # default ids name#index, counted across both halves
    path = tmp_path / "b.json"
    # metadata after the records, pretty-printed: the cut and the merge must not care
    path.write_text("{\n  \"patterns\": [\n    " + ",\n    ".join(json.dumps(r) for r in records)
                    + "\n  ],\n  \"name\": \"late\", \"version\": 7, \"created_at\": \"2026-11-22\"\n}\n")
    halves, split = load(path, monkeypatch)
    whole, not_split = load(path, monkeypatch, halves=False)
    assert split and not not_split
    same_sets(halves, whole)
    assert halves.stats()["bundle_version"] == "late@7"
    assert halves._snap.layers[0].ids.get(len(records) - 1) == whole._snap.layers[0].ids.get(len(records) - 1)
    assert halves._snap.layers[0].ids.find("late#2996") is not None


def test_a_helper_that_fails_leaves_the_second_half_to_the_app(tmp_path, monkeypatch, split_everything, caplog):
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"version": 1, "name": "n", "patterns": mixed_records(n=1500, seed=2)}))
    whole, _ = load(path, monkeypatch, halves=False)
    monkeypatch.setattr(split_load, "_CHILD", "import os; os.abort()")
    with caplog.at_level(logging.WARNING, logger="arc"):
        halves, split = load(path, monkeypatch)
    assert split and any("helper process failed" in r.getMessage() for r in caplog.records)
    same_sets(halves, whole)


def test_a_compact_file_starting_with_its_patterns_is_split(tmp_path, monkeypatch, split_everything):
    records = mixed_records(n=1500, seed=4)
    path = tmp_path / "b.json"  # starts with the very bytes that open a second half
    path.write_text(json.dumps({"patterns": records, "name": "c"}, separators=(",", ":")))
    halves, split = load(path, monkeypatch)
    whole, _ = load(path, monkeypatch, halves=False)
    assert split
    same_sets(halves, whole)


@pytest.mark.parametrize("oddity", ["error in second half", "error in first half", "cut inside a string",
                                    "patterns key twice", "patterns key twice, escaped",
                                    "cut in another list of records", "form feed between records"])
def test_odd_files_are_loaded_whole(tmp_path, monkeypatch, split_everything, oddity):
    records = mixed_records(n=1200, seed=3)
    if oddity == "error in second half":
        records[-5]["pattern"] = {"temperature": {"~": 1}}
    elif oddity == "error in first half":
        records[3]["fix"] = {"stream": True}
    elif oddity == "cut inside a string":  # the first separator past the cut point is in a description
        for r in records:
            r["description"] = "a } , { b" * 20
    text = json.dumps({"version": 1, "name": "n", "patterns": records})
    if oddity.startswith("patterns key twice"):  # a whole decode keeps the last list only
        key = '"p\\u0061tterns"' if oddity.endswith("escaped") else '"patterns"'
        text = text[:-1] + f", {key}: " + json.dumps(records[:10]) + "}"
    elif oddity == "cut in another list of records":  # a list a whole decode ignores takes the cut point
        records, disabled = records[:300], records[300:]
        text = json.dumps({"version": 1, "name": "n", "patterns": records, "disabled": disabled})
    elif oddity == "form feed between records":  # not JSON whitespace: the file does not parse
        at = text.index('}, {"', int(len(text) * split_load.HEAD_SHARE))  # where the cut would be
        text = text[:at] + "}\f" + text[at + 1:]
    path = tmp_path / "b.json"
    path.write_text(text)
    engine, split = load(path, monkeypatch)
    assert not split
    whole, _ = load(path, monkeypatch, halves=False)
    if oddity.startswith("error"):
        assert engine.last_error == whole.last_error and "pattern #" in engine.last_error
    elif oddity == "form feed between records":
        assert engine.last_error == whole.last_error and engine.stats()["patterns"] == 0
    elif oddity.startswith("patterns key twice"):
        assert engine.stats()["patterns"] == whole.stats()["patterns"] == 10
    else:
        assert engine.stats()["patterns"] == len(records)
        same_sets(engine, whole)
