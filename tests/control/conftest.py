"""Real ``arc serve`` processes, real agent processes, a real tenant registry with signed versions."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional

import pytest

from arc_agent.registry import Registry, signing

from ..helpers.procs import ROOT, clean_env

HERE = Path(__file__).resolve().parent
KEY_ACME, KEY_OTHER = "acme-key-0123456789abcdef", "other-key-0123456789abcdef"


def bundle(folder: Path, seed: int) -> str:
    path = folder / f"fixes-{seed}.json"
    path.write_text(json.dumps({"version": seed, "name": "fixes", "patterns": [
        {"id": "seed", "pattern": {"model": "gpt-4"}, "fix": {"seed": seed}}]}))
    return str(path)


class Lines:
    """Non-blocking reader of a process's stdout lines, with deadlines instead of sleeps."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.sel = selectors.DefaultSelector()
        os.set_blocking(proc.stdout.fileno(), False)
        self.sel.register(proc.stdout, selectors.EVENT_READ)
        self.buf = b""
        self.lines: List[str] = []

    def poll(self, timeout: float = 0.0) -> None:
        if self.sel.select(timeout):
            data = self.proc.stdout.read() or b""
            self.buf += data
            *done, self.buf = self.buf.split(b"\n")
            self.lines += [d.decode() for d in done]

    def wait_for(self, predicate, timeout: float = 30.0) -> Optional[str]:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for line in self.lines[seen:]:
                if predicate(line):
                    return line
            seen = len(self.lines)
            left = deadline - time.monotonic()
            if left <= 0 or (self.proc.poll() is not None and not self.sel.select(0)):
                return None
            self.poll(min(left, 0.2))

    def events(self) -> List[dict]:
        self.poll()
        return [json.loads(line) for line in self.lines if line.startswith("{")]


class Fleet:
    """Everything one test starts: servers and agents, stopped by PID at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.root = tmp / "server-registry"
        self.keys = tmp / "keys.txt"
        self.keys.write_text(f"# tenant key\nacme {KEY_ACME}\nother {KEY_OTHER}\n")
        os.chmod(self.keys, 0o600)
        self.sign_key = str(tmp / "signing.pem")
        self.trust = signing.generate(self.sign_key)
        self.procs: List[subprocess.Popen] = []
        self.port: Optional[int] = None
        self.server: Optional[subprocess.Popen] = None

    def registry(self, tenant: str = "acme") -> Registry:
        return Registry(str(self.root), tenant=tenant)

    def publish(self, seed: int, channel: Optional[str] = "stable", tenant: str = "acme", sign_key=None):
        key = self.sign_key if sign_key is None else sign_key
        return self.registry(tenant).publish("patterns", "fixes", bundle(self.tmp, seed), channel=channel,
                                             sign=signing.signer(key) if key else None)

    def serve(self, *extra: str, port: Optional[int] = None) -> subprocess.Popen:
        listen = f"127.0.0.1:{port if port is not None else (self.port or 0)}"
        proc = subprocess.Popen([sys.executable, "-m", "arc_agent.cli", "serve", "--listen", listen, "--registry",
                                 str(self.root), "--keys", str(self.keys), *extra], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=clean_env(), cwd=str(ROOT))
        self.procs.append(proc)
        line = Lines(proc).wait_for(lambda s: "listening on" in s, 30)
        assert line, f"arc serve did not start: {proc.stderr.read().decode() if proc.poll() is not None else ''}"
        self.port = int(line.split("listening on ")[1].split()[0].rsplit(":", 1)[1])
        self.server = proc
        return proc

    @property
    def url(self) -> str:
        return f"grpc://127.0.0.1:{self.port}"

    def agent_env(self, name: str, **extra: str) -> dict:
        env = dict(ARC_PATTERNS="registry:fixes", ARC_REGISTRY=str(self.tmp / f"mirror-{name}"),
                   ARC_CONTROL_ENDPOINT=self.url, ARC_API_KEY=KEY_ACME, ARC_TRUST_KEY=self.trust,
                   ARC_INSTANCE_ID=name, ARC_PATTERNS_SNAPSHOT="off", ARC_PATTERNS_PROCESS="0",
                   ARC_PATTERNS_POLL="0.5", ARC_CONTROL_REPORT_S="1", OTEL_SERVICE_NAME="tiny-app")
        env.update(extra)
        return clean_env(**env)

    def agent(self, name: str, **extra: str) -> Lines:
        proc = subprocess.Popen([sys.executable, str(HERE / "agent_app.py")], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.agent_env(name, **extra), cwd=str(ROOT))
        self.procs.append(proc)
        return Lines(proc)

    def cli(self, *args: str, key: str = KEY_ACME, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "arc_agent.cli", *args], capture_output=True, text=True,
                              env=clean_env(ARC_API_KEY=key), cwd=str(ROOT), timeout=timeout)

    def stub(self, key: str = KEY_ACME):
        import grpc

        from arc_agent.control.gen import control_pb2_grpc

        channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        return control_pb2_grpc.ControlStub(channel), (("authorization", f"Bearer {key}"),)

    def stop(self, proc: subprocess.Popen, sig: str = "term") -> None:
        if proc.poll() is None:
            proc.terminate() if sig == "term" else proc.kill()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def finish(self, lines: Lines) -> dict:
        """SIGTERM an agent and return its final line (calls, failures, status)."""
        self.stop(lines.proc)
        line = lines.wait_for(lambda s: '"calls"' in s, 15)
        assert line, f"agent gave no summary; stderr: {lines.proc.stderr.read().decode()[-2000:]}"
        return json.loads(line)


def seeds(lines: Lines) -> List[int]:
    return [e["seed"] for e in lines.events() if "seed" in e]


@pytest.fixture
def fleet(tmp_path):
    f = Fleet(tmp_path)
    yield f
    for proc in f.procs:
        f.stop(proc, "kill")
