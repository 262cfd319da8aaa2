"""Celery prefork workers under ``arc-instrument`` (issue 18): the spans of tasks run in the pool's
child processes reach the collector when the worker is stopped the production way (SIGTERM, warm
shutdown). A real worker (``celery worker --pool prefork -c 2``), a real broker shared between
processes (kombu's ``filesystem://`` transport), real openai calls to ``arc dev-llm``, a real
``arc collector``. Children end in ``os._exit`` after Celery's ``worker_process_shutdown`` signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.helpers.procs import ARC_INSTRUMENT, BIN, ROOT, clean_env

pytest.importorskip("celery")

APPS = Path(__file__).parent / "apps"


@pytest.mark.parametrize("recycle", [False, True], ids=["warm-shutdown", "max-tasks-per-child"])
def test_prefork_children_spans_arrive(devllm, collector, tmp_path, monkeypatch, recycle):
    """Stopped with SIGTERM right after the results came back; or, with ``--max-tasks-per-child 1``,
    every child ends after its one task while the worker runs on: its spans arrive all the same."""
    folder = tmp_path / "celery"
    env = clean_env(DEVLLM_URL=devllm.base_url, ARC_ENDPOINT=collector.otlp_endpoint, CELERY_DIR=str(folder),
                    PYTHONPATH=str(APPS))
    worker = subprocess.Popen([ARC_INSTRUMENT, str(BIN / "celery"), "-A", "celery_tasks", "worker", "--pool",
                               "prefork", "-c", "2", "--loglevel", "warning", "--without-gossip",
                               "--without-mingle", "--without-heartbeat",
                               *(["--max-tasks-per-child", "1"] if recycle else [])],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(ROOT))
    try:
        monkeypatch.setenv("CELERY_DIR", str(folder))  # the test is the producer, on the same broker folder
        monkeypatch.syspath_prepend(str(APPS))
        sys.modules.pop("celery_tasks", None)
        from celery_tasks import ask

        model = "celery-" + uuid.uuid4().hex[:10]
        results = [ask.delay(model) for _ in range(8)]
        answers = [r.get(timeout=60) for r in results]
        pids = [pid for pid, _ in answers]
        assert all(pid != os.getpid() and hooked for pid, hooked in answers)
        sql = f"SELECT count() FROM otel_traces WHERE SpanName = 'chat {model}'"
        if recycle:  # each child ended after its task, the worker still runs
            assert len(set(pids)) == 8
            assert collector.wait_for_count(sql, 8, timeout=20) == 8
        worker.send_signal(signal.SIGTERM)  # warm shutdown: children finish and exit
        _, err = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err[-3000:]
    assert collector.wait_for_count(sql, 8, timeout=20) == 8, err[-3000:]
    assert collector.scalar(f"SELECT uniqExact(SpanId) FROM otel_traces WHERE SpanName = 'chat {model}'") == 8
