"""Bounds on reading pattern files, which may be hostile: regular files only, a size cap, and
YAML whose aliases and nesting cannot blow up.

- A FIFO, device or socket under a bundle path is refused without reading it: the file is opened
  with ``O_NONBLOCK`` (a FIFO with no writer does not block the open) and checked with ``fstat``
  on that descriptor (no race with a rename), so a FIFO cannot hang the app and a ``/dev/zero``
  symlink cannot be read until memory runs out.
- At most ``ARC_PATTERNS_MAX_BYTES`` (default 512 MiB: several times a 1M-pattern JSON bundle) are
  read, even from a file that grows while it is read.
- Reading one file may take at most ``ARC_READ_TIMEOUT_S`` (default 30 s; a hung network file
  system): the read loop checks a monotonic deadline between chunks and runs in a daemon worker
  thread the caller waits on with that deadline, so even a ``read()`` that never returns cannot
  hang the caller (the worker closes the file whenever its read returns).
- YAML: libyaml builds one node per alias target, shared; Python code walking the document
  afterwards expands every alias again (a 525-byte file of 8 levels of 9 aliases is 43M nodes).
  The composed node graph is checked before anything is constructed: nesting at most
  ``MAX_DEPTH`` levels, no recursive alias, and aliases may add at most ``ALIAS_ALLOWANCE`` nodes
  or as many as the document has, whichever is more.
- JSON nesting is bounded by the decoders' own recursion limit; the loader names the file.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time
from typing import Any, Callable, Mapping, TypeVar

from .errors import BundleError

DEFAULT_MAX_BYTES = 512 << 20
MAX_DEPTH = 100
ALIAS_ALLOWANCE = 100_000
MAX_BYTES_VARIABLE = "ARC_PATTERNS_MAX_BYTES"
READ_TIMEOUT_VARIABLE = "ARC_READ_TIMEOUT_S"
T = TypeVar("T")
_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))


def max_bytes(environ: Mapping[str, str] | None = None) -> int:
    """``ARC_PATTERNS_MAX_BYTES`` (a bad value is logged by ``settings`` and the default used)."""
    from ..settings import value

    return int(value(MAX_BYTES_VARIABLE, environ))


def read_timeout(environ: Mapping[str, str] | None = None) -> float:
    """``ARC_READ_TIMEOUT_S``: seconds reading one file may take."""
    from ..settings import value

    return float(value(READ_TIMEOUT_VARIABLE, environ))


class Deadline:
    """The moment reading ``path`` must be done by; ``check()`` raises BundleError after it."""

    def __init__(self, path: str, timeout: float | None = None) -> None:
        self.path = path
        self.timeout = read_timeout() if timeout is None else timeout
        self.at = time.monotonic() + self.timeout

    def check(self) -> None:
        if time.monotonic() >= self.at:
            raise self.expired()

    def expired(self) -> BundleError:
        return BundleError(self.path, f"reading it took longer than the {self.timeout:g}-second limit "
                                      f"({READ_TIMEOUT_VARIABLE}): refused")


def within_deadline(path: str, work: Callable[[Deadline], T], timeout: float | None = None) -> T:
    """``work(deadline)`` run in a daemon worker thread; the caller waits for it until the deadline
    and gets BundleError naming ``path`` and the limit if it is not done by then (the worker, blocked
    in a read, finishes on its own; ``work`` should ``deadline.check()`` between reads)."""
    deadline = Deadline(path, timeout)
    outcome: list = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append((True, work(deadline)))
        except BaseException as exc:  # handed to the caller
            outcome.append((False, exc))
        finally:
            done.set()

    threading.Thread(target=run, name="arc-bounded-read", daemon=True).start()
    if not done.wait(max(deadline.at - time.monotonic(), 0.0)) and not outcome:
        raise deadline.expired()
    ok, result = outcome[0]
    if not ok:
        raise result
    return result


class DeadlineFile:
    """A binary file whose every ``read`` first checks ``deadline`` (for ``read_container``)."""

    def __init__(self, fh: Any, deadline: Deadline) -> None:
        self._fh, self._deadline = fh, deadline

    def read(self, n: int = -1) -> bytes:
        self._deadline.check()
        return self._fh.read(n)

    def fileno(self) -> int:
        return self._fh.fileno()

    def tell(self) -> int:
        return self._fh.tell()


def open_regular(path: str) -> int:
    """A read-only descriptor on ``path`` if it is a regular file; BundleError otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise BundleError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        os.close(fd)
        raise BundleError(path, f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        raise BundleError(path, f"is {kind}, not a regular file: refused without reading it")
    return fd


def read_regular(path: str, limit: int | None = None, timeout: float | None = None) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` (default ``max_bytes()``) read
    within ``timeout`` seconds (default ``read_timeout()``); BundleError naming the file otherwise."""
    limit = max_bytes() if limit is None else limit
    return within_deadline(path, lambda deadline: _read_regular(path, limit, deadline), timeout)


def _read_regular(path: str, limit: int, deadline: Deadline) -> bytes:
    fd = open_regular(path)
    with os.fdopen(fd, "rb", buffering=0) as fh:
        try:
            size = os.fstat(fd).st_size
            if size > limit:
                raise BundleError(path, _too_big(size, limit))
            parts, total = [], 0
            want = size + 1  # one read for the whole file, one more to see its end
            while total <= limit:
                deadline.check()
                chunk = fh.read(min(limit + 1 - total, max(want - total, 1 << 16)))
                if not chunk:
                    break
                parts.append(chunk)
                total += len(chunk)
        except OSError as exc:
            raise BundleError(path, f"cannot read: {exc.strerror or exc}") from None
    if total > limit:
        raise BundleError(path, _too_big(total, limit, growing=True))
    return parts[0] if len(parts) == 1 else b"".join(parts)


def sha256_regular(path: str, limit: int | None = None, timeout: float | None = None) -> str:
    """sha256 hex digest of the regular file ``path`` read in 1 MiB slices (no whole copy in
    memory), within the same bounds as ``read_regular``."""
    limit = max_bytes() if limit is None else limit
    return within_deadline(path, lambda deadline: _sha256_regular(path, limit, deadline), timeout)


def _sha256_regular(path: str, limit: int, deadline: Deadline) -> str:
    fd = open_regular(path)
    digest = hashlib.sha256()
    total = 0
    with os.fdopen(fd, "rb", buffering=0) as fh:
        try:
            if os.fstat(fd).st_size > limit:
                raise BundleError(path, _too_big(os.fstat(fd).st_size, limit))
            while not deadline.check() and (chunk := fh.read(1 << 20)):
                total += len(chunk)
                if total > limit:
                    raise BundleError(path, _too_big(total, limit, growing=True))
                digest.update(chunk)
        except OSError as exc:
            raise BundleError(path, f"cannot read: {exc.strerror or exc}") from None
    return digest.hexdigest()


def _too_big(size: int, limit: int, growing: bool = False) -> str:
    what = "grew past" if growing else f"is {size} bytes, over"
    return f"{what} the {limit}-byte limit ({MAX_BYTES_VARIABLE})"


# -- YAML -------------------------------------------------------------------------------------------
def yaml_loader() -> type:
    """A PyYAML safe loader class (libyaml's when available) whose composed document is checked
    by ``check_yaml_nodes`` before it is constructed."""
    global _LOADER
    if _LOADER is None:
        from .. import forkgate

        yaml = forkgate.import_module("yaml")  # on a load thread: a fork must not cut it in half
        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class BoundedSafeLoader(base):  # type: ignore[misc, valid-type]
            def get_single_node(self) -> Any:
                node = super().get_single_node()
                if node is not None:
                    check_yaml_nodes(node)
                return node

        _LOADER = BoundedSafeLoader
    return _LOADER


_LOADER: Any = None


class YAMLBoundsError(ValueError):
    """A YAML document over ``MAX_DEPTH`` levels, with a recursive alias, or whose aliases
    expand too far; the message says which."""


def check_yaml_nodes(root: Any) -> None:
    """Walk the composed node graph once (shared alias targets once each) and refuse it when
    nesting, recursion or alias expansion is over the bounds."""
    done: dict = {}  # id(node) -> (expanded node count, height)
    open_nodes: set = set()
    stack: list = [(root, 1, None)]  # (node, depth, its children when closing it)
    while stack:
        node, depth, closing = stack.pop()
        key = id(node)
        if closing is not None:
            open_nodes.discard(key)
            size, height = 1, 0
            for kid in closing:
                s, h = done[id(kid)]
                size += s
                height = max(height, h)
            done[key] = (size, height + 1)
            continue
        if key in done:
            if depth + done[key][1] - 1 > MAX_DEPTH:
                raise YAMLBoundsError(f"nesting deeper than {MAX_DEPTH} levels")
            continue
        if key in open_nodes:
            raise YAMLBoundsError("a recursive alias (a node that contains itself)")
        if depth > MAX_DEPTH:
            raise YAMLBoundsError(f"nesting deeper than {MAX_DEPTH} levels")
        kids = _children(node)
        open_nodes.add(key)
        stack.append((node, depth, kids))
        stack.extend((kid, depth + 1, None) for kid in kids)
    nodes = len(done)
    expanded = done[id(root)][0]
    if expanded > nodes + max(ALIAS_ALLOWANCE, nodes):
        raise YAMLBoundsError(f"aliases expand its {nodes} nodes to {expanded} (an alias bomb?); "
                              f"at most {nodes + max(ALIAS_ALLOWANCE, nodes)} are allowed")


def _children(node: Any) -> list:
    value = node.value
    if type(value) is not list:  # a scalar
        return []
    if value and type(value[0]) is tuple:  # a mapping: (key, value) pairs
        return [n for pair in value for n in pair]
    return value
