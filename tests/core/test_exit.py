"""With the collector unreachable (refused or silent), the app still exits within its flush bound
(``ARC_SHUTDOWN_FLUSH_MS``, 1 s here) + 0.5 s beyond the time the same app takes to exit without Arc
(measured in the same test: on a loaded machine the interpreter's own final GC alone can take seconds)."""

import subprocess
import sys
import time

import pytest

from tests.helpers.ports import free_port
from tests.helpers.procs import ARC_INSTRUMENT, clean_env

CODE = ("import os, time, openai; c = openai.OpenAI(api_key='k', base_url=os.environ['DEVLLM_URL'] + '/v1');"
        "[c.chat.completions.create(model='m', messages=[{'role': 'user', 'content': 'x'}]) for _ in range(20)];"
        "print(time.time(), flush=True)")


def _exit_seconds(env: dict) -> tuple:
    """(seconds from the app's last line to its exit, process) of one run of CODE."""
    proc = subprocess.Popen([ARC_INSTRUMENT, sys.executable, "-c", CODE], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    last_line_at = float(proc.stdout.readline())
    proc.wait(timeout=30)
    return time.time() - last_line_at, proc


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_exit_is_bounded_with_unreachable_collector(devllm, silent_port, kind):
    port = silent_port if kind == "silent" else free_port()
    env = clean_env(DEVLLM_URL=devllm.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=f"grpc://127.0.0.1:{port}",
                    ARC_SHUTDOWN_FLUSH_MS="1000")
    bare, _ = _exit_seconds({**env, "ARC_DISABLE": "1"})
    took, proc = _exit_seconds(env)
    assert proc.returncode == 0, proc.stderr.read()
    assert took < bare + 1.0 + 0.5, (took, bare)
    err = proc.stderr.read()
    assert f"127.0.0.1:{port}" in err and "lost" in err  # said clearly, once
    assert err.count("are lost") == 1
