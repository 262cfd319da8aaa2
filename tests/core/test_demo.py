"""The README's quickstart demo (``examples/demo.py``, what ``bash examples/demo.sh`` runs): it works,
says what the demo pattern really matches, and leaves no store behind."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers.procs import ROOT, clean_env

DEMO = ROOT / "arc_agent" / "data" / "patterns" / "demo.yaml"


def test_demo_runs_describes_its_pattern_and_cleans_up(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "demo.py")], capture_output=True, text=True,
                         timeout=300, cwd=str(ROOT), env=clean_env(TMPDIR=str(tmp_path)))
    assert out.returncode == 0, out.stdout + out.stderr
    assert ("pattern demo-high-temperature: model is gpt-4 or arc-demo and temperature > 0.9 -> "
            "set temperature 0.7") in out.stdout
    assert "arc-demo/gpt-4" not in out.stdout
    assert out.stdout.count("RESULT 5/5 JSON replies parsed") == 1  # under Arc; bare it breaks
    assert out.stdout.count('["demo-high-temperature"]') == 5  # step 3: the spans read back from the store
    assert "was removed; `--keep-store` keeps it" in out.stdout
    assert not list(tmp_path.glob("arc-demo-store-*"))


def test_the_demo_pattern_matches_what_the_demo_says(tmp_path):
    def applied(model: str) -> bool:
        req = tmp_path / "req.json"
        req.write_text(json.dumps({"model": model, "temperature": 0.95,
                                   "messages": [{"role": "user", "content": "hi"}]}))
        proc = subprocess.run([sys.executable, "-m", "arc_agent.cli", "patterns", "test", str(DEMO), "--request",
                               str(req), "--json"], capture_output=True, text=True, timeout=60, env=clean_env())
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)["changed"]

    assert applied("gpt-4") and applied("arc-demo")
    assert not applied("arc-demo/gpt-4")
