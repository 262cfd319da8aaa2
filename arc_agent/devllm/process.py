"""Run ``arc dev-llm`` as a child process (for tests and demos that need it outside this process).

The child prints ``dev-llm listening on http://HOST:PORT`` as its first line; with ``--port 0`` that
is how the parent learns the port. Stopped by its pid with SIGTERM (then SIGKILL after a deadline).
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional

from .client import DevLLMClient

_LISTENING = re.compile(r"dev-llm listening on (http://\S+)")


def _package_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class DevLLMProcess(DevLLMClient):
    """``with DevLLMProcess("--fail-rate", "0.5") as srv: srv.openai_base_url, srv.requests()``."""

    def __init__(self, *args: str, host: str = "127.0.0.1", port: int = 0,
                 env: Optional[Dict[str, str]] = None, startup_timeout: float = 15.0) -> None:
        super().__init__("http://unstarted")
        self.argv = [sys.executable, "-m", "arc_agent.cli", "dev-llm", "--host", host, "--port", str(port),
                     *args]
        self.env = dict(os.environ if env is None else env)
        root = _package_root()
        self.env["PYTHONPATH"] = os.pathsep.join(p for p in (root, self.env.get("PYTHONPATH")) if p)
        self.startup_timeout = startup_timeout
        self.proc: Optional[subprocess.Popen] = None
        self._reader: Optional[threading.Thread] = None
        self.output: List[str] = []
        """Everything the child printed (stdout and stderr), for diagnostics."""

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("DevLLMProcess is not started")
        return self.proc.pid

    def start(self) -> DevLLMProcess:
        lines: queue.Queue = queue.Queue()
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        self._reader = threading.Thread(target=self._drain, args=(self.proc, lines), daemon=True,
                                        name="arc-dev-llm-output")
        self._reader.start()
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            match = _LISTENING.search(line) if line else None
            if match:
                self.base_url = match.group(1)
                return self
            if line is None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"arc dev-llm did not start within {self.startup_timeout}s; output:\n"
                                   + "".join(self.output[-40:]))

    def _drain(self, proc: subprocess.Popen, lines: queue.Queue) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.output.append(line)
            lines.put(line)
        lines.put(None)  # EOF: the child exited

    def stop(self, timeout: float = 5.0) -> Optional[int]:
        """SIGTERM, wait up to ``timeout``, then SIGKILL; returns the exit code."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if self._reader is not None:
            self._reader.join(timeout)  # reaches EOF now that the child is gone
        if proc.stdout is not None and not (self._reader and self._reader.is_alive()):
            proc.stdout.close()
        return proc.returncode

    def __enter__(self) -> DevLLMProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
