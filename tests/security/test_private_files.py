"""Files Arc writes are its own: the span WAL is never opened through a symlink or in a file another
user owns (a WAL path in a shared folder such as /tmp), and the collector refuses a store folder
that belongs to someone else."""

from __future__ import annotations

import os
import stat

import pytest

from tests.helpers.ports import free_port
from tests.helpers.procs import clean_env, run

APP = """
import os, openai
c = openai.OpenAI(api_key="sk-x", base_url=os.environ["DEVLLM_URL"] + "/v1", max_retries=0)
c.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "hi"}])
print("done")
"""
NOBODY = 65534


def _run_app(devllm, wal) -> str:
    env = clean_env(DEVLLM_URL=devllm.base_url, ARC_ENDPOINT=f"grpc://127.0.0.1:{free_port()}",
                    ARC_EXPORT_TIMEOUT="0.3", ARC_WAL_PATH=str(wal))
    proc = run(["python", "-c", APP], env, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "done", proc.stderr
    return proc.stderr


def test_a_wal_path_that_is_a_symlink_is_not_followed(devllm, tmp_path):
    victim = tmp_path / "victim.db"  # an empty file is a valid empty SQLite database
    victim.write_bytes(b"")
    victim.chmod(0o644)
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "arc.wal").symlink_to(victim)
    err = _run_app(devllm, shared / "arc.wal")
    assert victim.read_bytes() == b"" and stat.S_IMODE(victim.stat().st_mode) == 0o644
    assert not (tmp_path / "victim.db-wal").exists()
    assert "is a symlink" in err and "buffering in memory only" in err, err


def test_a_wal_side_file_that_is_a_symlink_is_not_followed(devllm, tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    (tmp_path / "arc.wal-wal").symlink_to(victim)
    err = _run_app(devllm, tmp_path / "arc.wal")
    assert victim.read_bytes() == b"keep"
    assert "arc.wal-wal is a symlink" in err, err


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a file owned by another user")
def test_a_wal_file_owned_by_another_user_is_not_used(devllm, tmp_path):
    wal = tmp_path / "arc.wal"
    wal.write_bytes(b"")
    wal.chmod(0o666)
    os.chown(wal, NOBODY, NOBODY)
    err = _run_app(devllm, wal)
    assert wal.read_bytes() == b"" and stat.S_IMODE(wal.stat().st_mode) == 0o666
    assert "not a regular file owned by this user" in err, err
