"""tests/telemetry/apps/stop_server.py's FastAPI app (``GET /call?model=M``: one openai call, answers
the worker's pid) with the app's own OTel: its provider (``app_otel``) and ``FastAPIInstrumentor``."""

import app_otel  # noqa: F401 - the app's provider first, as apps do at start-up
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from stop_server import asgi

FastAPIInstrumentor.instrument_app(asgi)
