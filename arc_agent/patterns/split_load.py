"""Loading one big JSON bundle in two halves at once, the second in a helper process.

A 1M-pattern bundle takes ~5 s to load in one thread. Three quarters of that is per record
(decoding, validating, grouping, coding equality values and fuzzy words) and splits cleanly: the
file is cut between two records, the app's process builds the first half while a helper process
(``helper_process``) builds the second, and the halves are merged as ``index.Piece`` before
the whole-layer steps (ids, fuzzy index, keys, Bloom filters). ~30% less wall time on 2 cores,
and half the peak memory in the app's process.

The cut is after a record's ``}``, a comma and the next record's ``{`` (``_SEP``), searched from
a little past the middle. A cut inside a string or a nested value leaves a half that does not
decode (JSON strings hold no unescaped quote, brackets must balance), and a cut in another list
of the document, or a second "patterns" key in the second half, leaves one of ``fastjson``'s
marker records out of place. Any half that does not decode, or holds an error, sends the file to
the whole-file path, which names the problems exactly as before: this path only ever loads clean
files. The helper reads the file itself and returns the sha256 of the bytes it used, which must
match the app's copy.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile

from . import fastjson, helper_process
from .bounded import open_regular
from .bulk import add_bulk
from .bundle import Digest, expiry_column
from .index import LayerBuilder

log = logging.getLogger("arc")

MIN_BYTES = 32 << 20  # ~200k patterns: below that the helper's start-up (~0.3 s) is not won back
HEAD_SHARE = 0.55  # of the bytes, for the app's process: the helper starts later
TIMEOUT_S = 600.0
_SEP = re.compile(rb"\}[ \t\r\n]*,[ \t\r\n]*\{")  # JSON's whitespace only: the bytes between are dropped
_CHILD = "from arc_agent.patterns.split_load import child_main; raise SystemExit(child_main())"
HALVES_LOADED = [0]  # files loaded in halves by this process (for tests and diagnostics)


def load_in_halves(path: str, data: bytes) -> tuple | None:
    """(metadata, [first half, second half]) of the bundle ``data`` read from ``path``, as
    ``index.Piece``s built at once by this process and a helper; None to load the file whole
    (too small, no helper allowed, no cut, a half that does not decode or has an error).
    ``metadata`` holds the keys the document sets among name, version and created_at; a piece's
    ids are "" where a record has none (its default id needs the bundle's name)."""
    if len(data) < MIN_BYTES or not fastjson.available() or not helper_process.allowed():
        return None
    exe = helper_process.python_executable()
    cut = _cut(data)
    if exe is None or cut is None:
        return None
    head_end, tail_start = cut
    scratch = tempfile.mkdtemp(prefix="arc-load-")  # mode 0700
    out, err = os.path.join(scratch, "half.pickle"), os.path.join(scratch, "stderr")
    proc = None
    try:
        try:
            with open(err, "wb") as stderr:
                proc = helper_process.start(exe, _CHILD, {"path": path, "start": tail_start, "size": len(data),
                                                          "out": out}, stderr)
        except OSError as exc:
            log.info("arc: no helper process for loading %s (%s); loading it in one process", path, exc)
        digest = Digest(memoryview(data)[tail_start:])  # in a thread, beside the first half
        head = _build(_closed_head(memoryview(data)[:head_end]), head=True)
        if head is False:
            return None
        tail = _helper_half(proc, out, err, digest) if proc is not None else None
        if tail is None:  # the helper failed: this process builds the second half too
            tail = _build(_opened_tail(memoryview(data)[tail_start:]), head=False)
        if tail is False:
            return None
        HALVES_LOADED[0] += 1
        return {**head[0], **tail[0]}, [head[1], tail[1]]  # the last key wins, as in a whole decode
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(scratch, ignore_errors=True)


def _cut(data: bytes) -> tuple | None:
    """(end of the first half, start of the second) between two records, or None."""
    m = _SEP.search(data, int(len(data) * HEAD_SHARE))
    return (m.start() + 1, m.end() - 1) if m else None


def _closed_head(view: memoryview) -> bytearray:
    buf = bytearray(len(view) + len(fastjson.HEAD_END))
    buf[:len(view)] = view
    buf[len(view):] = fastjson.HEAD_END
    return buf


def _opened_tail(view: memoryview) -> bytearray:
    buf = bytearray(len(fastjson.TAIL_START) + len(view))
    buf[:len(fastjson.TAIL_START)] = fastjson.TAIL_START
    buf[len(fastjson.TAIL_START):] = view
    return buf


def _build(buf: bytearray, head: bool) -> tuple | bool:
    """(metadata, Piece) of a half; False if it does not decode (``fastjson.decode_half``) or
    has an error."""
    d = fastjson.decode_half(buf, head)
    del buf
    if d is None:
        return False
    expires = expiry_column(d.expires)
    if expires is None:
        return False
    failed: list = []
    builder = LayerBuilder()
    add_bulk(builder, d.ids, d.patterns, d.fixes, d.confidence, d.priority, expires,
             lambda k, exc: failed.append(k), decoded=True)
    if failed:
        return False
    meta = {k: v for k in ("name", "version", "created_at") if (v := getattr(d, k)) is not fastjson.UNSET}
    return meta, builder.piece()


def _helper_half(proc: subprocess.Popen, out: str, err: str, digest: Digest) -> tuple | bool | None:
    """The helper's half; False if it does not decode or has an error; None if the helper failed."""
    try:
        code = proc.wait(timeout=TIMEOUT_S)
        if code == 0:
            with open(out, "rb") as fh:
                result = pickle.load(fh)  # noqa: S301 - written by our own helper, in our 0700 folder
            if result["sha256"] == digest.result():
                return result["half"]
            log.info("arc: a bundle changed while it was loaded in halves; loading it in one process")
            return None
    except subprocess.TimeoutExpired:
        code = f"no result after {TIMEOUT_S:.0f} s"
    except (OSError, ValueError, KeyError, EOFError, pickle.UnpicklingError) as exc:
        code = repr(exc)
    log.warning("arc: the pattern load's helper process failed (%s: %s); loading in one process",
                code, helper_process.stderr_tail(err) or "no output")
    return None


def child_main() -> int:
    """In the helper: read the second half of the file, build it, pickle ``{"sha256", "half"}``."""
    job = json.loads(sys.argv[-1])
    gc.disable()  # as in ``bundle.load_layer``: 1M small dicts would make the GC rescan them
    with os.fdopen(open_regular(job["path"]), "rb") as fh:  # never a FIFO swapped in meanwhile
        if os.fstat(fh.fileno()).st_size != job["size"]:
            return 3  # the file changed: the app's process builds this half itself
        n = job["size"] - job["start"]
        buf = bytearray(len(fastjson.TAIL_START) + n)  # read straight after the opening, no copy
        buf[:len(fastjson.TAIL_START)] = fastjson.TAIL_START
        fh.seek(job["start"])
        if fh.readinto(memoryview(buf)[len(fastjson.TAIL_START):]) != n:
            return 3
    digest = hashlib.sha256(memoryview(buf)[len(fastjson.TAIL_START):]).hexdigest()
    half = _build(buf, head=False)
    del buf
    with open(job["out"], "wb") as fh:
        pickle.dump({"sha256": digest, "half": half}, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return 0

