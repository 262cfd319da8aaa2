"""Arc's LLM method wrappers look like the methods they replace, and unpatching restores them."""

import inspect

import pytest

from arc_agent.instrumentation import anthropic as anthropic_integration
from arc_agent.instrumentation import openai as openai_integration


def _targets():
    from anthropic.resources.messages import AsyncMessages, Messages
    from openai.resources.chat.completions import AsyncCompletions, Completions
    from openai.resources.embeddings import AsyncEmbeddings, Embeddings
    from openai.resources.responses import AsyncResponses, Responses

    return [Completions, AsyncCompletions, Responses, AsyncResponses, Embeddings, AsyncEmbeddings, Messages,
            AsyncMessages]


@pytest.fixture
def patched():
    openai_integration.unpatch()  # in case this process patched them already
    anthropic_integration.unpatch()
    originals = {cls: vars(cls)["create"] for cls in _targets()}
    openai_integration.patch()
    anthropic_integration.patch()
    try:
        yield originals
    finally:
        openai_integration.unpatch()
        anthropic_integration.unpatch()


def test_wrappers_keep_name_signature_and_coroutine_nature_and_unpatch_restores(patched):
    for cls, original in patched.items():
        method = vars(cls)["create"]
        assert method is not original and method.__wrapped__ is original, cls
        assert (method.__name__, method.__qualname__, method.__doc__) == \
            (original.__name__, original.__qualname__, original.__doc__)
        assert inspect.signature(method) == inspect.signature(original)
        # the SDKs' async create is sometimes a plain function returning a coroutine: kept as it is
        assert inspect.iscoroutinefunction(method) == inspect.iscoroutinefunction(original), cls
    openai_integration.unpatch()
    anthropic_integration.unpatch()
    assert all(vars(cls)["create"] is original for cls, original in patched.items())
