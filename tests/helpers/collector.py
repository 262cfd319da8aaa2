"""Run ``arc collector`` as a subprocess on free ports with its own store, for tests and benchmarks.

    with CollectorProcess(tmp_path / "store") as col:
        exporter = OTLPSpanExporter(endpoint=col.otlp_endpoint, insecure=True)
        ...
        col.wait_for_count("SELECT count() FROM otel_traces", 10)
        rows = col.query("SELECT SpanName FROM otel_traces")

``kill()`` (SIGKILL) and ``start()`` again reuse the same OTLP port so senders reconnect;
``terminate()`` sends SIGTERM and returns the exit code.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_ARC = Path(sys.executable).parent / "arc"


def arc_command(*args: str) -> list:
    """``arc ARGS`` as the installed script, else through the interpreter."""
    if _ARC.exists():
        return [str(_ARC), *args]
    return [sys.executable, "-m", "arc_agent.cli", *args]


def _env(extra: dict | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARC_", "OTEL_"))}
    env.update(extra or {})
    return env


def await_line(lines: queue.Queue, proc: subprocess.Popen, prefix: str, timeout: float) -> str | None:
    """The first output line (as queued by a reader thread) starting with ``prefix``; None when the
    process exits or ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.05, deadline - time.monotonic()))
        except queue.Empty:
            line = None
        if line and line.startswith(prefix):
            return line
        if proc.poll() is not None or time.monotonic() > deadline:
            return None


class CollectorProcess:
    def __init__(self, store: str | os.PathLike, *, otlp_port: int = 0, query_port: int = 0,
                 tls_cert: str | None = None, tls_key: str | None = None, args: tuple = (),
                 env: dict | None = None) -> None:
        self.store = Path(store)
        self.otlp_port = otlp_port
        self.query_port = query_port
        self.tls_cert, self.tls_key = tls_cert, tls_key
        self.args = tuple(args)
        self.env = _env(env)
        self.proc: subprocess.Popen | None = None
        self.otlp_endpoint = ""
        self.query_url = ""
        self.output: list = []  # stdout + stderr lines of every run, for failure messages
        self._lines: queue.Queue = queue.Queue()

    # -- life cycle ---------------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> CollectorProcess:
        cmd = arc_command("collector", "--listen", f"127.0.0.1:{self.otlp_port}",
                          "--query-listen", f"127.0.0.1:{self.query_port}", "--store", str(self.store),
                          *self.args)
        if self.tls_cert:
            cmd += ["--tls-cert", self.tls_cert, "--tls-key", self.tls_key or ""]
        self._lines = queue.Queue()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=self.env, cwd=str(ROOT))
        for stream in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=self._drain, args=(stream,), daemon=True).start()
        line = await_line(self._lines, self.proc, "arc collector: otlp ", timeout)
        if line is None:
            self.kill()
            raise RuntimeError("arc collector did not start:\n" + "".join(self.output))
        words = line.split()
        self.otlp_endpoint, self.query_url = words[3], words[5]
        self.otlp_port = int(self.otlp_endpoint.rsplit(":", 1)[1])
        if self.query_url != "off":
            self.query_port = int(self.query_url.rsplit(":", 1)[1])
        return self

    def _drain(self, stream) -> None:
        for line in stream:
            self.output.append(line)
            self._lines.put(line)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def discovery(self) -> dict:
        """The collector's ``collector.json`` (query URL, token, ...), as its clients read it."""
        import json

        return json.loads((self.store / "collector.json").read_text(encoding="utf-8"))

    @property
    def token(self) -> str:
        return self.discovery["token"]

    @property
    def otlp_target(self) -> str:
        """``host:port`` for ``OTLPSpanExporter(endpoint=...)``."""
        return self.otlp_endpoint.split("://", 1)[1]

    def kill(self) -> None:
        """SIGKILL: a crash, nothing flushed."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def __enter__(self) -> CollectorProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                self.terminate(30)
            except subprocess.TimeoutExpired:
                self.kill()

    # -- reading ------------------------------------------------------------------------------
    def query(self, sql: str) -> list:
        from arc_agent.collector.reader import query

        # url= too: with the collector down, store= alone would open the store in this process and
        # keep a restarted collector out; store= is where the reader finds the token (collector.json)
        return query(sql, url=self.query_url, store=self.store)

    def scalar(self, sql: str):
        rows = self.query(sql)
        return next(iter(rows[0].values())) if rows else None

    def wait_for_count(self, sql: str, expected: int, timeout: float = 30.0) -> int:
        """Poll a ``SELECT count...`` until it reaches ``expected``; returns the last value."""
        deadline = time.monotonic() + timeout
        value = self.scalar(sql)
        while value < expected and time.monotonic() < deadline:
            time.sleep(0.05)
            value = self.scalar(sql)
        return value


# -- senders ---------------------------------------------------------------------------------------
EXPORT_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def sdk_tracer_provider(endpoint: str, service: str = "collector-test", *, credentials=None,
                        timeout: float = 30.0, batch: int = 200, resource: dict | None = None):
    """A real OTel SDK pipeline (BatchSpanProcessor -> OTLPSpanExporter) aimed at ``endpoint``.

    ``endpoint`` is ``host:port``; plaintext unless ``credentials`` (grpc channel credentials) is given.
    The queue is large so nothing is dropped while the collector is down; the exporter retries
    UNAVAILABLE / RESOURCE_EXHAUSTED for up to ``timeout`` seconds per batch.
    """
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporter = OTLPSpanExporter(endpoint=endpoint, insecure=credentials is None, credentials=credentials,
                                timeout=timeout)
    provider = TracerProvider(resource=Resource.create({"service.name": service, **(resource or {})}))
    provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=200_000, max_export_batch_size=batch,
                                                   schedule_delay_millis=50))
    return provider


def raw_export(target: str, payload: bytes, *, timeout: float = 30.0, credentials=None):
    """Send raw bytes as one TraceService/Export call; returns ``(status_code, details, trailing_metadata)``."""
    import grpc

    channel = (grpc.secure_channel(target, credentials) if credentials is not None
               else grpc.insecure_channel(target))
    try:
        export = channel.unary_unary(EXPORT_METHOD, request_serializer=None, response_deserializer=None)
        try:
            export(payload, timeout=timeout)
            return grpc.StatusCode.OK, "", ()
        except grpc.RpcError as err:
            return err.code(), err.details(), tuple(err.trailing_metadata() or ())
    finally:
        channel.close()


def status(col: CollectorProcess) -> dict:
    """The collector's ``/arc/status`` counters."""
    import json
    import urllib.request

    request = urllib.request.Request(col.query_url + "/arc/status", headers={"Authorization": f"Bearer {col.token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.05):
    """Poll ``predicate()`` until truthy; returns its last value."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


try:
    import pytest

    @pytest.fixture
    def collector(tmp_path):
        """A running ``arc collector`` with a fresh store under ``tmp_path``; stopped (SIGTERM) after."""
        with CollectorProcess(tmp_path / "store") as col:
            yield col
except ImportError:  # used outside pytest (benchmarks)
    pass
