"""LlamaIndex's OpenAI LLM over the real openai SDK (2.x, which llama-index-llms-openai pins) against
dev-llm, run under arc-instrument by test_llamaindex.py: gpt-4 at temperature 0.95 asking for JSON,
with ``complete``, ``stream_complete``, ``acomplete`` and ``astream_complete`` (the async ones through
the SDK's async client). Prints one JSON line. Env: DEVLLM_URL."""

import asyncio
import json
import os

from llama_index.llms.openai import OpenAI

llm = OpenAI(model="gpt-4", api_base=os.environ["DEVLLM_URL"] + "/v1", api_key="sk-li", temperature=0.95,
             max_retries=0, additional_kwargs={"response_format": {"type": "json_object"}})


async def async_calls() -> dict:
    return {"acomplete": (await llm.acomplete("Answer in JSON")).text,
            "astream": "".join([part.delta or "" async for part in await llm.astream_complete("Answer in JSON")])}


out = {"complete": llm.complete("Answer in JSON").text,
       "stream": "".join(part.delta or "" for part in llm.stream_complete("Answer in JSON")),
       **asyncio.run(async_calls())}
print(json.dumps(out))
