"""A one-file Django project with the app's own OTel (``app_otel`` + ``DjangoInstrumentor``): one view,
``GET /call?model=M``, makes one openai call (stop_server's) and answers the worker's pid."""

import app_otel  # noqa: F401 - the app's provider first
from django.conf import settings

settings.configure(DEBUG=False, ROOT_URLCONF=__name__, ALLOWED_HOSTS=["127.0.0.1"], SECRET_KEY="test-" + "x" * 50,
                   MIDDLEWARE=[], INSTALLED_APPS=[])

from opentelemetry.instrumentation.django import DjangoInstrumentor  # noqa: E402

DjangoInstrumentor().instrument()  # adds its middleware: before the WSGI handler is built

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402
from stop_server import _call  # noqa: E402


def call(request) -> HttpResponse:
    return HttpResponse(_call(request.GET.get("model", "m")))


urlpatterns = [path("call", call)]
wsgi = get_wsgi_application()
