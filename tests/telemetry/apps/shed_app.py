"""Arc's load shedding in front of the app's own TracerProvider (ARC_SAMPLE_QPS=1, ARC_SAMPLE_RATE=0):
once shedding is active, ordinary calls get no span and failed calls do, in the app's pipeline,
parented to the app's span. Prints the app's finished spans as JSON."""

import json
import os

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

memory = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(memory))
trace.set_tracer_provider(provider)

import openai  # noqa: E402  (Arc activates here, under arc-instrument)

from arc_agent.telemetry.guards import GUARDS  # noqa: E402

client = openai.OpenAI(api_key="sk-x", base_url=os.environ["DEVLLM_URL"] + "/v1", max_retries=0)
msgs = [{"role": "user", "content": "hi"}]
warm = 0
while not GUARDS.sampler.active:  # calls until the sampler's window says: above ARC_SAMPLE_QPS
    client.chat.completions.create(model="gpt-4", messages=msgs)
    warm += 1
memory.clear()
with trace.get_tracer("app").start_as_current_span("app-root"):
    for model in ["gpt-4"] * 20 + ["fail-500"] * 5:
        try:
            client.chat.completions.create(model=model, messages=msgs)
        except openai.APIStatusError:
            pass
for model in ["gpt-4"] * 20 + ["fail-500"] * 5:  # no current span: the call path's fast skip
    try:
        client.chat.completions.create(model=model, messages=msgs)
    except openai.APIStatusError:
        pass
spans = [{"name": s.name, "scope": s.instrumentation_scope.name, "status": s.status.status_code.name,
          "parent": s.parent.span_id if s.parent else None, "id": s.context.span_id}
         for s in memory.get_finished_spans()]
print(json.dumps({"warm": warm, "spans": spans}))
