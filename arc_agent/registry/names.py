"""What the registry accepts as kinds, names, channels and versions, and its size bounds.

Names become path components, so they are checked before any path is built: no separators, no
``..``, no hidden files, bounded length.
"""

from __future__ import annotations

import re

from .errors import RegistryError

KINDS = ("patterns", "models")
DEFAULT_CHANNEL = "stable"
CANARY_CHANNEL = "canary"
"""The channel whose pointer may carry a ``share``: the part of ``stable``'s followers it serves."""
CHANNELS_HINT = ("stable", "canary")
MAX_ARTIFACT_BYTES = 2 << 30
"""Largest artifact (a file, or a directory's files together) published or served."""
MAX_FILES = 10_000
"""Most files in a directory artifact."""
MAX_DEPTH = 16
MAX_MANIFEST_BYTES = 256 << 10
MAX_POINTER_BYTES = 256 << 10
MAX_HISTORY = 100
"""Channel moves (and rollback steps) kept per channel."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_CHANNEL = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise RegistryError(f"unknown artifact kind {kind!r}; known: {', '.join(KINDS)}")
    return kind


def check_name(name: str, what: str = "artifact name") -> str:
    if not isinstance(name, str) or not _NAME.match(name) or name.endswith((".tmp", ".lock")):
        raise RegistryError(f"bad {what} {name!r}: 1-128 letters, digits, '.', '_' or '-', "
                            "starting with a letter or digit")
    return name


def check_channel(channel: str) -> str:
    if not isinstance(channel, str) or not _CHANNEL.match(channel):
        raise RegistryError(f"bad channel {channel!r}: 1-32 lower-case letters, digits, '_' or '-' "
                            f"(e.g. {' or '.join(CHANNELS_HINT)})")
    return channel


def check_version(version: object) -> int:
    if isinstance(version, str) and version.isdigit():
        version = int(version)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RegistryError(f"bad version {version!r}: a positive integer")
    return version


def check_share(share: object) -> float:
    """A canary share: a number from 0 to 1 (the part of ``stable``'s followers served the canary)."""
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0.0 <= share <= 1.0:
        raise RegistryError(f"bad canary share {share!r}: a number from 0 to 1 (e.g. 0.1 for 10 %)")
    return float(share)
