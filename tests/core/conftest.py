import sys
from pathlib import Path

import pytest

from arc_agent.devllm import DevLLMServer
from tests.helpers.otlp import OTLPReceiver
from tests.helpers.procs import clean_env, run_json

APP = str(Path(__file__).parent / "apps" / "llm_app.py")


@pytest.fixture(scope="module")
def devllm():
    with DevLLMServer(port=0) as srv:
        yield srv


@pytest.fixture
def receiver():
    with OTLPReceiver() as rec:
        yield rec


@pytest.fixture
def run_app(devllm, receiver):
    """Run a scenario of the sample app under arc-instrument; returns (app output, receiver)."""

    def _run(scenario: str, instrument: bool = True, **env):
        e = clean_env(DEVLLM_URL=devllm.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
                      OTEL_SERVICE_NAME="test-app", ARC_EXPORT_DELAY_MS="50", **env)
        return run_json([sys.executable, APP, scenario], e, instrument=instrument)

    return _run
