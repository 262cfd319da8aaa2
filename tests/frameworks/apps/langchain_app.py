"""LangChain chat models over the real SDKs against dev-llm, run under arc-instrument by test_langchain.py.

ChatOpenAI (gpt-4 at temperature 0.95, JSON asked) and ChatAnthropic (claude-haiku-small with
max_tokens 8000, over its 4096 limit), each with ``invoke``, ``stream``, ``ainvoke`` and ``astream``
(the async ones go through the SDKs' async clients). Prints one JSON line with what the app got back.
Env: DEVLLM_URL."""

import asyncio
import json
import os

from langchain_anthropic import ChatAnthropic
from langchain_openai import ChatOpenAI

url = os.environ["DEVLLM_URL"]
gpt = ChatOpenAI(model="gpt-4", base_url=url + "/v1", api_key="sk-lc", temperature=0.95, max_retries=0,
                 model_kwargs={"response_format": {"type": "json_object"}})
claude = ChatAnthropic(model="claude-haiku-small", base_url=url, api_key="sk-ant-lc", max_tokens=8000,
                       max_retries=0)


async def async_calls() -> dict:
    return {"gpt_ainvoke": (await gpt.ainvoke("Answer in JSON")).content,
            "gpt_astream": "".join([chunk.content async for chunk in gpt.astream("Answer in JSON")]),
            "claude_ainvoke": (await claude.ainvoke("hi")).content,
            "claude_astream_chunks": len([chunk async for chunk in claude.astream("hi")])}


out = {"gpt_invoke": gpt.invoke("Answer in JSON").content,
       "gpt_stream": "".join(chunk.content for chunk in gpt.stream("Answer in JSON")),
       "claude_invoke": claude.invoke("hi").content,
       "claude_stream_chunks": sum(1 for _ in claude.stream("hi")),
       **asyncio.run(async_calls())}
print(json.dumps(out))
