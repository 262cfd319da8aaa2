"""``arc query "SELECT ..."``: read-only SQL against the span store, printed to stdout.

Goes to ``--url`` (a collector's query endpoint or any ClickHouse HTTP endpoint), else to the
collector that owns ``--store``/the default store, else opens that store directly. The collector's
token comes from its ``collector.json``, ``ARC_QUERY_TOKEN`` or the URL's password (never a flag:
command lines are visible to other users).
"""

from __future__ import annotations

import argparse
import sys

FORMAT_ALIASES = {
    "json": "JSON", "jsonl": "JSONEachRow", "ndjson": "JSONEachRow", "jsoneachrow": "JSONEachRow",
    "tsv": "TabSeparated", "tabseparated": "TabSeparated", "tsvwithnames": "TabSeparatedWithNames",
    "csv": "CSVWithNames", "pretty": "PrettyCompactMonoBlock", "vertical": "Vertical",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sql", help="one SELECT / WITH / SHOW / DESCRIBE / EXPLAIN statement ('-' = stdin)")
    parser.add_argument("--format", default="TabSeparated",
                        help="output format: json, jsonl, tsv, csv, pretty or any ClickHouse format name "
                             "(default TabSeparated; a FORMAT clause in the SQL wins)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--url", help="ClickHouse HTTP endpoint, e.g. http://127.0.0.1:8123")
    target.add_argument("--store", help="chDB store folder (default $ARC_STORE or ~/.arc/store)")


def run(args) -> int:
    from arc_agent.collector.reader import QueryError, query_bytes

    sql = sys.stdin.read() if args.sql == "-" else args.sql
    fmt = FORMAT_ALIASES.get(args.format.lower(), args.format)
    try:
        out = query_bytes(sql, fmt, url=args.url, store=args.store)
    except QueryError as exc:
        print(f"arc query: {exc}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    return 0
