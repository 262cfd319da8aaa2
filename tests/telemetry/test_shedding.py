"""ArcSampler is an ordinary OTel Sampler: parent-based, sheds GenAI call spans at Arc's rate except
errors and applied fixes, leaves other spans alone, and the configured sampler has the last word."""

from types import SimpleNamespace

from opentelemetry import trace
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, Decision
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from arc_agent.telemetry import attributes as A
from arc_agent.telemetry.shedding import ArcSampler

CALL = {A.GEN_AI_OPERATION_NAME: "chat", A.ARC_FIX_APPLIED: False}


def sampler(keep: bool, configured=ALWAYS_ON):
    asked = []

    def shed() -> bool:
        asked.append(1)
        return keep

    return ArcSampler(configured, SimpleNamespace(sampler=shed)), asked


def decide(s, attributes, parent=None) -> Decision:
    return s.should_sample(parent, 0x1234, "chat m", attributes=attributes).decision


def test_sheds_ordinary_calls_but_keeps_errors_fixes_and_other_spans():
    s, asked = sampler(keep=False)
    assert decide(s, CALL) is Decision.DROP and len(asked) == 1
    assert decide(s, {**CALL, A.ERROR_TYPE: "APIError"}) is Decision.RECORD_AND_SAMPLE
    assert decide(s, {**CALL, A.ARC_FIX_APPLIED: True}) is Decision.RECORD_AND_SAMPLE
    assert decide(s, {}) is Decision.RECORD_AND_SAMPLE  # a UI span: not Arc's load to shed
    assert len(asked) == 1  # asked only for the shed-able span
    kept, _ = sampler(keep=True)
    assert decide(kept, CALL) is Decision.RECORD_AND_SAMPLE


def test_parent_based_and_configured_sampler_last():
    s, asked = sampler(keep=True)
    unsampled = trace.set_span_in_context(NonRecordingSpan(SpanContext(1, 2, True, TraceFlags(0))))
    sampled = trace.set_span_in_context(NonRecordingSpan(SpanContext(1, 2, True, TraceFlags(1))))
    assert decide(s, {**CALL, A.ERROR_TYPE: "X"}, unsampled) is Decision.DROP
    assert decide(s, CALL, sampled) is Decision.RECORD_AND_SAMPLE
    off, _ = sampler(keep=True, configured=ALWAYS_OFF)
    assert decide(off, {**CALL, A.ERROR_TYPE: "X"}) is Decision.DROP
    assert "AlwaysOffSampler" in off.get_description()


def test_default_configured_sampler_is_answered_with_the_sdks_own_result(monkeypatch):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import TraceState

    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    default = TracerProvider().sampler  # what the SDK builds with nothing set: parentbased_always_on
    shortcut, _ = sampler(keep=True, configured=default)
    assert shortcut._keeps_all
    state = TraceState([("vendor", "x")])
    parents = [None]
    for flags, remote in ((TraceFlags.SAMPLED, True), (TraceFlags.SAMPLED, False), (TraceFlags.DEFAULT, True)):
        ctx = SpanContext(0xABC, 0xDEF, is_remote=remote, trace_flags=TraceFlags(flags), trace_state=state)
        parents.append(trace.set_span_in_context(NonRecordingSpan(ctx)))
    for parent in parents:
        ours = shortcut.should_sample(parent, 0x1234, "chat m", attributes=CALL)
        sdk = default.should_sample(parent, 0x1234, "chat m", attributes=CALL)
        assert ours.decision is sdk.decision
        assert ours.trace_state == sdk.trace_state
        if sdk.decision.is_sampled():
            assert dict(ours.attributes) == dict(sdk.attributes) == CALL
    for name in ("parentbased_traceidratio", "always_on", "traceidratio"):  # any other: the SDK's sampler decides
        monkeypatch.setenv("OTEL_TRACES_SAMPLER", name)
        assert not ArcSampler(TracerProvider().sampler)._keeps_all
