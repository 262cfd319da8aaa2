import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.collector import collector  # noqa: F401 - the shared `arc collector` fixture
from tests.helpers.ports import free_port, silent_port  # noqa: F401 - shared: a free and a black-holed port
from tests.helpers.procs import ARC_INSTRUMENT, ROOT, clean_env, run, run_json

APP = str(Path(__file__).parent / "apps" / "guard_app.py")


def app_env(devllm, endpoint: str, **extra) -> dict:
    settings = {"DEVLLM_URL": devllm.base_url, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "ARC_EXPORT_DELAY_MS": "50"}
    return clean_env(**{**settings, **extra})


@pytest.fixture
def run_app(devllm):
    """Run guard_app SCENARIO [N] under arc-instrument to completion; returns its JSON line."""

    def _run(scenario: str, n: int, endpoint: str, **env):
        return run_json([sys.executable, APP, scenario, str(n)], app_env(devllm, endpoint, **env), timeout=90)

    return _run


@pytest.fixture
def run_app_proc(devllm):
    """Like ``run_app`` but returns ``(result, stderr)``."""

    def _run(scenario: str, n: int, endpoint: str, **env):
        proc = run([sys.executable, APP, scenario, str(n)], app_env(devllm, endpoint, **env), timeout=90)
        assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr

    return _run


class InteractiveApp:
    """guard_app under arc-instrument, stepped through its ``WAITING`` points by the test."""

    def __init__(self, scenario: str, n: int, env: dict) -> None:
        self.proc = subprocess.Popen([ARC_INSTRUMENT, sys.executable, APP, scenario, str(n)], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, cwd=str(ROOT))
        self.lines: list = []

    def read_until(self, prefix: str) -> str:
        for line in self.proc.stdout:
            self.lines.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"app ended before {prefix!r}: {self.lines}\n{self.proc.stderr.read()}")

    def proceed(self) -> None:
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def finish(self, timeout: float = 60) -> tuple:
        out, err = self.proc.communicate(timeout=timeout)
        lines = (("".join(self.lines)) + out).strip().splitlines()
        assert self.proc.returncode == 0, f"exit {self.proc.returncode}\n{lines}\n{err}"
        return json.loads(lines[-1]), err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def interactive(devllm):
    started = []

    def _start(scenario: str, n: int, endpoint: str, **env) -> InteractiveApp:
        app = InteractiveApp(scenario, n, app_env(devllm, endpoint, **env))
        started.append(app)
        return app

    yield _start
    for app in started:
        app.kill()
