"""``arc learn patterns`` names a mistyped option at once, before it mines anything: ``--since banana``
was reported as "bad TTL 'banana'" after mining started, and a missing ``--out`` folder or
``--capture`` file only after the mining finished."""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers.collector import arc_command
from tests.helpers.procs import ROOT, clean_env


@pytest.mark.parametrize("args,said", [
    (["--since", "banana"], "--since 'banana': expected a number of seconds or a number and a unit"),
    (["--ttl", "soon"], "--ttl 'soon': expected a number and a unit"),
    (["--out", "/nonexistent-arc-dir/b.json"], "--out /nonexistent-arc-dir/b.json: its folder /nonexistent-arc-dir"),
    (["--capture", "/nonexistent-arc-dir/c.jsonl", "--verify-base-url", "http://127.0.0.1:9"],
     "--capture /nonexistent-arc-dir/c.jsonl: no such cassette")], ids=["since", "ttl", "out", "capture"])
def test_a_bad_option_is_named_before_mining(tmp_path, args, said):
    out = ["--out", str(tmp_path / "b.json")] if "--out" not in args else []
    proc = subprocess.run(arc_command("learn", "patterns", "--store", str(tmp_path / "store"), *out, *args),
                          capture_output=True, text=True, timeout=120, cwd=str(ROOT), env=clean_env())
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert said in proc.stderr and "mining" not in proc.stderr


def test_a_url_no_collector_serves_is_named_as_such(tmp_path):
    """``--url`` with a typo said it could not find "the OTLP endpoint ... to record the job row"."""
    from tests.helpers.ports import free_port

    url = f"http://127.0.0.1:{free_port()}"
    proc = subprocess.run(arc_command("learn", "patterns", "--url", url, "--out", str(tmp_path / "b.json")),
                          capture_output=True, text=True, timeout=120, cwd=str(ROOT), env=clean_env())
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"no `arc collector` on this machine serves {url}" in proc.stderr
