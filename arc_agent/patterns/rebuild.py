"""Hot reloads of big bundle sets, built in a child process.

A reload runs beside the app's requests. Building 1M patterns in the app's process holds the GIL
in long C calls (decoding, hashing and sorting whole columns: up to ~300 ms each), so the app's
requests stall behind it, and its peak memory (~1.4 GB at 1M) lands in the app. Here a child
Python process loads the bundles and writes a snapshot (``snapshot.py``); the app's process only
reads that snapshot (~0.6 s at 1M). The child is niced (the app comes first on a busy machine),
runs with ``ARC_DISABLE=1`` (nothing is instrumented in it) and gets nothing on stdin.

Bundle errors found by the child reject the reload exactly as an in-process load would (same
messages). When no child can run (no usable Python executable, e.g. an embedding interpreter; a
sandbox that forbids processes; a crash or timeout), the caller loads in-process instead.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any

from .bundle import BundleError, BundleErrors, load_layer, resolve_paths
from .snapshot import SnapshotPolicy, StaleSnapshot, read, snapshot_key, write

log = logging.getLogger("arc")

MIN_BYTES = 8 << 20  # smaller sets (< ~50k patterns) reload in-process in a fraction of a second
TIMEOUT_S = 900.0
_CHILD = "from arc_agent.patterns.rebuild import child_main; raise SystemExit(child_main())"


def wanted(paths: list, env: Any = None) -> bool:
    """Whether a reload of ``paths`` should be built in a child: big enough and not switched off
    (``ARC_PATTERNS_RELOAD_PROCESS=0``)."""
    env = os.environ if env is None else env
    if env.get("ARC_PATTERNS_RELOAD_PROCESS", "").strip().lower() in ("0", "off", "false", "no"):
        return False
    try:
        return sum(os.path.getsize(f) for f in resolve_paths(paths)) >= MIN_BYTES
    except (BundleError, OSError):
        return False  # the in-process load names the problem


def python_executable() -> str | None:
    """A Python interpreter for the child, or None (an embedding program is not one)."""
    exe = sys.executable
    if exe and "python" in os.path.basename(exe).lower() and os.access(exe, os.X_OK):
        return exe
    return None


def build_in_child(paths: list, policy: SnapshotPolicy | None) -> tuple | None:
    """(Layer, infos) for ``paths`` built by a child process, or None if no child could build it
    (the caller then loads in-process). Raises ``BundleErrors`` for the errors the child found.
    The snapshot goes where ``policy`` keeps snapshots (so the next start loads it), else to a
    private temporary folder removed afterwards."""
    exe = python_executable()
    if exe is None:
        return None
    try:
        files = resolve_paths(paths)
    except BundleError as exc:
        raise BundleErrors([exc]) from None
    scratch = tempfile.mkdtemp(prefix="arc-reload-")  # mode 0700
    try:
        targets = (policy.locations(files) if policy is not None and policy.enabled else []) + \
            [os.path.join(scratch, "reload.arc-snapshot")]
        result = _run_child(exe, targets, files)
        if result is None:
            return None
        if "errors" in result:
            raise BundleErrors([BundleError(*e) for e in result["errors"]])
        try:
            return read(result["snapshot"], result["key"], files, gentle=True)
        except StaleSnapshot:  # another process replaced that snapshot meanwhile
            log.info("arc: the reload's snapshot was replaced meanwhile; loading in-process")
            return None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run_child(exe: str, targets: list, files: list) -> dict | None:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, ARC_DISABLE="1")
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in [env.get("PYTHONPATH")] if p])
    try:
        proc = subprocess.run([exe, "-c", _CHILD, json.dumps({"targets": targets, "files": files})],
                              stdin=subprocess.DEVNULL, capture_output=True, env=env, timeout=TIMEOUT_S)
        result = json.loads(proc.stdout.decode("utf-8").strip().splitlines()[-1]) if proc.returncode == 0 else None
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
        log.warning("arc: could not build the reload in a child process (%s); loading in-process", exc)
        return None
    if not isinstance(result, dict):
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        log.warning("arc: the reload's child process failed (exit %s: %s); loading in-process",
                    proc.returncode, " | ".join(tail) or "no output")
        return None
    return result


def child_main() -> int:
    """In the child: load the bundles, write the snapshot to the first target that takes it, print
    ``{"snapshot", "key"}`` or ``{"errors": [[file, problem, id, index], ...]}`` as one JSON line."""
    try:
        os.nice(5)  # background work: the app's process comes first on a busy machine
    except (OSError, AttributeError):  # AttributeError: no os.nice on Windows
        pass
    job = json.loads(sys.argv[-1])
    try:
        layer, infos = load_layer(job["files"])
    except BundleErrors as exc:
        print(json.dumps({"errors": [[e.file, e.problem, e.pattern_id, e.index] for e in exc.errors]}))
        return 0
    key = snapshot_key(job["files"], [i.sha256 for i in infos])
    for target in job["targets"]:
        try:
            write(target, key, layer.parts, infos)
        except OSError:
            continue
        print(json.dumps({"snapshot": target, "key": key}))
        return 0
    return 1
