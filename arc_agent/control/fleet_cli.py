"""``arc fleet --url URL``: the agents following a control server (this API key's tenant), with
the versions they run, their health and their last report."""

from __future__ import annotations

import argparse
import json
import sys

from .. import settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=settings.text("ARC_CONTROL_ENDPOINT"),
                        help="control server, grpc://host:port or grpcs://host:port (default: ARC_CONTROL_ENDPOINT)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from google.protobuf.json_format import MessageToDict

    from .config import ConfigError
    from .remote import RemoteError, describe_agent, fleet

    if not args.url:
        print("arc fleet: give --url or set ARC_CONTROL_ENDPOINT", file=sys.stderr)
        return 2
    try:
        reply = fleet(args.url)
    except (RemoteError, ConfigError) as exc:
        print(f"arc fleet: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(MessageToDict(reply, preserving_proto_field_name=True), indent=2, sort_keys=True))
        return 0
    connected = sum(1 for a in reply.agents if a.connected)
    print(f"tenant {reply.tenant}: {len(reply.agents)} agent(s), {connected} connected")
    for record in reply.agents:
        print("  " + describe_agent(record))
    return 0
