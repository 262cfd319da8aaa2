"""Property-based fuzzing of the OTLP receiver (``hypothesis``) against a real collector process.

Garbled protobuf bytes and structurally valid but hostile requests (thousands of attributes, deep
AnyValue nesting, lone surrogates, giant strings). Properties: the collector never dies, answers
every request with OK or a clear error, and every span it acknowledged ends up stored or
dead-lettered. Each test stops generating after ``ARC_FUZZ_SECONDS`` (default 15) of sending.
"""

from __future__ import annotations

import base64
import json
import os
import time

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from tests.helpers.collector import CollectorProcess, raw_export, status, wait_until

BUDGET_SECONDS = float(os.environ.get("ARC_FUZZ_SECONDS", "15"))
ANSWERS = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED}
SURROGATE_MARK = "\u2603SURROGATE\u2603"  # replaced on the wire by an encoded lone surrogate
FUZZ_SETTINGS = settings(deadline=None, database=None, derandomize=False, max_examples=400,
                         suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def fuzz_collector(tmp_path_factory):
    store = tmp_path_factory.mktemp("fuzz") / "store"
    with CollectorProcess(store, args=("--linger-ms", "100", "--max-request-spans", "5000")) as col:
        yield col


class Sender:
    """Sends payloads within the time budget; remembers the span ids of every acknowledged request."""

    def __init__(self, col: CollectorProcess) -> None:
        self.col = col
        self.deadline = time.monotonic() + BUDGET_SECONDS
        self.acked: set = set()
        self.sent = 0

    def send(self, payload: bytes) -> None:
        if time.monotonic() > self.deadline:
            return
        code, details, _ = raw_export(self.col.otlp_target, payload, timeout=60)
        self.sent += 1
        assert code in ANSWERS, (code, details)
        assert code == grpc.StatusCode.OK or details, "an error must say what is wrong"
        assert self.col.proc.poll() is None, "".join(self.col.output[-20:])
        if code == grpc.StatusCode.OK:
            request = ExportTraceServiceRequest.FromString(payload)
            self.acked |= {span.span_id.hex() for rs in request.resource_spans for ss in rs.scope_spans
                           for span in ss.spans if len(span.span_id) == 8 and any(span.span_id)}

    def check_everything_acknowledged_is_kept(self) -> None:
        assert self.sent > 0
        assert wait_until(lambda: status(self.col)["queued_spans"] == 0, timeout=120), status(self.col)
        stored = {row["SpanId"] for row in self.col.query("SELECT DISTINCT SpanId FROM otel_traces")}
        dead_file = self.col.store / "arc_dead_letter" / "dead_letter.jsonl"
        dead = set()
        if dead_file.exists():
            for line in dead_file.read_text().splitlines():
                request = ExportTraceServiceRequest.FromString(base64.b64decode(json.loads(line)["otlp"]))
                dead |= {s.span_id.hex() for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans}
        missing = self.acked - stored - dead
        assert not missing, f"{len(missing)} acknowledged spans neither stored nor dead-lettered"
        print(f"fuzz: {self.sent} requests, {len(self.acked)} spans acknowledged, {len(dead)} dead-lettered")


def _valid_request(seed: int, spans: int = 3) -> bytes:
    rnd = __import__("random").Random(seed)
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[
        Span(trace_id=rnd.randbytes(16), span_id=rnd.randbytes(8), name=f"fuzz-{i}",
             start_time_unix_nano=1_700_000_000 * 10**9 + i,
             attributes=[KeyValue(key="k", value=AnyValue(int_value=i))])
        for i in range(spans)])])]).SerializeToString()


@st.composite
def garbled(draw) -> bytes:
    """Random bytes, or a valid request with bytes flipped, cut, inserted or repeated."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=2048))
    data = bytearray(_valid_request(draw(st.integers(0, 2**32))))
    for _ in range(draw(st.integers(1, 6))):
        where = draw(st.integers(0, max(0, len(data) - 1)))
        action = draw(st.sampled_from(["flip", "cut", "insert", "repeat"]))
        if action == "flip" and data:
            data[where] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[where:]
        elif action == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
        else:
            data += data[where:where + 64]
    return bytes(data)


def _nested(depth: int) -> AnyValue:
    value = AnyValue(string_value="leaf")
    for _ in range(depth):
        value = AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key="k", value=value)]))
    return value


@st.composite
def hostile(draw) -> bytes:
    """Well-formed protobuf, hostile content; a lone surrogate is spliced in on the wire."""
    text = st.text(max_size=40)
    attributes = [KeyValue(key=f"a{i}", value=AnyValue(string_value=draw(text)))
                  for i in range(draw(st.sampled_from([0, 1, 50, 3000])))]
    depth = draw(st.integers(0, 30))  # protobuf cannot build deeper; the limits test sends 300 levels on the wire
    if depth:
        attributes.append(KeyValue(key="nested", value=_nested(depth)))
    giant = "g" * draw(st.sampled_from([0, 0, 0, 300_000, 2_000_000]))
    surrogate = draw(st.booleans()) and draw(st.booleans())
    name = SURROGATE_MARK if surrogate else draw(text) + giant
    spans = [Span(trace_id=os.urandom(16), span_id=os.urandom(8), name=name, attributes=attributes,
                  start_time_unix_nano=draw(st.integers(0, 2**63 - 1)),
                  end_time_unix_nano=draw(st.integers(0, 2**64 - 1)),
                  kind=draw(st.integers(0, 7)))
             for _ in range(draw(st.integers(1, 4)))]
    resource_attrs = [KeyValue(key=draw(text), value=AnyValue(string_value=draw(text)))
                      for _ in range(draw(st.integers(0, 3)))]
    request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource={"attributes": resource_attrs}, scope_spans=[ScopeSpans(spans=spans)])])
    data = request.SerializeToString()
    if surrogate:  # same length on the wire: the CESU-8 form of U+D83D, which is not UTF-8
        mark = SURROGATE_MARK.encode()
        data = data.replace(mark, b"\xed\xa0\xbd" + b"x" * (len(mark) - 3))
    return data


def test_garbled_bytes_get_an_answer_and_nothing_acknowledged_is_lost(fuzz_collector):
    sender = Sender(fuzz_collector)

    @FUZZ_SETTINGS
    @given(payload=garbled())
    def one(payload: bytes) -> None:
        sender.send(payload)

    one()
    sender.check_everything_acknowledged_is_kept()


def test_hostile_requests_get_an_answer_and_nothing_acknowledged_is_lost(fuzz_collector):
    sender = Sender(fuzz_collector)

    @settings(FUZZ_SETTINGS, max_examples=150)
    @given(payload=hostile())
    def one(payload: bytes) -> None:
        sender.send(payload)

    one()
    sender.check_everything_acknowledged_is_kept()
    assert fuzz_collector.terminate() == 0  # and it still stops cleanly, having written everything
