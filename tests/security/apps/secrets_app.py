"""An app that hands Arc credentials in every place an app can: the SDK key (argument and
``OPENAI_API_KEY``), default and per-call auth headers, a ``user:password@`` base URL, keys in a
request's ``metadata`` (under a credential name, and under a plain name), a password in
``extra_body``, a 401 reply, and the Anthropic SDK's key. Each secret holds a canary word
(``CANARY``); the test looks for it everywhere Arc writes."""

import json
import os

import anthropic
import openai

base = os.environ["DEVLLM_URL"]
host = base.split("://", 1)[1]
client = openai.OpenAI(api_key="sk-proj-CANARYkey0000000001", base_url=f"http://arc:CANARYpw02@{host}/v1",
                       max_retries=0, default_headers={"api-key": "CANARYhdr03",
                                                       "X-Custom-Auth": "Bearer CANARYtok0000000004"})
client.chat.completions.create(
    model="gpt-4o", messages=[{"role": "user", "content": "hello"}],
    metadata={"openai_api_key": "CANARYmeta05", "note": "sk-proj-CANARYmeta0000000006", "X-Auth-Token": "CANARY07"},
    extra_headers={"Authorization": "Bearer CANARYextra00000008"})
client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}],
                               extra_body={"password": "CANARYbody09"})
try:
    client.chat.completions.create(model="fail-401", messages=[{"role": "user", "content": "x"}])
except openai.AuthenticationError:
    pass
claude = anthropic.Anthropic(api_key="sk-ant-CANARYant000000010", base_url=base, max_retries=0)
claude.messages.create(model="claude-3-haiku", max_tokens=20, messages=[{"role": "user", "content": "hi"}],
                       metadata={"user_id": "u-1"})
print(json.dumps({"ok": True}))
