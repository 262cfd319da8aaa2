"""DDL templating and the reader's row parsing (pure functions). The SQL gate: tests/security/."""

from __future__ import annotations

import pytest

from arc_agent.collector import schema
from arc_agent.collector.reader import _credentials, parse_rows


def test_default_rendering_has_no_placeholders_left():
    statements = schema.statements()
    assert len(statements) == 8  # traces, trace-id table + view, two typed views, training jobs + their view, database
    text = "\n".join(statements)
    assert "{{" not in text and "ON CLUSTER" not in text and "TTL" not in text
    assert "CREATE TABLE IF NOT EXISTS `default`.`otel_traces`" in text
    assert "ENGINE = MergeTree()" in text


def test_cluster_engine_and_ttl_for_production():
    engine = "ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')"
    opts = schema.SchemaOptions(database="otel", cluster="prod", engine=engine, ttl_seconds=30 * 86400)
    traces, ts_table, mv = schema.statements(opts)[1:4]
    assert "`otel`.`otel_traces` ON CLUSTER prod" in traces
    assert f"ENGINE = {engine}" in traces and f"ENGINE = {engine}" in ts_table
    assert "TTL toDateTime(Timestamp) + toIntervalDay(30)" in traces
    assert "TTL toDateTime(Start) + toIntervalDay(30)" in ts_table
    assert "TO `otel`.`otel_traces_trace_id_ts`" in mv and "FROM `otel`.`otel_traces`" in mv


@pytest.mark.parametrize("seconds, clause", [
    (0, ""), (86400 * 3, "TTL t + toIntervalDay(3)"), (7200, "TTL t + toIntervalHour(2)"),
    (1800, "TTL t + toIntervalMinute(30)"), (45, "TTL t + toIntervalSecond(45)"),
])
def test_ttl_clause_like_the_exporter(seconds, clause):
    assert schema.ttl_clause("t", seconds) == clause


def test_bad_names_and_placeholders_are_clear_errors(tmp_path):
    with pytest.raises(schema.SchemaError, match="bad table name"):
        schema.SchemaOptions(table="x; DROP TABLE y")
    (tmp_path / "a.sql").write_text("CREATE TABLE {{nope}}")
    with pytest.raises(schema.SchemaError, match="unknown placeholder"):
        schema.statements(directory=tmp_path)
    assert schema.parse_duration("72h") == 72 * 3600
    with pytest.raises(schema.SchemaError, match="bad TTL"):
        schema.parse_duration("3 weeks")


def test_reader_parses_typed_rows():
    text = ('["n","big","name","maybe","lc"]\n'
            '["UInt8","UInt64","LowCardinality(String)","Nullable(Int64)","LowCardinality(Nullable(UInt64))"]\n'
            '[1,"18446744073709551615","a",null,"7"]\n[2,"5","b","-3",null]\n')
    assert parse_rows(text) == [{"n": 1, "big": 2**64 - 1, "name": "a", "maybe": None, "lc": 7},
                                {"n": 2, "big": 5, "name": "b", "maybe": -3, "lc": None}]
    assert parse_rows("") == []


def test_reader_moves_url_credentials_to_headers():
    url, headers = _credentials("http://reader:s%40cret@ch:8123")
    assert url == "http://ch:8123" and headers == {"X-ClickHouse-User": "reader", "X-ClickHouse-Key": "s@cret"}
    assert _credentials("http://127.0.0.1:8123") == ("http://127.0.0.1:8123", {})


def test_clickhouse_url_parsing():
    from arc_agent.collector.store import StoreError, parse_clickhouse_url

    assert parse_clickhouse_url("tcp://u:p%40ss@ch-1:9440/otel?secure=1&compression=lz4") == {
        "host": "ch-1", "port": 9440, "database": "otel", "user": "u", "password": "p@ss", "secure": True,
        "compression": "lz4"}
    assert parse_clickhouse_url("tcp://localhost") == {"host": "localhost", "port": 9000}
    with pytest.raises(StoreError, match="use tcp://host:9000/database"):
        parse_clickhouse_url("http://ch:8123")


def test_unreachable_clickhouse_server_is_a_clear_error_without_the_password():
    import socket

    from arc_agent.collector.store import ClickHouseServerStore, StoreError

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(StoreError) as err:
        ClickHouseServerStore(f"tcp://writer:hunter2@127.0.0.1:{port}/otel")
    assert f"tcp://127.0.0.1:{port}/otel" in str(err.value) and "hunter2" not in str(err.value)


def test_span_log_keeps_complete_records_and_ignores_a_torn_tail(tmp_path):
    from arc_agent.collector.spanlog import SpanLog

    log = SpanLog(tmp_path / "wal")
    log.append(b"one")
    log.append(b"two" * 1000)
    first = log.seal()
    log.append(b"three")
    second = log.seal()
    assert log.segments() == [first, second] and (tmp_path / "wal").stat().st_mode & 0o777 == 0o700
    assert first.stat().st_mode & 0o777 == 0o600
    with open(second, "ab") as f:  # a crash in the middle of an append
        f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00partial")
    assert SpanLog.read(first) == [b"one", b"two" * 1000]
    assert SpanLog.read(second) == [b"three"]
    again = SpanLog(tmp_path / "wal")  # a restart continues the numbering
    again.append(b"four")
    assert again.seal().name > second.name


@pytest.mark.parametrize("url", ["notaurl", "http://h:99999", "http://u:pw-secret@h:abc", "ftp://h"])
@pytest.mark.parametrize("command", ["query", "report"])
def test_a_bad_query_url_is_named_not_a_traceback(url, command):
    """``arc query/report --url`` with a typo: one line naming the URL (its password hidden), exit 1."""
    import subprocess

    from tests.helpers.collector import arc_command
    from tests.helpers.procs import clean_env

    args = ["SELECT 1"] if command == "query" else ["-o", "/tmp/arc-never-written.html"]
    proc = subprocess.run(arc_command(command, "--url", url, *args), capture_output=True, text=True,
                          timeout=60, env=clean_env())
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"arc {command}: bad URL '") and "expected http://host:port" in proc.stderr
    assert "pw-secret" not in proc.stderr


@pytest.mark.parametrize("args", [["collector", "--listen", "127.0.0.1:99999"],
                                  ["collector", "--listen", "127.0.0.1:0", "--query-listen", "127.0.0.1:70000"],
                                  ["serve", "--listen", "127.0.0.1:99999"],
                                  ["proxy", "--listen", "127.0.0.1:99999", "--upstream", "http://127.0.0.1:9/v1"],
                                  ["dev-llm", "--port", "99999"]],
                         ids=["collector", "collector-query", "serve", "proxy", "dev-llm"])
def test_a_port_above_65535_is_refused_by_every_listening_command(tmp_path, args):
    """gRPC took 99999 as 34463 without a word (the collector listened on a port nobody asked for), the
    proxy and dev-llm died with an OverflowError traceback: each now names the option, no traceback."""
    import subprocess

    from tests.helpers.collector import arc_command
    from tests.helpers.procs import clean_env

    keys = tmp_path / "keys.txt"
    keys.write_text("acme 0123456789abcdef0123456789abcdef\n")
    keys.chmod(0o600)
    extra = {"collector": ["--store", str(tmp_path / "store")],
             "serve": ["--keys", str(keys), "--registry", str(tmp_path / "reg")]}.get(args[0], [])
    proc = subprocess.run(arc_command(*args, *extra), capture_output=True, text=True, timeout=60, env=clean_env())
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr, proc.stderr
    assert "99999" in proc.stderr or "70000" in proc.stderr
    assert "0-65535" in proc.stderr or "0 to 65535" in proc.stderr
    assert not (tmp_path / "store").exists()  # refused before the store is opened
