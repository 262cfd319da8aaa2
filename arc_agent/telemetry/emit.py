"""Emit one finished client span from (name, parent context, attributes, start time, error).

Arc builds its LLM spans at the end of the call, complete. When Arc owns the tracer provider, the
SDK's live-``Span`` machinery (sampler call, locks, per-attribute validation, a second copy into a
``ReadableSpan``) buys nothing, and it was most of Arc's per-call cost; ``DirectEmitter`` builds the
``ReadableSpan`` itself and hands it to the provider's span processors. It keeps the SDK default
sampler's behaviour (ParentBased(AlwaysOn): follow a valid parent's sampled flag, else sample).
With the app's own provider, ``SdkEmitter`` goes through that provider's tracer as usual.
"""

from __future__ import annotations

from random import getrandbits as _getrandbits
from time import time_ns

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import DEFAULT_TRACE_STATE as _DEFAULT_TRACE_STATE
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.propagation import _SPAN_KEY

_CLIENT = SpanKind.CLIENT
_ERROR = Status(StatusCode.ERROR)
_UNSET = Status(StatusCode.UNSET)
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_tuple_new = tuple.__new__
_object_new = object.__new__


def resolve_attributes(attributes):
    """Span attributes given as a dict, or as ``(builder, *args)`` to be built where the span is
    written (``llm/call.py`` ``described_later``); if the builder fails, the call's own attributes
    (its last argument): the span still goes out."""
    if attributes.__class__ is not tuple:
        return attributes
    try:
        return attributes[0](*attributes[1:])
    except Exception as exc:
        from .. import failopen

        failopen.record("span attributes", exc)
        return attributes[-1]


class SdkEmitter:
    records = False  # see DirectEmitter

    def __init__(self, tracer) -> None:
        self.tracer = tracer

    def emit(self, name: str, parent, attributes, start_ns: int, error: bool) -> None:
        attributes = resolve_attributes(attributes)
        span = self.tracer.start_span(name, context=parent, kind=_CLIENT, attributes=attributes,
                                      start_time=start_ns)
        if error:
            span.set_status(_ERROR)
        span.end()


class DirectEmitter:
    """Builds the finished span as cheaply as the SDK's own types allow: the ``SpanContext`` tuple
    without re-validating ids Arc just generated, and the ``ReadableSpan`` from a template of a real
    one (``__init__`` with ten keyword arguments was a third of a kept call's Arc time). Both
    shortcuts check themselves against the SDK's constructors once, and fall back to them.

    When Arc's own batch processor and exporter alone take the spans, no SDK object is built at all:
    the queue gets a plain tuple (``otlp_encode.RECORD``) and the export thread draws the ids and
    writes the OTLP bytes from it, dropping None-valued attributes as the SDK would. That moves
    ~7k instructions per kept call off the app thread and leaves the garbage collector one tracked
    object per queued span instead of four."""

    def __init__(self, provider, scope) -> None:
        self.processor = provider._active_span_processor  # every processor added to Arc's provider
        # the SDK's multi-processor keeps a tuple it replaces when a processor is added
        self._multi = self.processor if isinstance(getattr(self.processor, "_span_processors", None), tuple) else None
        self._processors = None  # the processor tuple ``_sink`` was chosen for
        self._sink = self.processor.on_end
        self.records = False  # queue span records for Arc's encoder (see the class docstring)
        self.resource = provider.resource
        self.scope = scope
        ids = RandomIdGenerator()
        self.new_trace_id = ids.generate_trace_id
        self.new_span_id = ids.generate_span_id
        self._template = _span_template(self.resource, scope)

    def emit(self, name: str, parent, attributes, start_ns: int, error: bool) -> None:
        span = parent.get(_SPAN_KEY) if parent else None
        parent_ctx = span.get_span_context() if span is not None else None
        if parent_ctx is not None and not parent_ctx.is_valid:
            parent_ctx = None
        if parent_ctx is not None and not parent_ctx.trace_flags.sampled:
            return  # the parent was not sampled: neither is its child
        multi = self._multi
        if multi is not None:
            processors = multi._span_processors
            if processors is not self._processors:
                self._choose_sink(processors)
        if self.records:  # otlp_encode.RECORD
            if parent_ctx is None:
                self._sink((name, 0, 0, False, attributes, start_ns, time_ns(), error, self.resource, self.scope))
            else:
                self._sink((name, parent_ctx.trace_id, parent_ctx.span_id, parent_ctx.is_remote, attributes,
                            start_ns, time_ns(), error, self.resource, self.scope))
            return
        attributes = resolve_attributes(attributes)
        if parent_ctx is not None:
            trace_id = parent_ctx.trace_id
        else:
            trace_id = _getrandbits(128) or self.new_trace_id()
        if None in attributes.values():  # the SDK drops None-valued attributes; so do we
            attributes = {k: v for k, v in attributes.items() if v is not None}
        context = _tuple_new(SpanContext, (trace_id, _getrandbits(64) or self.new_span_id(), False, _SAMPLED,
                                           _DEFAULT_TRACE_STATE, True))
        template = self._template
        if template is None:
            self.processor.on_end(ReadableSpan(
                name=name, context=context, parent=parent_ctx, resource=self.resource, attributes=attributes,
                kind=_CLIENT, status=_ERROR if error else _UNSET, start_time=start_ns, end_time=time_ns(),
                instrumentation_scope=self.scope))
            return
        fields = template.copy()
        fields["_name"] = name
        fields["_context"] = context
        fields["_parent"] = parent_ctx
        fields["_attributes"] = attributes
        fields["_start_time"] = start_ns
        fields["_end_time"] = time_ns()
        if error:
            fields["_status"] = _ERROR
        readable = _object_new(ReadableSpan)
        readable.__dict__ = fields
        self._sink(readable)

    def _choose_sink(self, processors: tuple) -> None:
        """Arc's own batch processor alone: its direct sink; else every processor's ``on_end``."""
        from .queue import CountingBatchSpanProcessor

        only = processors[0] if len(processors) == 1 else None
        own = isinstance(only, CountingBatchSpanProcessor)
        self._sink = only.sink() if own else self.processor.on_end
        self.records = own and only.sink_encodes_directly()
        self._processors = processors


_TEMPLATE_FIELDS = ("_name", "_context", "_parent", "_attributes", "_start_time", "_end_time", "_status")


def _span_template(resource, scope) -> dict | None:
    """The instance dict of a real client ``ReadableSpan`` with Arc's constant fields, if this SDK's
    ReadableSpan keeps its state in the fields ``emit`` sets (else None: use the constructor)."""
    try:
        ids = (0x1234, 0x56)
        real_ctx = SpanContext(*ids, is_remote=False, trace_flags=_SAMPLED)
        if _tuple_new(SpanContext, (*ids, False, _SAMPLED, _DEFAULT_TRACE_STATE, True)) != real_ctx:
            return None
        real = ReadableSpan(name="n", context=real_ctx, parent=None, resource=resource, attributes={"k": 1},
                            kind=_CLIENT, status=_UNSET, start_time=1, end_time=2, instrumentation_scope=scope)
        fields = dict(vars(real))
        copy = _object_new(ReadableSpan)
        copy.__dict__ = dict(fields)
        same = (copy.name, copy.context, copy.attributes, copy.start_time, copy.end_time, copy.status,
                copy.resource, copy.instrumentation_scope, copy.kind) == \
            (real.name, real.context, real.attributes, real.start_time, real.end_time, real.status,
             real.resource, real.instrumentation_scope, real.kind)
        return fields if same and all(f in fields for f in _TEMPLATE_FIELDS) else None
    except Exception:
        return None
