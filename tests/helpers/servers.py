"""Web servers run under ``arc-instrument`` in tests (tests/telemetry/test_stop.py, tests/frameworks):
how each server is launched, and waiting for it to serve."""

from __future__ import annotations

import subprocess
import time
import urllib.request

# argv after the server's executable; {port} and {app} are filled in (app: "module:attribute" stem)
SERVERS = {
    "gunicorn-sync": ["gunicorn", "-w", "2", "--no-control-socket", "-b", "127.0.0.1:{port}", "{app}:wsgi"],
    "gunicorn-uvicorn": ["gunicorn", "-w", "2", "--no-control-socket", "-k", "uvicorn_worker.UvicornWorker",
                         "-b", "127.0.0.1:{port}", "{app}:asgi"],
    "uvicorn-workers": ["uvicorn", "--workers", "2", "--port", "{port}", "--log-level", "warning", "{app}:asgi"],
}


def server_command(server: str, port: int, app: str = "stop_server") -> list:
    return [a.format(port=port, app=app) for a in SERVERS[server]]


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def wait_serving(proc: subprocess.Popen, url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            get(url)
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"server did not come up:\n{proc.communicate()[1][-3000:]}") from None
            time.sleep(0.05)
