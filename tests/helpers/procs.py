"""Run programs under ``arc-instrument`` in a subprocess, the way users do."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
ARC_INSTRUMENT = str(BIN / "arc-instrument")
ROOT = Path(__file__).resolve().parents[2]


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def default_signals() -> None:
    """``preexec_fn`` for apps whose stop signals a test sends or checks: the child starts with the
    default dispositions, whatever the test runner inherited (``nohup`` ignores SIGHUP, a
    background job of a non-interactive shell ignores SIGINT and SIGQUIT)."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


def clean_env(**extra: str) -> dict:
    """The test process's env minus Arc/OTel settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ARC_", "OTEL_")) and k != "PYTHONPATH"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run(cmd: list, env: dict, timeout: float = 60, instrument: bool = True) -> subprocess.CompletedProcess:
    full = [ARC_INSTRUMENT, *cmd] if instrument else cmd
    return subprocess.run(full, env=env, capture_output=True, text=True, timeout=timeout, cwd=str(ROOT))


def run_json(cmd: list, env: dict, **kw) -> dict:
    """Run, require exit 0, return the JSON of the last stdout line (plus ``_stderr``)."""
    proc = run(cmd, env, **kw)
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:{proc.stdout}\nstderr:{proc.stderr}"
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["_stderr"] = proc.stderr
    return out
