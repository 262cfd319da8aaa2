"""``arc policy compare``: failure rate and added time per UI tool-policy version, from ClickHouse.

Reads ``arc_ui_actions`` through the reader API (``--url`` of a collector or ClickHouse HTTP endpoint,
``--store`` for a chDB folder, else the default store; the collector's token is read from its
``collector.json``). The version is ``arc.vision.policy_version`` (spans of the ``local_inference``
tier and up). "Added" is Arc's time before the action (observation + tools, ``pre_action_ms``).
Then ``arc registry promote|rollback models NAME`` acts on what it shows.
"""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["compare"])
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--url", help="collector query endpoint / ClickHouse HTTP URL")
    target.add_argument("--store", help="chDB store folder (default $ARC_STORE or ~/.arc/store)")
    parser.add_argument("--since", default="7d", help="look back this far: 30m, 12h, 7d, 2w (default 7d)")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")


def build_sql(seconds: int) -> str:
    return f"""
SELECT policy_version AS version, count() AS actions,
       countIf(success = false) AS failures, round(failures / actions, 4) AS failure_rate,
       round(avg(pre_action_ms), 2) AS added_ms, round(quantile(0.95)(pre_action_ms), 2) AS added_ms_p95,
       round(countIf(length(tools) > 0) / actions, 4) AS tool_share,
       toString(min(time)) AS first_seen, toString(max(time)) AS last_seen
FROM arc_ui_actions
WHERE policy_version != '' AND time >= now() - INTERVAL {int(seconds)} SECOND
GROUP BY policy_version
ORDER BY last_seen DESC"""


def compare(url: str | None = None, store: str | None = None, since: str = "7d") -> list:
    from ..collector import reader

    return reader.query(build_sql(reader.since_seconds(since)), url=url, store=store)


def run(args: argparse.Namespace) -> int:
    from ..collector.reader import since_seconds

    try:
        since_seconds(args.since)
    except ValueError as exc:  # a usage error, as in `arc heal-report`
        print(f"arc policy compare: {exc}", file=sys.stderr)
        return 2
    try:
        rows = compare(args.url, args.store, args.since)
    except Exception as exc:
        print(f"arc policy compare: {exc}", file=sys.stderr)
        return 1
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    if not rows:
        print(f"no UI actions with a policy version in the last {args.since} (tier local_inference or up)")
        return 0
    print(f"{'version':40s} {'actions':>8s} {'failures':>8s} {'fail %':>7s} {'added ms':>9s} {'p95 ms':>8s} "
          f"{'tools %':>8s}")
    for r in rows:
        print(f"{str(r['version'])[:40]:40s} {r['actions']:8d} {r['failures']:8d} {100 * r['failure_rate']:6.1f}% "
              f"{r['added_ms'] or 0:9.1f} {r['added_ms_p95'] or 0:8.1f} {100 * r['tool_share']:7.1f}%")
    return 0
