"""The span store's DDL: the files in ``collector_config/clickhouse/``, rendered with a tiny substitution.

The same files serve the embedded collector (chDB), ``--clickhouse`` servers and people applying them
by hand with clickhouse-client, so the schema is written once. Placeholders:

- ``{{database}}``, ``{{table}}`` — names (defaults ``default`` / ``otel_traces``, like the exporter);
- ``{{on_cluster}}`` — ``ON CLUSTER name`` or nothing;
- ``{{engine}}`` — ``MergeTree()``, or e.g.
  ``ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')``;
- ``{{ttl EXPR}}`` — ``TTL EXPR + toIntervalDay(n)`` (or Hour/Minute/Second) when a TTL is set, else nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .. import settings

DEFAULT_DATABASE = "default"
DEFAULT_TABLE = "otel_traces"
VIEWS = ("arc_llm_calls", "arc_ui_actions")
JOB_TABLES = ("arc_training_jobs", "arc_training_jobs_mv")

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)(?:\s+([^{}]*?))?\s*\}\}")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SchemaError(ValueError):
    pass


def ddl_dir() -> Path:
    """Where the DDL files live: ``ARC_DDL_DIR``, else the package's copy (``arc_agent/data/clickhouse``
    is a link to ``collector_config/clickhouse`` in the source tree, and a copy of it in the wheel)."""
    override = settings.text("ARC_DDL_DIR")
    path = Path(override) if override else Path(__file__).resolve().parent.parent / "data" / "clickhouse"
    if not path.is_dir() or not any(path.glob("*.sql")):
        raise SchemaError(f"no ClickHouse DDL (*.sql) in {path}; set ARC_DDL_DIR to collector_config/clickhouse")
    return path


def ttl_clause(column_expr: str, ttl_seconds: int) -> str:
    """The TTL clause the contrib exporter writes (``internal.GenerateTTLExpr``), or ``''``."""
    if ttl_seconds <= 0:
        return ""
    for unit, size in (("Day", 86400), ("Hour", 3600), ("Minute", 60)):
        if ttl_seconds % size == 0:
            return f"TTL {column_expr} + toInterval{unit}({ttl_seconds // size})"
    return f"TTL {column_expr} + toIntervalSecond({ttl_seconds})"


def parse_duration(text: str) -> int:
    """``72h``, ``30m``, ``90d``, ``45s`` or plain seconds -> seconds (0 = no TTL)."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text or "0")
    if not match:
        raise SchemaError(f"bad TTL {text!r}: use e.g. 72h, 30d, 45m, 0")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


@dataclass(frozen=True)
class SchemaOptions:
    database: str = DEFAULT_DATABASE
    table: str = DEFAULT_TABLE
    cluster: str = ""
    engine: str = "MergeTree()"
    ttl_seconds: int = 0

    def __post_init__(self) -> None:
        for label, name in (("database", self.database), ("table", self.table)):
            if not _IDENT.match(name):
                raise SchemaError(f"bad {label} name {name!r}: letters, digits and _ only")
        if self.cluster and not _IDENT.match(self.cluster):
            raise SchemaError(f"bad cluster name {self.cluster!r}: letters, digits and _ only")

    @property
    def tables(self) -> tuple:
        """Every object the DDL creates, in creation order (database excluded)."""
        t = self.table
        return (t, f"{t}_trace_id_ts", f"{t}_trace_id_ts_mv") + VIEWS + JOB_TABLES


def render(sql: str, options: SchemaOptions) -> str:
    """Fill the ``{{...}}`` placeholders of one DDL file; an unknown placeholder is an error."""

    def substitute(match: re.Match) -> str:
        name, arg = match.group(1), match.group(2)
        if name == "ttl":
            if not arg:
                raise SchemaError("{{ttl EXPR}} needs the time expression, e.g. {{ttl toDateTime(Timestamp)}}")
            return ttl_clause(arg.strip(), options.ttl_seconds)
        values = {
            "database": options.database,
            "table": options.table,
            "on_cluster": f"ON CLUSTER {options.cluster}" if options.cluster else "",
            "engine": options.engine,
        }
        if name not in values:
            raise SchemaError(f"unknown placeholder {{{{{name}}}}} in DDL")
        return values[name]

    return _PLACEHOLDER.sub(substitute, sql)


def statements(options: SchemaOptions | None = None, directory: Path | None = None) -> list:
    """Rendered DDL statements (one per file, files in name order), ready to execute."""
    options = options or SchemaOptions()
    folder = directory or ddl_dir()
    files = sorted(folder.glob("*.sql"))
    if not files:
        raise SchemaError(f"no *.sql files in {folder}")
    return [render(f.read_text(encoding="utf-8"), options).strip().rstrip(";") for f in files]
