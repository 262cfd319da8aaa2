"""Flask and Django under gunicorn sync workers (forked), with their own OTel instrumentation, under
``arc-instrument`` (issue 17 §2; ``nox -s "frameworks(langchain)"``: -flask/-django need the OTel
1.45.1 set). Same checks as the FastAPI servers: every LLM span once, from the worker that served it,
under its request's server span, clean SIGTERM stop."""

import uuid

import pytest

from .test_web_servers import assert_llm_spans_under_server_spans, call_every_worker, serve, stop

pytest.importorskip("opentelemetry.instrumentation.flask")
pytest.importorskip("opentelemetry.instrumentation.django")


@pytest.mark.parametrize("app", ["flask_otel", "django_otel"])
def test_wsgi_app_under_gunicorn_sync_workers(slow_devllm, collector, app):
    model = "wsgi-" + uuid.uuid4().hex[:10]
    proc, base = serve("gunicorn-sync", app, collector, slow_devllm.base_url)
    try:
        pids = call_every_worker(f"{base}/call?model={model}")
    finally:
        stop(proc)
    assert_llm_spans_under_server_spans(collector, model, pids)
