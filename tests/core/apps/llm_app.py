"""An ordinary app using the real openai/anthropic SDKs, run by the tests under ``arc-instrument``.

Usage: python llm_app.py SCENARIO  (DEVLLM_URL = dev-llm base URL). Prints one JSON line of what the
app saw, so tests can compare the app's results with and without Arc.
"""

import asyncio
import inspect
import json
import os
import sys

URL = os.environ.get("DEVLLM_URL", "")
SECRET = "sk-test-SECRET-do-not-leak-123"
MSGS = [{"role": "user", "content": "Say hello"}]


def openai_client(async_=False):
    import openai

    cls = openai.AsyncOpenAI if async_ else openai.OpenAI
    # generous timeout: 1,000 concurrent connects on a loaded 2-core CI box can exceed the 5 s default
    return cls(api_key=SECRET, base_url=URL + "/v1", max_retries=0, timeout=120)


def anthropic_client(async_=False):
    import anthropic

    cls = anthropic.AsyncAnthropic if async_ else anthropic.Anthropic
    return cls(api_key=SECRET, base_url=URL, max_retries=0)


def openai_sync():
    c = openai_client()
    out = {}
    r = c.chat.completions.create(model="gpt-4", messages=MSGS, temperature=0.5, top_p=0.9, max_tokens=50,
                                  stop=["\n\n"], seed=7)
    out["chat"] = r.choices[0].message.content
    chunks = [ch for ch in c.chat.completions.create(model="gpt-4", messages=MSGS, stream=True,
                                                        stream_options={"include_usage": True})]
    out["stream_chunks"] = len(chunks)
    raw = c.chat.completions.with_raw_response.create(model="gpt-4", messages=MSGS)
    out["raw"] = raw.parse().choices[0].message.content
    with c.chat.completions.with_streaming_response.create(model="gpt-4", messages=MSGS) as resp:
        out["streaming_response"] = json.loads(resp.read())["choices"][0]["message"]["content"]
    rr = c.responses.create(model="gpt-4o", input="Say hello", max_output_tokens=40)
    out["responses"] = rr.output_text
    events = [e.type for e in c.responses.create(model="gpt-4o", input="Say hello", stream=True)]
    out["responses_stream_events"] = events[-1]
    e = c.embeddings.create(model="text-embedding-3-small", input="hello")
    out["embedding_len"] = len(e.data[0].embedding)
    return out


async def openai_async():
    c = openai_client(async_=True)
    out = {}
    r = await c.chat.completions.create(model="gpt-4", messages=MSGS)
    out["chat"] = r.choices[0].message.content
    stream = await c.chat.completions.create(model="gpt-4", messages=MSGS, stream=True)
    out["stream_chunks"] = len([ch async for ch in stream])
    rr = await c.responses.create(model="gpt-4o", input="hi")
    out["responses"] = rr.output_text
    e = await c.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    out["embeddings"] = len(e.data)
    return out


def anthropic_sync():
    c = anthropic_client()
    out = {}
    m = c.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=MSGS, system="Be brief.",
                          stop_sequences=["END"])
    out["create"] = m.content[0].text
    events = [ev.type for ev in c.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=MSGS,
                                                  stream=True)]
    out["create_stream"] = events[-1]
    with c.messages.stream(model="claude-sonnet-4-6", max_tokens=64, messages=MSGS) as s:
        out["stream_text"] = "".join(s.text_stream)
    raw = c.messages.with_raw_response.create(model="claude-sonnet-4-6", max_tokens=64, messages=MSGS, stream=True)
    out["raw_stream"] = [ev.type for ev in raw.parse()][-1]  # how LangChain's ChatAnthropic streams
    return out


async def anthropic_async():
    c = anthropic_client(async_=True)
    out = {}
    m = await c.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=MSGS)
    out["create"] = m.content[0].text
    stream = await c.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=MSGS, stream=True)
    out["create_stream"] = [ev.type async for ev in stream][-1]
    async with c.messages.stream(model="claude-sonnet-4-6", max_tokens=64, messages=MSGS) as s:
        out["stream_final"] = (await s.get_final_message()).stop_reason
    raw = await c.messages.with_raw_response.create(model="claude-sonnet-4-6", max_tokens=64, messages=MSGS,
                                                    stream=True)
    parsed = raw.parse()  # a coroutine in anthropic 2.x (AsyncAPIResponse), the stream in older releases
    stream = await parsed if inspect.isawaitable(parsed) else parsed
    out["raw_stream"] = [ev.type async for ev in stream][-1]  # how LangChain's ChatAnthropic astreams
    raw = await c.messages.with_raw_response.create(model="claude-sonnet-4-6", max_tokens=64, messages=MSGS)
    parsed = raw.parse()  # likewise: how ChatAnthropic.ainvoke reads its answer
    out["raw_create"] = (await parsed if inspect.isawaitable(parsed) else parsed).content[0].text
    return out


def early_break():
    """Streams abandoned early: break+close, break+GC, context manager exit."""
    import gc

    c = openai_client()
    s = c.chat.completions.create(model="gpt-4", messages=MSGS, stream=True)
    for _ in s:
        break
    s.close()
    s2 = c.chat.completions.create(model="gpt-4", messages=MSGS, stream=True)
    for _ in s2:
        break
    del s2
    gc.collect()
    with c.chat.completions.create(model="gpt-4", messages=MSGS, stream=True) as s3:
        next(iter(s3))
    return {"ok": True}


async def cross_task_close():
    """An async stream opened in one task and closed from another (the classic detach-error case)."""
    c = openai_client(async_=True)
    stream = await c.chat.completions.create(model="gpt-4", messages=MSGS, stream=True)

    async def read_one():
        async for _ in stream:
            break

    await asyncio.create_task(read_one())
    await asyncio.create_task(stream.close())
    a = anthropic_client(async_=True)
    astream = await a.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=MSGS, stream=True)
    await asyncio.create_task(astream.__anext__())
    await asyncio.create_task(astream.close())
    return {"ok": True}


def errors():
    import anthropic
    import openai

    out = {}
    c = openai_client()
    try:
        c.chat.completions.create(model="fail-429", messages=MSGS)
    except openai.RateLimitError as exc:
        out["openai"] = [type(exc).__name__, exc.status_code]
    a = anthropic_client()
    try:
        a.messages.create(model="fail-500", max_tokens=10, messages=MSGS)
    except anthropic.InternalServerError as exc:
        out["anthropic"] = [type(exc).__name__, exc.status_code]
    return out


async def concurrent():
    """1,000 concurrent async calls, each inside its own task's parent span."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    n = int(os.environ.get("N_CALLS", "1000"))
    provider = TracerProvider()
    tracer = provider.get_tracer("app")
    c = openai_client(async_=True)
    parents = {}

    async def one(i):
        with tracer.start_as_current_span(f"task-{i}") as span:
            parents[i] = format(span.get_span_context().span_id, "016x")
            await c.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": f"task {i}"}],
                                            extra_headers={"X-Task": str(i)})

    await asyncio.gather(*(one(i) for i in range(n)))
    # the app's own spans are not exported (its provider has no processor): report the parent ids
    del trace
    return {"parents": parents}


def threads():
    from concurrent.futures import ThreadPoolExecutor

    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("app")
    c = openai_client()
    parents = {}

    def one(i):
        with tracer.start_as_current_span(f"thread-{i}") as span:
            parents[i] = format(span.get_span_context().span_id, "016x")
            c.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": f"thread {i}"}])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(40)))
    return {"parents": parents}


def plain():
    c = openai_client()
    r = c.chat.completions.create(model="gpt-4", messages=MSGS, temperature=0.95)
    return {"chat": r.choices[0].message.content}


SCENARIOS = {
    "openai_sync": openai_sync, "openai_async": openai_async, "anthropic_sync": anthropic_sync,
    "anthropic_async": anthropic_async, "early_break": early_break, "cross_task_close": cross_task_close,
    "errors": errors,
    "concurrent": concurrent, "threads": threads, "plain": plain,
}

if __name__ == "__main__":
    fn = SCENARIOS[sys.argv[1]]
    result = asyncio.run(fn()) if asyncio.iscoroutinefunction(fn) else fn()
    print(json.dumps({"result": result, "patched": "arc_agent.runtime" in sys.modules}))
