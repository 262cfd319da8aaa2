"""Collector endpoint resolution: Arc's settings, OTel's standard variables, TLS, secrets."""

import pytest

from arc_agent.telemetry.endpoint import EndpointError, resolve


def test_precedence_and_schemes():
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4317", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "grpc://t:1"}
    assert resolve(environ=env).target == "t:1"
    assert resolve(environ={**env, "ARC_ENDPOINT": "grpcs://arc:9"}).describe() == "grpcs://arc:9"
    assert resolve("grpc://explicit:7", environ={**env, "ARC_ENDPOINT": "x:1"}).target == "explicit:7"
    assert resolve(environ={}).describe() == "grpc://localhost:4317"
    assert resolve("grpcs://secure.example", environ={}).target == "secure.example:443"
    assert resolve("https://h:4317", environ={}).secure and not resolve("http://h:4317", environ={}).secure


def test_certificate_switches_bare_endpoint_to_tls():
    e = resolve("h:4317", environ={"OTEL_EXPORTER_OTLP_CERTIFICATE": "/ca.pem"})
    assert e.secure and e.ca_file == "/ca.pem"


def test_headers_and_api_key_are_kept_but_never_shown():
    e = resolve("grpc://h:1", api_key="sk-topsecret", environ={"OTEL_EXPORTER_OTLP_HEADERS": "x-team=a%20b"})
    assert ("x-team", "a b") in e.headers and ("authorization", "Bearer sk-topsecret") in e.headers
    assert "topsecret" not in repr(e) and "topsecret" not in e.describe()


@pytest.mark.parametrize("bad", ["ftp://h:1", "grpc://h:99999", "grpc://", " "])
def test_bad_endpoint_is_named(bad):
    with pytest.raises(EndpointError, match="endpoint|empty"):
        resolve(bad, environ={})
