"""Cassettes: intercepted LLM calls recorded for replay (``ARC_CAPTURE=PATH``), and read back.

Format (shared with ``arc replay`` and the mining job): JSON Lines, one record per captured call::

    {"v": 1, "time": 1765100000.123, "provider": "openai", "operation": "chat.completions",
     "kwargs": {...app's kwargs, redacted...}, "sent_kwargs": {...what Arc sent...},
     "fix": {"applied": true, "pattern_ids": ["p1"]}, "outcome": "invalid_json",
     "error": {"status": 400, "code": "...", "param": "...", "type": "..."},
     "trace_id": "32 hex", "span_id": "16 hex"}

Why a writer thread: serialising and writing a request can cost more than Arc's whole per-call
budget, so the app thread only makes the redacted copy (it must: apps append to their ``messages``
right after a call) and hands it to a bounded in-memory queue; a daemon thread writes it. The files
are private (0600, no symlink followed) and bounded: ``PATH`` rotates to ``PATH.1`` when it would
pass half of ``max_bytes``, so both files together stay under ``max_bytes``. Nothing secret is ever
written: no ``api_key``, headers, query extras, client objects or non-JSON values, no value under a
credential-like name at any depth, and text shaped like a credential (``sk-…``, ``Bearer …``, cloud
keys, ``user:password@`` in URLs) is replaced by ``[REDACTED]`` wherever it sits.
"""

from __future__ import annotations

import atexit
import json
import logging
import math
import os
import re
import threading
from collections import deque
from collections.abc import Mapping
from typing import Any, Iterator

log = logging.getLogger("arc")

VERSION = 1
OPERATIONS = ("chat.completions", "responses", "messages")
PROVIDER_OPERATIONS = frozenset({("openai", "chat.completions"), ("openai", "responses"), ("anthropic", "messages")})
DEFAULT_MAX_BYTES = 64 << 20
QUEUE_SIZE = 1024  # records waiting for the writer thread; more are dropped (counted)
CLOSE_TIMEOUT_S = 0.5  # at exit: the writer gets this long to write what is queued
MAX_DEPTH = 32  # nesting kept in a redacted value; deeper parts are dropped
MAX_LINE_BYTES = 64 << 20  # the reader refuses longer lines
MAX_FILE_BYTES = 256 << 20  # the reader refuses bigger files (the writer's own bound is ARC_CAPTURE_MAX_BYTES)

# top-level kwargs never recorded: credentials, transport settings, SDK helpers
_DROP_KWARGS = frozenset({"api_key", "extra_headers", "extra_query", "timeout", "http_client", "client",
                          "default_headers", "default_query", "organization", "project", "base_url",
                          "event_handler", "stream_cls", "cast_to", "options", "idempotency_key"})
# keys dropped at any depth (compared lower-case): credentials wherever they hide
_SECRET_KEYS = frozenset({"api_key", "apikey", "api-key", "x-api-key", "authorization", "proxy-authorization",
                          "password", "secret", "client_secret", "access_token", "refresh_token", "bearer",
                          "cookie", "set-cookie"})
# key names that say "credential" anywhere in a name (``openai_api_key``, ``X-Auth-Token``, ``db.password``):
# a whole name segment, so ``max_tokens`` or ``prompt_cache_key`` stay
_SECRET_NAME = re.compile(r"(?:^|[_.\-])(?:api[_\-]?key|apikey|secret|password|passwd|token|credentials?|auth"
                          r"|authorization|cookie|private[_\-]?key)(?:$|[_.\-])")
# values shaped like a credential wherever they sit (a key pasted in ``metadata``, a URL with a password):
# (literal each match starts with, pattern); a pattern runs only when its literal is in the text, and a
# literal first lets the engine skip to it (a prompt of 10 KB costs microseconds, not milliseconds)
_SECRET_VALUES = tuple((hint, re.compile(pattern)) for hint, pattern in (
    ("sk-", r"sk-[A-Za-z0-9_\-]{16,}"),  # OpenAI / Anthropic keys (sk-, sk-proj-, sk-ant-)
    ("Bearer", r"Bearer\s+[A-Za-z0-9._~+/\-]{16,}=*"),
    ("bearer", r"bearer\s+[A-Za-z0-9._~+/\-]{16,}=*"),
    ("AKIA", r"AKIA[0-9A-Z]{16}"),  # AWS access key id
    ("_", r"gh[pousr]_[A-Za-z0-9]{30,}"),  # GitHub tokens
    ("xox", r"xox[abprs]-[A-Za-z0-9\-]{10,}"),  # Slack tokens
    ("AIza", r"AIza[0-9A-Za-z_\-]{35}"),  # Google API keys
    ("@", r"://[^/\s:@]+:[^/\s@]+@"),  # URL credentials (user:password@)
))
REDACTED = "[REDACTED]"
_DROP = object()


def _secret_name(key: str) -> bool:
    low = key.lower()
    return low in _SECRET_KEYS or _SECRET_NAME.search(low) is not None


def _redacted(match: re.Match) -> str:
    found = match.group()
    if found.startswith("://"):
        return "://" + REDACTED + "@"
    start = match.start()
    if start and (match.string[start - 1].isalnum() or match.string[start - 1] in "_-"):
        return found  # inside a longer word ("task-…"): not a key
    return REDACTED


def scrubbed(value: Any) -> Any:
    """``value`` (plain JSON data) with ``scrub`` applied to every string; run by the writer thread,
    so scanning long prompts costs the app nothing (the app's thread only copies, ``redact``)."""
    kind = type(value)
    if kind is str:
        return scrub(value)
    if kind is dict:
        return {key: scrubbed(item) for key, item in value.items()}
    if kind is list:
        return [scrubbed(item) for item in value]
    return value


def scrub(text: str) -> str:
    """``text`` with anything shaped like a credential replaced by ``[REDACTED]``."""
    for hint, pattern in _SECRET_VALUES:
        if hint in text:
            text = pattern.sub(_redacted, text)
    return text


class CassetteError(ValueError):
    """A cassette file that cannot be read; the message names the file and line."""


# -- redaction ------------------------------------------------------------------------------------
def _json_value(value: Any, depth: int) -> Any:
    """``value`` as plain JSON data (a copy), or ``_DROP`` for anything JSON cannot carry."""
    kind = type(value)
    if kind is str or kind is bool or kind is int or value is None:
        return value
    if kind is float:
        return value if math.isfinite(value) else _DROP
    if depth >= MAX_DEPTH:
        return _DROP
    if kind is dict or isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if type(key) is not str or _secret_name(key):
                continue
            item = _json_value(item, depth + 1)
            if item is not _DROP:
                out[key] = item
        return out
    if kind is list or kind is tuple:
        out_list = []
        for item in value:
            item = _json_value(item, depth + 1)
            if item is not _DROP:
                out_list.append(item)
        return out_list
    if isinstance(value, bool):  # subclasses of the plain types are not JSON-safe as such
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str(value)
    return _DROP


def redact(kwargs: Mapping[str, Any]) -> dict:
    """The request kwargs as recordable JSON: no credentials, transport settings, SDK sentinels
    (``NotGiven``/``Omit``), client objects or other non-JSON values."""
    out = {}
    for key, value in kwargs.items():
        if type(key) is not str or key in _DROP_KWARGS or _secret_name(key):
            continue
        value = _json_value(value, 1)
        if value is not _DROP:
            out[key] = value
    return out


def make_record(provider: str, operation: str, kwargs: Mapping[str, Any], sent_kwargs: Mapping[str, Any], *,
                time_s: float, outcome: str, fix_applied: bool = False, pattern_ids: tuple | list = (),
                error: dict | None = None, trace_id: str | None = None, span_id: str | None = None) -> dict:
    """One cassette record; ``kwargs`` and ``sent_kwargs`` are redacted here (call it on the app's
    thread: the copy must be taken before the app changes its own lists)."""
    app = redact(kwargs)
    record = {"v": VERSION, "time": round(time_s, 6), "provider": provider, "operation": operation,
              "kwargs": app, "sent_kwargs": app if sent_kwargs is kwargs else redact(sent_kwargs),
              "fix": {"applied": bool(fix_applied), "pattern_ids": [p for p in pattern_ids if isinstance(p, str)]},
              "outcome": outcome}
    if error:
        record["error"] = error
    if trace_id:
        record["trace_id"], record["span_id"] = trace_id, span_id
    return record


# -- writer ---------------------------------------------------------------------------------------
class CassetteWriter:
    """Appends records to ``path`` from a daemon thread; ``submit`` never blocks or raises."""

    def __init__(self, path: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES,
                 queue_size: int = QUEUE_SIZE) -> None:
        self.path = os.fspath(path)
        self.max_bytes = max(int(max_bytes), 2)
        self.queue_size = queue_size
        self.written = 0
        self.dropped = 0  # queue full, record too big, or not writable
        self.rotations = 0
        self.errors = 0
        self._queue: deque = deque()
        self._cond = threading.Condition()
        self._busy = False  # the thread holds records taken from the queue
        self._closed = False
        self._thread: threading.Thread | None = None
        self._fd: int | None = None
        atexit.register(self.close)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork)

    @property
    def file_limit(self) -> int:
        """Bytes one file may hold: both files together stay under ``max_bytes``."""
        return self.max_bytes // 2

    def submit(self, record: dict) -> bool:
        """Queue ``record`` for writing; False (counted) when the queue is full or the writer closed."""
        with self._cond:
            if self._closed or len(self._queue) >= self.queue_size:
                self.dropped += 1
                return False
            self._queue.append(record)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="arc-capture", daemon=True)
                self._thread.start()
            self._cond.notify()
        return True

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything submitted so far is written (or dropped); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> bool:
        """Write what is queued (bounded by ``timeout``), then stop; later submits are dropped."""
        with self._cond:
            if self._closed:
                return True
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        done = thread is None or not thread.is_alive()
        if done:
            self._close_fd()
        else:
            log.warning("arc: capture file %s: %d records not written within %.1fs at exit", self.path,
                        len(self._queue), timeout)
        return done

    def stats(self) -> dict:
        return {"path": self.path, "written": self.written, "dropped": self.dropped, "rotations": self.rotations,
                "errors": self.errors, "queued": len(self._queue)}

    # -- thread ------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
                self._cond.wait_for(lambda: self._queue or self._closed)
                if not self._queue:
                    return  # closed and drained
                batch = list(self._queue)
                self._queue.clear()
                self._busy = True
            try:
                self._write(batch)
            except Exception as exc:  # never let the thread die with records in the queue
                self._failed(exc, len(batch))

    def _write(self, batch: list) -> None:
        lines = []
        for record in batch:
            try:
                line = (json.dumps(scrubbed(record), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
                        + "\n").encode("utf-8")
            except (TypeError, ValueError) as exc:
                self._failed(exc, 1)
                continue
            if len(line) > self.file_limit:
                self.dropped += 1
                continue
            lines.append(line)
        if lines:
            self._append(lines)

    def _append(self, lines: list) -> None:
        fd = self._open()
        _lock(fd)
        try:
            fd = self._current(fd)
            for line in lines:
                if os.fstat(fd).st_size + len(line) > self.file_limit:
                    fd = self._rotate(fd)
                os.write(fd, line)
                self.written += 1
        finally:
            _unlock(fd)

    def _open(self) -> int:
        if self._fd is None:
            parent = os.path.dirname(self.path)
            if parent:
                os.makedirs(parent, mode=0o700, exist_ok=True)
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(self.path, flags, 0o600)
            try:
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, 0o600)  # an existing file made by someone else's umask
            except OSError:
                os.close(fd)
                raise
            self._fd = fd
        return self._fd

    def _current(self, fd: int) -> int:
        """The open file, reopened (and locked) if another process rotated ``path`` meanwhile."""
        try:
            same = os.stat(self.path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        _unlock(fd)
        self._close_fd()
        fd = self._open()
        _lock(fd)
        return fd

    def _rotate(self, fd: int) -> int:
        os.replace(self.path, self.path + ".1")
        self.rotations += 1
        _unlock(fd)
        self._close_fd()
        fd = self._open()
        _lock(fd)
        return fd

    def _close_fd(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def _failed(self, exc: BaseException, count: int) -> None:
        self.errors += 1
        self.dropped += count
        if self.errors == 1:
            log.warning("arc: capture file %s cannot be written (%r); records are dropped (logged once)",
                        self.path, exc)

    def _after_fork(self) -> None:
        """A forked child has no writer thread and shares the parent's fd: start afresh."""
        self._cond = threading.Condition()
        self._queue = deque()
        self._thread = None
        self._busy = False
        self._fd = None  # the inherited fd stays the parent's (CLOEXEC does not apply to fork)


try:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError:
            pass
except ImportError:  # pragma: no cover - Windows: one writer per file is assumed
    def _lock(fd: int) -> None:
        pass

    def _unlock(fd: int) -> None:
        pass


# -- reader ---------------------------------------------------------------------------------------
def files(path: str | os.PathLike) -> list:
    """The cassette's files, oldest first (``PATH.1`` then ``PATH``), those that exist."""
    path = os.fspath(path)
    return [p for p in (path + ".1", path) if os.path.exists(p)]


def read(path: str | os.PathLike, *, strict: bool = False, max_line_bytes: int = MAX_LINE_BYTES,
         max_file_bytes: int = MAX_FILE_BYTES, stats: dict | None = None) -> Iterator[dict]:
    """Every record of a cassette, oldest first. A line that is not a version-1 record (e.g. one cut
    by a crash) is skipped and counted in ``stats["skipped"]``, or raises ``CassetteError`` naming
    file and line when ``strict``. A file above ``max_file_bytes`` raises ``CassetteError``."""
    found = files(path)
    if not found:
        raise CassetteError(f"{os.fspath(path)}: no such cassette")
    counts = stats if stats is not None else {}
    counts.setdefault("skipped", 0)
    for name in found:
        with open(name, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > max_file_bytes:
                raise CassetteError(f"{name}: {size} bytes is above the {max_file_bytes}-byte cassette limit")
            for number, line in enumerate(_lines(fh, max_line_bytes, name), 1):
                if not line.strip():
                    continue
                problem = None
                try:
                    record = json.loads(line)
                except ValueError as exc:
                    problem = f"not JSON ({exc})"
                else:
                    problem = _check(record)
                if problem is None:
                    yield record
                elif strict:
                    raise CassetteError(f"{name}:{number}: {problem}")
                else:
                    counts["skipped"] += 1


def _lines(fh, max_line_bytes: int, name: str) -> Iterator[bytes]:
    while True:
        line = fh.readline(max_line_bytes + 1)
        if not line:
            return
        if len(line) > max_line_bytes:
            raise CassetteError(f"{name}: a line is longer than {max_line_bytes} bytes")
        yield line


def _check(record: Any) -> str | None:
    """Why ``record`` is not a usable version-1 record, or None."""
    if not isinstance(record, dict):
        return "not a JSON object"
    if record.get("v") != VERSION:
        return f"unknown version {record.get('v')!r}"
    if (record.get("provider"), record.get("operation")) not in PROVIDER_OPERATIONS:
        return f"unknown provider/operation {record.get('provider')!r}/{record.get('operation')!r}"
    if not isinstance(record.get("kwargs"), dict) or not isinstance(record.get("sent_kwargs"), dict):
        return "kwargs/sent_kwargs are not objects"
    return None
