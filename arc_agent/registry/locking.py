"""One writer at a time per artifact name, across processes: an exclusive lock on a lock file.

``fcntl.flock`` where it exists (released by the kernel if the holder dies, so a crashed publisher
never wedges the registry); elsewhere an ``O_EXCL`` lock file. Waiting is bounded.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Iterator

from .errors import RegistryError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

WAIT_S = 30.0


@contextlib.contextmanager
def exclusive(path: str, wait_s: float = WAIT_S) -> Iterator[None]:
    deadline = time.monotonic() + wait_s
    if fcntl is None:  # pragma: no cover - Windows
        yield from _exclusive_file(path, deadline)
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RegistryError(f"{path}: another registry writer held the lock for over "
                                        f"{wait_s:.0f} s") from None
                time.sleep(0.005)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _exclusive_file(path: str, deadline: float) -> Iterator[None]:  # pragma: no cover - Windows
    marker = path + ".held"
    while True:
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            break
        except FileExistsError:
            if time.monotonic() > deadline:
                raise RegistryError(f"{marker}: held for too long; remove it if no writer runs") from None
            time.sleep(0.005)
    try:
        yield
    finally:
        os.unlink(marker)
