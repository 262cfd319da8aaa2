"""Idle and slow clients cannot grow a listening process's threads: the agent's metrics endpoint
(inside the app) and the collector's query endpoint serve a bounded number of connections, answer
503 beyond it, and close connections that stay silent."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from arc_agent.collector import http_query
from arc_agent.telemetry import metrics
from tests.helpers.collector import CollectorProcess
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
    """How many of ``socks`` got the 503 (each read without blocking)."""
    busy = 0
    for s in socks:
        s.setblocking(False)
        try:
            data = s.recv(4096, socket.MSG_PEEK)
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        busy += data.startswith(b"HTTP/1.1 503")
    return busy


@pytest.fixture
def metrics_app():
    port = free_port()
    env = clean_env(ARC_METRICS_PORT=str(port), ARC_ENDPOINT=f"grpc://127.0.0.1:{free_port()}")
    proc = subprocess.Popen([ARC_INSTRUMENT, "python", "-c", APP], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=str(ROOT))
    assert proc.stdout.readline().strip() == "ready"
    url = f"http://127.0.0.1:{port}/metrics"
    assert _wait(lambda: _get(url) == 200, 30), "the metrics endpoint did not come up"
    yield proc, port, url
    proc.kill()
    proc.wait(30)


def test_slow_clients_cannot_grow_the_apps_threads(metrics_app):
    proc, port, url = metrics_app
    before = _threads(proc.pid)
    socks = _slow_clients(port, SLOW_CLIENTS)
    try:
        expected_busy = SLOW_CLIENTS - metrics.MAX_CONNECTIONS
        busy = _wait(lambda: _answered_busy(socks) >= expected_busy and _answered_busy(socks), 30)
        assert busy >= expected_busy, f"only {busy or 0} of {SLOW_CLIENTS} slow clients were turned away"
        assert _threads(proc.pid) <= before + metrics.MAX_CONNECTIONS + 2
    finally:
        for s in socks:
            s.close()
    assert _wait(lambda: _get(url) == 200, 30), "scrapes did not recover after the slow clients left"


def test_a_silent_connection_is_closed(metrics_app):
    _, port, _ = metrics_app
    with socket.create_connection(("127.0.0.1", port), timeout=metrics.IDLE_TIMEOUT_S + 20) as s:
        started = time.monotonic()
        assert s.recv(1) == b""  # closed by the server, not by our own timeout
        assert time.monotonic() - started < metrics.IDLE_TIMEOUT_S + 20


def test_query_endpoint_bounds_open_connections(tmp_path):
    with CollectorProcess(tmp_path / "store") as col:
        base = _threads(col.pid)
        socks = _slow_clients(col.query_port, SLOW_CLIENTS)
        try:
            expected_busy = SLOW_CLIENTS - http_query.MAX_CONNECTIONS
            busy = _wait(lambda: _answered_busy(socks) >= expected_busy and _answered_busy(socks), 30)
            assert busy >= expected_busy, f"only {busy or 0} of {SLOW_CLIENTS} slow clients were turned away"
            assert _threads(col.pid) <= base + http_query.MAX_CONNECTIONS + 4
        finally:
            for s in socks:
                s.close()
        ping = f"http://127.0.0.1:{col.query_port}/ping"
        auth = {"Authorization": f"Bearer {col.token}"}
        assert _wait(lambda: _get(ping, auth) == 200, 30)
