"""The app's own OpenTelemetry set-up, as a web service configures it: an SDK ``TracerProvider``
(resource with this worker's pid) exporting over OTLP to ``OTEL_EXPORTER_OTLP_ENDPOINT``, installed
globally. Imported by each worker (gunicorn without ``--preload``, uvicorn's spawned workers)."""

import os

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

provider = TracerProvider(resource=Resource.create({"service.name": "web-app", "process.pid": os.getpid()}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(insecure=True)))
trace.set_tracer_provider(provider)
