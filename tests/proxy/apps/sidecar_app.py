"""The same SDK calls with or without ``ARC_SIDECAR``: openai sync (plain and streamed) and
anthropic async, each one the demo pattern fixes (temperature 0.95 -> 0.7), and one the provider
refuses (HTTP 400)."""

import asyncio
import json
import os

import anthropic
import openai

URL = os.environ["DEVLLM_URL"]
SECRET = os.environ["APP_SECRET"]
ASK = [{"role": "user", "content": "Answer in JSON please"}]


async def _anthropic() -> str:
    client = anthropic.AsyncAnthropic(api_key=SECRET, base_url=URL, max_retries=0)
    msg = await client.messages.create(model="arc-demo", max_tokens=64, messages=ASK, extra_body={"temperature": 0.95})
    await client.close()
    return msg.content[0].text


def main() -> None:
    client = openai.OpenAI(api_key=SECRET, base_url=URL + "/v1", max_retries=0)
    reply = client.chat.completions.create(model="gpt-4", temperature=0.95, messages=ASK)
    chunks = list(client.chat.completions.create(model="gpt-4", temperature=0.95, messages=ASK, stream=True))
    text = asyncio.run(_anthropic())
    try:  # the provider's 400 (code, param): its error facts must be the same on both paths
        client.chat.completions.create(model="reasoning-mini", temperature=0.5, messages=ASK)
    except openai.BadRequestError as exc:
        error = exc.code
    print(json.dumps({"chat": reply.choices[0].message.content, "chunks": len(chunks), "anthropic": text,
                      "error": error}))


main()
