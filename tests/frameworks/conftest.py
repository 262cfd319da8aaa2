import pytest

from arc_agent.devllm import DevLLMServer
from arc_agent.devllm.config import DevLLMConfig
from tests.helpers.collector import CollectorProcess


@pytest.fixture(scope="module")
def collector(tmp_path_factory):
    with CollectorProcess(tmp_path_factory.mktemp("frameworks") / "store") as col:
        yield col


@pytest.fixture(scope="module")
def slow_devllm():
    """dev-llm answering after 100 ms: concurrent requests then keep every server worker busy."""
    with DevLLMServer(port=0, config=DevLLMConfig(delay_ms=100)) as srv:
        yield srv
