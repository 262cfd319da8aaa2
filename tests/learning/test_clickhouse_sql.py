"""``--clickhouse`` without a server: the learning jobs send a ClickHouse server the SQL the embedded store
runs, and the server DDL parses with ClickHouse's own parser.

No ClickHouse server that takes the OTel schema can be installed here (Debian's is 18.16: no
``DateTime64``, ``Map``, ``JSON``), so ``tests/helpers/chdb_as_server.py`` runs both jobs twice on one
chDB store made from ``collector_config/clickhouse``: with ``--store``, and with ``--clickhouse``
through ``SpanSource(client=...)`` — an object with clickhouse-driver ``Client.execute``'s signature
that records each statement and runs it unchanged on chDB. What this leaves unverified is listed in
``collector_config/README.md`` ("Learning jobs on a ClickHouse server").
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from arc_agent.collector import schema
from tests.helpers.procs import ROOT, clean_env
from training_ray.span_source import JOB_INSERT


@pytest.fixture(scope="module")
def seam(tmp_path_factory):
    store = tmp_path_factory.mktemp("chsql") / "store"
    proc = subprocess.run([sys.executable, "-m", "tests.helpers.chdb_as_server", str(store)], env=clean_env(),
                          cwd=str(ROOT), capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _selects(sent: list) -> list:
    """The query texts of the SELECTs (the store side records texts, the server side (text, params))."""
    texts = [s if isinstance(s, str) else s[0] for s in sent]
    return [t for t in texts if not t.lstrip().upper().startswith("INSERT")]


def test_the_server_gets_the_same_select_text_the_store_runs(seam):
    store, server = seam["runs"]["store"], seam["runs"]["clickhouse"]
    assert len(_selects(store["sent"])) == 2  # the cells of arc_llm_calls, the states of arc_ui_actions
    assert _selects(server["sent"]) == _selects(store["sent"])
    assert "FROM arc_llm_calls" in _selects(server["sent"])[0]
    assert "arc_ui_actions" in _selects(server["sent"])[1]


def test_both_paths_learn_the_same_patterns_from_the_same_rows(seam):
    store, server = seam["runs"]["store"], seam["runs"]["clickhouse"]
    assert store["exit"] == server["exit"] == 0
    keep = ("id", "pattern", "fix", "confidence", "verified")
    mined = [[{k: p[k] for k in keep} for p in run["bundle"]["patterns"]] for run in (store, server)]
    assert mined[0] == mined[1]
    assert [p["fix"] for p in server["bundle"]["patterns"]] == [{"temperature": {"remove": True}}]
    assert server["bundle"]["patterns"][0]["pattern"]["model"] == "reasoning-mini"
    assert not any("429" in p["provenance"]["kind"] for p in server["bundle"]["patterns"])


def test_job_rows_insert_into_the_ddl_table_like_the_span_path(seam):
    server = seam["runs"]["clickhouse"]
    inserts = [s for s in server["sent"] if not isinstance(s, str) and s[0] == JOB_INSERT]
    assert len(inserts) == 4  # patterns: running, succeeded; ui-policy: running, failed (no UI states)
    assert all(len(s[1]) == 1 and s[1][0][3].endswith("+00:00") for s in inserts)  # aware UTC datetimes
    rows = seam["jobs"]
    by_path = {kind: [r for r in rows if r["kind"] == name] for kind, name in (("learn", "patterns"),
                                                                             ("ui", "ui-policy"))}
    # the --store run's rows came through the arc.training_job span and the DDL's materialized view, the
    # --clickhouse run's through the INSERT: the same states, in order, for each job
    for kind, want in (("learn", ["running", "succeeded"]), ("ui", ["running", "failed"])):
        assert [r["status"] for r in by_path[kind]] == want * 2, by_path[kind]
        ids = [r["id"] for r in by_path[kind]]
        assert ids[0] == ids[1] != ids[2] == ids[3]
        assert [r["unfinished"] for r in by_path[kind]] == [1, 0, 1, 0]
    done = [json.loads(r["metrics"]) for r in by_path["learn"] if r["status"] == "succeeded"]
    assert done[0]["calls"] == done[1]["calls"] == seam["spans"] and done[0]["patterns"] == done[1]["patterns"] == 1
    assert seam["runs"]["store"]["ui_exit"] == seam["runs"]["clickhouse"]["ui_exit"] == 1


@pytest.mark.parametrize("variant", ["embedded", "cluster"])
def test_server_ddl_parses_with_clickhouse_own_parser(seam, variant):
    results = seam["ddl"][variant]
    if variant == "embedded":  # the helper appends a misspelt statement: the parser must refuse it
        refused = results.pop()
        assert "Syntax error" in refused, refused
    assert len(results) == len(list(schema.ddl_dir().glob("*.sql"))) >= 8
    assert results == [""] * len(results)


def test_clickhouse_password_can_stay_off_the_command_line(monkeypatch):
    from training_ray.span_source import SpanSource, driver_arguments

    monkeypatch.setenv("ARC_CLICKHOUSE_PASSWORD", "from-env")
    url = "tcp://learner@ch.example:9000/otel"
    assert driver_arguments(url) == {"host": "ch.example", "port": 9000, "database": "otel", "user": "learner",
                                     "password": "from-env"}
    assert driver_arguments("tcp://learner:in%20url@ch.example:9000/otel")["password"] == "in url"  # the URL wins
    assert "from-env" not in SpanSource(clickhouse=url).describe()
    monkeypatch.delenv("ARC_CLICKHOUSE_PASSWORD")
    assert "password" not in driver_arguments(url)


def test_an_unreachable_server_is_one_clear_error_without_the_password(tmp_path):
    from tests.helpers.collector import arc_command
    from tests.helpers.ray_head import free_port

    url = f"tcp://learner:s3cret-pw@127.0.0.1:{free_port()}/default"  # nothing listens there
    for job in (["learn", "patterns", "--clickhouse", url, "--out", str(tmp_path / "b.json")],
                ["train", "ui-policy", "--clickhouse", url]):
        proc = subprocess.run(arc_command(*job), env=clean_env(), capture_output=True, text=True, timeout=120,
                              cwd=str(ROOT))
        assert proc.returncode == 1, proc.stderr[-2000:]
        assert "failed: NetworkError" in proc.stderr and "Connection refused" in proc.stderr
        assert "s3cret-pw" not in proc.stdout + proc.stderr
