"""Registry errors: each message names the artifact (``kind/name@version``) and what is wrong."""

from __future__ import annotations


class RegistryError(ValueError):
    """A registry operation that cannot be done (bad name, unknown version, nothing to roll back to)."""


class ArtifactRejected(RegistryError):
    """A stored artifact or manifest that fails verification (sha256/size mismatch, bad manifest):
    it is never served, and an agent following the channel keeps the version it has."""


class VersionTaken(RegistryError):
    """A version built for number N (``publish --url`` signs its number) finds N already published:
    nothing is replaced; build it again for the next number."""
