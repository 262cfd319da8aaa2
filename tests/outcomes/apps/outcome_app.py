"""An app making calls that end in every ``arc.outcome``, run by the tests under ``arc-instrument``.

Usage: python outcome_app.py SCENARIO (DEVLLM_URL = dev-llm base URL). Prints one JSON line: for each
call, its tag -> the span id Arc linked as this context's last call (what report_failure links to),
plus what the app saw.
"""

import asyncio
import json
import os
import sys

URL = os.environ.get("DEVLLM_URL", "")
SECRET = "sk-test-SECRET-outcomes-456"
AUTH = "Bearer sk-header-SECRET-789"
SYSTEM = ("You are a careful assistant for an online bookstore. Answer questions about orders, shipping, "
          "returns and refunds politely, in under one hundred words, and never reveal internal notes.")
USER = [{"role": "user", "content": "Say hello"}]
JSON_USER = [{"role": "user", "content": "Give a JSON object with a greeting"}]
EMPTY = {"X-Dev-LLM-Reply": ""}
REFUSE = {"X-Dev-LLM-Refusal": "I can't help with that."}
SPANS: dict = {}
SEEN: dict = {}


def last_span_id():
    from arc_agent.llm.lastcall import LAST_CALL

    ctx = LAST_CALL.get()
    return format(ctx.span_id, "016x") if ctx is not None else None


def tagged(tag, fn):
    try:
        result = fn()
        SEEN[tag] = "ok"
    except Exception as exc:  # the app sees the SDK's own error
        result = None
        SEEN[tag] = type(exc).__name__
    SPANS[tag] = last_span_id()
    return result


async def atagged(tag, coro_fn):
    try:
        result = await coro_fn()
        SEEN[tag] = "ok"
    except Exception as exc:
        result = None
        SEEN[tag] = type(exc).__name__
    SPANS[tag] = last_span_id()
    return result


def openai_client(async_=False):
    import openai

    cls = openai.AsyncOpenAI if async_ else openai.OpenAI
    return cls(api_key=SECRET, base_url=URL + "/v1", max_retries=0, timeout=60)


def anthropic_client(async_=False):
    import anthropic

    cls = anthropic.AsyncAnthropic if async_ else anthropic.Anthropic
    return cls(api_key=SECRET, base_url=URL, max_retries=0, timeout=60)


def drain(stream):
    return [c for c in stream]


def openai_scenario():
    c = openai_client()
    chat = c.chat.completions.create
    tagged("ok", lambda: chat(model="gpt-4", messages=USER, temperature=0.5))
    tagged("truncated", lambda: chat(model="gpt-4", messages=USER, max_tokens=8))
    tagged("invalid_json", lambda: chat(model="gpt-4", messages=JSON_USER, temperature=0.95,
                                        response_format={"type": "json_object"}))
    tagged("valid_json", lambda: chat(model="gpt-4", messages=JSON_USER, temperature=0.5,
                                      response_format={"type": "json_object"}))
    tagged("empty", lambda: chat(model="gpt-4", messages=USER, extra_headers=EMPTY))
    tagged("refused", lambda: chat(model="gpt-4", messages=USER, extra_headers=REFUSE))
    tagged("err_temperature", lambda: chat(model="reasoning-mini", messages=USER, temperature=0.5))
    tagged("err_max_tokens", lambda: chat(model="reasoning-mini", messages=USER, max_tokens=100))
    tagged("err_context", lambda: chat(model="small-4k", messages=[{"role": "user", "content": "x" * 20000}]))
    tagged("stream_ok", lambda: drain(chat(model="gpt-4", messages=USER, stream=True)))
    tagged("stream_truncated", lambda: drain(chat(model="gpt-4", messages=USER, max_tokens=8, stream=True)))
    tagged("stream_invalid_json", lambda: drain(chat(model="gpt-4", messages=JSON_USER, temperature=0.95,
                                                     response_format={"type": "json_object"}, stream=True)))
    tagged("stream_refused", lambda: drain(chat(model="gpt-4", messages=USER, stream=True, extra_headers=REFUSE)))
    tagged("stream_empty", lambda: drain(chat(model="gpt-4", messages=USER, stream=True, extra_headers=EMPTY)))
    tagged("features", lambda: chat(
        model="gpt-4", messages=[{"role": "system", "content": SYSTEM}, *JSON_USER], temperature=0.2,
        max_completion_tokens=300, response_format={"type": "json_schema", "json_schema": {
            "name": "greeting", "schema": {"type": "object", "properties": {"greeting": {"type": "string"}}}}},
        tools=[{"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object"}}}],
        tool_choice="none"))
    tagged("features_near", lambda: chat(
        model="gpt-4", messages=[{"role": "system", "content": SYSTEM.replace("politely", "kindly")}, *USER]))
    tagged("features_far", lambda: chat(
        model="gpt-4", messages=[{"role": "system", "content": "Translate French legal contracts into plain "
                                  "English, keeping clause numbers and defined terms exactly as written."}, *USER]))
    resp = c.responses.create
    tagged("resp_ok", lambda: resp(model="gpt-4o", input="Say hello"))
    tagged("resp_truncated", lambda: resp(model="gpt-4o", input="Say hello", max_output_tokens=8))
    tagged("resp_invalid_json", lambda: resp(model="gpt-4o", input="Give a JSON object", temperature=0.95,
                                             text={"format": {"type": "json_object"}}))
    tagged("resp_refused", lambda: resp(model="gpt-4o", input="Say hello", extra_headers=REFUSE))
    tagged("resp_stream_refused", lambda: drain(resp(model="gpt-4o", input="Say hello", stream=True,
                                                     extra_headers=REFUSE)))
    tagged("resp_stream_ok", lambda: drain(resp(model="gpt-4o", input="Say hello", stream=True)))
    tagged("resp_stream_invalid_json", lambda: drain(resp(model="gpt-4o", input="Give a JSON object",
                                                          temperature=0.95, stream=True,
                                                          text={"format": {"type": "json_object"}})))

    async def run_async():
        a = openai_client(async_=True)
        achat = a.chat.completions.create

        async def astream(**kw):
            return [x async for x in await achat(stream=True, **kw)]

        await atagged("async_ok", lambda: achat(model="gpt-4", messages=USER))
        await atagged("async_invalid_json", lambda: achat(model="gpt-4", messages=JSON_USER, temperature=0.95,
                                                          response_format={"type": "json_object"}))
        await atagged("async_err", lambda: achat(model="reasoning-mini", messages=USER, temperature=0.3))
        await atagged("async_stream_truncated", lambda: astream(model="gpt-4", messages=USER, max_tokens=8))

    asyncio.run(run_async())


def anthropic_scenario():
    c = anthropic_client()
    create = c.messages.create
    base = {"model": "claude-sonnet", "messages": USER, "max_tokens": 200}
    jbase = {"model": "claude-sonnet", "messages": JSON_USER, "max_tokens": 300,
             "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}}}
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    tool = {"tools": [{"name": "greet", "description": "greet", "input_schema": schema}],
            "tool_choice": {"type": "tool", "name": "greet"}}
    tagged("ok", lambda: create(**base, system=SYSTEM))
    tagged("truncated", lambda: create(**dict(base, max_tokens=8)))
    tagged("empty", lambda: create(**base, extra_headers=EMPTY))
    tagged("refused", lambda: create(**base, extra_headers=REFUSE))
    tagged("invalid_json", lambda: create(**jbase, extra_body={"temperature": 0.95}))
    tagged("valid_json", lambda: create(**jbase, extra_body={"temperature": 0.5}))
    tagged("tool_ok", lambda: create(**base, **tool))
    tagged("err_max_tokens", lambda: create(**dict(base, model="claude-haiku-small", max_tokens=8000)))
    tagged("stream_ok", lambda: drain(create(**base, stream=True)))
    tagged("stream_truncated", lambda: drain(create(**dict(base, max_tokens=8), stream=True)))
    tagged("stream_invalid_json", lambda: drain(create(**jbase, extra_body={"temperature": 0.95}, stream=True)))
    tagged("stream_tool_ok", lambda: drain(create(**base, **tool, stream=True)))

    def helper_stream():
        with c.messages.stream(**base, extra_headers=REFUSE) as s:
            return s.get_final_text()

    tagged("helper_stream_refused", helper_stream)

    async def run_async():
        a = anthropic_client(async_=True)

        async def astream(**kw):
            return [x async for x in await a.messages.create(stream=True, **kw)]

        await atagged("async_ok", lambda: a.messages.create(**base))
        await atagged("async_stream_refused", lambda: astream(**base, extra_headers=REFUSE))
        await atagged("async_err", lambda: a.messages.create(**dict(base, model="claude-haiku-small",
                                                                    max_tokens=5000)))

    asyncio.run(run_async())


def report_scenario():
    import arc_agent

    out = {"before": arc_agent.report_failure("no_call_yet")}
    c = openai_client()
    tagged("first", lambda: c.chat.completions.create(model="gpt-4", messages=USER))
    out["r1"] = arc_agent.report_failure("parse_error", "the app could not parse: " + "x" * 400)
    tagged("second", lambda: c.chat.completions.create(model="gpt-4", messages=JSON_USER))
    out["r2"] = arc_agent.report_failure("validator")

    async def run_async():
        a = openai_client(async_=True)
        both_called = asyncio.Barrier(2) if hasattr(asyncio, "Barrier") else None
        done = [0]
        ready = asyncio.Event()

        async def task(tag):
            await atagged(tag, lambda: a.chat.completions.create(model="gpt-4", messages=USER))
            if both_called is not None:
                await both_called.wait()
            else:
                done[0] += 1
                if done[0] == 2:
                    ready.set()
                await ready.wait()
            arc_agent.report_failure("task_" + tag)

        await asyncio.gather(task("task_a"), task("task_b"))

    asyncio.run(run_async())
    return out


def capture_scenario():
    c = openai_client()
    chat = c.chat.completions.create
    headers = {"Authorization": AUTH, "X-Custom": "1"}
    tagged("cap_invalid_json", lambda: chat(model="gpt-4", messages=JSON_USER, temperature=0.95,
                                            response_format={"type": "json_object"}, extra_headers=headers))
    tagged("cap_err", lambda: chat(model="reasoning-mini", messages=USER, temperature=0.5, extra_headers=headers))
    for i in range(int(os.environ.get("OK_CALLS", "20"))):
        messages = [{"role": "user", "content": f"Say hello {i}"}]
        tagged(f"cap_ok_{i}", lambda m=messages: chat(model="gpt-4", messages=m, temperature=0.5, timeout=30))
        messages.append({"role": "assistant", "content": "changed after the call"})  # apps do this
    if os.environ.get("UNTIL_SAMPLED_OUT"):  # call on until a call makes no span (the sampler dropped it)
        for i in range(5000):
            before = last_span_id()
            chat(model="gpt-4", messages=[{"role": "user", "content": f"sampled {i}"}])
            if last_span_id() == before:
                return {"sampled_out": f"sampled {i}"}
        return {"sampled_out": None}


def api_scenario():
    """No arc-instrument: the app installs Arc itself and reports through the Arc object."""
    from arc_agent import Arc

    arc = Arc(endpoint=os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"])
    c = openai_client()
    tagged("api_call", lambda: c.chat.completions.create(model="gpt-4", messages=USER))
    out = {"reported": arc.report_failure("api_kind", "detail")}
    arc.shutdown()
    return out


def main() -> None:
    scenario = sys.argv[1]
    out = globals()[scenario + "_scenario"]() or {}
    out.update({"spans": SPANS, "seen": SEEN, "capture_loaded": "arc_agent.llm.capture" in sys.modules})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
