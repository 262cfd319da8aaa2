"""``arc dev-llm`` as a real child process: port discovery, env/flag settings, clean stop, errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import openai
import pytest

from arc_agent.devllm import DevLLMProcess, DevLLMServer

from .conftest import user


def _arc(*args, env=None):
    return subprocess.run([sys.executable, "-m", "arc_agent.cli", *args], capture_output=True, text=True,
                          timeout=30, env={**os.environ, **(env or {})})


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_child_process_serves_reports_its_port_and_stops_on_sigterm():
    with DevLLMProcess("--fail-status", "429", env={**os.environ, "ARC_DEVLLM_FAIL_RATE": "0.5"}) as proc:
        assert proc.output[0].startswith("dev-llm listening on http://127.0.0.1:")
        port = int(proc.base_url.rsplit(":", 1)[1])
        client = openai.OpenAI(base_url=proc.openai_base_url, api_key="k", max_retries=0)
        assert client.chat.completions.create(model="arc-demo", messages=user("x")).choices
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="arc-demo", messages=user("x"))
        assert [r["status"] for r in proc.requests()] == [200, 429]
        assert proc.health()["config"]["fail_rate"] == 0.5
        client.close()
        code = proc.stop()
    assert code == 0 and _refused(port)


def test_help_lists_the_flags():
    out = _arc("dev-llm", "--help")
    assert out.returncode == 0
    for flag in ("--host", "--port", "--fail-rate", "--fail-status", "--delay-ms", "X-Dev-LLM-Fail"):
        assert flag in out.stdout


def test_bad_settings_exit_2_with_a_clear_message():
    out = _arc("dev-llm", "--port", "0", "--fail-rate", "2")
    assert out.returncode == 2 and "fail_rate must be within 0..1" in out.stderr
    out = _arc("dev-llm", "--port", "0", env={"ARC_DEVLLM_FAIL_STATUS": "abc"})
    assert out.returncode == 2 and "ARC_DEVLLM" in out.stderr and "fail_status" in out.stderr


def test_busy_port_exits_1():
    with DevLLMServer() as busy:
        out = _arc("dev-llm", "--port", str(busy.port))
    assert out.returncode == 1 and "cannot listen" in out.stderr


def test_in_process_stop_ends_open_connections_and_pending_delays():
    srv = DevLLMServer().start()
    client = openai.OpenAI(base_url=srv.openai_base_url, api_key="k", max_retries=0)
    client.models.list()  # leaves a keep-alive connection open in the client's pool
    port = srv.port
    srv.stop()
    assert _refused(port)
    with pytest.raises(openai.APIConnectionError):
        client.models.list()
    srv.stop()  # idempotent
