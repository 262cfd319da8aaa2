"""The checked-in generated code is exactly what the pinned grpcio-tools makes of the .proto."""

import subprocess
import sys

from ..helpers.procs import ROOT


def test_checked_in_code_matches_the_proto():
    proc = subprocess.run([sys.executable, "proto/generate.py", "--check"], cwd=str(ROOT), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "up to date" in proc.stdout
