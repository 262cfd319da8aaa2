"""``arc replay CASSETTE [--patterns B] [--base-url URL]``: outcomes before vs after, per pattern.

Exit status 0, or 1 when ``--fail-on-regression`` is given and a call that succeeded unfixed fails
with the patterns applied.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from urllib.parse import urlsplit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cassette", help="cassette file written with ARC_CAPTURE=PATH (PATH.1 is read too)")
    parser.add_argument("--patterns", default=None,
                        help="bundle(s) to apply, as ARC_PATTERNS takes them (default: $ARC_PATTERNS)")
    from arc_agent.devllm.cli import DEFAULT_PORT

    parser.add_argument("--base-url", default=os.environ.get("ARC_REPLAY_BASE_URL", f"http://127.0.0.1:{DEFAULT_PORT}"),
                        help="provider base URL (default: ARC_REPLAY_BASE_URL, else `arc dev-llm` on its default "
                             "port, %(default)s)")
    parser.add_argument("--limit", type=int, default=0, help="replay at most this many records (0 = all)")
    parser.add_argument("--recorded-before", action="store_true",
                        help="take 'before' from the cassette instead of re-sending the unfixed request")
    parser.add_argument("--json", action="store_true", help="print the per-pattern table as JSON")
    parser.add_argument("--fail-on-regression", action="store_true",
                        help="exit 1 when a call that succeeded unfixed fails fixed")


def load_fixer(patterns: str | None):
    """A pattern engine over ``patterns`` (``ARC_PATTERNS`` syntax), no hot reload; errors raise ValueError."""
    from arc_agent.patterns import PatternEngine

    env = {"ARC_PATTERNS": patterns if patterns is not None else os.environ.get("ARC_PATTERNS", ""),
           "ARC_PATTERNS_POLL": "0", "ARC_PATTERNS_SNAPSHOT": "off"}
    engine = PatternEngine.from_env(env)
    if engine.last_error:
        raise ValueError(f"patterns: {engine.last_error}")
    return engine


def run(args: argparse.Namespace) -> int:
    from arc_agent.progress import Progress

    from . import Replayer, read_records, summarize
    from .records import CassetteError
    from .send import Sender

    try:
        fixer = load_fixer(args.patterns)
        stats: dict = {}
        records = list(read_records(args.cassette, stats))
    except (CassetteError, ValueError, OSError) as exc:
        print(f"arc replay: {exc}", file=sys.stderr)
        return 2
    if not records and stats.get("skipped"):  # e.g. the wrong file: saying "0 replayed" would hide it
        print(f"arc replay: {args.cassette}: no cassette record in it ({stats['skipped']} line(s) skipped: not "
              "what ARC_CAPTURE writes)", file=sys.stderr)
        return 2
    if args.limit > 0:
        records = records[:args.limit]
    parts = urlsplit(args.base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        print(f"arc replay: --base-url {args.base_url!r}: expected the provider's http(s)://host[:port]",
              file=sys.stderr)
        return 2
    sender = Sender(args.base_url)
    try:
        with Progress("replay", len(records)) as bar:
            results = Replayer(sender, fixer, baseline=not args.recorded_before).run(records, lambda _: bar.advance())
    finally:
        sender.close()
    table = summarize(results)
    if args.json:
        print(json.dumps({"records": len(records), "skipped": stats.get("skipped", 0), "patterns": table}, indent=2))
    else:
        print(f"{'pattern':<32} {'calls':>6} {'failed before':>14} {'failed after':>13} {'fixed':>6} {'broken':>7}")
        for pid, row in sorted(table.items()):
            print(f"{pid:<32} {row['calls']:>6} {row['failed_before']:>14} {row['failed_after']:>13} "
                  f"{row['fixed']:>6} {row['broken']:>7}")
        print(f"{len(records)} records replayed against {args.base_url}; {stats.get('skipped', 0)} skipped")
    if sender.unreachable:  # a provider that never answered is not a failure of the requests
        print(f"arc replay: {sender.unreachable} of {sender.sent} sends got no answer from {args.base_url} "
              f"({sender.last_unreachable}); they count as failed above", file=sys.stderr)
        if sender.unreachable == sender.sent:
            print(f"arc replay: cannot reach {args.base_url} (--base-url, or ARC_REPLAY_BASE_URL)", file=sys.stderr)
            return 2
    broken = sum(r.broken for r in results)
    return 1 if args.fail_on_regression and broken else 0
