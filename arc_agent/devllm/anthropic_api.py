"""Anthropic wire formats: messages (+ SSE), count_tokens, models (shapes of anthropic 2.x types)."""

from __future__ import annotations

import json
from typing import Any, List, Optional, Tuple

from . import catalogue, text
from .exchange import (
    ApiError,
    Call,
    JsonReply,
    StreamReply,
    content_texts,
    optional_int,
    optional_number,
    required_list,
    required_str,
    sse,
    stop_list,
)
from .faults import REFUSAL_HEADER, REPLY_HEADER

_STOP_REASON = {"stop": "end_turn", "stop_sequence": "stop_sequence", "length": "max_tokens"}
MODELS = ("arc-demo", "claude-sonnet-4-5", "claude-haiku-4-5", *catalogue.ANTHROPIC_MODELS)


def _error_frame(err: ApiError) -> str:
    return sse(err.body("anthropic", ""), event="error")


def _conversation(body: dict) -> Tuple[List[str], str, bool]:
    """(system + message texts, last user text, whether the last turn carries a tool result)."""
    messages = required_list(body, "messages")
    system = body.get("system")
    texts = content_texts(system) if system is not None else []
    prompt, after_result = "", False
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            raise ApiError(400, f"messages.{i}.role must be 'user' or 'assistant'")
        if not isinstance(m.get("content"), (str, list)):
            raise ApiError(400, f"messages.{i}.content must be a string or an array of content blocks")
        m_texts = content_texts(m["content"])
        texts.extend(m_texts)
        if m["role"] == "user":
            prompt = " ".join(t for t in m_texts)
            after_result = isinstance(m["content"], list) and any(
                isinstance(b, dict) and b.get("type") == "tool_result" for b in m["content"])
    return texts, prompt, after_result


def _tools(body: dict) -> List[tuple]:
    return [(t.get("name"), t.get("input_schema")) for t in body.get("tools") or []
            if isinstance(t, dict) and isinstance(t.get("name"), str)]


def _tool_choice(body: dict, tools: List[tuple]) -> Optional[str]:
    choice = body.get("tool_choice")
    if not isinstance(choice, dict):
        return None
    kind = choice.get("type")
    if kind == "tool":
        if choice.get("name") not in dict(tools):
            raise ApiError(400, f"tool_choice names {choice.get('name')!r}, which is not among the tools")
        return choice["name"]
    return {"any": "required", "none": "none"}.get(kind, "auto")


def messages(call: Call) -> Any:
    body = call.body
    model = required_str(body, "model")
    limit = optional_int(body, "max_tokens", 1)
    if limit is None:
        raise ApiError(400, "max_tokens: Field required")
    catalogue.check_anthropic(model, limit)
    temperature = optional_number(body, "temperature", 0, 1)
    stops = stop_list(body.get("stop_sequences"), "stop_sequences")
    texts, prompt, after_result = _conversation(body)
    tools = _tools(body)
    tool = text.choose_tool(tools, _tool_choice(body, tools), prompt, after_tool_result=after_result)
    fmt = (body.get("output_config") or {}).get("format") if isinstance(body.get("output_config"), dict) else None
    wants_json = isinstance(fmt, dict) or text.mentions_json(texts)
    input_tokens = text.count_tokens(texts)

    stop_sequence = None
    if tool is not None:
        args = json.dumps(tool[1])
        pieces, stop_reason = text.tokens(args), "tool_use"
        block = {"type": "tool_use", "id": call.id("toolu_"), "name": tool[0], "input": tool[1]}
    else:
        override = call.headers.get(REPLY_HEADER)
        malformed = wants_json and temperature is not None and temperature > call.config.malformed_json_above
        reply = override if override is not None else text.reply_text(
            model, prompt, wants_json=wants_json, malformed=malformed)
        gen = text.generate(reply, max_tokens=limit, truncate_below=call.config.truncate_below, stop=stops)
        pieces, stop_reason, stop_sequence = gen.pieces, _STOP_REASON[gen.finish], gen.stop_sequence
        block = {"type": "text", "text": gen.text, "citations": None}
        if call.headers.get(REFUSAL_HEADER) is not None:  # the model declines (stop reason "refusal")
            stop_reason, stop_sequence, pieces = "refusal", None, text.tokens(call.headers[REFUSAL_HEADER])
            block["text"] = call.headers[REFUSAL_HEADER]
    usage = {"input_tokens": input_tokens, "output_tokens": len(pieces), "cache_creation_input_tokens": 0,
             "cache_read_input_tokens": 0, "service_tier": "standard"}
    message = {"id": call.id("msg_"), "type": "message", "role": "assistant", "model": model,
               "content": [block], "stop_reason": stop_reason, "stop_sequence": stop_sequence, "usage": usage}
    if not body.get("stream"):
        return JsonReply(message)
    return StreamReply(_message_frames(message, pieces), _error_frame)


def _message_frames(final: dict, pieces: List[str]) -> List[str]:
    frames: List[str] = []

    def emit(kind: str, **fields: Any) -> None:
        frames.append(sse({"type": kind, **fields}, event=kind))

    block = final["content"][0]
    start_usage = {**final["usage"], "output_tokens": 1}
    emit("message_start", message={**final, "content": [], "stop_reason": None, "stop_sequence": None,
                                   "usage": start_usage})
    if block["type"] == "tool_use":
        emit("content_block_start", index=0, content_block={**block, "input": {}})
        frames.append(sse({"type": "ping"}, event="ping"))
        for p in pieces:
            emit("content_block_delta", index=0, delta={"type": "input_json_delta", "partial_json": p})
    else:
        emit("content_block_start", index=0, content_block={"type": "text", "text": ""})
        frames.append(sse({"type": "ping"}, event="ping"))
        for p in pieces:
            emit("content_block_delta", index=0, delta={"type": "text_delta", "text": p})
    emit("content_block_stop", index=0)
    emit("message_delta", delta={"stop_reason": final["stop_reason"], "stop_sequence": final["stop_sequence"]},
         usage={"output_tokens": final["usage"]["output_tokens"]})
    emit("message_stop")
    return frames


def count_tokens(call: Call) -> JsonReply:
    required_str(call.body, "model")
    texts, _, _ = _conversation(call.body)
    return JsonReply({"input_tokens": text.count_tokens(texts)})


def models(call: Call) -> JsonReply:
    data = [{"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z",
             "lifecycle": "active"} for m in MODELS]
    return JsonReply({"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]})
