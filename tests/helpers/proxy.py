"""Run ``arc proxy`` as a subprocess (unix socket or TCP), for tests and benchmarks.

    with ProxyProcess(["--unix", sock, "--upstream", url], env) as proxy:
        ...  # proxy.where is what it printed: unix:///path or http://host:port
"""

from __future__ import annotations

import queue
import signal
import subprocess
import threading

from tests.helpers.collector import arc_command, await_line
from tests.helpers.procs import ROOT


class ProxyProcess:
    def __init__(self, args: list, env: dict) -> None:
        self.args = list(args)
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.where = ""
        self.output: list = []
        self._lines: queue.Queue = queue.Queue()

    def start(self, timeout: float = 60.0) -> ProxyProcess:
        self.proc = subprocess.Popen(arc_command("proxy", *self.args), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=self.env, cwd=str(ROOT))
        threading.Thread(target=self._drain, daemon=True).start()
        line = await_line(self._lines, self.proc, "arc proxy: listening on ", timeout)
        if line is None:
            self.stop()
            raise RuntimeError("arc proxy did not start:\n" + "".join(self.output))
        self.where = line.split()[4]
        return self

    def _drain(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)
            self._lines.put(line)

    @property
    def text(self) -> str:
        return "".join(self.output)

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __enter__(self) -> ProxyProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
