"""Whether a pattern snapshot may be trusted: who wrote it, who could have replaced it, and a MAC.

A snapshot decides which fixes Arc applies, so one planted next to a bundle could make the app
send another model or an injected system prompt. Its key (bundle paths + content digests) is no
defence: anyone who can read the bundle can compute it. So a snapshot is used only when

- it is a regular file owned by this user and writable by nobody else,
- its folder is writable by nobody else (owned by this user or root, no group/other write bit):
  nobody else can swap it after the checks, and
- it ends with an HMAC-SHA256 of everything before it, keyed by a per-user secret: 32 random
  bytes in ``$ARC_HOME/snapshot.key`` (default ``~/.arc``; the folder 0700, the file 0600),
  created on first use. Whoever cannot read that file cannot write a snapshot Arc accepts.

Anything else is ignored (logged) and the bundles are loaded from source.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import stat
from hashlib import sha256

from .. import settings

log = logging.getLogger("arc")

KEY_FILE = "snapshot.key"
KEY_BYTES = 32
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_cache: dict = {}  # key file path -> secret


class UntrustedSnapshot(Exception):
    """The snapshot (or its folder) could have been written by someone else."""


def arc_home() -> str:
    """Arc's private per-user folder: ``ARC_HOME``, else ``~/.arc``."""
    return os.path.abspath(os.path.expanduser(settings.text("ARC_HOME")))


def secret() -> bytes:
    """This user's snapshot MAC key, created (0600, in a 0700 folder) on first use; OSError when
    it cannot be created or the existing file is not private to this user."""
    path = os.path.join(arc_home(), KEY_FILE)
    key = _cache.get(path)
    if key is None:
        key = _cache[path] = _read_or_create(path)
    return key


def _read_or_create(path: str) -> bytes:
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(KEY_BYTES))
            fh.flush()
            os.fsync(fh.fileno())
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW | _CLOEXEC)
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
            raise PermissionError(f"{path} must be a regular file of this user with mode 0600")
        key = fh.read(KEY_BYTES + 1)
    if len(key) != KEY_BYTES:
        raise PermissionError(f"{path} must hold exactly {KEY_BYTES} bytes")
    return key


def mac(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=sha256)


def folder_trusted(folder: str) -> bool:
    """Nobody but this user (or root) can add, remove or rename files in ``folder``."""
    try:
        st = os.stat(folder)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid in (os.geteuid(), 0) and not st.st_mode & 0o022


def open_trusted(path: str) -> int:
    """A read-only descriptor on the snapshot ``path``; UntrustedSnapshot if it or its folder
    could have been written by someone else (checked on the open descriptor, no FIFO waits)."""
    if not folder_trusted(os.path.dirname(os.path.abspath(path))):
        raise UntrustedSnapshot("its folder is writable by other users")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW | _CLOEXEC)
    st = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(st.st_mode):
        problem = "not a regular file"
    elif st.st_uid != os.geteuid():
        problem = f"owned by uid {st.st_uid}, not this user"
    elif st.st_mode & 0o022:
        problem = f"writable by other users (mode {stat.S_IMODE(st.st_mode):o})"
    if problem is not None:
        os.close(fd)
        raise UntrustedSnapshot(problem)
    return fd
