"""``arc serve``: the control plane over a registry directory (gRPC ``arc.v1.Control``).

Every call needs an API key from ``--keys`` (``TENANT KEY`` lines, a private file); plaintext is
allowed on a loopback address only, anything else needs ``--tls-cert/--tls-key``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from .. import settings
from ..netutil import is_loopback

HELP = "serve the registry to a fleet of agents over gRPC (control plane)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen", default="127.0.0.1:4320", metavar="HOST:PORT",
                        help="address to serve on (default 127.0.0.1:4320; port 0 = any free port)")
    parser.add_argument("--registry", metavar="DIR",
                        help="registry root; tenant T's artifacts are in DIR/tenants/T "
                             "(default: ARC_REGISTRY or ~/.arc/registry)")
    parser.add_argument("--keys", metavar="FILE", default=settings.text("ARC_SERVE_KEYS"),
                        help="API keys, one 'TENANT KEY' per line, chmod 600 (default: ARC_SERVE_KEYS)")
    parser.add_argument("--tls-cert", metavar="PEM", help="server certificate chain")
    parser.add_argument("--tls-key", metavar="PEM", help="server private key")
    parser.add_argument("--canary-share", type=float, default=0.0, metavar="FRACTION",
                        help="share of agents following 'stable' that get 'canary' instead, chosen by a "
                             "stable hash of their instance id (default 0)")


def run(args: argparse.Namespace) -> int:
    from ..registry import default_root
    from .auth import KeyFileError, KeyRing
    from .server import serve

    def fail(msg: str) -> int:
        print(f"arc serve: {msg}", file=sys.stderr)
        return 2

    if not args.keys:
        return fail("--keys FILE is required: every call is authenticated (one 'TENANT KEY' per line)")
    try:
        keys = KeyRing.load(args.keys)
    except KeyFileError as exc:
        return fail(str(exc))
    if bool(args.tls_cert) != bool(args.tls_key):
        return fail("--tls-cert and --tls-key go together")
    tls = None
    if args.tls_cert:
        try:
            with open(args.tls_cert, "rb") as c, open(args.tls_key, "rb") as k:
                tls = (c.read(1 << 20), k.read(1 << 20))
        except OSError as exc:
            return fail(f"TLS files: {exc.strerror or exc} ({exc.filename})")
    elif not is_loopback(args.listen.rpartition(":")[0]):
        return fail(f"{args.listen} is not a loopback address: serving it needs --tls-cert/--tls-key")
    if not 0.0 <= args.canary_share <= 1.0:
        return fail("--canary-share must be between 0 and 1")
    root = os.path.abspath(os.path.expanduser(args.registry)) if args.registry else default_root()
    logging.basicConfig(level=settings.text("ARC_LOG_LEVEL"),
                        format="%(asctime)s %(levelname)s %(message)s")

    def ready(port: int) -> None:
        host = args.listen.rpartition(":")[0]
        print(f"arc serve listening on {host}:{port} ({'TLS' if tls else 'plaintext'}), registry {root}, "
              f"{len(keys)} key(s) for {len(keys.tenants)} tenant(s)", flush=True)

    try:
        asyncio.run(serve(args.listen, root, keys, tls, args.canary_share, ready))
    except RuntimeError as exc:  # e.g. the port is taken
        return fail(str(exc))
    return 0
