"""The shipped Grafana dashboard (``collector_config/grafana/arc-runtime.json``) and its SQL.

Its panels' ``rawSql`` use the grafana-clickhouse-datasource macros; ``expand`` turns them into
plain ClickHouse SQL for one time range, the way the plugin does, so ``arc report`` (and the test
that proves every panel's query valid) run exactly the dashboard's queries.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parent.parent / "data" / "grafana" / "arc-runtime.json"
_MACRO = re.compile(r"\$__(\w+)(?:\(([^()]*)\))?")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


class MacroError(ValueError):
    pass


@dataclass(frozen=True)
class Panel:
    id: int
    title: str
    type: str  # "timeseries" | "barchart"
    unit: str
    sql: str  # with Grafana macros
    description: str = ""


@dataclass(frozen=True)
class TimeRange:
    start: int  # epoch seconds
    end: int
    interval_s: int  # bucket width, like Grafana's $__interval_s

    @classmethod
    def last(cls, seconds: int, now: int, buckets: int = 60) -> TimeRange:
        """The last ``seconds`` up to ``now``, in about ``buckets`` buckets of a round width."""
        width = max(1, seconds // buckets)
        for nice in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400):
            if nice >= width:
                width = nice
                break
        return cls(now - seconds, now, width)


def load(path: Path = DASHBOARD) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def panels(dashboard: dict) -> list:
    """Every panel with a SQL target (rows and text panels have none)."""
    found = []
    for p in dashboard.get("panels", []):
        for target in p.get("targets", []):
            if target.get("rawSql"):
                unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
                found.append(Panel(p["id"], p["title"], p["type"], unit, target["rawSql"], p.get("description", "")))
    return found


def expand(sql: str, window: TimeRange) -> str:
    """``sql`` with every plugin macro replaced by concrete SQL for ``window``; unknown macros raise."""

    def column(arg: str | None, name: str) -> str:
        arg = (arg or "").strip()
        if not _COLUMN.match(arg):
            raise MacroError(f"$__{name}({arg}): expected one column name")
        return arg

    def one(match: re.Match) -> str:
        name, arg = match.group(1), match.group(2)
        start, end = f"toDateTime({window.start})", f"toDateTime({window.end})"
        start_ms = f"fromUnixTimestamp64Milli({window.start * 1000})"
        end_ms = f"fromUnixTimestamp64Milli({window.end * 1000})"
        if name == "timeFilter":
            c = column(arg, name)
            return f"{c} >= {start} AND {c} <= {end}"
        if name == "timeFilter_ms":
            c = column(arg, name)
            return f"{c} >= {start_ms} AND {c} <= {end_ms}"
        if name == "timeInterval":
            return f"toStartOfInterval(toDateTime({column(arg, name)}), INTERVAL {window.interval_s} second)"
        simple = {"fromTime": start, "toTime": end, "fromTime_ms": start_ms, "toTime_ms": end_ms,
                  "interval_s": str(window.interval_s)}
        if name in simple and arg is None:
            return simple[name]
        raise MacroError(f"unsupported Grafana macro $__{name}")

    return _MACRO.sub(one, sql)
