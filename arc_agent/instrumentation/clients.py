"""``Arc.wrap(client)``: instrument a single OpenAI/Anthropic client instance.

Sets instance attributes on the client's resource objects (``client.chat.completions.create`` …),
so only that client is instrumented; ``with_raw_response`` built afterwards picks them up too.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from ..llm.call import CallSpec, invoke_async, invoke_sync
from ..llm.server import remember

_MARK = "_arc_wrapped_client"


def _resource_specs(client: Any):
    module = type(client).__module__.split(".")[0]
    if module == "openai":
        from . import openai as integ

        yield ("chat", "completions"), "create", integ.CHAT
        yield ("chat", "completions"), "parse", integ.CHAT_PARSE
        yield ("responses",), "create", integ.RESPONSES
        yield ("responses",), "parse", integ.RESPONSES_PARSE
        yield ("embeddings",), "create", integ.EMBEDDINGS
    elif module == "anthropic":
        from . import anthropic as integ

        yield ("messages",), "create", integ.MESSAGES


def _bind(spec: CallSpec, resource: Any, method: Any) -> Any:
    if inspect.iscoroutinefunction(method):
        @functools.wraps(method)
        async def async_call(*args, **kwargs):
            return await invoke_async(spec, method, resource, args, kwargs)

        return async_call

    @functools.wraps(method)
    def call(*args, **kwargs):
        return invoke_sync(spec, method, resource, args, kwargs)

    return call


def wrap_client(client: Any, patched: dict) -> Any:
    library = type(client).__module__.split(".")[0]
    if library in patched or getattr(client, _MARK, False):
        return client
    for path, method_name, spec in _resource_specs(client):
        resource = client
        for attr in path:
            resource = getattr(resource, attr)
        method = getattr(resource, method_name, None)
        if method is None:  # e.g. parse before openai 1.92
            continue
        remember(resource, client)  # server.address (llm/server.py)
        setattr(resource, method_name, _bind(spec, resource, method))
    setattr(client, _MARK, True)
    return client
