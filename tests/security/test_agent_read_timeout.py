"""§4 of issue 12, "read with a timeout": reading one bundle, compiled file, snapshot, golden file
or vision model file is bounded by ``ARC_READ_TIMEOUT_S``; past it the file is refused by name and
the previous set stays. A read that never returns is made with a real pipe nobody writes to (no
sleeps); a deadline of 0 makes the chunked check trip on real files."""

from __future__ import annotations

import json
import os
import threading

import pytest

from arc_agent.llm.request import from_openai_chat
from arc_agent.patterns import PatternEngine, bounded, compiled, snapshot
from arc_agent.patterns.bundle import BundleErrors
from arc_agent.patterns.errors import BundleError
from arc_agent.patterns.golden import load_cases
from arc_agent.vision.artifacts import ArtifactError, ArtifactSlot, read_artifact, write_artifact
from tests.security.test_agent_bundles import GOOD, alias_bomb, cli

LIMIT = "(ARC_READ_TIMEOUT_S)"
VIEW = from_openai_chat({"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]})


def test_a_read_that_never_returns_does_not_hang_the_caller():
    r, w = os.pipe()  # nobody writes until the caller has given up: the read cannot return before
    returned = threading.Event()

    def work(deadline):
        with os.fdopen(r, "rb", buffering=0) as fh:
            reader = bounded.DeadlineFile(fh, deadline)
            reader.read(1)
            returned.set()
            return reader.read(1)  # the deadline has passed by now: refused, not read

    with pytest.raises(BundleError) as refused:
        bounded.within_deadline("/nfs/hung/bundle.json", work, timeout=0.2)
    assert str(refused.value) == ("/nfs/hung/bundle.json: reading it took longer than the 0.2-second "
                                  f"limit {LIMIT}: refused")
    assert not returned.is_set()
    os.write(w, b"xy")  # the hung file system comes back: the worker ends and closes the file
    os.close(w)
    assert returned.wait(20)


def test_a_read_within_the_deadline_returns_its_result_or_its_error(tmp_path):
    path = tmp_path / "a.json"
    path.write_bytes(b"x" * 100_000)
    assert bounded.read_regular(str(path)) == path.read_bytes()
    with pytest.raises(BundleError, match="over the 10-byte limit"):
        bounded.read_regular(str(path), 10)


def test_a_zero_deadline_refuses_every_kind_of_pattern_file_by_name(tmp_path, monkeypatch):
    bundle = tmp_path / "a.json"
    bundle.write_text(json.dumps(GOOD))
    packed = tmp_path / "a.arcpatterns"
    compiled.compile_bundles([str(bundle)], str(packed))
    monkeypatch.setenv("ARC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ARC_READ_TIMEOUT_S", "0")
    for read in (bounded.read_regular, bounded.sha256_regular):
        with pytest.raises(BundleError, match=f"{bundle}: reading it took longer than the 0-second"):
            read(str(bundle))
    with pytest.raises(BundleErrors) as refused:
        compiled.read(str(packed))
    assert f"{packed}: reading it took longer" in str(refused.value) and LIMIT in str(refused.value)
    with pytest.raises(BundleError, match=f"{tmp_path / 'snap'}: reading it took longer"):
        (tmp_path / "snap").write_bytes(b"x" * 64)
        snapshot.read(str(tmp_path / "snap"), "key", [str(bundle)])


def test_hot_reload_past_the_deadline_keeps_the_previous_set(tmp_path, monkeypatch):
    folder = tmp_path / "bundles"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(GOOD))
    engine = PatternEngine([str(folder)], poll_interval=0)
    try:
        assert engine.fix(VIEW).kwargs["seed"] == 7
        (folder / "b.json").write_text(json.dumps({**GOOD, "name": "b", "patterns": []}))
        monkeypatch.setenv("ARC_READ_TIMEOUT_S", "0")
        errors = engine.reload()
        assert errors and LIMIT in engine.last_error and str(folder) in engine.last_error
        assert engine.fix(VIEW).kwargs["seed"] == 7  # the previous set stays active
        monkeypatch.setenv("ARC_READ_TIMEOUT_S", "30")
        assert engine.reload() == [] and engine.last_error is None
    finally:
        engine.stop()


def test_vision_artifacts_are_read_bounded_and_the_previous_one_stays(tmp_path, monkeypatch):
    directory = tmp_path / "model"
    write_artifact(str(directory), "model.onnx", b"one", "v1")
    slot = ArtifactSlot(lambda: str(directory), lambda manifest, data: data, "test", check_every_s=0)
    assert slot.get().value == b"one"
    monkeypatch.setenv("ARC_READ_TIMEOUT_S", "0")
    write_artifact(str(directory), "model.onnx", b"two", "v2")
    with pytest.raises(ArtifactError, match=f"{directory / 'manifest.json'}: reading it took longer"):
        read_artifact(str(directory))
    assert slot.get().value == b"one"
    monkeypatch.delenv("ARC_READ_TIMEOUT_S")
    (directory / "model.onnx").unlink()
    os.mkfifo(directory / "model.onnx")  # nobody writes to it: a plain open() would wait forever
    with pytest.raises(ArtifactError, match="model.onnx: is a FIFO, not a regular file"):
        read_artifact(str(directory))
    (directory / "model.onnx").unlink()
    os.symlink("/dev/zero", directory / "model.onnx")
    with pytest.raises(ArtifactError, match="model.onnx: is a character device"):
        read_artifact(str(directory))
    (directory / "manifest.json").write_text(" " * (2 << 20))
    with pytest.raises(ArtifactError, match="manifest.json: is 2097152 bytes, over the 1048576-byte limit"):
        read_artifact(str(directory))
    assert slot.get().value == b"one"


def test_golden_files_are_read_bounded_and_the_cli_names_them(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb())
    with pytest.raises(BundleError, match=f"{bomb}: not a valid golden cases file: .*alias"):
        load_cases(str(bomb))
    fifo = tmp_path / "cases.yaml"
    os.mkfifo(fifo)
    out = cli("golden", "--cases", str(fifo))
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert f"arc golden: {fifo}: is a FIFO, not a regular file" in out.stderr
    assert len(load_cases()) > 0  # the shipped file still loads
