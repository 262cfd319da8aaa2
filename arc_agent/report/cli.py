"""``arc report``: the dashboard's charts and the heal report in one HTML file that opens offline.

Runs each panel query of ``collector_config/grafana/arc-runtime.json`` (macros expanded for the
``--since`` window) and the heal report's query through the reader API, then draws inline SVG.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--url", help="collector query endpoint / ClickHouse HTTP URL")
    target.add_argument("--store", help="chDB store folder (default $ARC_STORE or ~/.arc/store)")
    parser.add_argument("--since", default="24h", help="look back this far: 30m, 12h, 7d, 2w (default 24h)")
    parser.add_argument("-o", "--output", default="report.html", help="HTML file to write (default report.html)")


def _write(path: Path, text: str) -> None:
    """Replace ``path`` at once: a reader never sees half a report."""
    fd, tmp = tempfile.mkstemp(prefix=".arc-report-", dir=str(path.parent or "."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def build(url: str | None, store: str | None, seconds: int, now: int | None = None) -> str:
    """The report's HTML for the last ``seconds``."""
    from arc_agent.collector.reader import query
    from arc_agent.progress import Progress
    from arc_agent.report import charts, dashboard, page
    from arc_agent.vision import heal_report

    board = dashboard.load()
    # the window ends after the current second: spans of this very second are in (the filter is `<= end`)
    window = dashboard.TimeRange.last(seconds, int(time.time()) + 1 if now is None else now)
    found = dashboard.panels(board)
    # the store renders DateTime in its own time zone: learn its offset once to place buckets on the axis
    shown = query(f"SELECT toString(toDateTime({window.start})) AS s", url=url, store=store)[0]["s"]
    offset = datetime.strptime(shown, "%Y-%m-%d %H:%M:%S").timestamp() - window.start

    def parse_time(text: str) -> float:
        return datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").timestamp() - offset

    figures = []
    with Progress("report", total=len(found) + 1) as progress:
        for p in found:
            rows = query(dashboard.expand(p.sql, window), url=url, store=store)
            if p.type == "timeseries":
                svg = charts.timeseries(p.title, rows, p.unit, window.start, window.end, parse_time)
            else:
                svg = charts.barchart(p.title, rows, p.unit)
            figures.append(page.panel(p.id, p.title, p.description, svg, p.sql))
            progress.advance()
        heal_rows = query(heal_report.build_sql(seconds, 50), url=url, store=store)
        progress.advance()
    source = url or str(store or "default store")
    return page.document(board.get("title", "Arc Runtime") + " report", window.start, window.end,
                         window.interval_s, source, figures, page.heal_section(heal_rows))


def run(args) -> int:
    from arc_agent.collector.reader import QueryError, since_seconds

    try:
        seconds = since_seconds(args.since)
    except ValueError as exc:
        print(f"arc report: {exc}", file=sys.stderr)
        return 2
    out = Path(args.output)
    if not out.parent.is_dir() or out.is_dir():  # said before the queries run, not after
        where = f"{out} is a folder" if out.is_dir() else f"its folder {out.parent} does not exist"
        print(f"arc report: cannot write {out}: {where}", file=sys.stderr)
        return 2
    try:
        text = build(args.url, args.store, seconds)
    except QueryError as exc:
        print(f"arc report: {exc}", file=sys.stderr)
        return 1
    try:
        _write(out, text)
    except OSError as exc:
        print(f"arc report: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"arc report: wrote {out} ({len(text) // 1024} KiB); open it in a browser, no network needed")
    return 0
