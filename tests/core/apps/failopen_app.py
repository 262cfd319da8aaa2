"""Break Arc on purpose in every step it owns; the app's calls must return what they would without Arc."""

import json
import os

from arc_agent import Arc, failopen, state
from arc_agent.llm import call as call_module

arc = Arc()
import openai  # noqa: E402

from arc_agent.instrumentation import openai as integ  # noqa: E402


def boom(*_a, **_k):
    raise RuntimeError("injected fault")


class BrokenFixer:
    active = True

    def fix(self, request):
        raise RuntimeError("injected fixer fault")


client = openai.OpenAI(api_key="sk-x", base_url=os.environ["DEVLLM_URL"] + "/v1", max_retries=0)
msgs = [{"role": "user", "content": "Say hello"}]
results = {}
state.RUNTIME.fixer = BrokenFixer()
results["fixer"] = client.chat.completions.create(model="gpt-4", messages=msgs).choices[0].message.content
integ.CHAT.response_attributes = boom
results["response"] = client.chat.completions.create(model="gpt-4", messages=msgs).choices[0].message.content
integ.CHAT.make_observer = lambda: type("O", (), {"on_chunk": boom, "attributes": boom})()
results["stream"] = [c.choices[0].delta.content for c in client.chat.completions.create(
    model="gpt-4", messages=msgs, stream=True) if c.choices]
call_module.LLMCall = boom  # start() breaks after fixing
results["start"] = client.chat.completions.create(model="gpt-4", messages=msgs).choices[0].message.content
print(json.dumps({"result": results, "errors": failopen.counts(), "patched": True}))
