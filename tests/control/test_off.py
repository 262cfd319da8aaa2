"""No ARC_CONTROL_ENDPOINT: no subscriber thread, no control code beyond the one-line check, and the
registry root stays ARC_REGISTRY / ~/.arc/registry."""

import json
import subprocess
import sys

from ..helpers.procs import ROOT, clean_env

PROBE = """
import json, sys, threading
from arc_agent.runtime import get_runtime
from arc_agent.registry import default_root
get_runtime().activate()
print(json.dumps({"threads": [t.name for t in threading.enumerate()], "root": default_root(),
                  "modules": sorted(m for m in sys.modules if m.startswith(("arc_agent.control", "cryptography")))}))
"""


def test_without_an_endpoint_nothing_starts(tmp_path):
    out = subprocess.run([sys.executable, "-c", PROBE], env=clean_env(HOME=str(tmp_path)), capture_output=True,
                         text=True, timeout=60, cwd=str(ROOT))
    info = json.loads(out.stdout.strip().splitlines()[-1])
    assert "arc-control" not in info["threads"]
    assert info["modules"] == ["arc_agent.control", "arc_agent.control.agent"]
    assert info["root"] == str(tmp_path / ".arc" / "registry")


def test_a_bad_url_option_is_named_as_the_option():
    """``arc registry ... --url`` / ``arc fleet --url`` with a typo: the error names ``--url`` (it named
    ARC_CONTROL_ENDPOINT, a variable the user had not set)."""
    from ..helpers.collector import arc_command

    for args in (["registry", "list", "--url", "notaurl"], ["fleet", "--url", "ftp://h:1"]):
        proc = subprocess.run(arc_command(*args), capture_output=True, text=True, timeout=60, cwd=str(ROOT),
                              env=clean_env())
        assert proc.returncode != 0 and "Traceback" not in proc.stderr
        assert f"--url={args[-1]!r}" in proc.stderr and "ARC_CONTROL_ENDPOINT" not in proc.stderr, proc.stderr
