"""One wrapper shape for every LLM call: start → fix → call → finish.

``invoke_sync`` / ``invoke_async`` drive an ``LLMCall``; streaming results are handed to the stream
proxies in ``streams.py``, which finish the same ``LLMCall`` exactly once. Every Arc step is
guarded: on an internal error the user's call runs exactly as it would without Arc.
"""

from __future__ import annotations

import inspect
import json
from time import monotonic, perf_counter_ns, time_ns
from typing import Any, Callable

from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind, Status, StatusCode, get_current_span

from .. import failopen, state
from ..telemetry import attributes as A
from ..telemetry import tracing as _tracing
from ..telemetry.encodable import text, texts
from ..telemetry.ending import PendingSpan
from .features import request_features, response_format
from .lastcall import LAST_CALL
from .outcome import HTTP_ERROR, error_attributes
from .server import server as _server

_CLIENT = SpanKind.CLIENT
_ERROR = Status(StatusCode.ERROR)
_RUNTIME = state.RUNTIME
_get_current = otel_context.get_current
_set_last_call = LAST_CALL.set
# start() result for a sampled-out call that needs nothing more unless it fails (see invoke_sync)
SKIP = object()

# kwarg name -> attribute (the max-token spellings of each API map to one attribute)
_REQUEST_PARAMS = {
    "temperature": A.GEN_AI_REQUEST_TEMPERATURE,
    "top_p": A.GEN_AI_REQUEST_TOP_P,
    "max_tokens": A.GEN_AI_REQUEST_MAX_TOKENS,
    "max_completion_tokens": A.GEN_AI_REQUEST_MAX_TOKENS,
    "max_output_tokens": A.GEN_AI_REQUEST_MAX_TOKENS,
    "seed": A.GEN_AI_REQUEST_SEED,
    "frequency_penalty": A.GEN_AI_REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": A.GEN_AI_REQUEST_PRESENCE_PENALTY,
    "n": A.GEN_AI_REQUEST_CHOICE_COUNT,
}
_STOP_KEYS = ("stop", "stop_sequences")
_SCALARS = (bool, int, float, str)


class CallSpec:
    """What an integration tells the call path about one wrapped method."""

    __slots__ = ("provider", "operation", "build_view", "response_attributes", "make_observer",
                 "content_attributes", "output_content", "api", "outcome", "error_outcome")

    def __init__(self, provider: str, operation: str, build_view: Callable, response_attributes: Callable,
                 make_observer: Callable | None = None, content_attributes: Callable | None = None,
                 output_content: Callable | None = None, api: str = "", outcome: Callable | None = None,
                 error_outcome: Callable | None = None) -> None:
        self.provider = provider
        self.operation = operation
        self.build_view = build_view
        self.response_attributes = response_attributes
        self.make_observer = make_observer
        self.content_attributes = content_attributes
        self.output_content = output_content
        # the API's name in cassettes and features: chat.completions | responses | messages | embeddings
        self.api = api
        # outcome(response, response_format kind) -> arc.outcome of a successful non-stream call
        self.outcome = outcome
        # error_outcome(exception) -> arc.outcome of a reply the SDK received but refused (a parse
        # helper's validation), or None: then the call's error is an http_error
        self.error_outcome = error_outcome


def request_attributes(spec: CallSpec, kwargs: dict, instance: Any) -> dict:
    return _request_attributes(spec, kwargs, _server(instance))


def _request_attributes(spec: CallSpec, kwargs: dict, server) -> dict:
    model = kwargs.get("model")
    attrs = {A.GEN_AI_OPERATION_NAME: spec.operation, A.GEN_AI_PROVIDER_NAME: spec.provider}
    if isinstance(model, str):
        attrs[A.GEN_AI_REQUEST_MODEL] = text(model)  # the app's data: may hold lone surrogates
    get_attr = _REQUEST_PARAMS.get
    for key, value in kwargs.items():  # kwargs are few; the table is not
        attr = get_attr(key)
        if attr is not None:
            if value is not None and isinstance(value, _SCALARS):
                attrs[attr] = value
        elif key in _STOP_KEYS:
            if isinstance(value, str):
                attrs[A.GEN_AI_REQUEST_STOP_SEQUENCES] = (text(value),)
            elif isinstance(value, (list, tuple)) and all(isinstance(s, str) for s in value):
                attrs[A.GEN_AI_REQUEST_STOP_SEQUENCES] = texts(tuple(value))
    attrs[A.GEN_AI_REQUEST_STREAM] = kwargs.get("stream") is True
    if server is not None:
        attrs[A.SERVER_ADDRESS], attrs[A.SERVER_PORT] = server
    return attrs


def usage_attributes(usage: Any, attrs: dict) -> None:
    """Token usage into ``attrs``, from either naming (prompt/completion_tokens, input/output_tokens)."""
    if usage is None:
        return
    inp = getattr(usage, "prompt_tokens", None)
    if inp is None:
        inp = getattr(usage, "input_tokens", None)
    out = getattr(usage, "completion_tokens", None)
    if out is None:
        out = getattr(usage, "output_tokens", None)
    if isinstance(inp, int):
        attrs[A.GEN_AI_USAGE_INPUT_TOKENS] = inp
    if isinstance(out, int):
        attrs[A.GEN_AI_USAGE_OUTPUT_TOKENS] = out


def error_type(exc: BaseException) -> str:
    return type(exc).__qualname__


class LLMCall:
    """One intercepted call. Its span is started through the tracer at the call's start (its sampler
    decides then, with the fix already known) and given the rest of its attributes in one
    ``set_attributes`` when the call ends. It is never made the current span: nothing is attached
    to the app's context. A sampled-out call builds no attributes unless it fails: then its error
    span is started with the call's original start time (errors are kept). ``peer`` is another GenAI
    instrumentation's live span for the same call (OTel's openai-v2): Arc then enriches it instead
    of making a second one."""

    __slots__ = ("spec", "attrs", "kwargs", "arc_ns", "start_ns", "parent", "done", "first_chunk_ns",
                 "fix_applied", "start_perf", "resumed", "sampled", "peer", "minimal", "deferred", "span",
                 "outcome", "json_kind", "app_kwargs")

    def __init__(self, spec: CallSpec, kwargs: dict, attrs: dict, parent, start_perf: int) -> None:
        self.spec = spec
        self.kwargs = kwargs
        self.attrs = attrs
        self.parent = parent
        self.arc_ns = 0
        self.start_ns = time_ns()
        self.start_perf = start_perf
        self.done = False
        self.first_chunk_ns = 0
        self.fix_applied = False
        self.resumed = 0  # perf ns when Arc regained control after the library call
        self.sampled = True
        self.peer = None
        self.minimal = False  # circuit breaker open: passthrough, minimal span (see _passthrough)
        self.deferred = None  # sampled out: (instance, fix attributes) to describe the request if it fails
        self.span = None  # the call's recording span (None: sampled out, or a peer's span is enriched)
        self.outcome = None  # arc.outcome once known (outcome.py)
        self.json_kind = "text"  # the response format asked for (features.response_format)
        self.app_kwargs = None  # ARC_CAPTURE on: the app's own kwargs (self.kwargs: what was sent)

    def set(self, attrs: dict) -> None:
        self.attrs.update(attrs)

    def finish(self, exc: BaseException | None = None) -> None:
        """End the span exactly once (stream exhaustion, error, close, GC all land here)."""
        if self.done:
            return
        self.done = True
        if self.resumed:
            self.arc_ns += perf_counter_ns() - self.resumed
            self.resumed = 0
        error = exc is not None
        span = self.span
        if span is not None or error or self.peer is not None:
            attrs = self.attrs
            if self.deferred is not None and error:  # a sampled-out call failed: errors are kept
                instance, fix_attrs = self.deferred
                attrs = self.attrs = dict(span_request_attributes(self.spec, self.kwargs, instance, fix_attrs,
                                                                  self.fix_applied), **attrs)
            if self.first_chunk_ns:
                attrs[A.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = (self.first_chunk_ns - self.start_perf) / 1e9
            if error:
                attrs[A.ERROR_TYPE] = error_type(exc)
                attrs.update(error_attributes(exc, self.kwargs))
                if self.spec.error_outcome is not None:
                    attrs[A.ARC_OUTCOME] = self.spec.error_outcome(exc) or attrs[A.ARC_OUTCOME]
            elif self.outcome is not None:
                attrs[A.ARC_OUTCOME] = self.outcome
            attrs[A.ARC_INTERCEPTION_LATENCY_US] = self.arc_ns // 1000
            if None in attrs.values():  # the SDK would warn about each None
                attrs = {k: v for k, v in attrs.items() if v is not None}
            if self.peer is not None:
                span = self.peer
                span.set_attributes(attrs)
            elif span is not None:  # with Arc's own provider, ended off this thread (telemetry/ending.py)
                _tracing.end_span(span, attrs, _ERROR if error else None)
            else:  # sampled out at the start: the error span, started as of the call's start
                span = start_span(self.span_name(), self.parent, attrs, self.start_ns)
                if span is not None:
                    span.set_status(_ERROR)
                    span.end()
            if span is not None:  # what report_failure links to (a pending span: its context when asked)
                _set_last_call(span if type(span) is PendingSpan else span.get_span_context())
        if self.app_kwargs is not None:
            self._capture(exc, span)
        for observer in state.RUNTIME.observers:
            observer(self, error)

    def _capture(self, exc: BaseException | None, span) -> None:
        capture = state.RUNTIME.capture
        if capture is None:
            return
        if exc is not None:
            self.outcome = HTTP_ERROR
        try:
            capture.offer(self, exc, span.get_span_context() if span is not None else None)
        except Exception as inner:
            failopen.record("capture", inner)

    def span_name(self) -> str:
        model = self.kwargs.get("model")
        return f"{self.spec.operation} {text(model)}" if isinstance(model, str) else self.spec.operation


def start_span(name: str, parent, attributes: dict, start_ns: int):
    """A CLIENT span from Arc's tracer (None when Arc's sampler in front of the app's provider drops it)."""
    tracer = _tracing.get_tracer()
    pre = _tracing.presampler()
    if pre is not None and not pre.should_sample(parent, 0, name, _CLIENT, attributes).decision.is_sampled():
        return None
    return tracer.start_span(name, context=parent, kind=_CLIENT, attributes=attributes, start_time=start_ns)


def _start_attributes(spec: CallSpec, kwargs: dict, fix_applied: bool) -> dict:
    """What a sampler sees: the call's identity, and ``arc.fix.applied`` when a fix was applied (the
    sampler keeps those; ``False`` is set with the other attributes at the end, off the app's thread)."""
    attrs = {A.GEN_AI_OPERATION_NAME: spec.operation, A.GEN_AI_PROVIDER_NAME: spec.provider}
    model = kwargs.get("model")
    if isinstance(model, str):
        attrs[A.GEN_AI_REQUEST_MODEL] = text(model)
    if fix_applied:
        attrs[A.ARC_FIX_APPLIED] = True
    return attrs


def start(spec: CallSpec, instance: Any, kwargs: dict, t0: int) -> LLMCall | None:
    """Begin a call: fix, then start its span (the sampler decides, knowing whether a fix was
    applied), and build the span's request attributes only when it records (a sampled-out call
    builds them later, and only if it fails)."""
    rt = state.RUNTIME
    ctx = _get_current()
    peer = None
    if ctx:  # an empty context (no current span, no suppression) needs no look inside
        if rt.suppressed(ctx):
            return None
        peer = _peer_genai_span(ctx)
    if rt.breaker_open:
        return _passthrough(spec, kwargs, t0, ctx)
    send_kwargs = kwargs
    fix_attrs = None
    fix_applied = False
    fixer = rt.fixer
    outcome = None
    if fixer.active:  # breaker open already returned through _passthrough
        try:
            outcome = fixer.fix(spec.build_view(kwargs))
        except Exception as exc:
            failopen.record("fixer", exc)
    if outcome is not None:
        fix_attrs = outcome.attributes
        if outcome.kwargs is not None:
            send_kwargs = outcome.kwargs
            fix_applied = True
    if peer is not None:  # the peer span already describes the request: add only Arc's facts
        attrs = dict(fix_attrs) if fix_attrs else {}
        attrs[A.ARC_FIX_APPLIED] = fix_applied
        _add_features(spec, send_kwargs, attrs)
        call = LLMCall(spec, send_kwargs, attrs, ctx, t0)
        call.fix_applied = fix_applied
        call.peer = peer
        call.json_kind = attrs.get(A.ARC_REQUEST_RESPONSE_FORMAT, "text")
        if rt.capture is not None:
            call.app_kwargs = kwargs
        return call
    start_ns = time_ns()
    model = send_kwargs.get("model")
    name = f"{spec.operation} {model}" if isinstance(model, str) else spec.operation
    start_attrs = _start_attributes(spec, send_kwargs, fix_applied)
    span = _tracing.begin_span(name, ctx, _CLIENT, start_attrs, start_ns)  # decided here, made off-thread
    if span is _tracing.ON_THIS_THREAD:
        span = start_span(name, ctx, start_attrs, start_ns)
    if span is None or not span.is_recording():
        # sampled out, nothing to fix: no LLMCall at all, unless it is a stream (its errors come
        # later) or a raw response (its result needs handling); see invoke_sync
        if outcome is None and rt.on_sampled_out is not None and kwargs.get("stream") is not True \
                and "extra_headers" not in kwargs and rt.capture is None:
            return SKIP
        call = LLMCall(spec, send_kwargs, {}, ctx, t0)
        call.sampled = False
        call.deferred = (instance, fix_attrs)
        if rt.capture is not None:  # the outcome decides the capture rate
            call.json_kind = response_format(spec.api, send_kwargs)
    else:
        attrs = span_request_attributes(spec, send_kwargs, instance, fix_attrs, fix_applied)
        for key in start_attrs:  # the span has them already
            attrs.pop(key, None)
        call = LLMCall(spec, send_kwargs, attrs, ctx, t0)
        call.span = span
        call.json_kind = call.attrs.get(A.ARC_REQUEST_RESPONSE_FORMAT, "text")
    call.start_ns = start_ns
    call.fix_applied = fix_applied
    if rt.capture is not None:
        call.app_kwargs = kwargs
    return call


def span_request_attributes(spec: CallSpec, kwargs: dict, instance: Any, fix_attrs: dict | None,
                            fix_applied: bool) -> dict:
    """What the span says about the request actually sent (after any fix), plus the fix facts."""
    attrs = request_attributes(spec, kwargs, instance)
    if fix_attrs:
        attrs.update(fix_attrs)
    attrs[A.ARC_FIX_APPLIED] = fix_applied
    _add_features(spec, kwargs, attrs)
    if state.RUNTIME.capture_content and spec.content_attributes is not None:
        try:
            attrs.update(spec.content_attributes(kwargs))
        except Exception as exc:
            failopen.record("content", exc)
    return attrs


def _add_features(spec: CallSpec, kwargs: dict, attrs: dict) -> None:
    """The ``arc.request.*`` features (features.py) of chat-like APIs into ``attrs``."""
    if spec.outcome is None or spec.api == "embeddings":
        return
    try:
        attrs.update(request_features(spec.api, kwargs))
    except Exception as exc:
        failopen.record("features", exc)


def _passthrough(spec: CallSpec, kwargs: dict, t0: int, ctx) -> LLMCall:
    """Circuit breaker open (telemetry/breaker.py): no fix, no content, no response parsing; the span
    carries only what identifies the call, its error and Arc's time, and is still sampled."""
    attrs = _start_attributes(spec, kwargs, False)
    attrs[A.ARC_FIX_APPLIED] = False
    attrs[A.ARC_BREAKER_OPEN] = True
    call = LLMCall(spec, kwargs, attrs, ctx, t0)
    call.minimal = True
    peer = _peer_genai_span(ctx) if ctx else None
    if peer is not None:
        call.peer = peer
        call.attrs = {k: v for k, v in attrs.items() if k.startswith("arc.")}
        return call
    span = start_span(call.span_name(), ctx, attrs, call.start_ns)
    if span is not None and span.is_recording():
        call.span = span
        call.attrs = {}  # the span has them already
    else:
        call.sampled = False
    return call


def _peer_genai_span(ctx):
    """The current span if it is another instrumentation's live GenAI client span for this call."""
    span = get_current_span(ctx)
    if not span.is_recording():
        return None
    attributes = getattr(span, "attributes", None)
    if attributes and A.GEN_AI_OPERATION_NAME in attributes and getattr(span, "kind", None) is _CLIENT:
        return span
    return None


def _on_result(call: LLMCall, result: Any, raw_mode: str | None) -> Any:
    """Record the response, or hand a stream to a proxy that will finish the call."""
    spec = call.spec
    if call.minimal:  # circuit breaker open: the result goes back untouched (streams unobserved)
        call.finish()
        return result
    if raw_mode == "stream":  # with_streaming_response: body not read yet; status is all we know
        call.finish()
        return result
    parsed = result
    if raw_mode is not None:
        if call.kwargs.get("stream") is True:
            if spec.make_observer is None:
                call.finish()
                return result
            from .streams import RawStreamResponse

            return RawStreamResponse(result, call, spec.make_observer())
        try:
            parsed = result.parse()
        except Exception as exc:  # a parse helper refused the reply: the app's own parse() raises it too
            call.finish(exc)
            return result
        if inspect.iscoroutine(parsed):  # an async client's response: recorded when the app parses it
            parsed.close()
            return _parsed_later(call, result)
    if call.kwargs.get("stream") is True and spec.make_observer is not None:
        from .streams import wrap_stream

        return wrap_stream(result, call, spec.make_observer())
    _record_response(call, parsed)
    call.finish()
    return result


def _parsed_later(call: LLMCall, response: Any) -> Any:
    """``response`` behind a proxy that records the call when the app awaits its ``parse()``."""
    from .raw_async import AsyncRawResponse

    if call.resumed:
        call.arc_ns += perf_counter_ns() - call.resumed
        call.resumed = 0

    def record(parsed: Any, exc: BaseException | None) -> None:
        if call.done:
            return
        try:
            call.resumed = perf_counter_ns()
            if parsed is not None:
                _record_response(call, parsed)
            call.finish(exc)
        except Exception as inner:
            failopen.record("response", inner)

    return AsyncRawResponse(response, record)


def _record_response(call: LLMCall, parsed: Any) -> None:
    """The response's attributes and outcome on the call (not finished here)."""
    spec = call.spec
    if call.span is not None or call.peer is not None:  # sampled out: no span, no attributes
        call.set(spec.response_attributes(parsed))
        if spec.outcome is not None:
            call.outcome = spec.outcome(parsed, call.json_kind)
        if state.RUNTIME.capture_content and spec.output_content is not None:
            call.set(spec.output_content(parsed))
    elif call.app_kwargs is not None and spec.outcome is not None:  # sampled out, captured: outcome only
        call.outcome = spec.outcome(parsed, call.json_kind)


def _raw_mode(kwargs: dict) -> str | None:
    headers = kwargs.get("extra_headers")
    if headers:
        value = headers.get("X-Stainless-Raw-Response")
        if value is not None:
            return "stream" if value == "stream" else "raw"
    return None


def sync_method(spec: CallSpec, original: Callable) -> Callable:
    """The replacement of a sync LLM method (``instrumentation.base.wrap_method``): the fast skip
    inline (see sampling.py: sampled out by the current gap, nothing to fix, no context to honour
    (no current span, no suppression), no stream or raw response), else ``invoke_sync``. Inline
    because a sampled-out call is nine in ten under sampling: one Python frame and one code
    object fewer on that path (its cost: benchmarks/RESULTS.md). The skip
    only decrements the gap (the sampler counts the calls it took from that): no clock read but
    the window check, no counter, no span unless the call fails."""
    rt = _RUNTIME
    get_current = _get_current

    def method(*args, **kwargs):
        s = rt.skipper
        if s is not None and s.left > 0 and not rt.fixer.active and not rt.breaker_open and rt.capture is None \
                and not get_current() \
                and (now := monotonic()) < s.window_end and kwargs.get("stream") is not True \
                and "extra_headers" not in kwargs:
            if s.count_spec is not None:  # the metrics endpoint counts every call, with Arc's time
                return _timed_skip(spec, s, original, args, kwargs)
            s.left -= 1
            try:
                return original(*args, **kwargs)
            except BaseException as exc:
                _fast_skip_failed(spec, s, args[0] if args else None, kwargs, now, 0, exc)
                raise
        return invoke_sync(spec, original, args[0] if args else None, args, kwargs)

    return method


def _timed_skip(spec: CallSpec, s, original: Callable, args: tuple, kwargs: dict) -> Any:
    """The fast skip with the metrics endpoint on: Arc's time is measured for its call count."""
    t0 = perf_counter_ns()
    now = monotonic()
    s.left -= 1
    arc_ns = perf_counter_ns() - t0
    try:
        result = original(*args, **kwargs)
    except BaseException as exc:
        _fast_skip_failed(spec, s, args[0] if args else None, kwargs, now, arc_ns, exc)
        raise
    s.count_spec(spec, arc_ns)
    return result


def _fast_skip_failed(spec: CallSpec, s, instance: Any, kwargs: dict, started: float, arc_ns: int,
                      exc: BaseException) -> None:
    s.fast_failed += 1  # not a sampled-out call after all: its error span is made
    _skipped_call_failed(spec, instance, kwargs, int((monotonic() - started) * 1e9), arc_ns, exc)


def invoke_sync(spec: CallSpec, wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
    """The wrapper of every sync LLM method (wrapt's argument order after ``spec``)."""
    t0 = perf_counter_ns()
    try:
        call = start(spec, instance, kwargs, t0)
    except Exception as exc:
        failopen.record("start", exc)
        call = None
    if call is None:
        return wrapped(*args, **kwargs)
    t1 = perf_counter_ns()
    if call is SKIP:  # sampled out: the cheapest path Arc has
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            _skipped_call_failed(spec, instance, kwargs, perf_counter_ns() - t0, t1 - t0, exc)
            raise
        try:
            state.RUNTIME.on_sampled_out(spec, t1 - t0)
        except Exception as exc:  # e.g. removed by a shutdown meanwhile
            failopen.record("observe", exc)
        return result
    call.arc_ns += t1 - t0
    try:
        result = wrapped(*args, **call.kwargs)
    except BaseException as exc:
        _finish_error(call, exc, perf_counter_ns())
        raise
    return _finish_ok(call, result, perf_counter_ns())


async def invoke_async(spec: CallSpec, wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
    """``invoke_sync`` for the async methods, with ``sync_method``'s fast skip (the coroutine
    exists anyway: the SDKs' async ``create`` returns one)."""
    rt = _RUNTIME
    s = rt.skipper
    if s is not None and s.left > 0 and not rt.fixer.active and not rt.breaker_open and rt.capture is None \
            and not _get_current() \
            and (now := monotonic()) < s.window_end and kwargs.get("stream") is not True \
            and "extra_headers" not in kwargs:
        t0 = perf_counter_ns() if s.count_spec is not None else 0
        s.left -= 1
        arc_ns = perf_counter_ns() - t0 if t0 else 0
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            _fast_skip_failed(spec, s, instance, kwargs, now, arc_ns, exc)
            raise
        if t0:
            s.count_spec(spec, arc_ns)
        return result
    t0 = perf_counter_ns()
    try:
        call = start(spec, instance, kwargs, t0)
    except Exception as exc:
        failopen.record("start", exc)
        call = None
    if call is None:
        return await wrapped(*args, **kwargs)
    t1 = perf_counter_ns()
    if call is SKIP:
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            _skipped_call_failed(spec, instance, kwargs, perf_counter_ns() - t0, t1 - t0, exc)
            raise
        try:
            state.RUNTIME.on_sampled_out(spec, t1 - t0)
        except Exception as exc:  # e.g. removed by a shutdown meanwhile
            failopen.record("observe", exc)
        return result
    call.arc_ns += t1 - t0
    try:
        result = await wrapped(*args, **call.kwargs)
    except BaseException as exc:
        _finish_error(call, exc, perf_counter_ns())
        raise
    return _finish_ok(call, result, perf_counter_ns())


def _skipped_call_failed(spec: CallSpec, instance: Any, kwargs: dict, elapsed_ns: int, arc_ns: int,
                         exc: BaseException) -> None:
    """A sampled-out call failed: errors are always kept, so describe it in full now (the context
    is the start's: the library call restored anything it attached)."""
    try:
        call = LLMCall(spec, kwargs, {}, _get_current(), 0)
        call.start_ns -= elapsed_ns
        call.arc_ns = arc_ns
        call.sampled = False
        call.deferred = (instance, None)
        call.finish(exc)
    except Exception as inner:
        failopen.record("finish", inner)


def _finish_ok(call: LLMCall, result: Any, t2: int) -> Any:
    call.resumed = t2
    try:
        return _on_result(call, result, _raw_mode(call.kwargs) if "extra_headers" in call.kwargs else None)
    except Exception as exc:
        failopen.record("response", exc)
        try:
            call.finish()
        except Exception as exc2:
            failopen.record("finish", exc2)
        return result


def _finish_error(call: LLMCall, exc: BaseException, t2: int) -> None:
    call.resumed = t2
    try:
        call.finish(exc)
    except Exception as inner:
        failopen.record("finish", inner)


def messages_json(messages: Any) -> str:
    """Serialize request/response messages for opt-in content capture."""
    return text(json.dumps(messages, default=lambda o: getattr(o, "model_dump", lambda: repr(o))(),
                           ensure_ascii=False))
