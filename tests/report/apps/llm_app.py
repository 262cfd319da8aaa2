"""A plain app for the report tests: a mix of fixed, failing and healthy calls against ``arc dev-llm``."""

import os

import anthropic
import openai

BASE = os.environ["DEVLLM_URL"]
client = openai.OpenAI(base_url=BASE + "/v1", api_key="sk-report-test", max_retries=0)
claude = anthropic.Anthropic(base_url=BASE, api_key="sk-ant-report-test", max_retries=0)
JSON = {"type": "json_object"}
ask = [{"role": "user", "content": "Return an order as JSON."}]

for _ in range(4):  # the demo pattern fixes these (arc-demo, temperature > 0.9): ok
    client.chat.completions.create(model="arc-demo", temperature=0.95, response_format=JSON, messages=ask)
for _ in range(2):  # no pattern for this model: invalid_json
    client.chat.completions.create(model="gpt-4o-mini", temperature=0.95, response_format=JSON, messages=ask)
for _ in range(3):
    client.chat.completions.create(model="gpt-4o-mini", messages=ask)
client.chat.completions.create(model="gpt-4o-mini", max_tokens=5, messages=ask)  # truncated
for _ in range(2):  # HTTP 400: temperature is not supported by this model
    try:
        client.chat.completions.create(model="reasoning-mini", temperature=0.5, messages=ask)
    except openai.BadRequestError:
        pass
claude.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=[{"role": "user", "content": "hi"}])
print("calls done")
