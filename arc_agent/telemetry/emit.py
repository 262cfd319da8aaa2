"""Emit one finished client span from (name, parent context, attributes, start time, error).

Arc builds its LLM spans at the end of the call, complete. When Arc owns the tracer provider, the
SDK's live-``Span`` machinery (sampler call, locks, per-attribute validation, a second copy into a
``ReadableSpan``) buys nothing, and it was most of Arc's per-call cost; ``DirectEmitter`` builds the
``ReadableSpan`` itself and hands it to the provider's span processors. It keeps the SDK default
sampler's behaviour (ParentBased(AlwaysOn): follow a valid parent's sampled flag, else sample).
With the app's own provider, ``SdkEmitter`` goes through that provider's tracer as usual.
"""

from __future__ import annotations

from time import time_ns

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

_CLIENT = SpanKind.CLIENT
_ERROR = Status(StatusCode.ERROR)
_UNSET = Status(StatusCode.UNSET)
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_get_current_span = trace.get_current_span


class SdkEmitter:
    def __init__(self, tracer) -> None:
        self.tracer = tracer

    def emit(self, name: str, parent, attributes: dict, start_ns: int, error: bool) -> None:
        span = self.tracer.start_span(name, context=parent, kind=_CLIENT, attributes=attributes,
                                      start_time=start_ns)
        if error:
            span.set_status(_ERROR)
        span.end()


class DirectEmitter:
    def __init__(self, provider, scope) -> None:
        self.processor = provider._active_span_processor  # every processor added to Arc's provider
        self.resource = provider.resource
        self.scope = scope
        ids = RandomIdGenerator()
        self.new_trace_id = ids.generate_trace_id
        self.new_span_id = ids.generate_span_id

    def emit(self, name: str, parent, attributes: dict, start_ns: int, error: bool) -> None:
        parent_ctx = _get_current_span(parent).get_span_context()
        if parent_ctx.is_valid:
            if not parent_ctx.trace_flags.sampled:
                return  # the parent was not sampled: neither is its child
            trace_id = parent_ctx.trace_id
        else:
            trace_id, parent_ctx = self.new_trace_id(), None
        if None in attributes.values():  # the SDK drops None-valued attributes; so do we
            attributes = {k: v for k, v in attributes.items() if v is not None}
        context = SpanContext(trace_id, self.new_span_id(), is_remote=False, trace_flags=_SAMPLED)
        self.processor.on_end(ReadableSpan(
            name=name, context=context, parent=parent_ctx, resource=self.resource, attributes=attributes,
            kind=_CLIENT, status=_ERROR if error else _UNSET, start_time=start_ns, end_time=time_ns(),
            instrumentation_scope=self.scope))
