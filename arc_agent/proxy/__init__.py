"""The side-car proxy (``arc proxy``): an OpenAI/Anthropic-compatible HTTP reverse proxy for apps
Arc cannot run inside (other languages, locked-down images) and for Python apps with
``ARC_SIDECAR`` set.

It drives the same call path as in-process interception (``llm/call.py``: fixer, sampler, breaker,
span) from the JSON request body, with the integrations' own ``CallSpec``s reading JSON views of the
responses. Imported only by ``arc proxy``; nothing in the agent imports it.
"""
