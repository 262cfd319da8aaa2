"""``registry:NAME[@CHANNEL]`` settings: which artifact an agent follows, resolved to a verified path.

``ARC_PATTERNS=registry:llm-fixes@canary`` follows channel ``canary`` of ``patterns/llm-fixes`` in
``ARC_REGISTRY`` (no channel: ``stable``; ``@3``: pinned to version 3). The pattern engine resolves it
on every hot-reload poll, so a promote or rollback is picked up at the next poll, and a version
that fails verification is an error there: the engine keeps the set it has.
"""

from __future__ import annotations

from typing import Mapping, Optional, Tuple, Union

from . import names
from .store import Registry, default_root

PREFIX = "registry:"


def is_ref(text: str) -> bool:
    return text.startswith(PREFIX)


def parse_ref(text: str) -> Tuple[str, Union[str, int]]:
    """(name, channel or pinned version) of ``registry:NAME[@CHANNEL|@VERSION]``; RegistryError if bad."""
    name, _, at = text[len(PREFIX):].partition("@")
    names.check_name(name)
    if at.isdigit():
        return name, names.check_version(at)
    return name, names.check_channel(at or names.DEFAULT_CHANNEL)


def resolve_ref(text: str, kind: str = "patterns", environ: Optional[Mapping[str, str]] = None) -> str:
    """The verified artifact path ``text`` names now; RegistryError / ArtifactRejected otherwise."""
    name, where = parse_ref(text)
    registry = Registry(default_root(environ))
    if isinstance(where, int):
        return registry.verified(kind, name, where)[1]
    return registry.resolve(kind, name, where)[1]

