"""``arc train ui-policy`` refuses a user mistake before it starts Ray or reads the store: a usage
error (exit 2) naming the option, not a traceback minutes into training."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.helpers.collector import arc_command
from tests.helpers.procs import ROOT, clean_env

pytest.importorskip("torch")
pytest.importorskip("ray")


def _train(tmp_path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(arc_command("train", "ui-policy", "--store", str(tmp_path / "no-store"), *options),
                          env=clean_env(), capture_output=True, text=True, timeout=60, cwd=str(ROOT))


@pytest.mark.parametrize("options, message", [
    (("--chromium", "/nonexistent/chromium"),
     "--chromium: no Chromium at /nonexistent/chromium (the replays run in it: apt-get install chromium, "
     "or --chromium PATH)"),
    (("--publish", "--name", "Bad/Name"), "--name: bad artifact name 'Bad/Name'"),
    (("--since", "soon"), "--since 'soon': expected a number of seconds or a number and a unit s/m/h/d/w, e.g. 7d"),
    ((), "no-store: no such folder (the store `arc collector --store` writes)"),
])
def test_mistake_is_a_usage_error_before_anything_runs(tmp_path, options, message):
    proc = _train(tmp_path, *options)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and "job row" not in proc.stderr  # nothing was started


def test_policy_compare_bad_since_is_a_usage_error(tmp_path):
    proc = subprocess.run(arc_command("policy", "compare", "--store", str(tmp_path), "--since", "soon"),
                          env=clean_env(), capture_output=True, text=True, timeout=60, cwd=str(ROOT))
    assert (proc.returncode, proc.stderr.strip()) == (
        2, "arc policy compare: --since 'soon': expected a number of seconds or a number and a unit s/m/h/d/w, e.g. 7d")


def test_help_gives_the_defaults_the_readme_uses():
    out = subprocess.run(arc_command("train", "ui-policy", "--help"), env=clean_env(), capture_output=True,
                         text=True, timeout=60, cwd=str(ROOT)).stdout
    options = " ".join(out.split("\noptions:", 1)[1].split())
    for option, default in (("--iterations", "10"), ("--group", "8"), ("--workers", "2"), ("--lam", "0.5"),
                            ("--lr", "0.01"), ("--name", "ui-policy"), ("--chromium", "/usr/bin/chromium")):
        own_help = options.split(f" {option} ", 1)[1].split(" --", 1)[0]
        assert f"default {default}" in own_help, (option, own_help)


def test_chromium_by_name_on_path_is_accepted(tmp_path, monkeypatch):
    from training_ray.ui_policy import parse_args

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    (tmp_path / "store").mkdir()
    args = parse_args(["--store", str(tmp_path / "store"), "--chromium", "chromium"])
    assert os.path.isabs(args.chromium) and os.path.samefile(args.chromium, "/usr/bin/chromium")
