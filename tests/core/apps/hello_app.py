"""The product's hello world, as its docs write it (issue 17 §5), with every argument of ``Arc``.

No launcher: the app turns Arc on in code. Env: DEVLLM_URL, COLLECTOR (grpc://host:port), CACHE_DIR,
KEY (the collector API key). Prints one JSON line: what the app saw and where Arc put its files.
"""

import json
import os
import sys

import arc_runtime

light = not any(m.startswith(("opentelemetry", "wrapt", "grpc")) for m in sys.modules)  # the alias costs nothing

from arc_runtime import Arc  # noqa: E402

arc = Arc(endpoint=os.environ["COLLECTOR"], api_key=os.environ["KEY"], cache_dir=os.environ["CACHE_DIR"],
          log_level="WARNING", privacy_mode="hash_only", patterns="demo")

import openai  # noqa: E402

client = openai.OpenAI(base_url=os.environ["DEVLLM_URL"] + "/v1", api_key="sk-hello", max_retries=0)
response = client.chat.completions.create(
    model="gpt-4",
    messages=[{"role": "user", "content": "Hello, answer in JSON"}],
    response_format={"type": "json_object"},
    temperature=0.95,  # Arc fixes this to 0.7 before the request leaves
)
from arc_agent.vision import settings as vision_settings  # noqa: E402

arc.shutdown()  # bounded flush
print(json.dumps({"light": light, "alias": arc_runtime.Arc.__module__, "version": arc_runtime.__version__,
                  "reply": json.loads(response.choices[0].message.content),
                  "privacy": vision_settings.current().privacy_tier,
                  "env": {k: v for k, v in os.environ.items() if k.startswith("ARC_")}}))
