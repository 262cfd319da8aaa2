"""An app making N chat calls with the real openai SDK; the server (URL) answers one of them with a
lone surrogate in the reply's id and text. Prints one JSON line: the reply ids it saw."""

import json
import os
import sys

import openai

N = int(sys.argv[1])
SECRET_TEXT = "CAPTURED-PROMPT-TEXT-do-not-print"

client = openai.OpenAI(api_key="sk-x", base_url=os.environ["SURROGATE_URL"] + "/v1", max_retries=0)
ids = []
for i in range(N):
    prompt = f"{SECRET_TEXT} bad" if i == N // 2 else f"{SECRET_TEXT} {i}"
    reply = client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": prompt}])
    ids.append(reply.id)
print(json.dumps({"ids": ids}, ensure_ascii=True))
