"""Read-only gate for the query endpoint: one SELECT-like statement, nothing that writes.

Allowed first keywords: SELECT, WITH, SHOW, DESCRIBE/DESC, EXPLAIN, EXISTS (a leading ``(`` is
fine). Refused: anything else (INSERT, ALTER, DROP, SET, SYSTEM, ...), several statements, and
``INTO OUTFILE``. The store's reader connection also runs with ``readonly = 2`` as a second line.
"""

from __future__ import annotations

import re

ALLOWED = frozenset({"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS"})
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class RefusedQuery(ValueError):
    pass


def _code_only(sql: str) -> str:
    """``sql`` with string literals, quoted identifiers and comments blanked out."""
    out = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"', "`"):
            j = i + 1
            while j < n:
                if sql[j] == "\\":
                    j += 2
                    continue
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:  # doubled quote inside the literal
                        j += 2
                        continue
                    break
                j += 1
            out.append(" ")
            i = j + 1
        elif sql.startswith("--", i) or ch == "#":
            j = sql.find("\n", i)
            i = n if j < 0 else j
            out.append(" ")
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def check_read_only(sql: str) -> str:
    """Return the statement (trailing ``;`` removed) or raise ``RefusedQuery`` saying why."""
    code = _code_only(sql).strip()
    if not code:
        raise RefusedQuery("empty query")
    body = code.rstrip(";").rstrip()
    if ";" in body:
        raise RefusedQuery("only one statement per request is allowed (found ';' between statements)")
    first = _WORD.search(body.lstrip("( \t\r\n"))
    keyword = first.group(0).upper() if first else ""
    if keyword not in ALLOWED:
        raise RefusedQuery(f"read-only endpoint: {keyword or 'this statement'} is not allowed; "
                           f"use SELECT, WITH, SHOW, DESCRIBE, EXPLAIN or EXISTS")
    if re.search(r"\bINTO\s+OUTFILE\b", body, re.IGNORECASE):
        raise RefusedQuery("read-only endpoint: INTO OUTFILE is not allowed")
    stripped = sql.strip()
    while stripped.endswith(";"):
        stripped = stripped[:-1].rstrip()
    return stripped


def output_format(sql: str, default: str = "TabSeparated") -> str:
    """The ``FORMAT`` named at the end of the statement, else ``default``."""
    match = re.search(r"\bFORMAT\s+([A-Za-z0-9_]+)\s*$", _code_only(sql).strip().rstrip(";").rstrip(),
                      re.IGNORECASE)
    return match.group(1) if match else default
