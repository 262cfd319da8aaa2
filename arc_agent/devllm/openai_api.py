"""OpenAI wire formats: chat completions, responses, embeddings, models (shapes of openai 3.x types)."""

from __future__ import annotations

import base64
import json
import struct
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

_CHAT_FINISH = {"stop": "stop", "stop_sequence": "stop", "length": "length"}
MODELS = ("arc-demo", "gpt-4", "gpt-4o", "gpt-4o-mini", "text-embedding-3-small", *catalogue.OPENAI_MODELS)


def _error_frame(err: ApiError) -> str:
    return sse(err.body("openai", ""))


def _malformed(call: Call, wants_json: bool, temperature: Optional[float]) -> bool:
    return wants_json and temperature is not None and temperature > call.config.malformed_json_above


def _reply(call: Call, model: str, prompt: str, wants_json: bool, temperature: Optional[float]) -> str:
    override = call.headers.get(REPLY_HEADER)
    if override is not None:
        return override
    return text.reply_text(model, prompt, wants_json=wants_json,
                           malformed=_malformed(call, wants_json, temperature))


def _tool_choice_name(choice: Any) -> Optional[str]:
    """``"auto"``/``"none"``/``"required"`` as is; a named function choice as its name."""
    if choice is None or isinstance(choice, str):
        return choice
    if isinstance(choice, dict):
        fn = choice.get("function") if isinstance(choice.get("function"), dict) else choice
        if isinstance(fn.get("name"), str):
            return fn["name"]
        if choice.get("type") in ("auto", "none", "required"):
            return choice["type"]
    return None


def _checked_tool(tools: List[tuple], choice: Optional[str], prompt: str, after_result: bool):
    if choice not in (None, "auto", "none", "required") and choice not in dict(tools):
        raise ApiError(400, f"tool_choice names {choice!r}, which is not among the request's tools",
                       param="tool_choice")
    return text.choose_tool(tools, choice, prompt, after_tool_result=after_result)


# -- POST /v1/chat/completions --------------------------------------------------------------------------

def chat_completions(call: Call) -> Any:
    body = call.body
    model = required_str(body, "model")
    messages = required_list(body, "messages")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise ApiError(400, f"messages[{i}] must be an object with a 'role'", param=f"messages[{i}]")
    temperature = optional_number(body, "temperature", 0, 2)
    n = optional_int(body, "n", 1, 128) or 1
    limit = optional_int(body, "max_completion_tokens", 1)
    limit = limit if limit is not None else optional_int(body, "max_tokens", 1)
    stops = stop_list(body.get("stop"), "stop")
    texts = [t for m in messages for t in content_texts(m.get("content"))]
    catalogue.check_openai(model, body, texts, output_param="max_completion_tokens")
    users = [m for m in messages if m["role"] == "user"]
    prompt = " ".join(content_texts(users[-1].get("content"))) if users else ""
    fmt = body.get("response_format")
    wants_json = (isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema")) \
        or text.mentions_json(texts)
    tools = [(t["function"].get("name"), t["function"].get("parameters"))
             for t in body.get("tools") or [] if isinstance(t, dict) and isinstance(t.get("function"), dict)]
    tool = _checked_tool(tools, _tool_choice_name(body.get("tool_choice")), prompt,
                         messages[-1]["role"] == "tool")
    prompt_tokens = text.count_tokens(texts)
    reply = _reply(call, model, prompt, wants_json, temperature)

    choices = []
    for i in range(n):
        if tool is not None:
            args = json.dumps(tool[1])
            choices.append(("tool_calls", None, (call.id("call_") + f"-{i}", tool[0], args),
                            text.tokens(args)))
        else:
            gen = text.generate(reply, max_tokens=limit, truncate_below=call.config.truncate_below, stop=stops)
            choices.append((_CHAT_FINISH[gen.finish], gen.text, None, gen.pieces))
    refusal = call.headers.get(REFUSAL_HEADER)
    if refusal is not None:  # the model declines: refusal text instead of content (finish reason stop)
        choices = [("stop", None, None, text.tokens(refusal))] * n
    completion_tokens = sum(len(c[3]) for c in choices)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                      "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
    }
    head = {"id": call.id("chatcmpl-"), "created": call.created, "model": model,
            "service_tier": "default", "system_fingerprint": "fp_arc_devllm"}
    if body.get("stream"):
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        return StreamReply(_chat_frames(head, choices, usage if include_usage else None, refusal is not None),
                           _error_frame)
    out = []
    for i, (finish, content, call_spec, _) in enumerate(choices):
        message: dict = {"role": "assistant", "content": content, "refusal": refusal, "annotations": []}
        if call_spec is not None:
            message["tool_calls"] = [{"id": call_spec[0], "type": "function",
                                      "function": {"name": call_spec[1], "arguments": call_spec[2]}}]
        out.append({"index": i, "message": message, "logprobs": None, "finish_reason": finish})
    return JsonReply({**head, "object": "chat.completion", "choices": out, "usage": usage})


def _chat_frames(head: dict, choices: list, usage: Optional[dict], refused: bool = False) -> List[str]:
    base = {**head, "object": "chat.completion.chunk"}
    if usage is not None:
        base["usage"] = None

    def chunk(index: int, delta: dict, finish: Optional[str] = None) -> str:
        return sse({**base, "choices": [{"index": index, "delta": delta, "logprobs": None,
                                         "finish_reason": finish}]})

    frames = []
    for i, (finish, _content, call_spec, pieces) in enumerate(choices):
        if refused:
            frames.append(chunk(i, {"role": "assistant", "content": None, "refusal": ""}))
            frames.extend(chunk(i, {"refusal": p}) for p in pieces)
        elif call_spec is None:
            frames.append(chunk(i, {"role": "assistant", "content": "", "refusal": None}))
            frames.extend(chunk(i, {"content": p}) for p in pieces)
        else:
            call_id, name, _args = call_spec
            frames.append(chunk(i, {"role": "assistant", "content": None, "tool_calls": [
                {"index": 0, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}]}))
            frames.extend(chunk(i, {"tool_calls": [{"index": 0, "function": {"arguments": p}}]}) for p in pieces)
        frames.append(chunk(i, {}, finish))
    if usage is not None:
        frames.append(sse({**base, "choices": [], "usage": usage}))
    frames.append(sse("[DONE]"))
    return frames


# -- POST /v1/responses ---------------------------------------------------------------------------------

def _response_input(body: dict) -> Tuple[List[str], str, bool]:
    """(all input texts, last user text, whether the input ends with a function call's output)."""
    raw = body.get("input")
    instructions = body.get("instructions")
    texts = [instructions] if isinstance(instructions, str) else []
    if isinstance(raw, str):
        return texts + [raw], raw, False
    if not isinstance(raw, list) or not raw:
        raise ApiError(400, "'input' is required: a string or a non-empty array of input items", param="input")
    prompt = ""
    for item in raw:
        if not isinstance(item, dict):
            raise ApiError(400, "every 'input' item must be an object", param="input")
        item_texts = content_texts(item.get("content")) + (
            [item["output"]] if isinstance(item.get("output"), str) else [])
        texts.extend(item_texts)
        if item.get("role") == "user":
            prompt = " ".join(item_texts)
    return texts, prompt, raw[-1].get("type") == "function_call_output"


def responses(call: Call) -> Any:
    body = call.body
    model = required_str(body, "model")
    texts, prompt, after_result = _response_input(body)
    temperature = optional_number(body, "temperature", 0, 2)
    limit = optional_int(body, "max_output_tokens", 1)
    catalogue.check_openai(model, body, texts, output_param="max_output_tokens")
    fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    wants_json = (isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema")) \
        or text.mentions_json(texts)
    tools = [(t.get("name"), t.get("parameters")) for t in body.get("tools") or []
             if isinstance(t, dict) and t.get("type") == "function"]
    tool = _checked_tool(tools, _tool_choice_name(body.get("tool_choice")), prompt, after_result)
    input_tokens = text.count_tokens(texts)

    item_id = call.id("msg_")
    if tool is not None:
        args = json.dumps(tool[1])
        pieces, status, incomplete = text.tokens(args), "completed", None
        item = {"type": "function_call", "id": call.id("fc_"), "call_id": call.id("call_"), "name": tool[0],
                "arguments": args, "status": "completed"}
        item_id = item["id"]
    else:
        gen = text.generate(_reply(call, model, prompt, wants_json, temperature), max_tokens=limit,
                            truncate_below=call.config.truncate_below)
        pieces = gen.pieces
        status = "incomplete" if gen.finish == "length" else "completed"
        incomplete = {"reason": "max_output_tokens"} if gen.finish == "length" else None
        item = {"type": "message", "id": item_id, "role": "assistant", "status": status,
                "content": [{"type": "output_text", "text": gen.text, "annotations": [], "logprobs": []}]}
        refusal = call.headers.get(REFUSAL_HEADER)
        if refusal is not None:  # the model declines: a refusal part instead of text
            pieces, status, incomplete = text.tokens(refusal), "completed", None
            item.update(status=status, content=[{"type": "refusal", "refusal": refusal}])
    output_tokens = len(pieces)
    response = {
        "id": call.id("resp_"), "object": "response", "created_at": call.created, "status": status,
        "error": None, "incomplete_details": incomplete, "instructions": body.get("instructions"),
        "max_output_tokens": limit, "model": model, "output": [item], "parallel_tool_calls": True,
        "temperature": temperature, "tool_choice": body.get("tool_choice") or "auto",
        "tools": body.get("tools") or [], "top_p": body.get("top_p"), "metadata": body.get("metadata") or {},
        "text": body.get("text") or {"format": {"type": "text"}}, "truncation": "disabled",
        "usage": {"input_tokens": input_tokens,
                  "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                  "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
                  "total_tokens": input_tokens + output_tokens},
    }
    if not body.get("stream"):
        return JsonReply(response)
    return StreamReply(_response_frames(response, item, pieces), _error_frame)


def _response_frames(final: dict, item: dict, pieces: List[str]) -> List[str]:
    frames: List[str] = []

    def emit(kind: str, **fields: Any) -> None:
        frames.append(sse({"type": kind, "sequence_number": len(frames), **fields}, event=kind))

    pending = {**final, "status": "in_progress", "output": [], "usage": None, "incomplete_details": None}
    emit("response.created", response=pending)
    emit("response.in_progress", response=pending)
    where = {"item_id": item["id"], "output_index": 0}
    if item["type"] == "function_call":
        emit("response.output_item.added", output_index=0, item={**item, "arguments": "", "status": "in_progress"})
        for p in pieces:
            emit("response.function_call_arguments.delta", delta=p, **where)
        emit("response.function_call_arguments.done", arguments=item["arguments"], **where)
    else:
        part = item["content"][0]
        emit("response.output_item.added", output_index=0, item={**item, "status": "in_progress", "content": []})
        if part["type"] == "refusal":
            emit("response.content_part.added", content_index=0, part={**part, "refusal": ""}, **where)
            for p in pieces:
                emit("response.refusal.delta", content_index=0, delta=p, **where)
            emit("response.refusal.done", content_index=0, refusal=part["refusal"], **where)
            emit("response.content_part.done", content_index=0, part=part, **where)
            emit("response.output_item.done", output_index=0, item=item)
            emit("response.completed", response=final)
            return frames
        emit("response.content_part.added", content_index=0, part={**part, "text": ""}, **where)
        for p in pieces:
            emit("response.output_text.delta", content_index=0, delta=p, logprobs=[], **where)
        emit("response.output_text.done", content_index=0, text=part["text"], logprobs=[], **where)
        emit("response.content_part.done", content_index=0, part=part, **where)
    emit("response.output_item.done", output_index=0, item=item)
    emit("response.completed" if final["status"] == "completed" else "response.incomplete", response=final)
    return frames


# -- POST /v1/embeddings, GET /v1/models ----------------------------------------------------------------

def embeddings(call: Call) -> JsonReply:
    body = call.body
    model = required_str(body, "model")
    inputs = body.get("input")
    if isinstance(inputs, str) or (isinstance(inputs, list) and inputs and all(isinstance(x, int) for x in inputs)):
        inputs = [inputs]
    if not isinstance(inputs, list) or not inputs:
        raise ApiError(400, "'input' must be a string, an array of strings or of token arrays", param="input")
    texts = []
    for i, item in enumerate(inputs):
        if isinstance(item, list) and all(isinstance(x, int) for x in item) and item:
            item = " ".join(str(x) for x in item)
        if not isinstance(item, str) or not item:
            raise ApiError(400, f"input[{i}] must be a non-empty string or token array", param="input")
        texts.append(item)
    dims = optional_int(body, "dimensions", 1, 8192) or call.config.embedding_dimensions
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise ApiError(400, f"'encoding_format' must be 'float' or 'base64', got {encoding!r}",
                       param="encoding_format")
    data = []
    for i, t in enumerate(texts):
        vec: Any = text.embedding(t, dims)
        if encoding == "base64":
            vec = base64.b64encode(struct.pack(f"<{dims}f", *vec)).decode("ascii")
        data.append({"object": "embedding", "index": i, "embedding": vec})
    tokens = text.count_tokens(texts)
    return JsonReply({"object": "list", "data": data, "model": model,
                      "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


def models(call: Call) -> JsonReply:
    return JsonReply({"object": "list", "data": [
        {"id": m, "object": "model", "created": 1700000000, "owned_by": "arc-dev-llm"} for m in MODELS]})
