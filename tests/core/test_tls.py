"""The agent reaches a TLS-only collector with grpcs:// + OTEL_EXPORTER_OTLP_CERTIFICATE; spans land in
ClickHouse (the embedded collector's chDB store). Without the CA it cannot, and says so."""

import sys

from tests.helpers.certs import make_cert
from tests.helpers.collector import CollectorProcess
from tests.helpers.procs import clean_env, run

CODE = ("import os, openai; c = openai.OpenAI(api_key='sk-tls-secret', base_url=os.environ['DEVLLM_URL'] + '/v1');"
        "c.chat.completions.create(model=os.environ['MODEL'], messages=[{'role': 'user', 'content': 'x'}])")


def test_agent_exports_over_tls(tmp_path, devllm):
    cert, key = make_cert(tmp_path)
    with CollectorProcess(tmp_path / "store", tls_cert=cert, tls_key=key) as col:
        env = clean_env(DEVLLM_URL=devllm.base_url, MODEL="over-tls",
                        OTEL_EXPORTER_OTLP_ENDPOINT=f"grpcs://localhost:{col.otlp_port}",
                        OTEL_EXPORTER_OTLP_CERTIFICATE=cert)
        assert run([sys.executable, "-c", CODE], env).returncode == 0
        sql = "SELECT count() FROM otel_traces WHERE SpanName = 'chat over-tls'"
        assert col.wait_for_count(sql, 1) == 1
        # without the CA the handshake fails: the app is unaffected, Arc reports the outage once
        env.pop("OTEL_EXPORTER_OTLP_CERTIFICATE")
        env["MODEL"] = "untrusted"
        proc = run([sys.executable, "-c", CODE], env)
        assert proc.returncode == 0
        assert "lost" in proc.stderr
        assert col.scalar("SELECT count() FROM otel_traces WHERE SpanName = 'chat untrusted'") == 0
