import sys
from pathlib import Path

import pytest

from tests.helpers.ports import silent_port  # noqa: F401 - shared: a black-holed collector port
from tests.helpers.procs import clean_env, run_json

APP = str(Path(__file__).parent / "apps" / "llm_app.py")


@pytest.fixture
def run_app(devllm, receiver):
    """Run a scenario of the sample app under arc-instrument; returns (app output, receiver)."""

    def _run(scenario: str, instrument: bool = True, **env):
        e = clean_env(DEVLLM_URL=devllm.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
                      OTEL_SERVICE_NAME="test-app", ARC_EXPORT_DELAY_MS="50", **env)
        return run_json([sys.executable, APP, scenario], e, instrument=instrument)

    return _run
