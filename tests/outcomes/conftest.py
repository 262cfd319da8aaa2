import sys
import time
from pathlib import Path

import pytest

from tests.helpers.otlp import OTLPReceiver
from tests.helpers.procs import clean_env, run_json

APP = str(Path(__file__).parent / "apps" / "outcome_app.py")


def run_scenario(devllm, endpoint: str, scenario: str, instrument: bool = True, **env) -> dict:
    """outcome_app SCENARIO (under arc-instrument unless told otherwise), to completion; its JSON line."""
    e = clean_env(DEVLLM_URL=devllm.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, ARC_EXPORT_DELAY_MS="50",
                  OTEL_SERVICE_NAME="outcomes-app", **env)
    return run_json([sys.executable, APP, scenario], e, timeout=120, instrument=instrument)


@pytest.fixture(scope="module")
def module_receiver():
    with OTLPReceiver() as rec:
        yield rec


def spans_by_tag(out: dict, receiver, timeout: float = 20.0) -> dict:
    """tag -> the received span of the app's call (the span id Arc set as the context's last call)."""
    ids = {sid for sid in out["spans"].values() if sid}
    deadline = time.monotonic() + timeout
    while True:
        by_id = {s.span_id: s for s in list(receiver.spans)}
        missing = ids - by_id.keys()
        if not missing:
            return {tag: by_id[sid] for tag, sid in out["spans"].items() if sid}
        left = deadline - time.monotonic()
        assert left > 0, f"spans never received: {missing}"
        try:
            receiver.wait_for(len(by_id) + 1, timeout=left)
        except AssertionError:
            pass
