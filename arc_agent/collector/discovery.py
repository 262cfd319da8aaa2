"""Where a running collector says where it listens: ``collector.json`` next to its store.

``arc query`` and the reader API use it to reach the collector that owns a store (chDB lets only
that process open it), and take the query endpoint's token from it: the file is 0600 in a 0700
folder, so only the store's owner can query. With ``--clickhouse`` the file is ``~/.arc/collector.json``.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import secrets
import stat
from pathlib import Path

STATE_FILE = "collector.json"
log = logging.getLogger("arc")


def state_path(store_dir: Path | None) -> Path:
    if store_dir is not None:
        return Path(store_dir) / STATE_FILE
    return Path(os.path.expanduser("~/.arc")) / STATE_FILE


def new_token() -> str:
    """A fresh random token for the query endpoint (256 bits)."""
    return secrets.token_urlsafe(32)


def write_state(path: Path, info: dict) -> None:
    """Write ``info`` atomically, readable by the owner only, in a folder only the owner can list."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (json.dumps(info, indent=2) + "\n").encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _untrusted(path: Path) -> str:
    """Why ``path`` may have been written by someone else ('' when it is ours): it tells clients where
    to send queries, with which token and certificate, and where training jobs write their rows."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return "" if exc.errno == errno.ENOENT else (exc.strerror or str(exc))
    try:
        info = os.fstat(fd)
    finally:
        os.close(fd)
    folder = os.stat(path.parent)
    uid = os.getuid()
    if not stat.S_ISREG(info.st_mode) or info.st_uid != uid or info.st_mode & 0o022:
        return "not a regular file of this user that only this user can write"
    if folder.st_uid != uid or folder.st_mode & 0o022:
        return "in a folder other users can write to"
    return ""


def read_state(path: Path) -> dict | None:
    """The state of a collector that is still running, else None (stale files are ignored, and so
    is a file another user could have written: logged)."""
    problem = _untrusted(Path(path))
    if problem:
        log.warning("arc: ignoring %s: %s", path, problem)
        return None
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    pid = info.get("pid")
    if not isinstance(pid, int) or not _alive(pid):
        return None
    return info


def remove_state(path: Path, pid: int) -> None:
    """Remove the file if it is still ours (a newer collector may have replaced it)."""
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
        if info.get("pid") == pid:
            Path(path).unlink()
    except (OSError, ValueError):
        pass
