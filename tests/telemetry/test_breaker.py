"""Circuit breaker: opens when Arc's own time per call gets slow or telemetry piles up, passes calls
through, closes after."""

from tests.helpers.otlp import OTLPReceiver

from .conftest import free_port


def test_breaker_opens_under_slowness_passes_through_and_closes(run_app_proc, receiver):
    result, err = run_app_proc("breaker", 0, receiver.endpoint, ARC_BREAKER_MS="10", ARC_BREAKER_COOLDOWN_S="0.3")
    assert result["opened"] and result["closed"]
    assert result["calls_to_open"] >= 100  # never on fewer samples than the window minimum
    assert result["fixer_calls_while_open"] == 0  # passthrough: no fix attempted
    assert result["fixer_calls_after_close"] == 1  # fixes resume once closed
    assert err.count("circuit breaker OPEN") == 1 and "ARC_BREAKER_MS=10" in err  # one alert
    assert err.count("circuit breaker closed") == 1
    guards = result["status"]["guards"]["breaker"]
    assert guards["opens"] == 1 and not guards["open"]
    assert result["status"]["breaker_open"] is False

    total = result["calls_to_open"] + result["fixer_calls_while_open"] + 1
    spans = receiver.wait_for(total)
    open_spans = [s for s in spans if s.name == "chat while-open" and s.attributes.get("arc.breaker.open")]
    assert open_spans, "spans made while open are marked"
    for s in open_spans:  # minimal: identity, Arc's time, no response parsing
        assert s.attributes["gen_ai.request.model"] == "while-open"
        assert "arc.interception.latency_us" in s.attributes
        assert "gen_ai.response.id" not in s.attributes
    full = [s for s in spans if s.name in ("chat slow", "chat after-close")]
    assert all("gen_ai.response.id" in s.attributes and "arc.breaker.open" not in s.attributes for s in full)


def test_breaker_opens_when_spans_pile_up_and_closes_once_delivered(interactive):
    port = free_port()
    app = interactive("queue_breaker", 0, f"grpc://127.0.0.1:{port}", ARC_BREAKER_QUEUE="20",
                      ARC_BREAKER_COOLDOWN_S="0.2")
    app.read_until("WAITING")
    with OTLPReceiver(port=port) as rec:
        app.proceed()
        result, err = app.finish()
        assert result["opened"] and result["closed"]
        assert "spans waiting for export > ARC_BREAKER_QUEUE=20" in err
        breaker = result["status"]["guards"]["breaker"]
        assert breaker["opens"] >= 1 and not breaker["open"]
        sent = result["status"]["telemetry"]["exported_spans"]
        spans = rec.wait_for(sent)
    assert any(s.attributes.get("arc.breaker.open") for s in spans)  # minimal spans while open, none lost
    assert result["status"]["telemetry"]["dropped_spans"] == 0
