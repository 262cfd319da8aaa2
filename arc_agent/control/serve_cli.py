"""``arc serve``: the control plane over a registry directory (gRPC ``arc.v1.Control``).

Every call needs an API key from ``--keys`` (``TENANT KEY [read|write|read,write]`` lines, a private
file); plaintext is allowed on a loopback address only, anything else needs ``--tls-cert/--tls-key``.
The fleet table is kept in ``--state`` (default ``REGISTRY/.fleet``) across restarts.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from .. import settings
from ..netutil import is_loopback


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen", default="127.0.0.1:4320", metavar="HOST:PORT",
                        help="address to serve on (default 127.0.0.1:4320; port 0 = any free port)")
    parser.add_argument("--registry", metavar="DIR",
                        help="registry root; tenant T's artifacts are in DIR/tenants/T "
                             "(default: ARC_REGISTRY or ~/.arc/registry)")
    parser.add_argument("--keys", metavar="FILE", default=settings.text("ARC_SERVE_KEYS"),
                        help="API keys, one 'TENANT KEY [read|write|read,write]' per line (default scopes: both), "
                             "chmod 600 (default: ARC_SERVE_KEYS)")
    parser.add_argument("--tls-cert", metavar="PEM", help="server certificate chain")
    parser.add_argument("--tls-key", metavar="PEM", help="server private key")
    parser.add_argument("--canary-share", type=float, default=0.0, metavar="FRACTION",
                        help="share of agents following 'stable' that get 'canary' instead, chosen by a "
                             "stable hash of their instance id, for artifacts whose canary channel has no share "
                             "of its own (arc registry promote … --channel canary --share S; default 0)")
    parser.add_argument("--trust-key", metavar="KEY", default=settings.text("ARC_TRUST_KEY"),
                        help="Ed25519 public key (base64 or PEM file) every 'arc registry publish --url' must be "
                             "signed with (default: ARC_TRUST_KEY; unset: signed publishes are refused)")
    parser.add_argument("--max-publish-bytes", type=int, default=None, metavar="N",
                        help="largest artifact 'arc registry publish --url' may send (default: the registry's 2 GiB)")
    parser.add_argument("--state", metavar="DIR", help="where the fleet table is kept (default: REGISTRY/.fleet)")
    parser.add_argument("--fleet-max-agents", type=int, default=None, metavar="N",
                        help="agents remembered per tenant (default 10000; the least recently seen go first)")
    parser.add_argument("--fleet-ttl-days", type=float, default=7.0, metavar="DAYS",
                        help="forget an agent not heard from for this long (default 7)")


def run(args: argparse.Namespace) -> int:
    from ..registry import default_root, names, signing
    from ..registry.errors import RegistryError
    from .auth import KeyFileError, KeyRing
    from .fleetstate import MAX_PER_TENANT, FleetTable
    from .server import serve
    from .upload import Limits

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
    from ..collector.cli import check_address

    try:
        check_address("--listen", args.listen)  # gRPC would take 99999 as 34463 silently
    except ValueError as exc:
        return fail(str(exc))
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
    max_agents = MAX_PER_TENANT if args.fleet_max_agents is None else args.fleet_max_agents
    max_bytes = names.MAX_ARTIFACT_BYTES if args.max_publish_bytes is None else args.max_publish_bytes
    if max_agents < 1 or args.fleet_ttl_days <= 0 or not 0 < max_bytes <= names.MAX_ARTIFACT_BYTES:
        return fail(f"--fleet-max-agents and --fleet-ttl-days must be positive, --max-publish-bytes 1 to "
                    f"{names.MAX_ARTIFACT_BYTES}")
    trust = None
    if args.trust_key:
        try:
            trust = signing.load_public(args.trust_key)[0]
        except RegistryError as exc:
            return fail(f"--trust-key: {exc}")
    root = os.path.abspath(os.path.expanduser(args.registry)) if args.registry else default_root()
    state = os.path.abspath(os.path.expanduser(args.state)) if args.state else os.path.join(root, ".fleet")
    fleet = FleetTable(state, max_per_tenant=max_agents, ttl_s=args.fleet_ttl_days * 86400)
    logging.basicConfig(level=settings.text("ARC_LOG_LEVEL"),
                        format="%(asctime)s %(levelname)s %(message)s")

    known = fleet.load()

    def ready(port: int) -> None:
        host = args.listen.rpartition(":")[0]
        print(f"arc serve listening on {host}:{port} ({'TLS' if tls else 'plaintext'}), registry {root}, "
              f"{len(keys)} key(s) for {len(keys.tenants)} tenant(s), {known} agent(s) remembered", flush=True)

    try:
        asyncio.run(serve(args.listen, root, keys, tls, args.canary_share, ready, fleet,
                          Limits(max_bytes=max_bytes, trust_key=trust)))
    except RuntimeError as exc:  # e.g. the port is taken
        return fail(str(exc))
    return 0
