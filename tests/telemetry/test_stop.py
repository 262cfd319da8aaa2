"""No span lost when a process is stopped the way production stops it (issue 18).

Real signals to real processes under ``arc-instrument``, real servers (gunicorn sync and uvicorn
workers, uvicorn ``--workers``), real process pools; the LLM calls go through the openai SDK to
``arc dev-llm`` and the spans must arrive at a real ``arc collector``. Each process is stopped right
after its last call, long before the batch processor's own 5 s delay would have sent anything.
"""

import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from arc_agent.telemetry.wal import WriteAheadLog
from tests.helpers.collector import CollectorProcess, arc_command
from tests.helpers.procs import ARC_INSTRUMENT, BIN, ROOT, clean_env, default_signals
from tests.helpers.servers import SERVERS, get, server_command, wait_serving

from .conftest import free_port

APPS = Path(__file__).parent / "apps"
STOP_APP = str(APPS / "stop_app.py")
STOP_SIGNALS = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]


@pytest.fixture(scope="module")
def collector(tmp_path_factory):
    with CollectorProcess(tmp_path_factory.mktemp("stop") / "store") as col:
        yield col


def tag() -> str:
    """A model name no other test uses: the spans of one test are ``chat <tag>``."""
    return "stop-" + uuid.uuid4().hex[:10]


def arrived(col: CollectorProcess, model: str, expected: int) -> int:
    return col.wait_for_count(f"SELECT count() FROM otel_traces WHERE SpanName = 'chat {model}'", expected,
                              timeout=20)


def start_app(mode: str, n: int, model: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([ARC_INSTRUMENT, sys.executable, STOP_APP, mode, str(n), model], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(ROOT),
                            preexec_fn=default_signals)


def wait_ready(proc: subprocess.Popen) -> None:
    line = proc.stdout.readline()
    assert line.strip() == "READY", f"{line!r}\n{proc.stderr.read() if proc.poll() is not None else ''}"


@pytest.mark.parametrize("sig", STOP_SIGNALS, ids=lambda s: s.name)
def test_stop_signal_to_a_plain_script_keeps_every_span_and_the_exit_status(devllm, collector, sig):
    model = tag()
    proc = start_app("plain", 5, model, clean_env(DEVLLM_URL=devllm.base_url, ARC_ENDPOINT=collector.otlp_endpoint))
    wait_ready(proc)
    proc.send_signal(sig)
    proc.wait(30)
    # SIGTERM/SIGHUP: killed by the signal, as without Arc; SIGINT: KeyboardInterrupt, then the same
    assert proc.returncode == -sig, proc.stderr.read()
    assert arrived(collector, model, 5) == 5


@pytest.mark.parametrize("sig", STOP_SIGNALS, ids=lambda s: s.name)
def test_stop_signal_to_a_script_with_its_own_handler_runs_it_unchanged(devllm, collector, sig):
    model = tag()
    proc = start_app("handler", 5, model, clean_env(DEVLLM_URL=devllm.base_url, ARC_ENDPOINT=collector.otlp_endpoint))
    wait_ready(proc)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert out.strip() == f"HANDLED {sig.name}", err
    assert proc.returncode == 7, err
    assert arrived(collector, model, 5) == 5


def test_a_signal_the_app_ignores_stays_ignored(devllm, collector):
    model = tag()
    proc = start_app("ignore", 2, model, clean_env(DEVLLM_URL=devllm.base_url, ARC_ENDPOINT=collector.otlp_endpoint))
    wait_ready(proc)
    proc.send_signal(signal.SIGHUP)  # discarded by the kernel: SIG_IGN is still what is installed
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    assert proc.returncode == -signal.SIGTERM, proc.stderr.read()
    assert arrived(collector, model, 2) == 2


@pytest.mark.parametrize("server", list(SERVERS))
def test_server_stopped_right_after_its_last_request_exports_every_span(devllm, collector, server):
    port = free_port()
    model = tag()
    name, *args = server_command(server, port)
    cmd = [str(BIN / name), *args]
    env = clean_env(DEVLLM_URL=devllm.base_url, ARC_ENDPOINT=collector.otlp_endpoint, PYTHONPATH=str(APPS))
    proc = subprocess.Popen([ARC_INSTRUMENT, *cmd], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=str(ROOT))
    try:
        base = f"http://127.0.0.1:{port}/call?model="
        wait_serving(proc, base + "warm-up")
        workers = {get(base + model) for _ in range(10)}
        last_call = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert time.monotonic() - last_call < 1.0
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    assert arrived(collector, model, 10) == 10, (workers, err[-3000:])


def test_process_pool_children_export_every_span(devllm, collector):
    """multiprocessing.Pool's context exit terminates its workers (SIGTERM); ProcessPoolExecutor's
    workers return and end in os._exit: both kinds flush first. What is tested is that they flush, not
    how fast (the bound has its own test below): a generous bound, so that a child on a loaded machine
    (its first gRPC channel, its first export) waits for its flush to finish instead of losing spans."""
    model = tag()
    proc = start_app("pool", 6, model, clean_env(DEVLLM_URL=devllm.base_url, ARC_ENDPOINT=collector.otlp_endpoint,
                                                 ARC_SHUTDOWN_FLUSH_MS="20000"))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and out.startswith("DONE"), err
    assert arrived(collector, model + "-pool", 6) == 6, err
    assert arrived(collector, model + "-executor", 6) == 6, err


def test_collector_down_at_stop_spills_to_the_wal_and_the_next_start_ships(devllm, tmp_path):
    port = free_port()  # nothing listens yet: the collector is down
    wal = tmp_path / "spans.wal"
    env = clean_env(DEVLLM_URL=devllm.base_url, ARC_ENDPOINT=f"grpc://127.0.0.1:{port}", ARC_WAL_PATH=str(wal))
    first, second = tag(), tag()
    proc = start_app("plain", 5, first, env)
    wait_ready(proc)
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    assert proc.returncode == -signal.SIGTERM
    assert WriteAheadLog(str(wal)).pending_spans() == 5
    with CollectorProcess(tmp_path / "store", otlp_port=port) as col:
        proc = start_app("plain", 1, second, env)
        wait_ready(proc)
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        assert arrived(col, first, 5) == 5
        assert arrived(col, second, 1) == 1
    assert WriteAheadLog(str(wal)).pending_spans() == 0


def timed_stop(mode: str, env: dict) -> tuple:
    """Start the app, SIGTERM it once ready; ``(seconds from the signal to the end of Arc's part of the
    stop, returncode, stderr)``. With the default handler the process ends right after Arc's flush;
    an app whose handler exits normally (``handler-timed``) then runs its exit hooks, Arc's first,
    and prints ``AT_EXIT`` from its last one. Its interpreter teardown after that is the app's own
    CPU work (about the same with Arc off), whose wall time on a loaded machine varies by seconds: a
    bound on it would measure the machine's load, not Arc."""
    proc = start_app(mode, 5, tag(), env)
    wait_ready(proc)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    if mode == "handler-timed":
        lines = [proc.stdout.readline().strip() for _ in range(2)]
        stopped = time.monotonic()
        assert lines == ["HANDLED SIGTERM", "AT_EXIT"], (lines, proc.stderr.read() if proc.poll() is not None else "")
        proc.wait(30)
    else:
        proc.wait(30)
        stopped = time.monotonic()
    return stopped - sent, proc.returncode, proc.stderr.read()


@pytest.mark.parametrize("mode, wal", [("plain", False), ("plain", True), ("handler-timed", True)],
                         ids=["default-handler-memory", "default-handler-wal", "app-handler-wal"])
def test_stop_with_a_hanging_collector_takes_at_most_the_bound(devllm, silent_port, tmp_path, mode, wal):
    """Arc's flushes (before the app's handler and at exit: one bound together) add at most the bound
    + 0.5 s to the stop (up to the app's last exit hook when its handler exits normally)."""
    bound_ms = 1000
    extra = {"ARC_WAL_PATH": str(tmp_path / "spans.wal")} if wal else {}
    env = clean_env(DEVLLM_URL=devllm.base_url, ARC_ENDPOINT=f"grpc://127.0.0.1:{silent_port}",
                    ARC_SHUTDOWN_FLUSH_MS=str(bound_ms), **extra)
    stop_s, returncode, err = timed_stop(mode, env)
    assert returncode == (7 if mode == "handler-timed" else -signal.SIGTERM), err
    assert stop_s <= bound_ms / 1000 + 0.5, f"stop took {stop_s:.2f} s"
    if wal:  # kept for the next process
        assert WriteAheadLog(extra["ARC_WAL_PATH"]).pending_spans() == 5
        assert "lost" not in err
    else:  # said once, with how many and why
        assert err.count("are lost") == 1 and "5 spans could not reach" in err and "ARC_SHUTDOWN_FLUSH_MS" in err, err


def test_status_endpoint_and_doctor_show_spans_dropped_at_exit(devllm, silent_port):
    metrics_port = free_port()
    env = clean_env(DEVLLM_URL=devllm.base_url, ARC_ENDPOINT=f"grpc://127.0.0.1:{silent_port}",
                    ARC_SHUTDOWN_FLUSH_MS="500", ARC_METRICS_PORT=str(metrics_port))
    proc = start_app("status", 3, tag(), env)
    try:
        wait_ready(proc)
        status = json.loads(get(f"http://127.0.0.1:{metrics_port}/arc/runtime/status"))
        assert status["telemetry"]["dropped_at_exit"] == 3
        assert "arc_telemetry_dropped_at_exit_total 3.0" in get(f"http://127.0.0.1:{metrics_port}/metrics")
        doctor = subprocess.run(arc_command("doctor"), env=env, capture_output=True, text=True, timeout=60,
                                cwd=str(ROOT))
        assert "(at exit 3)" in doctor.stdout and "3 span(s) dropped at exit" in doctor.stdout, doctor.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
