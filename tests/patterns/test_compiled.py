"""Compiled pattern files (``arc patterns compile``): the same verdicts as their bundles, damaged or
foreign files refused with a message naming the problem (the previous set stays), hot reload of a
compiled file is a swap, a registry artifact works, and the compile command's errors are clear."""

from __future__ import annotations

import json
import logging
import os
import subprocess

import pytest

from arc_agent.llm.request import from_openai_chat
from arc_agent.patterns import PatternEngine, compiled, sets
from arc_agent.patterns.bundle import BundleErrors
from arc_agent.registry import Registry
from tests.helpers.collector import arc_command

from .test_snapshot import requests, write_mix

FIX = {"seed": 7}


def compile_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(arc_command("patterns", "compile", *args), capture_output=True, text=True, timeout=120)


def verdicts(engine: PatternEngine, views: list) -> list:
    out = []
    for view in views:
        outcome = engine.fix(view)
        attrs = dict(outcome.attributes) if outcome is not None else {}
        attrs.pop("arc.pattern.lookup_us", None)
        out.append((attrs, outcome.kwargs if outcome is not None else None))
    return out


def one_pattern_bundle(path, seed: int, pid: str = "p") -> str:
    path.write_text(json.dumps({"name": "one", "version": seed, "patterns": [
        {"id": pid, "pattern": {"model": "gpt-4"}, "fix": {"seed": seed}}]}))
    return str(path)


@pytest.fixture(scope="module")
def mix(tmp_path_factory):
    """A 1.5k-pattern bundle of every condition kind and its compiled form (by the CLI)."""
    folder = tmp_path_factory.mktemp("mix")
    source = write_mix(folder / "mix.json")
    target = str(folder / "mix.arcpatterns")
    proc = compile_cli(source, "-o", target)
    assert proc.returncode == 0, proc.stderr
    assert "compiled 1507 pattern(s) from 1 bundle file(s)" in proc.stdout
    return source, target


def test_a_compiled_file_gives_the_bundles_verdicts(mix):
    source, target = mix
    views = requests()
    a, b = PatternEngine([source], poll_interval=0), PatternEngine([target], poll_interval=0)
    assert verdicts(a, views) == verdicts(b, views)
    assert b.stats()["patterns"] == 1507 and b.stats()["bundles"][0]["name"] == "mix"
    assert any(kw is not None for _, kw in verdicts(b, views))  # the comparison saw fixes


def test_compiled_files_mix_with_bundles_and_ids_stay_unique(mix, tmp_path):
    _, target = mix
    extra = one_pattern_bundle(tmp_path / "extra.json", 3, pid="extra-1")
    engine = PatternEngine([target, extra], poll_interval=0)
    assert engine.stats()["patterns"] == 1508
    clash = one_pattern_bundle(tmp_path / "clash.json", 3, pid="p5")
    assert engine.load([clash]) != []
    assert "duplicate id (already used in " in engine.last_error and "'p5'" in engine.last_error
    assert engine.stats()["patterns"] == 1508  # the previous set stays


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "format", "not compiled"])
def test_a_damaged_or_foreign_compiled_file_is_refused_and_the_old_set_stays(mix, tmp_path, damage):
    _, target = mix
    data = bytearray(open(target, "rb").read())
    bad = tmp_path / "bad.arcpatterns"
    if damage == "truncated":
        data = data[:len(data) // 2]
    elif damage == "flipped byte":
        data[len(data) // 2] ^= 0xFF
    elif damage == "format":
        data = data.replace(b'"format": 1', b'"format": 9', 1)
    else:
        data = b"ARC-PATTERNS-SNAPSHOT\n" + data[len(compiled.MAGIC):]
    bad.write_bytes(bytes(data))
    engine = PatternEngine([one_pattern_bundle(tmp_path / "ok.json", 5)], poll_interval=0)
    errors = engine.load([str(bad)], replace=True)
    message = str(errors[0]) if errors else ""
    expected = {"truncated": "truncated", "flipped byte": "checksum mismatch", "format": "format 9",
                "not compiled": "not a valid compiled pattern file"}[damage]
    assert expected in message and str(bad) in message, message
    assert engine.stats()["patterns"] == 1  # still the old set


def test_hot_reload_of_a_compiled_file_is_a_swap(tmp_path):
    target = str(tmp_path / "live.arcpatterns")
    compiled.compile_bundles([one_pattern_bundle(tmp_path / "a.json", 11)], target)
    engine = PatternEngine([target], poll_interval=0)
    view_gpt4 = from_openai_chat({"model": "gpt-4", "messages": []})
    assert engine.fix(view_gpt4).kwargs["seed"] == 11
    snap_before = engine._snap
    compiled.compile_bundles([one_pattern_bundle(tmp_path / "b.json", 22)], target)  # atomic replace
    assert engine.reload() == []
    assert engine.fix(view_gpt4).kwargs["seed"] == 22
    assert snap_before.layers[0].n == 1 and engine._snap is not snap_before  # a new set, swapped in
    (tmp_path / "bad.bin").write_bytes(b"garbage")
    os.replace(tmp_path / "bad.bin", target)
    assert engine.reload() != []
    assert engine.fix(view_gpt4).kwargs["seed"] == 22  # a bad update keeps the set


def test_a_compiled_artifact_from_the_registry_loads(tmp_path, monkeypatch):
    target = str(tmp_path / "fixes.arcpatterns")
    compiled.compile_bundles([one_pattern_bundle(tmp_path / "a.json", 33)], target)
    registry = Registry(str(tmp_path / "registry"))
    registry.publish("patterns", "fixes", target, channel="stable")
    monkeypatch.setenv("ARC_REGISTRY", registry.root)
    engine = PatternEngine.from_env({"ARC_PATTERNS": "registry:fixes", "ARC_PATTERNS_POLL": "0",
                                     "ARC_PATTERNS_SNAPSHOT": "off"})
    assert engine.last_error is None and engine.stats()["patterns"] == 1
    assert engine.stats()["bundles"][0]["name"] == "one"


def test_a_big_source_set_is_told_once_to_compile(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(sets, "BIG_SOURCE", 1000)
    source = write_mix(tmp_path / "big.json")
    engine = PatternEngine(poll_interval=0, snapshot=None)
    with caplog.at_level(logging.WARNING, logger="arc"):
        assert engine.load([source]) == []
        assert engine.reload() == []
    assert caplog.text.count("compile them ahead of time with `arc patterns compile") == 1


def test_compile_errors_are_clear(tmp_path, mix):
    source, target = mix
    out = tmp_path / "out.arcpatterns"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"patterns": [{"pattern": {"temperature": {"~~": 1}}, "fix": {"seed": 1}}]}))
    cases = [
        ([str(tmp_path / "missing.json"), "-o", str(out)], "missing.json: no such file or directory"),
        ([str(bad), "-o", str(out)], "bad.json: pattern #0"),
        ([target, "-o", str(out)], "is already a compiled pattern file"),
        ([source, "-o", str(tmp_path)], "is a directory"),
        ([source, "-o", str(tmp_path / "nowhere" / "x.arcpatterns")], "does not exist"),
        ([source, "-o", source], "would overwrite one of the bundles"),
    ]
    for args, expected in cases:
        proc = compile_cli(*args)
        assert proc.returncode == 1 and expected in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert not out.exists()
    proc = compile_cli(str(bad), "-o", str(out))
    assert "not compiled: 1 problem(s) found" in proc.stderr


def test_validate_reads_compiled_files(mix):
    _, target = mix
    proc = subprocess.run(arc_command("patterns", "validate", target), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "1507 pattern(s) (mix@2)" in proc.stdout, proc.stderr


def test_compiled_read_refuses_what_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "fifo.arcpatterns"
    os.mkfifo(fifo)
    with pytest.raises(BundleErrors, match="FIFO"):
        compiled.read(str(fifo))


def test_a_compiled_file_carrying_other_objects_is_refused(tmp_path):
    """A well-formed file (right sha256) whose equality values are not plain values (here a code
    object, which marshal can carry) is refused before anything is indexed."""
    import hashlib
    import marshal

    from arc_agent.patterns.bundle import load_layer
    from arc_agent.patterns.snapshot import write_container

    layer, infos = load_layer([one_pattern_bundle(tmp_path / "a.json", 1)])
    parts = layer.parts
    parts.elements = marshal.dumps([("model", compile("1", "x", "eval"))])
    forged = str(tmp_path / "forged.arcpatterns")
    write_container(forged, compiled.MAGIC, {"format": compiled.FORMAT, "marshal": marshal.version}, parts, infos,
                    hashlib.sha256())
    with pytest.raises(BundleErrors, match="an equality value of type code"):
        compiled.read(forged)
