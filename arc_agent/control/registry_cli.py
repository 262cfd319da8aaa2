"""``arc registry``: the local registry's commands (``registry/cli.py``), or with ``--url`` the same
commands through a control server (``remote.py``).

The choice is made here because the control plane sits above the registry: it reads and serves the
registry, and the registry never imports it.
"""

from __future__ import annotations

import argparse

from ..registry import cli as local
from ..registry.cli import add_arguments

__all__ = ["add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    if args.registry_command != "keygen" and getattr(args, "url", None):
        from .remote import run_registry

        return run_registry(args)
    return local.run(args)
