"""Arc Runtime agent.

Kept import-light on purpose: ``sitecustomize`` imports this package in every process, so the
heavy parts (OTel SDK, wrapt, grpc) load only when ``Arc`` is used or a target library is imported.
"""

from ._version import __version__

__all__ = ["Arc", "__version__"]


def __getattr__(name: str):  # lazy: typing/OTel imports would cost every process
    if name == "Arc":
        from .api import Arc

        return Arc
    raise AttributeError(name)
