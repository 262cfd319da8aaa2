"""Compatibility matrix: Arc's core tests against the oldest and newest versions it declares.

    nox -l                            # list the sessions
    nox                               # the whole matrix
    nox -r -s "playwright(newest)"    # -r: reuse an existing venv (skips the venv creation)
    MATRIX_SUBSET=ci nox -r -s "otel(oldest)"   # what .ci/run adds (OTel: a subset), with "openai(oldest)",
    nox -r -s "frameworks(langchain)" "frameworks(llamaindex)"   # and the framework stacks (issue 17)

"oldest" is the lower bound declared for the dependency: in ``pyproject.toml`` for OpenTelemetry and
wrapt, in the integration's ``SUPPORTED`` tuple (``arc_agent/instrumentation/*.py``) for openai,
anthropic and Playwright. "newest" is the newest release below the declared upper bound. The bounds
are read from those files, so narrowing a declaration moves its session with it.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
# uv (the dev extra installs it) builds a session's venv from its cache in seconds; plain venv + pip without it
nox.options.default_venv_backend = "uv|venv"
nox.options.error_on_missing_interpreters = True

OTEL = ("opentelemetry-api", "opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-grpc", "opentelemetry-proto")
# what every session needs to run the tests: the project (compat editable mode, as .ci/setup does)
# with the collector extra (tests/helpers' OTLP receiver and `arc collector`), pytest, the wheel builder;
# pip too: a uv venv has none, and tests/core/test_packaging.py runs `pip wheel`
TOOLS = ("pytest>=8", "pytest-asyncio>=0.23", "setuptools>=68", "wheel>=0.40", "pip")
SHOWN = (*OTEL, "wrapt", "openai", "anthropic", "playwright", "httpx", "protobuf",
         "langchain-core", "langchain-openai", "langchain-anthropic", "llama-index-core", "llama-index-llms-openai",
         "flask", "django", "gunicorn", "opentelemetry-instrumentation-flask", "opentelemetry-instrumentation-django")
# the OTel tests .ci/run runs on the oldest SDK (MATRIX_SUBSET=ci): span contents over OTLP, sampling,
# limits and BSP variables, the processor's backlog and overflow counts, the breaker, WAL/outages
OTEL_CI = ("tests/core/test_openai_spans.py", "tests/telemetry/test_processor.py", "tests/telemetry/test_shedding.py",
           "tests/telemetry/test_guard_units.py", "tests/telemetry/test_otel_env.py",
           "tests/telemetry/test_sampling.py", "tests/telemetry/test_breaker.py", "tests/telemetry/test_buffering.py",
           "tests/telemetry/test_ending.py")  # spans made off the app's thread: the SDK's Sampler/IdGenerator hooks
# the openai SDK's surfaces, streams, wrapping, concurrency and coexistence with OTel's openai-v2
OPENAI_TESTS = ("tests/core/test_openai_spans.py", "tests/core/test_wrapping.py", "tests/core/test_concurrency.py",
                "tests/core/test_coexistence.py")
VERSIONS = nox.parametrize("version", ["oldest", "newest"], ids=["oldest", "newest"])


def pyproject_bound(dist: str) -> tuple[str, str | None]:
    """(min, max_exclusive) of ``dist`` as pyproject.toml declares it (``dist>=MIN[,<MAX]``)."""
    text = (ROOT / "pyproject.toml").read_text()
    m = re.search(rf'"{re.escape(dist)}>=([0-9.]+)(?:,<([0-9.]+))?"', text)
    if not m:
        raise ValueError(f"pyproject.toml declares no '{dist}>=' bound")
    return m.group(1), m.group(2)


def supported_bound(integration: str) -> tuple[str, str]:
    """The ``SUPPORTED`` tuple of ``arc_agent/instrumentation/<integration>.py``, read without importing Arc."""
    tree = ast.parse((ROOT / "arc_agent" / "instrumentation" / f"{integration}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SUPPORTED" for t in node.targets):
            low, high = ast.literal_eval(node.value)
            return low, high
    raise ValueError(f"{integration}.py has no SUPPORTED tuple")


def requirement(dist: str, bound: tuple[str, str | None], version: str) -> str:
    low, high = bound
    if version == "oldest":
        return f"{dist}=={low}"
    return f"{dist}>={low},<{high}" if high else f"{dist}>={low}"


def install(session: nox.Session, version: str, *requirements: str, extras: str = "collector") -> None:
    """One resolver pass: the project, the test tools and the pinned dependencies (upgraded on "newest")."""
    upgrade = ("--upgrade",) if version == "newest" else ()
    session.install(*upgrade, "-e", f".[{extras}]", "--config-settings", "editable_mode=compat", *TOOLS,
                    *requirements, silent=True)
    frozen = session.run("python", "-m", "pip", "list", "--format=freeze", silent=True) or ""
    pins = dict(line.lower().split("==", 1) for line in frozen.splitlines() if "==" in line)
    session.log("versions: " + " ".join(f"{d}=={pins[d]}" for d in SHOWN if d in pins))


def pytest(session: nox.Session, *paths: str) -> None:
    """The session's tests; ``nox -s NAME -- ARGS`` runs ``pytest ARGS`` instead (another subset, ``-x``...)."""
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *(session.posargs or paths))


@nox.session
@VERSIONS
def otel(session: nox.Session, version: str) -> None:
    """OpenTelemetry API/SDK/OTLP exporter: the span path, export, sampling, limits, breaker, WAL, collector."""
    pins = [requirement(d, pyproject_bound(d), version) for d in OTEL]
    # the pinned openai-v2 peer set needs OTel >= 1.43: on "oldest" the coexistence-with-peer tests skip
    peers = ("-r", ".ci/requirements-peers.txt") if version == "newest" else ()
    install(session, version, *pins, "openai", "anthropic", *peers)
    ci = os.environ.get("MATRIX_SUBSET") == "ci"
    pytest(session, *(OTEL_CI if ci else ("tests/core", "tests/telemetry")))


@nox.session
@VERSIONS
def wrapt(session: nox.Session, version: str) -> None:
    """wrapt: patching and unpatching the SDK classes, launcher and children, fail-open, exit."""
    install(session, version, requirement("wrapt", pyproject_bound("wrapt"), version), "openai", "anthropic")
    pytest(session, "tests/core")


@nox.session
@VERSIONS
def openai(session: nox.Session, version: str) -> None:
    """The openai SDK: every surface becomes one span; streams, early close, fail-open, concurrency, and
    coexistence with OTel's openai-v2 instrumentation (the peer set, on the newest OTel)."""
    install(session, version, requirement("openai", supported_bound("openai"), version), "anthropic",
            "-r", ".ci/requirements-peers.txt")
    pytest(session, *OPENAI_TESTS)


@nox.session
@VERSIONS
def anthropic(session: nox.Session, version: str) -> None:
    """The anthropic SDK: messages (sync, async, streams, ``messages.stream``) become spans; wrapping."""
    # anthropic < 0.40 passes `proxies=` to httpx, which httpx 0.28 removed (upstream): its era's httpx
    era = ("httpx<0.28",) if version == "oldest" else ()
    install(session, version, requirement("anthropic", supported_bound("anthropic"), version), "openai", *era)
    pytest(session, "tests/core/test_anthropic_spans.py", "tests/core/test_wrapping.py")


@nox.session
@VERSIONS
def playwright(session: nox.Session, version: str) -> None:
    """Playwright against the system Chromium: sync/async actions, capture paths, healing, the UI spans."""
    pin = requirement("playwright", supported_bound("playwright"), version)
    install(session, version, "selenium>=4.20", pin, extras="vision,collector")
    pytest(session, "tests/vision/test_playwright_sync.py", "tests/vision/test_playwright_async.py",
           "tests/vision/test_capture_paths.py")


# -- frameworks (issue 17 §2): LLM frameworks and WSGI apps with their own OTel, under arc-instrument ----------
# One venv per openai major the frameworks bring (.ci/run runs both):
# - "langchain": langchain-openai 1.8 installs openai 3.x; with it LangChain's Anthropic model, Flask and Django.
#   opentelemetry-instrumentation-flask/-wsgi/-django have no 0.66b2 release: their 0.66b1 pulls the OTel SDK
#   1.45.1 set, which this venv then runs (the main suite runs 1.45.2 with -asgi/-fastapi 0.66b2).
# - "llamaindex": llama-index-llms-openai pins openai 2.x, the only session on that major, so it also runs
#   the openai tests of the matrix (every surface, streams, wrapping, coexistence with openai-v2) on it.
FRAMEWORK_STACKS = {
    "langchain": (("langchain-openai>=1.7", "langchain-anthropic>=1.0", "openai", "anthropic", "flask>=3",
                   "django>=5", "gunicorn>=22", "fastapi>=0.110", "opentelemetry-instrumentation-flask==0.66b1",
                   "opentelemetry-instrumentation-django==0.66b1"),
                  ("tests/frameworks/test_langchain.py", "tests/frameworks/test_wsgi_apps.py")),
    "llamaindex": (("llama-index-llms-openai>=0.8", "openai", "anthropic", "-r", ".ci/requirements-peers.txt"),
                   ("tests/frameworks/test_llamaindex.py", *OPENAI_TESTS)),
}


@nox.session
@nox.parametrize("stack", list(FRAMEWORK_STACKS), ids=list(FRAMEWORK_STACKS))
def frameworks(session: nox.Session, stack: str) -> None:
    """LangChain (openai + anthropic), Flask and Django under gunicorn (openai 3.x); LlamaIndex (openai 2.x)."""
    requirements, tests = FRAMEWORK_STACKS[stack]
    install(session, "newest", *requirements)
    pytest(session, *tests)
