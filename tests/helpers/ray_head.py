"""A real single-node Ray cluster for tests: ``ray start --head --block`` on free loopback ports (its
fixed defaults, e.g. the dashboard agent's 52365, would clash with another Ray on the machine).

    with RayHead(tmp_path) as head:
        subprocess.run([...], env=head.env(RAY_ADDRESS=head.address))      # a driver that connects
        subprocess.run(["ray", "job", "submit", "--address", head.dashboard, ...], env=head.env())

Token authentication is on (``RAY_AUTH_MODE=token``) with a token file of its own under ``tmp``, never
``~/.ray/auth_token``; ``env()`` gives clients the same settings. The node's address is 127.0.0.1
(``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``: Ray otherwise advertises the host's interface address), so no
traffic leaves loopback. Its own temp dir (``/tmp/arc-ray-*``, removed at the end). ``stop()`` sends
SIGTERM to the ``ray start`` process it started (which stops the Ray processes it spawned), then
SIGKILLs what is left running in that process group (its own session).
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.helpers.collector import await_line
from tests.helpers.procs import BIN, clean_env

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RayHead:
    def __init__(self, tmp: str | os.PathLike, num_cpus: int = 2) -> None:
        self.tmp = Path(tmp)
        self.num_cpus = num_cpus
        self.token_file = self.tmp / "ray_token"
        self.gcs_port, self.dashboard_port = free_port(), free_port()
        self.temp_dir = ""  # short: Ray's unix sockets live under it (at most 107 bytes a path)
        self.proc: subprocess.Popen | None = None
        self.output: list = []
        self._lines: queue.Queue = queue.Queue()

    @property
    def address(self) -> str:
        """For ``RAY_ADDRESS`` / ``ray.init(address=...)``: the GCS."""
        return f"127.0.0.1:{self.gcs_port}"

    @property
    def dashboard(self) -> str:
        """For ``ray job submit --address``: the dashboard's job server."""
        return f"http://127.0.0.1:{self.dashboard_port}"

    def env(self, **extra: str) -> dict:
        return clean_env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(self.token_file),
                         RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", RAY_USAGE_STATS_ENABLED="0", **extra)

    def start(self, timeout: float = 120.0) -> RayHead:
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.temp_dir = tempfile.mkdtemp(prefix="arc-ray-", dir="/tmp")
        fd = os.open(self.token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        cmd = [str(BIN / "ray"), "start", "--head", "--block", f"--port={self.gcs_port}",
               f"--dashboard-port={self.dashboard_port}", "--dashboard-host=127.0.0.1",
               f"--ray-client-server-port={free_port()}", f"--dashboard-agent-listen-port={free_port()}",
               f"--dashboard-agent-grpc-port={free_port()}", f"--runtime-env-agent-port={free_port()}",
               f"--metrics-export-port={free_port()}", f"--temp-dir={self.temp_dir}",
               f"--num-cpus={self.num_cpus}", "--include-dashboard=true", "--disable-usage-stats"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=self.env(), start_new_session=True)
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.monotonic() + timeout
        if await_line(self._lines, self.proc, "Ray runtime started", timeout) is None:
            self.stop()
            raise RuntimeError("ray start --head did not start:\n" + "".join(self.output[-40:]))
        while self.get("/api/version") is None:  # the job server answers once its modules are up
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("the Ray dashboard did not answer:\n" + "".join(self.output[-40:]))
            time.sleep(0.2)
        return self

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            plain = _ANSI.sub("", line)
            self._lines.put(plain.split("-- ", 1)[-1])  # without Ray's "time INFO file:line -- " prefix

    def get(self, path: str, token: str | None = None):
        """JSON of a GET on the dashboard with the cluster's token (or ``token``); None when it fails."""
        token = self.token_file.read_text() if token is None else token
        request = urllib.request.Request(self.dashboard + path, headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def jobs(self) -> list:
        """Every job the cluster knows: ``ray job submit`` ones (type SUBMISSION) and drivers that connected."""
        return self.get("/api/jobs/") or []

    def stop(self, timeout: float = 60.0) -> None:
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: the group of the process we started
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        if self.alive():  # e.g. the dashboard's multiprocessing forkserver outlives `ray start`
            os.killpg(pgid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.proc.wait(10)
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def alive(self) -> list:
        """PIDs of the head's process group that still run (zombies left to a PID 1 that does not reap
        them count as gone)."""
        if self.proc is None:
            return []
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid and fields[0] != "Z":
                found.append(int(stat.parent.name))
        return found

    def __enter__(self) -> RayHead:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
