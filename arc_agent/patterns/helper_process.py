"""Running part of a pattern load in a helper Python process (``split_load``, ``rebuild``).

The helper is ``sys.executable -c <code> <job as JSON>`` with ``ARC_DISABLE=1`` (nothing is
instrumented in it), Arc's own folder first on ``PYTHONPATH``, not the working folder
(``PYTHONSAFEPATH``) and nothing on stdin; it writes its result to a file the caller names.
``ARC_PATTERNS_PROCESS=0`` turns helper processes off, and there is none when ``sys.executable``
is not a Python (an app embedding the interpreter): the work is then done in the app's process,
as it is whenever a helper fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import IO, Any, Mapping

_OFF = ("0", "off", "false", "no")


def allowed(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get("ARC_PATTERNS_PROCESS", "").strip().lower() not in _OFF


def python_executable() -> str | None:
    """A Python interpreter for the helper, or None (an embedding program is not one)."""
    exe = sys.executable
    if exe and "python" in os.path.basename(exe).lower() and os.access(exe, os.X_OK):
        return exe
    return None


def start(exe: str, code: str, job: Any, stderr: IO, **env: str) -> subprocess.Popen:
    """Start ``exe -c code job``; ``env`` adds variables to the helper's environment."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    environ = dict(os.environ, ARC_DISABLE="1", PYTHONSAFEPATH="1", **env)  # no cwd on its sys.path
    environ["PYTHONPATH"] = os.pathsep.join([root] + [p for p in [environ.get("PYTHONPATH")] if p])
    return subprocess.Popen([exe, "-c", code, json.dumps(job)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=stderr, env=environ)


def stderr_tail(path: str, lines: int = 3) -> str:
    try:
        with open(path, "rb") as fh:
            text = fh.read()[-4096:].decode("utf-8", "replace")
    except OSError:
        return ""
    return " | ".join(text.strip().splitlines()[-lines:])
