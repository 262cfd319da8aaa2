"""A fork never cuts one of Arc's background imports in half (``arc_agent/forkgate.py``).

Real processes and a real ``os.fork``: a module whose import blocks on a pipe stands for a slow
package (numpy, grpc). The fork waits for that one import and the child gets the whole module; past
the bound the fork goes ahead and the child knows what was cut (counted)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers.procs import ROOT, clean_env

APP = """
import json, os, sys, threading
sys.path.insert(0, sys.argv[1])
from arc_agent import failopen, forkgate
if len(sys.argv) > 2:
    forkgate.FORK_WAIT_S = float(sys.argv[2])
started_r, started_w = os.pipe()
release_r, release_w = os.pipe()
os.environ["SLOW_STARTED"], os.environ["SLOW_RELEASE"] = str(started_w), str(release_r)
importer = threading.Thread(target=forkgate.import_module, args=("slowmod",))
importer.start()
os.read(started_r, 1)  # the import is under way (and holds the gate)
if len(sys.argv) == 2:  # release the import from the fork's first before-hook: the gate must wait for it
    os.register_at_fork(before=lambda: os.write(release_w, b"x"))
pid = os.fork()
if pid == 0:
    slow = sys.modules.get("slowmod")
    print(json.dumps({"whole": getattr(slow, "DONE", False), "cut": forkgate.cut_at_fork(),
                      "counted": failopen.counts().get("fork_cut_import", 0)}), flush=True)
    os._exit(0)
os.write(release_w, b"x")
importer.join()
_, status = os.waitpid(pid, 0)
"""

SLOW_MODULE = """
import os
os.write(int(os.environ["SLOW_STARTED"]), b"s")
os.read(int(os.environ["SLOW_RELEASE"]), 1)
DONE = True
"""


def run_app(tmp_path, *args: str) -> dict:
    (tmp_path / "slowmod.py").write_text(SLOW_MODULE)
    proc = subprocess.run([sys.executable, "-c", APP, str(tmp_path), *args], env=clean_env(), cwd=str(ROOT),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_fork_waits_for_the_background_import_in_progress(tmp_path):
    assert run_app(tmp_path) == {"whole": True, "cut": None, "counted": 0}


def test_a_fork_past_the_bound_goes_ahead_and_the_child_knows_what_was_cut(tmp_path):
    assert run_app(tmp_path, "0.05") == {"whole": False, "cut": "slowmod", "counted": 1}
