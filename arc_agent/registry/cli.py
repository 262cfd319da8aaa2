"""``arc registry list|show|publish|promote|rollback``: manage the artifact registry by hand.

``--registry DIR`` overrides ``ARC_REGISTRY`` (default ``~/.arc/registry``); ``--tenant T`` works on
tenant T's registry (``DIR/tenants/T``, what ``arc serve`` serves to T's keys); ``--url`` sends
list/show/publish/promote/rollback to a control server instead (``arc_agent.control.registry_cli`` chooses: the
registry never imports the control plane). Errors are one line naming the artifact and the problem, exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from . import names
from .errors import RegistryError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--registry", metavar="DIR", help="registry root (default: ARC_REGISTRY or ~/.arc/registry)")
    common.add_argument("--json", action="store_true", help="print JSON")
    common.add_argument("--tenant", help="work on this tenant's registry (DIR/tenants/TENANT)")
    common.add_argument("--url", help="a control server (grpc[s]://host:port): do it through the server, as the "
                                      "API key's tenant (key: ARC_API_KEY, CA: ARC_CONTROL_CA)")
    sub = parser.add_subparsers(dest="registry_command", metavar="ACTION", required=True)

    ls = sub.add_parser("list", parents=[common], help="artifacts with their versions and channels")
    ls.add_argument("kind", nargs="?", choices=names.KINDS)

    show = sub.add_parser("show", parents=[common], help="a version's manifest, verification and channels")
    _artifact(show)
    show.add_argument("version", nargs="?", type=int, help="version (default: what --channel serves)")
    show.add_argument("--channel", default=names.DEFAULT_CHANNEL)

    pub = sub.add_parser("publish", parents=[common], help="store a file or folder as the next version")
    _artifact(pub)
    pub.add_argument("path", metavar="FILE", help="the artifact: a file (e.g. a bundle) or a folder")
    pub.add_argument("--channel", help="also point this channel (e.g. canary) at the new version")
    pub.add_argument("--metrics", type=_json_object, default={}, help="JSON object of metrics to record")
    pub.add_argument("--job-id", help="the training job that produced it")
    pub.add_argument("--parent", type=int, help="version it derives from (default: the latest)")
    pub.add_argument("--sign-key", metavar="PEM", help="Ed25519 private key signing the manifest (arc registry keygen)")

    kg = sub.add_parser("keygen", help="write a new Ed25519 signing key; print the public key for ARC_TRUST_KEY")
    kg.add_argument("path", metavar="FILE", help="where the private key goes (created 0600, never replaced)")

    pro = sub.add_parser("promote", parents=[common], help="point a channel at a version (one atomic move)")
    _artifact(pro)
    pro.add_argument("version", nargs="?", type=int, help="version (default: what --from serves)")
    pro.add_argument("--channel", default=names.DEFAULT_CHANNEL, help="channel to move (default stable)")
    pro.add_argument("--from", dest="from_channel", help="promote what this channel serves (default canary)")
    pro.add_argument("--share", type=float, metavar="FRACTION",
                     help="with --channel canary: the part of stable's followers (stable hash of their instance "
                          "id) served the canary, 0-1; kept until changed (unset: arc serve --canary-share)")

    rb = sub.add_parser("rollback", parents=[common], help="point a channel back at its previous version")
    _artifact(rb)
    rb.add_argument("--channel", default=names.DEFAULT_CHANNEL, help="channel to move (default stable)")


def _artifact(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=names.KINDS)
    p.add_argument("name")


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def run(args: argparse.Namespace) -> int:
    from .store import Registry

    if args.registry_command == "keygen":
        return _keygen(args)
    try:
        registry = Registry(args.registry, tenant=args.tenant)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        return _ACTIONS[args.registry_command](registry, args)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {registry.root}: {exc.strerror or exc} ({getattr(exc, 'filename', '') or ''})",
              file=sys.stderr)
        return 1


def _print(args: argparse.Namespace, data: Any, text: str) -> int:
    print(json.dumps(data, indent=2, sort_keys=True) if args.json else text)
    return 0


def list_line(row: dict) -> str:
    """One ``arc registry list`` line (also for ``--url``): versions, channels and canary shares."""
    shares = row.get("shares") or {}
    return (f"{row['kind']}/{row['name']}: {row['versions']} version(s), latest {row['latest']}"
            + "".join(f", {ch}={v}" + (f" (share {shares[ch]:g})" if ch in shares else "")
                      for ch, v in sorted(row["channels"].items())))


def show_text(data: dict) -> str:
    """``arc registry show``'s text from ``Registry.describe``'s dict (also for ``--url``)."""
    man = data["manifest"]
    lines = [f"{man['kind']}/{man['name']}@{man['version']}",
             f"  artifact  {man['artifact']} ({man['artifact_type']}, {man['size']} bytes)",
             f"  sha256    {man['sha256']}", f"  verified  {data['verified']}", f"  parent    {man['parent']}",
             f"  created   {man['created']}", f"  job id    {man['job_id']}",
             f"  signed    {'yes' if man.get('signature') else 'no'}",
             f"  metrics   {json.dumps(man['metrics'], sort_keys=True)}"]
    for ch, c in sorted(data["channels"].items()):
        share = f", share {c['share']:g}" if c.get("share") is not None else ""
        lines.append(f"  channel   {ch} -> {c['version']} (before: {c['previous'][-3:]}{share})")
    return "\n".join(lines)


def _list(registry: Any, args: argparse.Namespace) -> int:
    rows = registry.list(args.kind)
    return _print(args, rows, "\n".join(list_line(r) for r in rows) or f"(empty registry {registry.root})")


def _show(registry: Any, args: argparse.Namespace) -> int:
    data = registry.describe(args.kind, args.name, args.version, args.channel)
    return _print(args, data, show_text(data))


def _publish(registry: Any, args: argparse.Namespace) -> int:
    sign = None
    if args.sign_key:
        from .signing import signer

        sign = signer(args.sign_key)
    man = registry.publish(args.kind, args.name, args.path, metrics=args.metrics, job_id=args.job_id,
                           parent=args.parent, channel=args.channel, sign=sign)
    where = f" on channel {args.channel}" if args.channel else " (no channel points at it yet)"
    return _print(args, man.as_dict(), f"published {man.ref} sha256 {man.sha256[:16]}… {man.size} bytes{where}")


def _promote(registry: Any, args: argparse.Namespace) -> int:
    from_channel = args.from_channel if args.version is None else None
    if args.version is None and from_channel is None:
        from_channel = "canary"
    state = registry.promote(args.kind, args.name, args.version, args.channel, from_channel=from_channel,
                             share=args.share)
    share = f" (share {state.share:g})" if state.share is not None else ""
    return _print(args, state.as_dict(), f"{args.kind}/{args.name}@{args.channel} -> version {state.version}{share}")


def _rollback(registry: Any, args: argparse.Namespace) -> int:
    state = registry.rollback(args.kind, args.name, args.channel)
    return _print(args, state.as_dict(), f"{args.kind}/{args.name}@{args.channel} rolled back to version "
                                         f"{state.version}")


def _keygen(args: argparse.Namespace) -> int:
    from .signing import generate

    try:
        public = generate(args.path)
    except OSError as exc:
        print(f"error: {args.path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote the private key to {args.path} (keep it private; publish with --sign-key {args.path})")
    print(f"ARC_TRUST_KEY={public}")
    return 0


_ACTIONS = {"list": _list, "show": _show, "publish": _publish, "promote": _promote, "rollback": _rollback}
