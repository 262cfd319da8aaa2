"""Small file helpers shared by the pattern snapshots and the vision blob store."""

from __future__ import annotations

import os
import tempfile
from typing import Iterable


def make_private_dirs(folder: str) -> None:
    """Create ``folder`` and every missing parent as 0700 (``os.makedirs`` gives the parents the
    umask's mode, 0755: anyone could list what Arc keeps there). Existing folders are left as they are."""
    missing = []
    path = os.path.abspath(folder)
    while not os.path.isdir(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass


def atomic_write(path: str, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` to ``path`` so readers see the old file or the whole new one, never a part:
    a temp file (0600) in the same folder (made 0700 when missing), then ``os.replace``; the temp
    file is removed on any failure."""
    folder = os.path.dirname(path) or "."
    make_private_dirs(folder)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
