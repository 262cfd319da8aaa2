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


def test_wait_ms_waits_for_the_control_servers_first_delivery(fleet):
    """A fresh agent (empty mirror) following ``registry:fixes`` through a control server that comes up
    after the app started: with ARC_PATTERNS_WAIT_MS its first call waits for the first version the
    server delivers. It went out unfixed: the empty mirror's "channel not set" ended the wait at once."""
    from arc_agent.devllm import DevLLMServer

    from ..helpers.ports import free_port
    from ..helpers.procs import ARC_INSTRUMENT

    fleet.publish(7)
    fleet.port = free_port()
    code = ("import os, openai; c = openai.OpenAI(base_url=os.environ['DEVLLM_URL'] + '/v1', api_key='x', "
            "max_retries=0); print('calling', flush=True); "
            "c.chat.completions.create(model='gpt-4', messages=[{'role': 'user', 'content': 'hi'}])")
    with DevLLMServer(port=0) as srv:
        env = fleet.agent_env("fresh", ARC_PATTERNS_WAIT_MS="30000", DEVLLM_URL=srv.base_url,
                              OTEL_TRACES_EXPORTER="none")
        app = subprocess.Popen([ARC_INSTRUMENT, sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=str(ROOT))
        fleet.procs.append(app)
        assert app.stdout.readline().strip() == "calling"  # the first call is under way: now the server
        fleet.serve()
        _, err = app.communicate(timeout=120)
        assert app.returncode == 0, err
        sent = [r["body"] for r in srv.requests("/v1/chat/completions")]
    assert [b.get("seed") for b in sent] == [7], err
