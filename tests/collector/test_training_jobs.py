"""``arc_training_jobs``: a job's rows (start, end) read back as its latest state, in real chDB."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from arc_agent.collector import schema

_SCRIPT = textwrap.dedent("""
    import json, sys
    import chdb
    from arc_agent.collector import schema
    conn = chdb.connect(sys.argv[1])
    cur = conn.cursor()
    for statement in schema.statements():
        cur.execute(statement)
    for statement in schema.statements():  # idempotent: the collector runs them at every start
        cur.execute(statement)
    cur.execute("INSERT INTO arc_training_jobs (id, kind, status, started, finished, metrics, artifact, updated) "
                "VALUES ('job-1', 'patterns', 'running', '2026-12-07 10:00:00', NULL, '{}', '', "
                "'2026-12-07 10:00:00')")
    cur.execute("INSERT INTO arc_training_jobs (id, kind, status, started, finished, metrics, artifact, updated) "
                "VALUES ('job-1', 'patterns', 'succeeded', '2026-12-07 10:00:00', '2026-12-07 10:05:00', "
                "'{\\"patterns\\": 3}', 'patterns/llm-fixes@2', '2026-12-07 10:05:00')")
    cur.execute("SELECT id, argMax(status, updated), argMax(metrics, updated), argMax(artifact, updated), "
                "toString(argMax(finished, updated)), count() FROM arc_training_jobs GROUP BY id")
    print(json.dumps([list(r) for r in cur.fetchall()]))
""")


def test_job_rows_read_back_as_the_latest_state(tmp_path):
    assert "arc_training_jobs" in schema.SchemaOptions().tables
    out = subprocess.run([sys.executable, "-c", _SCRIPT, str(tmp_path / "store")], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    assert rows == [["job-1", "succeeded", '{"patterns": 3}', "patterns/llm-fixes@2", "2026-12-07 10:05:00.000", 2]]
