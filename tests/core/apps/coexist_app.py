"""App with its own TracerProvider and OTel's openai-v2 instrumentation next to Arc.

argv[1]: "launcher" (run under arc-instrument: Arc patches at import, the peer wraps on top) or
"inprocess" (the peer instruments first, then ``Arc()``). Prints the spans the app's provider saw.
TEMPERATURE (env, optional): the chat call's temperature; MODEL (env, default gpt-4): its model.
"""

import json
import os
import sys

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

peer = os.environ.get("WITH_PEER") == "1"
if peer:
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    OpenAIInstrumentor().instrument(tracer_provider=provider)
if sys.argv[1] == "inprocess":
    from arc_agent import Arc

    Arc()

import openai  # noqa: E402

client = openai.OpenAI(api_key="sk-x", base_url=os.environ["DEVLLM_URL"] + "/v1", max_retries=0)
extra = {"temperature": float(os.environ["TEMPERATURE"])} if os.environ.get("TEMPERATURE") else {}
client.chat.completions.create(model=os.environ.get("MODEL", "gpt-4"), messages=[{"role": "user", "content": "hi"}],
                               **extra)
client.embeddings.create(model="text-embedding-3-small", input="hi")
spans = [{"name": s.name, "scope": s.instrumentation_scope.name, "attrs": dict(s.attributes)}
         for s in exporter.get_finished_spans()]
print(json.dumps({"result": spans, "patched": True}, default=list))
