"""The failopen app's calls without Arc, for comparison."""

import json
import os

import openai

client = openai.OpenAI(api_key="sk-x", base_url=os.environ["DEVLLM_URL"] + "/v1", max_retries=0)
msgs = [{"role": "user", "content": "Say hello"}]
one = client.chat.completions.create(model="gpt-4", messages=msgs).choices[0].message.content
stream = [c.choices[0].delta.content for c in client.chat.completions.create(
    model="gpt-4", messages=msgs, stream=True) if c.choices]
print(json.dumps({"result": {"fixer": one, "response": one, "stream": stream, "start": one}}))
