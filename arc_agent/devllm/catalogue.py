"""The model catalogue: provider limits real apps hit, chosen by model name and answered as the real APIs do.

Learning from failures needs failures a request change can fix. These models reproduce common ones,
deterministically, with the providers' own error shapes (so each SDK raises ``BadRequestError`` with
``code``/``param``/``type`` filled in):

* ``reasoning-mini`` (OpenAI): ``temperature`` other than 1, or ``max_tokens`` at all, is a 400
  ``unsupported_parameter`` naming the parameter; ``max_completion_tokens`` is accepted;
* ``small-4k`` / ``large-128k`` (OpenAI): estimated prompt tokens (characters / 4, rounded up, over all
  message texts) + the requested output tokens above the context window is a 400
  ``context_length_exceeded``;
* ``claude-haiku-small`` (Anthropic): ``max_tokens`` above 4096 is a 400 ``invalid_request_error``
  naming ``max_tokens`` and the limit; every other ``claude-*`` model allows up to 64000.
"""

from __future__ import annotations

from typing import Iterable, Optional

from .exchange import ApiError

REASONING_MODELS = frozenset({"reasoning-mini"})
CONTEXT_WINDOWS = {"small-4k": 4096, "large-128k": 128_000}
CLAUDE_OUTPUT_LIMITS = {"claude-haiku-small": 4096}
CLAUDE_DEFAULT_OUTPUT_LIMIT = 64_000
OPENAI_MODELS = ("reasoning-mini", "small-4k", "large-128k")
ANTHROPIC_MODELS = ("claude-haiku-small",)


def estimated_tokens(texts: Iterable[str]) -> int:
    """Prompt tokens as the catalogue counts them: characters / 4, rounded up."""
    return -(-sum(len(t) for t in texts) // 4)


def _unsupported(param: str, message: str) -> ApiError:
    return ApiError(400, message, param=param, code="unsupported_parameter")


def check_openai(model: str, body: dict, texts: Iterable[str], *, output_param: str) -> None:
    """Raise the 400 a real provider would give ``model`` for this request, if any.

    ``output_param`` is the endpoint's own output limit name (``max_completion_tokens`` for chat,
    ``max_output_tokens`` for responses); chat's legacy ``max_tokens`` counts too.
    """
    if model in REASONING_MODELS:
        temperature = body.get("temperature")
        if temperature is not None and temperature != 1:
            raise _unsupported("temperature", f"Unsupported parameter: 'temperature' does not support "
                                              f"{temperature!r} with this model. Only the default (1) value "
                                              "is supported.")
        if body.get("max_tokens") is not None:
            raise _unsupported("max_tokens", "Unsupported parameter: 'max_tokens' is not supported with this "
                                             "model. Use 'max_completion_tokens' instead.")
    window = CONTEXT_WINDOWS.get(model)
    if window is None:
        return
    output = _first_int(body.get(output_param), body.get("max_tokens"))
    prompt = estimated_tokens(texts)
    if prompt + output > window:
        raise ApiError(400, f"This model's maximum context length is {window} tokens. However, you requested "
                            f"{prompt + output} tokens ({prompt} in the messages, {output} in the completion). "
                            "Please reduce the length of the messages or completion.",
                       param="messages", code="context_length_exceeded")


def check_anthropic(model: str, max_tokens: int) -> None:
    """Raise the 400 Anthropic gives for ``max_tokens`` above the model's output limit."""
    limit = CLAUDE_OUTPUT_LIMITS.get(model)
    if limit is None and model.startswith("claude"):
        limit = CLAUDE_DEFAULT_OUTPUT_LIMIT
    if limit is not None and max_tokens > limit:
        raise ApiError(400, f"max_tokens: {max_tokens} > {limit}, which is the maximum allowed number of "
                            f"output tokens for {model}")


def _first_int(*values: object) -> int:
    value: Optional[object] = next((v for v in values if v is not None), 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
