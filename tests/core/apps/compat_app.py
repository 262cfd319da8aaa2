"""An app exercising the public fallbacks of Arc's fast paths on LLM/OTel internals (``arc_agent/fastpaths.py``).

Usage: python compat_app.py SCENARIO (DEVLLM_URL). ``COMPAT_HIDE_OTEL_INSTRUMENTATION=1`` makes the
optional ``opentelemetry-instrumentation`` package unimportable, as in an app that does not have it.
"""

import json
import os
import sys

if os.environ.get("COMPAT_HIDE_OTEL_INSTRUMENTATION") == "1":
    sys.modules["opentelemetry.instrumentation"] = None  # import raises ImportError, as if not installed

URL = os.environ["DEVLLM_URL"]
MSGS = [{"role": "user", "content": "Say hello"}]


def client():
    import openai

    return openai.OpenAI(api_key="sk-compat", base_url=URL + "/v1", max_retries=0, timeout=60)


def fallbacks() -> dict:
    from arc_agent import fastpaths

    return {f"{path}:{reason}": n for (path, reason), n in fastpaths.counts().items()}


def suppress() -> dict:
    """One call each: plain; under the plain public key; under the API's own key (what the SDK's
    exporters set). The model name says which call a span belongs to."""
    from opentelemetry import context

    c = client()
    c.chat.completions.create(model="normal", messages=MSGS)
    token = context.attach(context.set_value("suppress_instrumentation", True))
    c.chat.completions.create(model="plain-key", messages=MSGS)
    context.detach(token)
    api_key = context._SUPPRESS_INSTRUMENTATION_KEY  # the SDK's own exporters set this one
    token = context.attach(context.set_value(api_key, True))
    c.chat.completions.create(model="api-key", messages=MSGS)
    context.detach(token)
    from arc_agent import state

    return {"how": state.RUNTIME.suppression, "fallbacks": fallbacks()}


def server_early() -> dict:
    """A resource used before Arc patched its class: its span has no server.*; a new client's has."""
    c = client()
    early = c.chat.completions  # built now, before Arc
    from arc_agent import Arc

    arc = Arc()
    early.create(model="early", messages=MSGS)
    client().chat.completions.create(model="late", messages=MSGS)
    arc.shutdown()
    return {"fallbacks": fallbacks()}


if __name__ == "__main__":
    print(json.dumps({"scenario": sys.argv[1], **{"suppress": suppress, "server_early": server_early}[sys.argv[1]]()}))
