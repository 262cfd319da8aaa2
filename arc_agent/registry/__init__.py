"""Versioned artifact registry: immutable numbered versions of learned artifacts and channels
(``stable``, ``canary``) that agents follow, with promote and rollback as one atomic pointer move.

Kinds: ``patterns/<name>`` (pattern bundles, ``ARC_PATTERNS=registry:NAME[@CHANNEL]``) and
``models/<name>`` (ONNX models/policies). Training jobs publish into it, ``arc registry`` manages
it, agents read it; it imports nothing from the agent's other packages but ``fsutil`` and ``settings``.
Names load lazily, so an agent that does not follow a registry pays nothing.
"""

import importlib
from typing import Any

_EXPORTS = {
    "Registry": ".store",
    "default_root": ".store",
    "Manifest": ".manifest",
    "ChannelState": ".channels",
    "RegistryError": ".errors",
    "ArtifactRejected": ".errors",
    "KINDS": ".names",
    "parse_ref": ".ref",
    "resolve_ref": ".ref",
    "is_ref": ".ref",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
