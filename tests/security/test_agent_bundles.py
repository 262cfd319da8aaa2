"""§4 of issue 12: hostile bundle files are refused quickly, by name, without reading what is not
a regular file, and the previous pattern set stays active. Deadlines are joins/timeouts on real
threads and processes, never sleeps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from arc_agent.llm.request import from_openai_chat
from arc_agent.patterns import PatternEngine
from arc_agent.patterns.bundle import BundleErrors, load_layer
from tests.helpers.procs import ROOT, clean_env

DEADLINE_S = 20.0
VIEW = from_openai_chat({"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]})
GOOD = {"name": "good", "patterns": [{"id": "g", "pattern": {"model": "gpt-4"}, "fix": {"seed": 7}}]}


def alias_bomb(levels: int = 8, width: int = 9) -> str:
    """Each level is a list of ``width`` aliases of the level below: width**levels nodes when
    walked, a few hundred bytes on disk (the issue's 525-byte file)."""
    lines = ['a0: &a0 {model: "x"}']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    lines.append(f"patterns: [{{id: p, pattern: {{model: {{in: *a{levels}}}}}, fix: {{seed: 1}}}}]")
    return "\n".join(lines) + "\n"


def within_deadline(fn, *args):
    """``fn(*args)`` in a thread; its result or exception, failing the test if it is still
    running at the deadline."""
    out: dict = {}

    def run():
        try:
            out["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(DEADLINE_S)
    assert not thread.is_alive(), f"{fn.__name__} still running after {DEADLINE_S} s"
    return out


def refused(paths) -> str:
    out = within_deadline(load_layer, paths)
    assert isinstance(out.get("error"), BundleErrors), out
    return str(out["error"])


def cli(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "arc_agent.cli", *args], capture_output=True, text=True,
                          timeout=DEADLINE_S * 3, cwd=str(ROOT), env=env or clean_env())


def test_a_yaml_alias_bomb_is_refused_fast_and_by_name(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb())
    assert len(bomb.read_bytes()) < 600
    message = refused([str(bomb)])
    assert str(bomb) in message and "alias" in message
    ok = tmp_path / "fine.yaml"  # a few shared aliases stay allowed
    ok.write_text("fix: &f {seed: 1}\npatterns:\n" + "".join(
        f"  - {{id: p{i}, pattern: {{model: m{i}}}, fix: *f}}\n" for i in range(50)))
    layer, _ = load_layer([str(ok)])
    assert layer.n == 50


def test_recursive_alias_and_deep_yaml_are_refused(tmp_path):
    loop = tmp_path / "loop.yaml"
    loop.write_text("patterns: &p [{id: a, pattern: {model: x}, fix: {seed: 1}}, *p]\n")
    assert "recursive alias" in refused([str(loop)])
    deep = tmp_path / "deep.yaml"
    deep.write_text("patterns: [{id: a, pattern: {model: " + "[" * 5000 + "]" * 5000 + "}, fix: {seed: 1}}]\n")
    assert str(deep) in refused([str(deep)])
    block = tmp_path / "block.yaml"  # deep by indentation, not brackets
    block.write_text("patterns:\n" + "".join("  " * i + "- \n" for i in range(1, 300)))
    assert "nesting deeper than" in refused([str(block)])


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deep_json_is_refused_and_validate_reports_it(tmp_path, depth):
    deep = tmp_path / "deep.json"
    deep.write_text('{"patterns": [{"id": "a", "pattern": {"model": ' + "[" * depth + "]" * depth
                    + '}, "fix": {"seed": 1}}]}')
    assert "nested too deeply" in refused([str(deep)])
    out = cli("patterns", "validate", str(deep))
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert f"{deep}: invalid JSON: nested too deeply" in out.stderr or "nested too deeply" in out.stderr


def test_a_fifo_in_the_bundle_folder_is_refused_without_blocking(tmp_path):
    folder = tmp_path / "bundles"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(GOOD))
    fifo = folder / "b.yaml"
    os.mkfifo(fifo)  # nobody ever writes to it: a plain open() would wait forever
    message = refused([str(folder)])
    assert f"{fifo}: is a FIFO, not a regular file" in message
    assert "a FIFO" in refused([str(fifo)])  # named on its own too (was: "no such file")


def test_a_dev_zero_symlink_is_not_read(tmp_path):
    folder = tmp_path / "bundles"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(GOOD))
    os.symlink("/dev/zero", folder / "zero.json")
    assert "zero.json: is a character device, not a regular file" in refused([str(folder)])


def test_the_size_limit_is_configurable_and_named(tmp_path, monkeypatch):
    big = tmp_path / "big.json"
    big.write_text(json.dumps({**GOOD, "description_padding": "x" * 5000}))
    monkeypatch.setenv("ARC_PATTERNS_MAX_BYTES", "4096")
    assert "over the 4096-byte limit (ARC_PATTERNS_MAX_BYTES)" in refused([str(big)])
    monkeypatch.setenv("ARC_PATTERNS_MAX_BYTES", "1000000")
    assert load_layer([str(big)])[0].n == 1


def test_hot_reload_keeps_the_previous_set_on_each_hostile_change(tmp_path):
    folder = tmp_path / "bundles"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(GOOD))
    engine = PatternEngine([str(folder)], poll_interval=0)
    try:
        assert engine.fix(VIEW).kwargs["seed"] == 7
        hostile = [lambda: (folder / "bomb.yaml").write_text(alias_bomb()),
                   lambda: os.mkfifo(folder / "pipe.json"),
                   lambda: os.symlink("/dev/zero", folder / "zero.yml")]
        for make in hostile:
            for f in folder.iterdir():
                if f.name != "a.json":
                    f.unlink()
            make()
            errors = within_deadline(engine.reload)["value"]
            assert errors and engine.last_error
            assert engine.fix(VIEW).kwargs["seed"] == 7  # the previous set stays active
    finally:
        engine.stop()


def test_an_app_importing_openai_with_a_bomb_bundle_starts_at_once(tmp_path):
    """The issue's first reproduction: ``import openai`` under Arc loading a 525-byte bomb (33 s,
    4.7 GB before). The app runs; Arc logs the rejection naming the file."""
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb())
    env = clean_env(ARC_PATTERNS=str(bomb), ARC_ENDPOINT="grpc://127.0.0.1:9", ARC_EXPORT_TIMEOUT="0.1")
    instrument = os.path.join(os.path.dirname(sys.executable), "arc-instrument")
    proc = subprocess.run([instrument, sys.executable, "-c", "import openai; print('ran')"],
                          capture_output=True, text=True, timeout=DEADLINE_S, cwd=str(ROOT), env=env)
    assert proc.returncode == 0 and proc.stdout.strip() == "ran", proc.stderr
    assert "pattern bundle rejected" in proc.stderr and str(bomb) in proc.stderr


def test_patterns_cli_reports_hostile_files_without_a_traceback(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb())
    fifo = tmp_path / "req.json"
    os.mkfifo(fifo)
    out = cli("patterns", "validate", str(bomb))
    assert out.returncode == 1 and "Traceback" not in out.stderr and "alias" in out.stderr, out.stderr
    out = cli("patterns", "validate", "--json", str(bomb))
    assert out.returncode == 1 and json.loads(out.stdout)["errors"][0]["file"] == str(bomb)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD))
    out = cli("patterns", "test", str(good), "--request", str(fifo))
    assert out.returncode != 0 and "a FIFO" in out.stderr and "Traceback" not in out.stderr, out.stderr
