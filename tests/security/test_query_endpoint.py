"""The collector's SQL endpoint under attack (issue 12 §1): every attack is refused with a clear error,
writes no file, reaches no server and returns no host file; clients cannot change each other's
results; every request needs the token and this machine's Host; limits hold; a slow query neither
blocks others nor the span writer, and stops when its client hangs up. A real `arc collector`."""

from __future__ import annotations

import base64
import http.client
import json
import stat
import time
import urllib.parse
from pathlib import Path

import pytest

from tests.helpers.collector import CollectorProcess, raw_export, status, wait_until
from tests.security.attacks import ATTACKS, PASSWD_MARK, Canary, table_function_attack

SLOW = ("SELECT count() FROM system.columns AS a, system.columns AS b, system.columns AS c "
        "WHERE cityHash64(a.name, b.name, c.name) = 7")


@pytest.fixture(scope="module")
def canary():
    with Canary() as c:
        yield c


@pytest.fixture(scope="module")
def col(tmp_path_factory):
    with CollectorProcess(tmp_path_factory.mktemp("sec") / "store",
                          args=("--query-timeout", "60", "--query-concurrency", "2", "--query-max-rows", "1000",
                                "--query-max-memory", str(200 << 20))) as c:
        from tests.collector.test_faults import request_bytes

        assert raw_export(c.otlp_target, request_bytes(5, "seed"))[0].name == "OK"
        assert c.wait_for_count("SELECT count() FROM otel_traces", 5) == 5
        yield c


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "targets"
    folder.mkdir()
    return folder


def request(col, method: str, sql: str = "", *, path: str = "/", headers: dict | None = None,
            token: str | None = "", timeout: float = 30) -> tuple:
    """(status, body text) of one request; ``token=""`` means the collector's own, None means none."""
    port = int(col.query_url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    hdrs = dict(headers or {})
    if token is not None:
        hdrs.setdefault("Authorization", f"Bearer {token or col.token}")
    if method == "GET":
        target = path + ("?" + urllib.parse.urlencode({"query": sql}) if sql else "")
        conn.request("GET", target, headers=hdrs)
    else:
        conn.request("POST", path, body=sql.encode(), headers=hdrs)
    response = conn.getresponse()
    body = response.read().decode("utf-8", "replace")
    conn.close()
    return response.status, body


def assert_refused(col, sql: str, out, canary) -> None:
    for method in ("GET", "POST"):
        code, body = request(col, method, sql)
        assert code in (400, 403), (method, sql, code, body)
        assert body.strip() and ("Refused:" in body or "READONLY" in body), (sql, body)
        assert PASSWD_MARK not in body and "secret" not in body.replace("secret'", "")
    assert list(out.iterdir()) == [], f"{sql!r} wrote {list(out.iterdir())}"
    assert canary.hits == [], f"{sql!r} reached the canary: {canary.hits}"


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_is_refused_without_side_effects(col, canary, out, attack):
    assert_refused(col, attack.format(out=out, canary=canary.address), out, canary)
    assert col.scalar("SELECT count() FROM otel_traces") == 5


def test_every_table_function_is_refused(col, canary, out, tmp_path):
    listing = _table_functions(tmp_path)  # this build's own list, so new ones are covered
    assert len(listing) > 50 and "url" in listing and "file" in listing
    for name in listing:
        attack = table_function_attack(name, canary.address, str(out))
        code, body = request(col, "POST", attack)
        if "Syntax error" in body:  # arguments of another shape (viewExplain...): the bare call parses
            attack = f"SELECT * FROM {name}()"
            code, body = request(col, "POST", attack)
        assert code == 403 and f"table function {name}()" in body, (name, code, body)
        code, body = request(col, "GET", attack.replace(f"FROM {name}(", f"FROM {name.upper()}("))
        assert code == 403 and "Refused:" in body, (name, code, body)
    assert list(out.iterdir()) == [] and canary.hits == []


def _table_functions(tmp_path) -> list:
    """``system.table_functions`` of the installed chDB, read in a child process (one store per process)."""
    import subprocess
    import sys

    code = ("import chdb, sys; c = chdb.connect(sys.argv[1]); "
            "print(c.query('SELECT name FROM system.table_functions ORDER BY name', 'TSVRaw').bytes().decode())")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "tf")], capture_output=True, text=True,
                         timeout=120, check=True)
    return [line for line in out.stdout.splitlines() if line.strip()]


def test_clients_do_not_share_session_state(col):
    assert request(col, "POST", "SET max_result_rows = 1")[0] == 403
    assert request(col, "POST", "SET additional_table_filters = {'otel_traces': '0'}")[0] == 403
    code, body = request(col, "POST", "SELECT count() FROM otel_traces SETTINGS additional_table_filters = "
                                      "{'otel_traces': 'SpanName = \\'x\\''}")
    assert code == 400 and "READONLY" in body
    assert request(col, "POST", "SELECT 'leak' AS a; SELECT throwIf(1)")[0] == 403
    assert request(col, "POST", "SELECT 'leak' AS a UNION ALL SELECT toString(throwIf(1))")[0] == 400
    # each request is a fresh read-only session with the collector's limits, whatever came before
    assert request(col, "GET", "SELECT SpanName FROM otel_traces ORDER BY SpanName") == (200, "seed\n" * 5)
    for _ in range(2):
        assert request(col, "GET", "SELECT getSetting('readonly'), getSetting('max_result_rows'), "
                                   "getSetting('max_execution_time')") == (200, "1\t1000\t60\n")


def test_token_is_required_everywhere_and_read_from_a_private_file(col):
    info = col.store / "collector.json"
    assert stat.S_IMODE(info.stat().st_mode) == 0o600 and stat.S_IMODE(col.store.stat().st_mode) == 0o700
    assert len(col.token) >= 32
    for path in ("/", "/ping", "/arc/status", "/query"):
        for method in ("GET", "POST"):
            code, body = request(col, method, "SELECT 1", path=path, token=None)
            assert code == 401 and "token" in body, (path, method, code)
            assert request(col, method, "SELECT 1", path=path, token="wrong-" + col.token)[0] == 401
    basic = base64.b64encode(f"default:{col.token}".encode()).decode()
    ok = [{"Authorization": f"Basic {basic}"}, {"X-ClickHouse-User": "default", "X-ClickHouse-Key": col.token}]
    for headers in ok:
        assert request(col, "POST", "SELECT 1", headers=headers, token=None) == (200, "1\n")
    wrong = base64.b64encode(b"default:nope").decode()
    assert request(col, "POST", "SELECT 1", headers={"Authorization": f"Basic {wrong}"}, token=None)[0] == 401
    assert request(col, "GET", path="/arc/status")[0] == 200


@pytest.mark.parametrize("headers, code", [
    ({"Host": "evil.example.com"}, 403),
    ({"Host": "rebind.attacker.net:8123"}, 403),
    ({"Host": "localhost"}, 200),
    ({"Origin": "http://evil.example.com"}, 403),
    ({"Origin": "null"}, 403),
    ({"Host": "localhost:1", "Origin": "http://localhost:1"}, 200),
])
def test_host_and_origin_must_be_this_endpoint(col, headers, code):
    for token in ("", None):  # refused before the token is even looked at
        got, body = request(col, "POST", "SELECT 1", headers=headers, token=token)
        assert got == (code if token == "" or code == 403 else 401), (headers, token, got, body)


def test_memory_and_row_limits_give_clear_errors(col):
    code, body = request(col, "POST", "SELECT length(arrayStringConcat(arrayMap(x -> randomString(1000), "
                                      "range(1000000))))")
    assert code == 400 and "memory limit exceeded" in body
    code, body = request(col, "POST", "SELECT name FROM system.columns")  # > 1000 rows
    assert code == 400 and "Limit for result exceeded" in body
    code, body = request(col, "POST", "SELECT count() FROM system.columns")
    assert code == 200 and int(body) > 1000


def test_execution_time_limit(tmp_path):
    with CollectorProcess(tmp_path / "store", args=("--query-timeout", "1")) as c:
        code, body = request(c, "POST", SLOW)
        assert code == 400 and "TIMEOUT_EXCEEDED" in body


class SlowClient:
    """A client whose slow query is in flight until ``hang_up()``."""

    def __init__(self, col) -> None:
        port = int(col.query_url.rsplit(":", 1)[1])
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.conn.request("POST", "/", body=SLOW.encode(), headers={"Authorization": f"Bearer {col.token}"})

    def hang_up(self) -> None:
        self.conn.sock.close()
        self.conn.close()


def _query_stats(col) -> dict:
    return status(col)["query"]


def test_slow_query_blocks_neither_others_nor_the_writer_and_stops_when_its_client_leaves(col):
    from tests.collector.test_faults import request_bytes

    before = _query_stats(col)
    slow = SlowClient(col)
    assert wait_until(lambda: _query_stats(col)["running"] == 1, timeout=30)
    # a fast query gets the second slot and answers while the slow one runs
    assert request(col, "POST", "SELECT count() FROM otel_traces", timeout=30) == (200, "5\n")
    # the span writer keeps writing
    assert raw_export(col.otlp_target, request_bytes(3, "during-slow"))[0].name == "OK"
    assert col.wait_for_count("SELECT count() FROM otel_traces WHERE SpanName = 'during-slow'", 3) == 3
    assert _query_stats(col)["running"] == 1
    # both slots taken: a clear 503, not a queue
    second = SlowClient(col)
    assert wait_until(lambda: _query_stats(col)["running"] == 2, timeout=30)
    code, body = request(col, "POST", "SELECT 1")
    assert code == 503 and "busy" in body
    # clients hang up: their queries are cancelled (the time limit is 60 s; this waits far less)
    started = time.monotonic()
    slow.hang_up()
    second.hang_up()
    assert wait_until(lambda: _query_stats(col)["running"] == 0, timeout=30), (_query_stats(col), col.output[-20:])
    assert time.monotonic() - started < 30
    after = _query_stats(col)
    assert after["cancelled"] - before["cancelled"] == 2 and after["busy"] - before["busy"] == 1
    assert request(col, "POST", "SELECT 1") == (200, "1\n")


def test_binding_beyond_loopback_needs_tls(tmp_path):
    import subprocess

    from tests.helpers.collector import arc_command

    out = subprocess.run(arc_command("collector", "--listen", "127.0.0.1:0", "--query-listen", "0.0.0.0:0",
                                     "--store", str(tmp_path / "s")), capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "needs --tls-cert and --tls-key" in out.stderr


def test_beyond_loopback_it_speaks_only_tls_and_still_wants_the_token_and_the_host(tmp_path):
    import ssl

    from tests.helpers.certs import make_cert

    cert, key = make_cert(tmp_path)
    with CollectorProcess(tmp_path / "store", tls_cert=cert, tls_key=key, args=("--query-listen", "0.0.0.0:0")) as c:
        assert c.query_url.startswith("https://") and c.discovery["tls_cert"] == str(Path(cert).resolve())
        port = int(c.query_url.rsplit(":", 1)[1])
        context = ssl.create_default_context(cafile=cert)

        def ask(headers: dict) -> int:
            conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=context)
            conn.request("POST", "/", body=b"SELECT 1", headers=headers)
            code = conn.getresponse().status
            conn.close()
            return code

        bearer = {"Authorization": f"Bearer {c.token}"}
        assert ask(bearer) == 200 and ask({}) == 401
        assert ask({**bearer, "Host": "rebind.attacker.net"}) == 403
        plain = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
            plain.request("POST", "/", body=b"SELECT 1", headers=bearer)
            plain.getresponse().read()
        assert c.scalar("SELECT count() FROM otel_traces") == 0  # the reader trusts the cert in collector.json


def test_discovery_has_what_clients_need(col):
    info = json.loads((col.store / "collector.json").read_text())
    assert info["query"] == col.query_url and info["token"] == col.token and info["pid"] == col.pid
