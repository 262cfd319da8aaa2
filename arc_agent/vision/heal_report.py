"""``arc heal-report``: the UI actions Arc healed, grouped, so the tests' selectors can be fixed.

Reads ``otel_traces`` through the collector's reader (``--url`` of a running collector or any
ClickHouse HTTP endpoint, ``--store`` for a chDB folder, else the default store). A fingerprint
heal means the selector is stale (replace it with the healed one); a wait/scroll/relocate heal
means the selector is right but the page was not ready (add an explicit wait in the test).
"""

from __future__ import annotations

import argparse
import json
import re
import sys

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ADVICE = {
    "fingerprint": "selector no longer matches: use the healed selector",
    "shadow_pierce": "target is inside a shadow root: use a shadow-aware locator",
    "relocate": "element was re-rendered: look it up again before acting",
    "wait": "target was not ready in time: wait for it explicitly",
    "scroll": "target was covered or off-screen: scroll it into view first",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--url", help="collector query endpoint / ClickHouse HTTP URL")
    target.add_argument("--store", help="chDB store folder (default $ARC_STORE or ~/.arc/store)")
    parser.add_argument("--since", default="7d", help="look back this far: 30m, 12h, 7d, 2w (default 7d)")
    parser.add_argument("--limit", type=int, default=50, help="at most this many rows (default 50)")
    parser.add_argument("--database", default="default", help="database of otel_traces (default: default)")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")


def build_sql(seconds: int, limit: int, database: str = "default") -> str:
    if not _IDENT.match(database):
        raise ValueError(f"--database {database!r}: expected a plain identifier")
    a = "SpanAttributes"
    return f"""
SELECT {a}['arc.vision.url'] AS url, {a}['arc.vision.framework'] AS framework,
       {a}['arc.vision.selector'] AS selector, {a}['arc.vision.healed_selector'] AS healed_selector,
       {a}['arc.vision.heal_strategy'] AS strategy, count() AS times,
       toString(max(Timestamp)) AS last_seen,
       round(avg(toFloat64OrNull({a}['arc.vision.heal_score'])), 3) AS score,
       groupUniqArray(3)(SpanName) AS actions
FROM `{database}`.`otel_traces`
WHERE SpanName LIKE 'ui.%' AND {a}['arc.vision.healed'] = 'true'
  AND Timestamp >= now() - INTERVAL {int(seconds)} SECOND
GROUP BY url, framework, selector, healed_selector, strategy
ORDER BY times DESC, last_seen DESC
LIMIT {int(limit)}"""


def format_table(rows: list) -> str:
    if not rows:
        return "No healed UI actions in this period."
    lines = [f"{len(rows)} healed selector(s):", ""]
    for r in rows:
        healed = f" -> {r['healed_selector']}" if r.get("healed_selector") else ""
        score = f", score {r['score']}" if r.get("score") is not None else ""
        lines.append(f"  [{r['framework']}] {r['selector']}{healed}")
        lines.append(f"      {r['times']}x via {r['strategy']}{score}, last {r['last_seen']}, "
                     f"{', '.join(r.get('actions') or [])} on {r['url'] or '?'}")
        lines.append(f"      hint: {ADVICE.get(r['strategy'], 'check this selector')}")
    return "\n".join(lines)


def run(args) -> int:
    from arc_agent.collector.reader import QueryError, query, since_seconds

    if args.limit <= 0:
        print("arc heal-report: --limit must be a positive integer", file=sys.stderr)
        return 2
    try:
        sql = build_sql(since_seconds(args.since), args.limit, args.database)
    except ValueError as exc:
        print(f"arc heal-report: {exc}", file=sys.stderr)
        return 2
    try:
        rows = query(sql, url=args.url, store=args.store)
    except QueryError as exc:
        print(f"arc heal-report: {exc}", file=sys.stderr)
        return 1
    if args.json:
        for row in rows:
            print(json.dumps(row, sort_keys=True))
    else:
        print(format_table(rows))
    return 0
