"""Web apps for tests/telemetry/test_stop.py: each request makes one real openai call to dev-llm.

``wsgi`` (gunicorn sync workers) and ``asgi`` (FastAPI: uvicorn, gunicorn with uvicorn workers).
``GET /call?model=M`` answers the pid of the worker that served it. DEVLLM_URL = dev-llm base URL.
"""

import os
from urllib.parse import parse_qs

import openai
from fastapi import FastAPI


def _call(model: str) -> bytes:
    client = openai.OpenAI(base_url=os.environ["DEVLLM_URL"] + "/v1", api_key="sk-stop", max_retries=0)
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}], temperature=0.95)
    return str(os.getpid()).encode()


def wsgi(environ, start_response):
    model = parse_qs(environ.get("QUERY_STRING", "")).get("model", ["m"])[0]
    body = _call(model)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


asgi = FastAPI()


@asgi.get("/call")
def call(model: str = "m") -> str:  # a plain def: FastAPI runs it in its thread pool, as real apps do
    return _call(model).decode()
