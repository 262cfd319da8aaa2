"""The options that say where a learning job reads spans (``--store | --url | --clickhouse``, ``--since``),
defined once for ``arc learn patterns`` and ``arc train ui-policy``, and the ``SpanSource`` they name."""

from __future__ import annotations

import argparse

from .span_source import SpanSource


def add_source_arguments(parser: argparse.ArgumentParser, since: str, what: str) -> None:
    """Exactly one of the three stores (required), and ``--since`` with the job's own default."""
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--store", help="chDB store folder (through its collector when one runs)")
    src.add_argument("--url", help="a collector's query URL (or any ClickHouse HTTP endpoint)")
    src.add_argument("--clickhouse", help="ClickHouse server, tcp://user@host:9000/db (password: "
                     "ARC_CLICKHOUSE_PASSWORD, or user:pass@ in the URL)")
    parser.add_argument("--since", default=since,
                        help=f"how far back to read {what} (e.g. 24h, 7d; s|m|h|d|w; default %(default)s)")


def source_from_args(args: argparse.Namespace) -> SpanSource:
    return SpanSource(args.store, args.url, args.clickhouse)
