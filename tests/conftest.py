"""Fixtures shared by every area: the local LLM server and a real OTLP/gRPC receiver."""

import pytest

from arc_agent.devllm import DevLLMServer
from tests.helpers.otlp import OTLPReceiver


@pytest.fixture(scope="module")
def devllm():
    with DevLLMServer(port=0) as srv:
        yield srv


@pytest.fixture
def receiver():
    with OTLPReceiver() as rec:
        yield rec
