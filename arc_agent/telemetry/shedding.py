"""Arc's load shedding as a standard OpenTelemetry ``Sampler`` (``ArcSampler``).

Kept apart from ``sampling.py`` (imported at activation, inside the app's ``import openai``) so the
OTel SDK is imported only where spans are made.
"""

from __future__ import annotations

import os

from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import get_current_span

from .. import state
from . import attributes as A


class ArcSampler(Sampler):
    """Arc's load shedding as a standard OTel ``Sampler``, composed with the configured one.

    A span is exported only if every step keeps it: (1) parent-based: under a valid unsampled parent
    nothing is sampled; (2) Arc's load shedding (``state.RUNTIME.sampler``, a ``DynamicSampler``, set
    when ``ARC_SAMPLE_QPS`` is) for GenAI call spans, except spans that say they failed
    (``error.type``) or carry an applied fix (``arc.fix.applied``); (3) the configured sampler
    (``OTEL_TRACES_SAMPLER``/``_ARG`` as the SDK reads them, or whatever the caller passes).

    Errors are known only when a call ends: the call path starts its span at the call's start, and
    when that span was sampled out and the call fails, it starts the error span then, with the
    call's original start time and ``error.type`` in its start attributes (step 2 keeps it)."""

    def __init__(self, configured: Sampler, runtime=None) -> None:
        self.configured = configured
        self._rt = runtime
        # the SDK's default (``parentbased_always_on``, what it builds when OTEL_TRACES_SAMPLER is unset):
        # step 1 already is its parent-based half, so step 3 keeps every span and is answered here,
        # with the result it would give (one parent look-up and two sampler calls fewer per span)
        self._keeps_all = isinstance(configured, ParentBased) and default_sampler_configured()

    def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None, links=None,
                      trace_state=None) -> SamplingResult:
        parent = get_current_span(parent_context).get_span_context()
        return self.sample_under(parent, parent_context, trace_id, name, kind, attributes, links, trace_state)

    def sample_under(self, parent, parent_context, trace_id, name, kind=None, attributes=None, links=None,
                     trace_state=None) -> SamplingResult:
        """``should_sample`` with the parent's ``SpanContext`` already looked up (``parent``)."""
        if parent.is_valid and not parent.trace_flags.sampled:
            return SamplingResult(Decision.DROP, None, parent.trace_state)
        if attributes and self.sheds(attributes):
            return SamplingResult(Decision.DROP, None, parent.trace_state if parent.is_valid else None)
        if self._keeps_all:
            parent_state = parent.trace_state if parent.is_valid else None
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, parent_state)
        return self.configured.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def sheds(self, attributes) -> bool:
        """Whether load shedding drops a span with these start attributes (asks the sampler once)."""
        shedder = (self._rt or state.RUNTIME).sampler
        if shedder is None or A.GEN_AI_OPERATION_NAME not in attributes or A.ERROR_TYPE in attributes \
                or attributes.get(A.ARC_FIX_APPLIED) is True:
            return False
        return not shedder()

    def get_description(self) -> str:
        return f"ArcSampler{{{self.configured.get_description()}}}"


def default_sampler_configured(environ=None) -> bool:
    """True when the SDK builds its default sampler, ``parentbased_always_on`` (read as the SDK reads it)."""
    from opentelemetry.sdk.environment_variables import OTEL_TRACES_SAMPLER

    env = os.environ if environ is None else environ
    return env.get(OTEL_TRACES_SAMPLER, "parentbased_always_on").strip().lower() == "parentbased_always_on"
