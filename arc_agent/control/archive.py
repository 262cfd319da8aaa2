"""Directory artifacts on the wire: a deterministic tar out of the server, a bounded unpack in the agent.

The server packs a verified version folder (``pack``): regular files only, sorted, mtime 0, uid/gid 0,
mode 0644, PAX format, so the same folder always gives the same bytes. The agent unpacks it
(``unpack``) into a private folder refusing anything an honest server never sends: links, devices,
directory entries, absolute paths, ``..``, hidden entries, duplicates, more files,
deeper trees or more bytes than the manifest allows. The registry's folder digest (every file's
name, size and sha256) is then checked by ``Registry.install`` before the version appears.
"""

from __future__ import annotations

import os
import tarfile
from typing import BinaryIO, Iterator

from ..registry import names
from ..registry.errors import ArtifactRejected
from ..registry.manifest import tree_files

BLOCK = 1 << 20
TAR_OVERHEAD_PER_FILE = 3 * tarfile.BLOCKSIZE + 4096
"""Header, PAX header and its data (long names) per file, in the download bound."""
TAR_OVERHEAD_FIXED = 64 * tarfile.RECORDSIZE


def max_download(size: int) -> int:
    """Most tar bytes a directory of ``size`` bytes in at most MAX_FILES files can take."""
    return size + names.MAX_FILES * TAR_OVERHEAD_PER_FILE + TAR_OVERHEAD_FIXED


def pack(folder: str, out: BinaryIO) -> None:
    """Write the deterministic tar of ``folder``'s artifact files (hidden entries excluded) to ``out``."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for rel, st in tree_files(folder):
            info = tarfile.TarInfo(rel)
            info.size, info.mtime, info.mode = st.st_size, 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with open(os.path.join(folder, rel), "rb") as fh:
                tar.addfile(info, fh)


def _safe_parts(name: str, where: str) -> list:
    if not name or name.startswith("/") or "\\" in name or "\0" in name:
        raise ArtifactRejected(f"{where}: archive entry {name!r} is an absolute or malformed path")
    parts = name.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise ArtifactRejected(f"{where}: archive entry {name!r} leaves the artifact folder ('..' or empty part)")
        if part.startswith("."):
            raise ArtifactRejected(f"{where}: archive entry {name!r} is hidden (not part of an artifact)")
    if len(parts) > names.MAX_DEPTH + 1:
        raise ArtifactRejected(f"{where}: archive entry {name!r} is deeper than {names.MAX_DEPTH} directories")
    return parts


def unpack(archive: str, dest: str, size: int, where: str) -> int:
    """Unpack the tar at ``archive`` into the new folder ``dest``; the files' bytes may total at most
    ``size`` (the manifest's). Returns the number of files; ArtifactRejected names the bad entry."""
    os.makedirs(dest, mode=0o700)
    count = total = 0
    seen = set()
    try:
        tar = tarfile.open(archive, mode="r:")
    except tarfile.TarError as exc:
        raise ArtifactRejected(f"{where}: the server sent a damaged archive ({exc})") from None
    with tar:
        members: Iterator[tarfile.TarInfo] = iter(tar)
        while True:
            try:
                member = next(members)
            except StopIteration:
                break
            except tarfile.TarError as exc:
                raise ArtifactRejected(f"{where}: the server sent a damaged archive ({exc})") from None
            parts = _safe_parts(member.name, where)
            if not member.isreg() or member.issparse():
                raise ArtifactRejected(f"{where}: archive entry {member.name!r} is not a regular file "
                                       "(links, directories and devices are refused)")
            if member.name in seen:
                raise ArtifactRejected(f"{where}: archive entry {member.name!r} appears twice")
            seen.add(member.name)
            count += 1
            total += member.size
            if count > names.MAX_FILES:
                raise ArtifactRejected(f"{where}: archive has more than {names.MAX_FILES} files")
            if total > size:
                raise ArtifactRejected(f"{where}: archive files total more than the manifest's {size} bytes")
            _write(tar, member, dest, parts, where)
    return count


def _write(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: str, parts: list, where: str) -> None:
    folder = dest
    for part in parts[:-1]:
        folder = os.path.join(folder, part)
        if not os.path.isdir(folder):
            if os.path.lexists(folder):
                raise ArtifactRejected(f"{where}: archive entry {member.name!r} runs through a file")
            os.mkdir(folder, 0o700)
    target = os.path.join(folder, parts[-1])
    source = tar.extractfile(member)
    if source is None:
        raise ArtifactRejected(f"{where}: archive entry {member.name!r} has no data")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            left = member.size
            while left > 0:
                data = source.read(min(BLOCK, left))
                if not data:
                    raise ArtifactRejected(f"{where}: archive entry {member.name!r} is cut short")
                out.write(data)
                left -= len(data)
    except (tarfile.TarError, OSError) as exc:
        raise ArtifactRejected(f"{where}: cannot unpack {member.name!r} ({exc})") from None
