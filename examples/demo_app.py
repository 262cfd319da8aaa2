"""A plain LLM app (no Arc code): asks for JSON at a high temperature, the classic flaky request.

Against ``arc dev-llm``, temperature > 0.9 yields malformed JSON. Run it bare and under
``arc-instrument`` with the demo pattern bundle and compare: Arc clamps the temperature first.
"""

import json
import os

import anthropic
import openai

BASE = os.environ.get("DEVLLM_URL", "http://127.0.0.1:8765")
client = openai.OpenAI(base_url=BASE + "/v1", api_key="sk-demo-not-a-real-key", max_retries=0)
claude = anthropic.Anthropic(base_url=BASE, api_key="sk-ant-demo-not-a-real-key", max_retries=0)

ok = 0
TOTAL = 5
for i in range(TOTAL):
    reply = client.chat.completions.create(
        model="arc-demo", temperature=0.95, response_format={"type": "json_object"},
        messages=[{"role": "user", "content": f"Return order #{i} as JSON with fields id and status."}])
    text = reply.choices[0].message.content
    try:
        json.loads(text)
        ok += 1
        verdict = "valid JSON"
    except json.JSONDecodeError as exc:
        verdict = f"BROKEN JSON ({exc.msg})"
    print(f"  request {i}: app asked temperature=0.95 -> {verdict}")

streamed = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
    model="arc-demo", messages=[{"role": "user", "content": "Say hello"}], stream=True) if c.choices)
message = claude.messages.create(model="claude-sonnet-4-6", max_tokens=64,
                                 messages=[{"role": "user", "content": "Say hello"}])
print(f"  stream: {streamed[:40]!r}; anthropic: {message.content[0].text[:40]!r}")
print(f"RESULT {ok}/{TOTAL} JSON replies parsed")
