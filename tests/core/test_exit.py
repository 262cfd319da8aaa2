"""With the collector unreachable (refused or silent), the app still exits within 2 s."""

import socket
import subprocess
import sys
import time

import pytest

from tests.helpers.procs import ARC_INSTRUMENT, clean_env

CODE = ("import os, time, openai; c = openai.OpenAI(api_key='k', base_url=os.environ['DEVLLM_URL'] + '/v1');"
        "[c.chat.completions.create(model='m', messages=[{'role': 'user', 'content': 'x'}]) for _ in range(20)];"
        "print(time.time(), flush=True)")


@pytest.fixture
def silent_port():
    """A TCP port that accepts connections and never answers (a black-holed collector)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock.getsockname()[1]
    sock.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_exit_is_bounded_with_unreachable_collector(devllm, silent_port, kind):
    port = silent_port if kind == "silent" else _free_port()
    env = clean_env(DEVLLM_URL=devllm.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=f"grpc://127.0.0.1:{port}")
    proc = subprocess.Popen([ARC_INSTRUMENT, sys.executable, "-c", CODE], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    last_line_at = float(proc.stdout.readline())
    proc.wait(timeout=30)
    exited_at = time.time()
    assert proc.returncode == 0, proc.stderr.read()
    assert exited_at - last_line_at < 2.0
    err = proc.stderr.read()
    assert f"127.0.0.1:{port}" in err and "lost" in err  # said clearly, once
    assert err.count("are lost") == 1
