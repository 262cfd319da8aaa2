"""The openai SDK's structured-output helpers (``parse``, ``stream``, their ``with_raw_response``
forms; a raw streamed ``create`` too), run by ``tests/core/test_openai_parse.py`` under
``arc-instrument`` against dev-llm.

Usage: python parse_app.py sync|async. Every call asks gpt-4 at temperature 1.5 (dev-llm then breaks
its JSON unless Arc's fix lowers it); the last one is told to answer with text that is not JSON.
"""

import asyncio
import json
import sys

import openai
from llm_app import SECRET, URL
from pydantic import BaseModel

MSGS = [{"role": "user", "content": "Say hello"}]
HOT = {"model": "gpt-4", "messages": MSGS, "temperature": 1.5}
NOT_JSON = {"x-dev-llm-reply": "this is not JSON"}


class Reply(BaseModel):
    model: str
    reply: str


def failure(call) -> str:
    try:
        call()
    except Exception as exc:
        return type(exc).__name__
    return "no error"


def run_sync() -> dict:
    c = openai.OpenAI(api_key=SECRET, base_url=URL + "/v1", max_retries=0, timeout=60)
    out = {"parse": c.chat.completions.parse(response_format=Reply, **HOT).choices[0].message.parsed.reply}
    raw = c.chat.completions.with_raw_response.parse(response_format=Reply, **HOT)
    out["raw_parse"] = raw.parse().choices[0].message.parsed.reply
    with c.chat.completions.stream(response_format=Reply, **HOT) as stream:
        out["stream"] = stream.get_final_completion().choices[0].message.parsed.reply
    resp = c.responses.parse(model="gpt-4", input="Say hello", temperature=1.5, text_format=Reply)
    out["responses_parse"] = resp.output_parsed.reply
    raw_stream = c.chat.completions.with_raw_response.create(stream=True, response_format={"type": "json_object"},
                                                             **HOT)
    out["raw_stream"] = json.loads("".join(ch.choices[0].delta.content or "" for ch in raw_stream.parse()))["reply"]
    out["invalid"] = failure(lambda: c.chat.completions.parse(response_format=Reply, extra_headers=NOT_JSON, **HOT))
    return out


async def run_async() -> dict:
    c = openai.AsyncOpenAI(api_key=SECRET, base_url=URL + "/v1", max_retries=0, timeout=60)
    out = {"parse": (await c.chat.completions.parse(response_format=Reply, **HOT)).choices[0].message.parsed.reply}
    raw = await c.chat.completions.with_raw_response.parse(response_format=Reply, **HOT)
    out["raw_parse"] = raw.parse().choices[0].message.parsed.reply
    return out


if __name__ == "__main__":
    result = asyncio.run(run_async()) if sys.argv[1] == "async" else run_sync()
    print(json.dumps({"result": result, "patched": "arc_agent.runtime" in sys.modules}))
