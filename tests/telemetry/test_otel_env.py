"""The standard OTEL_* variables change Arc's exported spans the way they change the SDK's own
(real openai SDK against dev-llm, real gRPC receiver; the app exports its own spans through a plain
SDK pipeline next to Arc's, so both are compared in one run)."""

import json
import math
import sys
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.helpers.procs import clean_env, run_json
from tests.helpers.procs import run as run_proc

APP = str(Path(__file__).parent / "apps" / "otel_env_app.py")


def run(devllm, receiver, mode: str, n: int, **env) -> tuple:
    e = clean_env(DEVLLM_URL=devllm.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
                  OTLP_ENDPOINT=receiver.endpoint, **env)
    out = run_json([sys.executable, APP, mode, str(n)], e, timeout=180)
    assert out["calls"] == n if mode == "calls" else out["calls"] == 2
    assert out["flushed"] is True
    # the app flushed both pipelines before exiting: everything exported has been received
    arc = [s for s in receiver.spans if s.scope == "arc_agent"]
    own = [s for s in receiver.spans if s.scope == "app"]
    return arc, own


@pytest.mark.parametrize("env,kept", [({}, True), ({"OTEL_TRACES_SAMPLER": "always_off"}, False),
                                      ({"OTEL_SDK_DISABLED": "true"}, False),
                                      ({"OTEL_TRACES_SAMPLER": "parentbased_always_off"}, False)],
                         ids=["default", "always_off", "sdk_disabled", "parentbased_always_off"])
def test_sampler_and_disabled(devllm, receiver, env, kept):
    arc, own = run(devllm, receiver, "calls", 20, **env)
    assert (len(arc), len(own)) == ((20, 20) if kept else (0, 0))


def test_traceidratio_within_binomial_band(devllm, receiver):
    n, p = 2000, 0.1
    arc, own = run(devllm, receiver, "calls", n, OTEL_TRACES_SAMPLER="traceidratio", OTEL_TRACES_SAMPLER_ARG=str(p))
    sigma = math.sqrt(n * p * (1 - p))
    for spans in (arc, own):
        assert abs(len(spans) - n * p) <= 5 * sigma, (len(arc), len(own))


def test_attribute_limits_cut_values_and_counts(devllm, receiver):
    arc, own = run(devllm, receiver, "calls", 3, OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT="10",
                   OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true")
    assert len(arc) == 3 and len(own) == 3
    assert all(s.attributes["app.value"] == "x" * 10 for s in own)
    assert all(len(s.attributes["gen_ai.input.messages"]) == 10 for s in arc)
    assert all(len(v) <= 10 for s in arc for v in s.attributes.values() if isinstance(v, str))
    arc, _ = run(devllm, receiver, "calls", 2, OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT="4")
    assert len(arc) == 5 and all(len(s.attributes) == 4 for s in arc[3:])  # the receiver keeps the first 3


def test_unsampled_parent_means_no_arc_span(devllm, receiver):
    arc, _ = run(devllm, receiver, "parents", 2)
    assert [(s.trace_id, s.parent_span_id) for s in arc] == [(f"{0xB2:032x}", f"{0xC3:016x}")]


def test_batch_processor_variables(devllm, receiver):
    """OTEL_BSP_MAX_EXPORT_BATCH_SIZE bounds Arc's export requests as it bounds the SDK's."""
    arc, own = run(devllm, receiver, "calls", 12, OTEL_BSP_MAX_EXPORT_BATCH_SIZE="5",
                   OTEL_BSP_SCHEDULE_DELAY="60000")
    assert len(arc) == 12 and len(own) == 12
    sizes = {"arc_agent": [], "app": []}
    for raw in receiver.raw:
        for rs in ExportTraceServiceRequest.FromString(raw).resource_spans:
            for ss in rs.scope_spans:
                sizes[ss.scope.name].append(len(ss.spans))
    assert sorted(sizes["arc_agent"]) == [2, 5, 5] and sorted(sizes["app"]) == [2, 5, 5]


@pytest.mark.parametrize("value,exported,printed", [("otlp", 3, False), ("none", 0, False), ("console", 0, True),
                                                    ("otlp,console", 3, True), ("bogus", 3, False)])
def test_traces_exporter_variable(devllm, receiver, value, exported, printed):
    """OTEL_TRACES_EXPORTER picks where Arc's own spans go, as it does for OTel's launcher: none sends
    nothing, console prints them on stdout, a list does each; an unknown name is named in the log and
    the spans still go over OTLP (the app's own pipeline is untouched either way)."""
    e = clean_env(DEVLLM_URL=devllm.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
                  OTLP_ENDPOINT=receiver.endpoint, OTEL_TRACES_EXPORTER=value)
    proc = run_proc([sys.executable, APP, "calls", "3"], e, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"calls": 3, "flushed": True}
    assert len([s for s in receiver.spans if s.scope == "arc_agent"]) == exported
    assert len([s for s in receiver.spans if s.scope == "app"]) == 3
    assert proc.stdout.count('"name": "chat gpt-4"') == (3 if printed else 0)
    assert "sk-x" not in proc.stdout
    assert ("unknown exporter 'bogus'" in proc.stderr) == (value == "bogus")


def test_bad_exporter_variables_are_named_and_the_app_runs(devllm, receiver):
    """A malformed OTEL_EXPORTER_OTLP_HEADERS entry, an OTLP protocol Arc does not speak and an endpoint
    that is no host: each is logged naming its variable (a header value never: it may be a secret),
    the good headers still apply, and the app's calls go through."""
    e = clean_env(DEVLLM_URL=devllm.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
                  OTLP_ENDPOINT=receiver.endpoint, OTEL_EXPORTER_OTLP_HEADERS="sk-leaked,x-team=a%20b",
                  OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf")
    proc = run_proc([sys.executable, APP, "calls", "2"], e, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "OTEL_EXPORTER_OTLP_HEADERS: entry 1 of 2 is not KEY=VALUE" in proc.stderr
    assert "OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf': Arc sends OTLP over gRPC only" in proc.stderr
    # the app's own SDK exporter prints the whole variable in its warning; Arc's lines never do
    assert not [line for line in proc.stderr.splitlines() if " arc: " in line and "sk-leaked" in line]
    assert len([s for s in receiver.spans if s.scope == "arc_agent"]) == 2
    assert all(dict(m).get("x-team") == "a b" for m in receiver.metadata)

    e.update(OTEL_EXPORTER_OTLP_ENDPOINT="not a url", OTEL_EXPORTER_OTLP_HEADERS="", ARC_SHUTDOWN_FLUSH_MS="200")
    proc = run_proc([sys.executable, APP, "calls", "1"], e, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "OTEL_EXPORTER_OTLP_ENDPOINT: endpoint 'not a url': bad host 'not a url'" in proc.stderr


def test_a_missing_collector_ca_file_is_named(devllm, receiver, tmp_path):
    """OTEL_EXPORTER_OTLP_CERTIFICATE pointing nowhere: the variable and the file are named at start and
    in the export failure (it was 'unreachable (FileNotFoundError(2, ...))'), and the app runs."""
    missing = tmp_path / "ca.pem"
    e = clean_env(DEVLLM_URL=devllm.base_url, OTLP_ENDPOINT=receiver.endpoint,
                  OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint.replace("grpc://", "grpcs://"),
                  OTEL_EXPORTER_OTLP_CERTIFICATE=str(missing), ARC_SHUTDOWN_FLUSH_MS="200")
    proc = run_proc([sys.executable, APP, "calls", "1"], e, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"OTEL_EXPORTER_OTLP_CERTIFICATE: '{missing}' is not a file" in proc.stderr
    assert f"(No such file or directory: {missing})" in proc.stderr


class _CountingRelay:
    """A TCP relay in front of the receiver that counts the bytes the client sends (what is on the wire)."""

    def __init__(self, target: str) -> None:
        import socket
        import threading

        self.target = target.replace("grpc://", "").rsplit(":", 1)
        self.sent = 0
        self._lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"grpc://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection((self.target[0], int(self.target[1])))
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src, dst, count: bool) -> None:
        try:
            while data := src.recv(65536):
                if count:
                    with self._lock:
                        self.sent += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


def test_otlp_compression_variable_compresses_what_arc_sends(devllm, receiver):
    """OTEL_EXPORTER_OTLP_COMPRESSION=gzip compresses Arc's export requests on the wire, as it does the
    SDK's exporter (it was ignored); the collector side receives the same spans."""
    relay = _CountingRelay(receiver.endpoint)
    try:
        sizes = {}
        for value in ("", "gzip"):  # unset, not "none": the app's own SDK exporter raises on "none"
            before, spans_before = relay.sent, len(receiver.spans)
            e = clean_env(DEVLLM_URL=devllm.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=relay.endpoint,
                          OTLP_ENDPOINT=receiver.endpoint, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true",
                          **({"OTEL_EXPORTER_OTLP_COMPRESSION": value} if value else {}))
            proc = run_proc([sys.executable, APP, "calls", "20"], e, timeout=120)
            assert proc.returncode == 0, proc.stderr
            arc = [s for s in receiver.spans[spans_before:] if s.scope == "arc_agent"]
            assert len(arc) == 20 and all(s.attributes["gen_ai.input.messages"] for s in arc)
            sizes[value] = relay.sent - before
        assert sizes["gzip"] < 0.6 * sizes[""], sizes
    finally:
        relay.close()


def test_otlp_timeout_variables_set_the_export_timeout_as_the_sdk_reads_them(caplog):
    """Seconds, as opentelemetry-exporter-otlp-proto-grpc reads ``OTEL_EXPORTER_OTLP[_TRACES]_TIMEOUT``;
    the traces variable wins, ``ARC_EXPORT_TIMEOUT`` wins over both, a bad value is named and ignored."""
    from arc_agent.telemetry.otel_env import export_timeout

    assert export_timeout({}) == 2.0
    assert export_timeout({"OTEL_EXPORTER_OTLP_TIMEOUT": "7"}) == 7.0
    assert export_timeout({"OTEL_EXPORTER_OTLP_TIMEOUT": "7", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "3.5"}) == 3.5
    assert export_timeout({"OTEL_EXPORTER_OTLP_TIMEOUT": "7", "ARC_EXPORT_TIMEOUT": "1"}) == 1.0
    with caplog.at_level("WARNING", logger="arc"):
        assert export_timeout({"OTEL_EXPORTER_OTLP_TIMEOUT": "10s"}) == 2.0
        assert export_timeout({"OTEL_EXPORTER_OTLP_TIMEOUT": "100000"}) == 2.0
    assert "OTEL_EXPORTER_OTLP_TIMEOUT='10s' is not a number" in caplog.text
    assert "OTEL_EXPORTER_OTLP_TIMEOUT='100000' is outside" in caplog.text
