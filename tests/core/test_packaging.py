"""The wheel carries what the agent reads at run time: the ClickHouse DDL (one copy, from
collector_config/clickhouse), the shipped vision model, the demo pattern bundle and the golden cases.
An editable install hides a missing file; a built wheel does not."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_contains_runtime_data_and_the_ddl_is_found_from_it(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                          "-w", str(tmp_path / "dist"), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "deprecated" not in out.stderr  # e.g. setuptools' project.license table banner (SPDX string now)
    (wheel,) = (tmp_path / "dist").glob("arc_runtime-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    metadata = next(zipfile.ZipFile(wheel).read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    assert "License-Expression: Apache-2.0" in metadata.splitlines()
    grafana = {"arc_agent/data/grafana/arc-runtime.json",  # arc report reads the dashboard it ships
               "arc_agent/data/grafana/provisioning/datasources/arc-clickhouse.yaml"}
    assert grafana <= names

    sql = sorted(p.name for p in (ROOT / "collector_config" / "clickhouse").glob("*.sql"))
    assert sql and {f"arc_agent/data/clickhouse/{name}" for name in sql} <= names
    for needed in ("arc_agent/data/patterns/demo.yaml", "arc_agent/data/golden.yaml",
                   "arc_bootstrap/sitecustomize.py"):
        assert needed in names
    assert any(n.startswith("arc_agent/data/models/") and n.endswith(".onnx") for n in names)

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import sys; from arc_agent.collector import schema; d = schema.ddl_dir(); "
            "print(d); print(sorted(p.name for p in d.glob('*.sql')))")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "HOME": str(tmp_path)}
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                           timeout=60)
    assert found.returncode == 0, found.stderr
    where, listed = found.stdout.splitlines()
    assert Path(where).is_relative_to(site) and listed == repr(sql)
