"""Hot reloads of big bundle sets, built in a helper process.

A reload runs beside the app's requests. Building 1M patterns in the app's process holds the GIL
in long C calls (decoding, hashing and sorting whole columns: up to ~300 ms each), so the app's
requests stall behind it, and its peak memory (~1.4 GB at 1M) lands in the app. Here a helper
Python process (``helper_process``) loads the bundles and writes a snapshot (``snapshot.py``);
the app's process only reads that snapshot (~0.6 s at 1M, in slices). The helper is niced: the
app comes first on a busy machine.

Bundle errors found by the helper reject the reload exactly as an in-process load would (same
messages). When no helper can run, or it fails, the caller loads in-process instead.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile

from . import helper_process
from .bundle import BundleError, BundleErrors, load_layer, resolve_paths
from .snapshot import SnapshotPolicy, StaleSnapshot, read, snapshot_key, write
from .snapshot_trust import secret

log = logging.getLogger("arc")

MIN_BYTES = 8 << 20  # smaller sets (< ~50k patterns) reload in-process in a fraction of a second
TIMEOUT_S = 900.0
_CHILD = "from arc_agent.patterns.rebuild import child_main; raise SystemExit(child_main())"


def wanted(paths: list) -> bool:
    """Whether a reload of ``paths`` should be built by a helper: big enough and allowed."""
    if not helper_process.allowed():
        return False
    try:
        secret()  # the helper hands its result over as a signed snapshot
    except OSError:
        return False
    try:
        return sum(os.path.getsize(f) for f in resolve_paths(paths)) >= MIN_BYTES
    except (BundleError, OSError):
        return False  # the in-process load names the problem


def build_in_child(paths: list, policy: SnapshotPolicy | None) -> tuple | None:
    """(Layer, infos) for ``paths`` built by a helper process, or None if no helper could build
    it (the caller then loads in-process). Raises ``BundleErrors`` for the errors it found. The
    snapshot goes where ``policy`` keeps snapshots (so the next start loads it), else to a
    private temporary folder removed afterwards."""
    exe = helper_process.python_executable()
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
        result = _run_child(exe, scratch, {"targets": targets, "files": files,
                                           "result": os.path.join(scratch, "result.json")})
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


def _run_child(exe: str, scratch: str, job: dict) -> dict | None:
    err = os.path.join(scratch, "stderr")
    try:
        with open(err, "wb") as stderr:
            proc = helper_process.start(exe, _CHILD, job, stderr, ARC_PATTERNS_PROCESS="0")
        code = proc.wait(timeout=TIMEOUT_S)
        result = None
        if code == 0:
            with open(job["result"], encoding="utf-8") as fh:
                result = json.load(fh)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        log.warning("arc: the reload's helper process took over %.0f s; loading in-process", TIMEOUT_S)
        return None
    except (OSError, ValueError) as exc:
        result, code = None, repr(exc)
    if not isinstance(result, dict):
        log.warning("arc: the reload's helper process failed (%s: %s); loading in-process",
                    code, helper_process.stderr_tail(err) or "no output")
        return None
    return result


def child_main() -> int:
    """In the helper: load the bundles, write the snapshot to the first target that takes it, and
    the result ``{"snapshot", "key"}`` or ``{"errors": [[file, problem, id, index], ...]}``."""
    try:
        os.nice(5)  # background work: the app's process comes first on a busy machine
    except (OSError, AttributeError):  # AttributeError: no os.nice on Windows
        pass
    job = json.loads(sys.argv[-1])
    try:
        layer, infos = load_layer(job["files"])
    except BundleErrors as exc:
        result: dict = {"errors": [[e.file, e.problem, e.pattern_id, e.index] for e in exc.errors]}
    else:
        key = snapshot_key(job["files"], [i.sha256 for i in infos])
        for target in job["targets"]:
            try:
                write(target, key, layer.parts, infos)
            except OSError:
                continue
            result = {"snapshot": target, "key": key}
            break
        else:
            return 1
    with open(job["result"], "w", encoding="utf-8") as fh:
        json.dump(result, fh)
    return 0
