"""Idle and slow clients cannot grow a listening process's threads: the agent's metrics endpoint
(inside the app) and the collector's query endpoint serve a bounded number of connections, answer
503 beyond it, and close connections that stay silent."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from arc_agent.collector import http_query
from arc_agent.telemetry import metrics
from tests.helpers.collector import CollectorProcess, arc_command
from tests.helpers.ports import free_port
from tests.helpers.procs import ARC_INSTRUMENT, ROOT, clean_env

SLOW_CLIENTS = 150
APP = "import openai, sys; print('ready', flush=True); sys.stdin.read()"


def _threads(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("Threads:"))


def _get(url: str, headers: dict | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _wait(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return predicate()


def _slow_clients(port: int, count: int) -> list:
    """``count`` connections that each send half a request line and then nothing (slowloris)."""
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n")
        socks.append(s)
    return socks


def _answered_busy(socks: list) -> int:
    """How many of ``socks`` the server turned away: a 503, or closed (each read without blocking)."""
    busy = 0
    for s in socks:
        s.setblocking(False)
        try:
            data = s.recv(4096, socket.MSG_PEEK)
        except BlockingIOError:
            continue
        except OSError:  # reset by the server
            data = b""
        busy += data == b"" or data.startswith(b"HTTP/1.1 503")
    return busy


def _flood(pid: int, port: int, max_connections: int, slack: int) -> None:
    """SLOW_CLIENTS slowloris connections to ``port``: all but ``max_connections`` are turned away and
    the serving process grows by at most that many threads (+ ``slack``); then they all leave."""
    before = _threads(pid)
    socks = _slow_clients(port, SLOW_CLIENTS)
    try:
        expected_busy = SLOW_CLIENTS - max_connections
        busy = _wait(lambda: (n := _answered_busy(socks)) >= expected_busy and n, 30)
        assert busy >= expected_busy, f"only {busy or 0} of {SLOW_CLIENTS} slow clients were turned away"
        assert _threads(pid) <= before + max_connections + slack
    finally:
        for s in socks:
            s.close()


def _start_app(**extra: str):
    port = free_port()
    env = clean_env(ARC_METRICS_PORT=str(port), ARC_ENDPOINT=f"grpc://127.0.0.1:{free_port()}", **extra)
    proc = subprocess.Popen([ARC_INSTRUMENT, "python", "-c", APP], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(ROOT))
    assert proc.stdout.readline().strip() == "ready"
    return proc, port, env


@pytest.fixture
def metrics_app():
    proc, port, _ = _start_app()
    url = f"http://127.0.0.1:{port}/metrics"
    assert _wait(lambda: _get(url) == 200, 30), "the metrics endpoint did not come up"
    yield proc, port, url
    proc.kill()
    proc.wait(30)


def test_slow_clients_cannot_grow_the_apps_threads(metrics_app):
    proc, port, url = metrics_app
    _flood(proc.pid, port, metrics.MAX_CONNECTIONS, slack=2)
    assert _wait(lambda: _get(url) == 200, 30), "scrapes did not recover after the slow clients left"


def test_a_silent_connection_is_closed(metrics_app):
    _, port, _ = metrics_app
    with socket.create_connection(("127.0.0.1", port), timeout=metrics.IDLE_TIMEOUT_S + 20) as s:
        started = time.monotonic()
        assert s.recv(1) == b""  # closed by the server, not by our own timeout
        assert time.monotonic() - started < metrics.IDLE_TIMEOUT_S + 20


def test_query_endpoint_bounds_open_connections(tmp_path):
    with CollectorProcess(tmp_path / "store") as col:
        _flood(col.pid, col.query_port, http_query.MAX_CONNECTIONS, slack=4)
        ping = f"http://127.0.0.1:{col.query_port}/ping"
        auth = {"Authorization": f"Bearer {col.token}"}
        assert _wait(lambda: _get(ping, auth) == 200, 30)


def _token_file(tmp_path, token: str = "metrics-token-0123456789"):
    path = tmp_path / "metrics.token"
    path.write_text(token + "\n")
    path.chmod(0o600)
    return path


def test_metrics_beyond_loopback_without_a_token_are_not_served():
    proc, port, _ = _start_app(ARC_METRICS_HOST="0.0.0.0")
    try:
        proc.stdin.close()  # the app ends; its stderr says why there were no metrics
        assert proc.wait(60) == 0
        err = proc.stderr.read()
        assert "not serving metrics" in err and "ARC_METRICS_TOKEN_FILE" in err, err
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
    finally:
        proc.kill()


def test_with_a_token_every_metrics_request_must_carry_it(tmp_path):
    token_file = _token_file(tmp_path)
    proc, port, env = _start_app(ARC_METRICS_HOST="0.0.0.0", ARC_METRICS_TOKEN_FILE=str(token_file))
    try:
        url = f"http://127.0.0.1:{port}"
        good = {"Authorization": "Bearer metrics-token-0123456789"}
        assert _wait(lambda: _get(url + "/metrics", good) == 200, 30)
        for path in ("/metrics", "/arc/runtime/metrics", "/arc/runtime/status"):
            assert _get(url + path) == 401
            assert _get(url + path, {"Authorization": "Bearer metrics-token-0123456780"}) == 401
            assert _get(url + path, good) == 200
        doctor = subprocess.run(arc_command("doctor", "--json"), env=env, capture_output=True, text=True,
                                timeout=60)
        assert doctor.returncode == 0 and json.loads(doctor.stdout)["pid"] == proc.pid, doctor.stderr
    finally:
        proc.kill()
        proc.wait(30)


def test_a_metrics_token_file_others_can_read_is_refused(tmp_path):
    token_file = _token_file(tmp_path)
    token_file.chmod(0o644)
    proc, port, _ = _start_app(ARC_METRICS_TOKEN_FILE=str(token_file))
    proc.stdin.close()
    assert proc.wait(60) == 0
    err = proc.stderr.read()
    assert "readable by others" in err and "metrics-token" not in err, err


def _request(port: int, method: str, path: str, headers: dict, body: bytes = b"") -> int:
    """Raw HTTP/1.1 request with exactly ``headers`` (Host included): the status code."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items()),
                 f"Content-Length: {len(body)}", "Connection: close", "", ""]
        s.sendall("\r\n".join(lines).encode() + body)
        return int(s.makefile("rb").readline().split()[1])


def test_dev_llm_answers_only_requests_addressed_to_it():
    """DNS rebinding: a web page whose name resolves to 127.0.0.1 sends its own Host and Origin; it must
    neither read the request log (prompts) nor change the server's config."""
    from arc_agent.devllm.process import DevLLMProcess

    with DevLLMProcess() as srv:
        port = int(srv.base_url.rsplit(":", 1)[1])
        local = {"Host": f"127.0.0.1:{port}"}
        assert _request(port, "GET", "/_dev/requests", local) == 200
        assert _request(port, "GET", "/_dev/requests", {"Host": f"rebound.example:{port}"}) == 403
        evil = {**local, "Origin": "http://rebound.example", "Content-Type": "text/plain"}
        assert _request(port, "POST", "/_dev/config", evil, b'{"fail_rate": 1}') == 403
        assert srv._call("GET", "/_dev/config")["fail_rate"] == 0
        assert _request(port, "GET", "/_dev/health", {"Host": f"localhost:{port}"}) == 200


def test_query_endpoint_refuses_a_stranger_before_reading_its_body(tmp_path):
    """Without the token the answer is 401 at once: the server does not wait for (or read) a body,
    so a stranger cannot hold a connection by announcing a large one and sending it slowly."""
    with CollectorProcess(tmp_path / "store") as col:
        with socket.create_connection(("127.0.0.1", col.query_port), timeout=10) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\nSELECT")
            assert s.makefile("rb").readline().split()[1] == b"401"


def test_proxy_closes_silent_and_slow_clients(tmp_path):
    """``arc proxy`` kept a silent connection, one stuck in its headers and one whose body never came
    open indefinitely (one file descriptor each: enough of them and the side-car takes no client);
    past --client-timeout each is closed, the slow body with a 408."""
    from tests.helpers.collector import _env as collector_env
    from tests.helpers.proxy import ProxyProcess

    args = ["--listen", "127.0.0.1:0", "--upstream", f"http://127.0.0.1:{free_port()}/v1", "--client-timeout", "1"]
    with ProxyProcess(args, collector_env({"ARC_ENDPOINT": f"grpc://127.0.0.1:{free_port()}"})) as proxy:
        port = int(proxy.where.rsplit(":", 1)[1])
        silent = socket.create_connection(("127.0.0.1", port), timeout=30)
        headers = socket.create_connection(("127.0.0.1", port), timeout=30)
        headers.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n")
        body = socket.create_connection(("127.0.0.1", port), timeout=30)
        body.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100000\r\n\r\n{")
        with silent, headers, body:
            assert silent.recv(1) == b""
            assert headers.recv(1) == b""
            answer = body.makefile("rb").read()
            assert answer.startswith(b"HTTP/1.1 408") and b"--client-timeout" in answer, answer[:300]
