"""One in-process dev server for the module's tests; real openai/anthropic clients pointed at it."""

from __future__ import annotations

import dataclasses

import anthropic
import openai
import pytest

from arc_agent.devllm import DevLLMConfig, DevLLMServer

OPENAI_KEY = "sk-devllm-test-SECRET-0123456789"
ANTHROPIC_KEY = "sk-ant-devllm-test-SECRET-9876543210"


@pytest.fixture(scope="module")
def server():
    with DevLLMServer(port=0) as srv:
        yield srv


@pytest.fixture
def srv(server):
    """The module's server with an empty request log and default settings."""
    server.configure(**dataclasses.asdict(DevLLMConfig()))
    server.clear()
    return server


@pytest.fixture
def oai(srv):
    with openai.OpenAI(base_url=srv.openai_base_url, api_key=OPENAI_KEY, max_retries=0) as client:
        yield client


@pytest.fixture
async def aoai(srv):
    async with openai.AsyncOpenAI(base_url=srv.openai_base_url, api_key=OPENAI_KEY, max_retries=0) as client:
        yield client


@pytest.fixture
def ant(srv):
    with anthropic.Anthropic(base_url=srv.anthropic_base_url, api_key=ANTHROPIC_KEY, max_retries=0) as client:
        yield client


@pytest.fixture
async def aant(srv):
    async with anthropic.AsyncAnthropic(base_url=srv.anthropic_base_url, api_key=ANTHROPIC_KEY,
                                        max_retries=0) as client:
        yield client


def user(text: str) -> list:
    return [{"role": "user", "content": text}]
