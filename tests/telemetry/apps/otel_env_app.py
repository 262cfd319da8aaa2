"""An app that makes LLM calls and, beside them, spans of its own through a plain SDK pipeline (not
installed globally, so Arc keeps its own provider): the tests compare what the standard ``OTEL_*``
variables do to Arc's spans with what they do to the SDK's.

Usage: python otel_env_app.py MODE N   (DEVLLM_URL, OTLP_ENDPOINT = grpc://host:port)
MODE: calls | parents (one call under an unsampled remote parent, one under a sampled one)
"""

import json
import os
import sys

import openai
from opentelemetry import context, trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

LONG = "x" * 136


def app_tracer():
    provider = TracerProvider(resource=Resource.create({"service.name": "sdk-own"}))
    exporter = OTLPSpanExporter(endpoint=os.environ["OTLP_ENDPOINT"].replace("grpc://", ""), insecure=True)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider, provider.get_tracer("app")


def main() -> None:
    mode, n = sys.argv[1], int(sys.argv[2])
    client = openai.OpenAI(api_key="sk-x", base_url=os.environ["DEVLLM_URL"] + "/v1", max_retries=0)
    msgs = [{"role": "user", "content": LONG}]
    out = {"calls": 0}
    if mode == "calls":
        provider, tracer = app_tracer()
        for _ in range(n):
            tracer.start_span("app-span", attributes={"app.value": LONG}).end()
            client.chat.completions.create(model="gpt-4", messages=msgs)
            out["calls"] += 1
        provider.shutdown()
    elif mode == "parents":
        for trace_id, flags in ((0xA1, TraceFlags.DEFAULT), (0xB2, TraceFlags.SAMPLED)):
            parent = NonRecordingSpan(SpanContext(trace_id, 0xC3, is_remote=True, trace_flags=TraceFlags(flags)))
            token = context.attach(trace.set_span_in_context(parent))
            try:
                client.chat.completions.create(model="gpt-4", messages=msgs)
                out["calls"] += 1
            finally:
                context.detach(token)
    from arc_agent.telemetry import tracing

    out["flushed"] = tracing.force_flush(10)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
