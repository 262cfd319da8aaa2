"""The query endpoint's gate: the engine parses the query, we vet the tree it returns.

No regex ever reads the client's SQL. The text goes to ClickHouse's own parser as a bound query
parameter (``parseQueryToJSON({q:String})``, so it cannot change the checking query), on the same
read-only, limited connection that will run it. The JSON tree must be one statement (the parser
refuses several), with no ``INTO OUTFILE`` anywhere (it writes files even under ``readonly=1``), no
table function, no function that opens files or other tables (``file``, ``dictGet``, ``joinGet``...),
and only the schema's tables/views plus schema metadata (``SYSTEM_TABLES``) as tables. What runs is the
engine's own rendering of that tree, re-parsed and compared, so the text executed is the text vetted.
``DESCRIBE``/``EXISTS`` have no JSON form: their engine rendering must be exactly
``DESCRIBE TABLE name`` / ``EXISTS TABLE name`` of an allowed table.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Callable

from arc_agent.collector.schema import SchemaOptions

# Readable besides the span tables: schema metadata clients use (columns, tables, skip indexes).
SYSTEM_TABLES = frozenset({"system.columns", "system.tables", "system.data_skipping_indices"})
# Scalar functions that read files or other tables by name (table functions are all refused).
DENIED_FUNCTIONS = frozenset({"file", "joinget", "joingetornull", "hascolumnintable", "catboostevaluate",
                              "getmacro", "getserversetting", "getclienthttpheader"})
DENIED_PREFIXES = ("dict",)  # dictGet*, dictHas, dictIsIn, ...
IN_FUNCTIONS = frozenset({"in", "notin", "globalin", "globalnotin", "nullin", "notnullin", "globalnullin",
                          "globalnotnullin", "inignoreset", "notinignoreset"})
TOP_LEVEL = frozenset({"SelectWithUnionQuery", "ExplainQuery", "ShowTablesQuery"})
# ShowTablesQuery also carries SHOW SETTINGS/MERGES/CLUSTERS...: only SHOW [FULL] TABLES|DATABASES pass.
SHOW_KEYS = frozenset({"type", "full", "databases", "like", "not_like", "case_insensitive_like", "from",
                       "limit_length", "format_ast", "is_outfile_append", "is_outfile_truncate",
                       "is_into_outfile_with_stdout"})
# Engine renderings accepted for statements that have no JSON form (identifiers only: no literal).
_NAME = r"`?([A-Za-z_][A-Za-z0-9_]*)`?"
_CANONICAL_META = re.compile(rf"(DESCRIBE|EXISTS) TABLE (?:{_NAME}\.)?{_NAME}(?: FORMAT ([A-Za-z0-9_]+))?")

Engine = Callable[[str, dict], str]  # (sql with {q:String}, params) -> text result


class RefusedQuery(ValueError):
    pass


@dataclass(frozen=True)
class Vetted:
    sql: str  # the engine's rendering of the vetted tree: what is executed
    fmt: str | None  # the query's FORMAT clause, if any


def allowed_tables(options: SchemaOptions) -> frozenset:
    """``db.table`` names a client may read: the span tables and views, and two system tables."""
    return frozenset(f"{options.database}.{t}" for t in options.tables) | SYSTEM_TABLES


def _bound(sql: str) -> str:
    """``sql`` as a query parameter value: parameters are read in the Escaped (TSV) form."""
    return sql.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _engine_text(engine: Engine, function: str, sql: str) -> str:
    """``function(sql)`` computed by the engine, after checking (MD5) that it saw exactly ``sql``."""
    try:
        digest = hashlib.md5(sql.encode("utf-8")).hexdigest().upper()
    except UnicodeEncodeError:
        raise RefusedQuery("the query is not valid UTF-8") from None
    try:
        text = engine(f"SELECT hex(MD5({{q:String}})), {function}({{q:String}})", {"q": _bound(sql)})
    except Exception as exc:  # the engine's syntax error is the clearest message there is
        raise RefusedQuery(_short(str(exc))) from None
    seen, _, result = text.rstrip("\n").partition("\t")
    if seen != digest:
        raise RefusedQuery("the query did not reach the engine's parser intact")
    return result


def _short(message: str) -> str:
    """The engine's message without the wrapping checking query (``In scope SELECT parseQueryToJSON(...)``)."""
    return re.sub(r":? In scope SELECT \w+\(.*", "", message, flags=re.DOTALL).strip()


class _Walker:
    def __init__(self, allowed: frozenset, database: str) -> None:
        self.allowed = allowed
        self.database = database
        self.ctes: set = set()

    def table(self, name_parts: list, name: str) -> None:
        parts = [str(p) for p in (name_parts or name.split("."))]
        if len(parts) == 1 and parts[0] in self.ctes:
            return
        full = ".".join(parts if len(parts) > 1 else [self.database, parts[0]])
        if full not in self.allowed:
            raise RefusedQuery(f"table {full} is not readable here; readable: {', '.join(sorted(self.allowed))}")

    def collect_ctes(self, node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "WithElement" and node.get("name"):
                self.ctes.add(str(node["name"]))
            for value in node.values():
                self.collect_ctes(value)
        elif isinstance(node, list):
            for value in node:
                self.collect_ctes(value)

    def walk(self, node) -> None:
        if isinstance(node, list):
            for value in node:
                self.walk(value)
            return
        if not isinstance(node, dict):
            return
        if "out_file" in node or node.get("is_into_outfile_with_stdout"):
            raise RefusedQuery("INTO OUTFILE is not allowed: results come back over HTTP only")
        if "table_function" in node:
            name = node["table_function"].get("name", "?") if isinstance(node["table_function"], dict) else "?"
            raise RefusedQuery(f"table function {name}() is not allowed: only the span tables are readable")
        kind = node.get("type")
        if kind == "TableIdentifier":
            self.table(node.get("name_parts"), str(node.get("name", "")))
        elif kind == "Function":
            self.function(node)
        for value in node.values():
            self.walk(value)

    def function(self, node: dict) -> None:
        name = str(node.get("name", "")).lower()
        if name in DENIED_FUNCTIONS or name.startswith(DENIED_PREFIXES):
            raise RefusedQuery(f"function {node.get('name')}() is not allowed: it reads files or other tables")
        if name in IN_FUNCTIONS:
            args = (node.get("arguments") or {}).get("children") or []
            if len(args) > 1 and isinstance(args[1], dict) and args[1].get("type") in ("Identifier",
                                                                                        "TableIdentifier"):
                self.table(args[1].get("name_parts"), str(args[1].get("name", "")))


def _check_tree(tree: dict, allowed: frozenset, database: str) -> str | None:
    kind = tree.get("type")
    if kind not in TOP_LEVEL:
        raise RefusedQuery(f"read-only endpoint: {kind or 'this statement'} is not allowed; "
                           "use SELECT, WITH, SHOW TABLES, DESCRIBE, EXISTS or EXPLAIN")
    if kind == "ExplainQuery":
        inner = tree.get("query")
        if not isinstance(inner, dict) or inner.get("type") != "SelectWithUnionQuery":
            raise RefusedQuery("read-only endpoint: EXPLAIN is allowed for SELECT queries only")
    if kind == "ShowTablesQuery" and not all(k in SHOW_KEYS or not v for k, v in tree.items()):
        raise RefusedQuery("read-only endpoint: only SHOW TABLES and SHOW DATABASES are allowed")
    walker = _Walker(allowed, database)
    walker.collect_ctes(tree)
    walker.walk(tree)
    fmt = tree.get("format_ast")
    return str(fmt["name"]) if isinstance(fmt, dict) and fmt.get("name") else None


def _vet_meta(engine: Engine, sql: str, allowed: frozenset, database: str, reason: str) -> Vetted:
    """``DESCRIBE``/``EXISTS`` (no JSON form): the engine's one-line rendering must match exactly."""
    canonical = _engine_text(engine, "formatQuerySingleLine", sql)
    match = _CANONICAL_META.fullmatch(canonical)
    if not match:
        raise RefusedQuery(reason)
    _Walker(allowed, database).table([p for p in match.group(2, 3) if p], match.group(3))
    return Vetted(canonical, match.group(4))


def vet(engine: Engine, sql: str, allowed: frozenset, database: str = "default") -> Vetted:
    """Return what to execute for ``sql``, or raise ``RefusedQuery`` saying why it is refused."""
    if not sql.strip():
        raise RefusedQuery("empty query")
    try:
        text = _engine_text(engine, "parseQueryToJSON", sql)
    except RefusedQuery as exc:
        only = "read-only endpoint: only SELECT, WITH, SHOW TABLES, EXPLAIN, DESCRIBE TABLE t and EXISTS TABLE t"
        if "does not support JSON serialization" in str(exc):
            return _vet_meta(engine, sql, allowed, database, only + " are allowed")
        if "parseQueryToJSON" in str(exc):  # e.g. INSERT ... VALUES: has no JSON form either
            raise RefusedQuery(f"{only} are allowed ({exc})") from None
        raise
    tree = json.loads(text)
    fmt = _check_tree(tree, allowed, database)
    canonical = _engine_text(engine, "formatQuerySingleLine", sql)
    if json.loads(_engine_text(engine, "parseQueryToJSON", canonical)) != tree:
        raise RefusedQuery("the query does not survive the engine's own re-formatting unchanged")
    return Vetted(canonical, fmt)
