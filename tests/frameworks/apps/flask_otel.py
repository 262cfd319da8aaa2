"""A Flask app with the app's own OTel (``app_otel`` + ``FlaskInstrumentor``) for gunicorn sync workers:
``GET /call?model=M`` makes one openai call (stop_server's) and answers the worker's pid."""

import app_otel  # noqa: F401 - the app's provider first
from flask import Flask, request
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from stop_server import _call

wsgi = Flask(__name__)
FlaskInstrumentor().instrument_app(wsgi)


@wsgi.get("/call")
def call() -> str:
    return _call(request.args.get("model", "m")).decode()
