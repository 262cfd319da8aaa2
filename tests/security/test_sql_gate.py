"""The SQL gate on a real chDB store, in process: what passes, what is refused and why, and a
``hypothesis`` fuzz: whatever the text, the query is refused or runs read-only with no side effect
(no file, no network, no host file content, no change to the store or to the next session)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arc_agent.collector.sqlguard import RefusedQuery
from arc_agent.collector.store import ChdbStore, QueryLimits, StoreError
from tests.security.attacks import PASSWD_MARK, Canary


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """(store with 4 spans, folder the attacks aim at, canary server)."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from tests.collector.test_faults import request_bytes

    root = tmp_path_factory.mktemp("gate")
    store = ChdbStore(root / "store", limits=QueryLimits(max_result_rows=10_000, max_memory_usage=200 << 20,
                                                        max_result_bytes=1 << 20))
    store.write([store.prepare(ExportTraceServiceRequest.FromString(request_bytes(4, "fuzz-seed")))])
    out = root / "targets"
    out.mkdir()
    with Canary() as canary:
        yield store, out, canary
    store.close()


@pytest.mark.parametrize("sql, expected", [
    ("SELECT count() FROM otel_traces", "4\n"),
    ("  select count() from default.otel_traces;", "4\n"),
    ("WITH t AS (SELECT SpanName FROM otel_traces) SELECT count() FROM t", "4\n"),
    ("-- note\nSELECT ';' AS semi /* ; */", ";\n"),
    ("SELECT 'DROP TABLE x; INSERT', $$it's$$, $t$a;b$t$", "DROP TABLE x; INSERT\tit\\'s\ta;b\n"),
    ("SELECT count() FROM otel_traces WHERE TraceId IN (SELECT TraceId FROM otel_traces_trace_id_ts)", "4\n"),
    ("SELECT count() > 0 FROM system.columns WHERE table = 'otel_traces'", "1\n"),
    ("(SELECT 1) UNION ALL (SELECT 2)", "1\n2\n"),
    ("EXISTS TABLE otel_traces", "1\n"),
    ("SELECT 1 FORMAT JSONEachRow", '{"1":1}\n'),
])
def test_read_only_queries_run(world, sql, expected):
    store, _, _ = world
    assert store.query(sql).decode() == expected


def test_describe_show_and_explain_run(world):
    store, _, _ = world
    assert store.query("DESCRIBE TABLE arc_llm_calls").decode().startswith("time\tDateTime64(9)")
    assert store.query("desc `otel_traces`").decode().startswith("Timestamp\t")
    assert "otel_traces" in store.query("SHOW TABLES").decode().split("\n")
    assert store.query("EXPLAIN SELECT count() FROM otel_traces").decode()
    result, fmt = store.run("SELECT 1 FORMAT JSON", "TabSeparated")
    assert fmt == "JSON" and b'"data"' in result


@pytest.mark.parametrize("sql, reason", [
    ("INSERT INTO otel_traces (SpanName) VALUES ('x')", "only SELECT, WITH"),
    ("INSERT INTO otel_traces (SpanName) SELECT 'x'", "InsertQuery is not allowed"),
    ("alter table otel_traces delete where 1", "is not allowed"),
    ("DROP TABLE otel_traces", "is not allowed"),
    ("SELECT 1; DROP TABLE otel_traces", "Multi-statements are not allowed"),
    ("", "empty query"),
    ("/* SELECT */ DELETE FROM otel_traces WHERE 1", "is not allowed"),
    ("SELECT * FROM otel_traces INTO OUTFILE 'x'", "INTO OUTFILE"),
    ("SYSTEM STOP MERGES", "is not allowed"),
    ("SET readonly = 0", "SetQuery is not allowed"),
    ("SHOW SETTINGS LIKE 'max%'", "only SHOW TABLES and SHOW DATABASES"),
    ("DESCRIBE TABLE system.processes", "table system.processes is not readable"),
    ("DESCRIBE url('http://x')", "only SELECT, WITH"),
    ("EXPLAIN PIPELINE SELECT * FROM url('http://x')", "table function url()"),
    ("SELECT * FROM numbers(10)", "table function numbers()"),
    ("SELECT file('/etc/passwd')", "function file()"),
    ("SELECT dictGetString('d', 'a', 1)", "function dictGetString()"),
    ("SELECT 1 GLOBAL IN system.query_log", "system.query_log is not readable"),
    ("SELECT * FROM default.otel_traces AS t, system.tables AS s, system.one", "system.one is not readable"),
    ("SELECT {x:String}", "Substitution"),
])
def test_refused_with_a_clear_reason(world, sql, reason):
    store, _, _ = world
    with pytest.raises((RefusedQuery, StoreError), match=reason):
        store.query(sql)


def test_limits_and_settings_are_per_session_and_locked(world):
    store, _, _ = world
    with pytest.raises(StoreError, match="READONLY"):
        store.query("SELECT 1 SETTINGS max_result_rows = 1")
    with pytest.raises(StoreError, match="memory limit exceeded"):
        store.query("SELECT length(arrayStringConcat(arrayMap(x -> randomString(1000), range(1000000))))")
    with pytest.raises(StoreError, match="Limit for result exceeded"):
        store.query("SELECT * FROM system.columns AS a, system.columns AS b LIMIT 20000")
    with pytest.raises(StoreError, match="max_result_bytes"):  # no table read: checked on the output
        store.query("SELECT repeat('a', 1000000), repeat('b', 1000000)")
    assert store.query("SELECT getSetting('readonly'), getSetting('max_result_rows')") == b"1\t10000\n"


FRAGMENTS = [
    "SELECT", "select", "WITH", "1", "'x'", "$$", "$t$", "$$'$$ AS q", "'", '"', "`", ";", "--", "/*", "*/", "#",
    "\n", "\t", "INTO OUTFILE", "into/**/outfile", "'{out}/f.py'", "$${out}/h.py$$", "APPEND", "TRUNCATE",
    "AND STDOUT", "FORMAT", "RawBLOB", "FROM", "otel_traces", "system.query_log", "system.columns",
    "file('/etc/passwd', 'LineAsString')", "file('/etc/passwd')", "url('http://{canary}/u', 'LineAsString')",
    "remote('{canary}', system.one)", "s3('http://{canary}/b/k')", "sqlite('{out}/x.db', 't')",
    "filesystem('/etc')", "SET", "max_result_rows = 1", "SETTINGS", "readonly = 0", "EXPLAIN", "AST",
    "DESCRIBE", "SHOW", "TABLES", "INSERT INTO otel_traces (SpanName) VALUES ('x')", "DROP TABLE otel_traces",
    "AS", "(", ")", ",", "UNION ALL", "IN", "*", "count()", "numbers(10)", "dictGet('d', 'a', 1)",
    "CREATE TABLE e (x String) ENGINE = File(RawBLOB, '{out}/e.txt')",
]


HEADS = ["SELECT 1", "SELECT count() FROM otel_traces", "WITH $$'$$ AS q SELECT q", "SELECT $t$;$t$",
         "SELECT name FROM system.columns LIMIT 1", "(SELECT 2)", "EXPLAIN SELECT 1", "SHOW TABLES", "SELECT '\\''"]
TAILS = ["", "INTO OUTFILE '{out}/t.py'", "FORMAT CSV", "FORMAT RawBLOB", "SETTINGS readonly = 0", "; SELECT 1",
         "UNION ALL SELECT * FROM file('/etc/passwd', 'LineAsString')", "WHERE 1 IN system.processes",
         "AND STDOUT", "LIMIT 1", "-- x", "/* x */", "$$", "'"]
RAW = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=14)
SHAPED = st.tuples(st.sampled_from(HEADS), st.lists(st.sampled_from(FRAGMENTS + TAILS), max_size=3),
                   st.sampled_from(TAILS)).map(lambda t: [t[0], *t[1], t[2]])


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(parts=st.one_of(RAW, SHAPED), glue=st.sampled_from([" ", "", "\n", "/**/"]))
def test_fuzzed_queries_are_refused_or_harmless(world, parts, glue):
    store, out, canary = world
    sql = glue.join(parts).replace("{out}", str(out)).replace("{canary}", canary.address)
    try:
        result = store.query(sql).decode("utf-8", "replace")
    except (RefusedQuery, StoreError):
        result = ""
    assert PASSWD_MARK not in result
    assert list(out.iterdir()) == [], (sql, list(out.iterdir()))
    assert canary.hits == [], (sql, canary.hits)
    assert store.query("SELECT count(), getSetting('readonly'), getSetting('max_result_rows') "
                       "FROM otel_traces") == b"4\t1\t10000\n", sql
