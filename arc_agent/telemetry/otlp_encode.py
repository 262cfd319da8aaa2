"""OTLP ``ExportTraceServiceRequest`` bytes for a batch of SDK spans, written directly.

Why not the SDK's ``encode_spans``: it builds a protobuf object per attribute and value, which made
encoding the largest CPU cost of a span (~70 µs for a 15-attribute LLM span on our 2-core box).
Here each span is written as wire bytes, and the bytes of attribute pairs that repeat from call to
call (operation, provider, model, server, flags) come from a bounded cache. The result parses to
the same message the SDK encoder builds (a test checks this field by field). Spans with events,
links or a trace state, and values of unexpected types, go through the SDK encoder instead.
"""

from __future__ import annotations

from random import getrandbits
from struct import Struct
from typing import Sequence

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.trace import SpanKind, StatusCode

from .emit import resolve_attributes

_FIXED64 = Struct("<Q").pack
_DOUBLE = Struct("<d").pack
_SMALL = [bytes((i,)) for i in range(128)]
_PAIR_CACHE_MAX = 4096
_keys: dict = {}  # key -> KeyValue field 1 bytes
_span_pairs: dict = {}  # span attribute key -> {value: (class, framed KeyValue)}, None once volatile
_VALUES_PER_KEY = 64
_UNSEEN = ()  # falsy marker: key not in _span_pairs
_names: dict = {}  # span name -> framed Span field 5
_statuses: dict = {}  # Status object (hashed by identity) without description -> framed Span field 15
_TIMES = Struct("<BQBQ").pack  # Span fields 7 and 8 (fixed64 start and end time)
_blocks: dict = {}  # id(Resource / InstrumentationScope) -> (the object, framed bytes)
_CACHED_TYPES = frozenset((str, bool, int, float))
_KIND = {kind: b"\x30" + _SMALL[kind.value + 1] for kind in SpanKind}  # OTLP kinds are the API's + 1
_STATUS_CODE = {code: b"\x18" + _SMALL[code.value] if code.value else b"" for code in StatusCode}
_STATUS = {code: b"\x7a" + _SMALL[len(body)] + body for code, body in _STATUS_CODE.items()}


# A span record: what Arc's ``DirectEmitter`` queues instead of an SDK span when this encoder alone
# takes its spans (a plain tuple, built on the app thread with no SDK object). The encoder draws the
# span id (and the trace id of a root span) when it writes the bytes.
RECORD = ("name", "parent trace id or 0", "parent span id or 0", "parent is remote",
          "attributes (a dict or (builder, *args): emit.resolve_attributes)", "start ns", "end ns", "error",
          "resource", "instrumentation scope")
_CLIENT_KIND = b"\x30" + _SMALL[SpanKind.CLIENT.value + 1]
_FLAGS_LOCAL = b"\x85\x01\x00\x01\x00\x00"  # Span field 16: sampled, parent local (or none)
_FLAGS_REMOTE = b"\x85\x01\x00\x03\x00\x00"  # ... parent remote


class _Fallback(Exception):
    pass


def _varint(n: int) -> bytes:
    if n < 128:
        return _SMALL[n] if n >= 0 else _varint(n + (1 << 64))
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field."""
    n = len(payload)
    return tag + (_SMALL[n] if n < 128 else _varint(n)) + payload


def _any_value(value) -> bytes:
    cls = value.__class__
    if cls is str:
        return _field(b"\x0a", value.encode())
    if cls is bool:
        return b"\x10\x01" if value else b"\x10\x00"
    if cls is int:
        if not -(1 << 63) <= value < (1 << 63):
            raise _Fallback
        return b"\x18" + _varint(value)
    if cls is float:
        return b"\x21" + _DOUBLE(value)
    if cls is tuple or cls is list:
        return _field(b"\x2a", b"".join(_field(b"\x0a", _any_value(v)) for v in value))
    raise _Fallback  # bytes, mappings, None, subclasses: the SDK encoder knows them all


def _key_value(key: str, value, tag: bytes) -> bytes:
    key_field = _keys.get(key)
    if key_field is None:
        key_field = _field(b"\x0a", key.encode())
        if len(_keys) < _PAIR_CACHE_MAX:
            _keys[key] = key_field
    return _field(tag, key_field + _field(b"\x12", _any_value(value)))


def _plain(attributes):
    """The plain dict behind an SDK attribute mapping (iterating BoundedAttributes is slow)."""
    inner = getattr(attributes, "_dict", None)
    return inner if inner.__class__ is dict else attributes


def _attributes(attributes, tag: bytes) -> bytes:
    """Resource and scope attributes (encoded once per object, see ``_blocks``)."""
    if not attributes:
        return b""
    return b"".join([_key_value(key, value, tag) for key, value in _plain(attributes).items()])


def _span_attributes(attributes) -> bytes:
    """Span attributes (Span field 9), with framed pairs cached per key and value.

    A key whose values keep changing (response ids, token counts) stops being cached after
    ``_VALUES_PER_KEY`` values; the rest (operation, model, server, flags) cost two dict lookups.
    A hit is used only for a value of the same class (True == 1 == 1.0); tuples are cached only
    when all their items are strings, so equal tuples encode alike. None values are dropped, as the
    SDK drops them (Arc's ``DirectEmitter`` leaves that to this encoder)."""
    parts = []
    append = parts.append
    cache = _span_pairs
    for key, value in attributes.items():
        if value is None:
            continue
        values = cache.get(key, _UNSEEN)
        if values:  # a known, cacheable key (_UNSEEN and the empty dict are falsy, None too)
            try:
                hit = values.get(value)
            except TypeError:  # unhashable (a list)
                hit = None
            if hit is not None and hit[0] is value.__class__:
                append(hit[1])
                continue
        framed = _key_value(key, value, b"\x4a")
        append(framed)
        if values is None:
            continue  # volatile key
        if values is _UNSEEN:
            if len(cache) >= _PAIR_CACHE_MAX:
                continue
            values = cache[key] = {}
        cls = value.__class__
        if cls in _CACHED_TYPES or (cls is tuple and all(v.__class__ is str for v in value)):
            if len(values) >= _VALUES_PER_KEY:
                cache[key] = None
            else:
                values[value] = (cls, framed)
    return b"".join(parts)


def _resource(resource) -> bytes:
    """ResourceSpans field 1 (resource), cached: one Resource object serves every span."""
    cached = _blocks.get(id(resource))
    if cached is not None and cached[0] is resource:
        return cached[1]
    framed = _field(b"\x0a", _attributes(resource.attributes, b"\x0a"))
    if len(_blocks) < 64:
        _blocks[id(resource)] = (resource, framed)  # holding the object keeps its id unique
    return framed


def _scope(scope) -> bytes:
    """ScopeSpans field 1 (scope), cached per InstrumentationScope."""
    if scope is None:
        return b"\x0a\x00"
    cached = _blocks.get(id(scope))
    if cached is not None and cached[0] is scope:
        return cached[1]
    body = b""
    if scope.name:
        body += _field(b"\x0a", scope.name.encode())
    if scope.version:
        body += _field(b"\x12", scope.version.encode())
    body += _attributes(scope.attributes, b"\x1a")
    framed = _field(b"\x0a", body)
    if len(_blocks) < 64:
        _blocks[id(scope)] = (scope, framed)
    return framed


def _span(span) -> bytes:
    """One Span, from the span's own fields (SDK ``ReadableSpan`` and ``Span`` keep them in their
    instance dict); anything else goes through the public properties."""
    try:
        d = span.__dict__
        ctx, parent, attributes, name, kind, status = (d["_context"], d["_parent"], d["_attributes"], d["_name"],
                                                       d["_kind"], d["_status"])
        start, end, events, links = d["_start_time"], d["_end_time"], d["_events"], d["_links"]
    except (AttributeError, KeyError):
        return _span_by_properties(span)
    if attributes.__class__ is not dict and attributes:  # the SDK's BoundedAttributes
        if getattr(attributes, "dropped", 1):
            return _span_by_properties(span)
        attributes = _plain(attributes)
    if events or links or ctx[4] or (events.__class__ is not tuple and span.dropped_events) or \
            (links.__class__ is not tuple and span.dropped_links):
        return _span_by_properties(span)  # events, links, trace state or dropped counts: rare
    status_bytes = _statuses.get(status)
    if status_bytes is None:
        if status.description:
            return _span_by_properties(span)
        status_bytes = _STATUS[status.status_code]
        if len(_statuses) < 64:
            _statuses[status] = status_bytes  # Arc's two constant Status objects, mostly
    if parent is not None:
        head = (b"\x0a\x10" + ctx[0].to_bytes(16, "big") + b"\x12\x08" + ctx[1].to_bytes(8, "big")
                + b"\x22\x08" + parent[1].to_bytes(8, "big"))
        flags = _FLAGS_REMOTE if parent[2] else _FLAGS_LOCAL
    else:
        head = b"\x0a\x10" + ctx[0].to_bytes(16, "big") + b"\x12\x08" + ctx[1].to_bytes(8, "big")
        flags = _FLAGS_LOCAL
    return _framed_span(head, name, _KIND[kind], start, end, attributes, status_bytes, flags)


def _framed_span(head: bytes, name: str, kind: bytes, start: int, end: int, attributes, status: bytes,
                 flags: bytes) -> bytes:
    """ScopeSpans field 2: one Span from its ids (``head``) and fields, in the SDK encoder's order."""
    body = b"".join((head, _name(name), kind, _TIMES(0x39, start, 0x41, end),
                     _span_attributes(attributes) if attributes else b"", status, flags))
    n = len(body)
    return b"\x12" + (_SMALL[n] if n < 128 else _varint(n)) + body


def _record(record: tuple) -> bytes:
    """One Span from a span record (``RECORD``): ids drawn here, kind CLIENT, status ERROR or UNSET."""
    name, trace_id, parent_id, remote, attributes, start, end, error = record[:8]
    if attributes.__class__ is tuple:
        attributes = resolve_attributes(attributes)
    head = (b"\x0a\x10" + (trace_id or getrandbits(128) or 1).to_bytes(16, "big") + b"\x12\x08"
            + (getrandbits(64) or 1).to_bytes(8, "big"))
    if parent_id:
        head += b"\x22\x08" + parent_id.to_bytes(8, "big")
    return _framed_span(head, name, _CLIENT_KIND, start, end, attributes,
                        _STATUS[StatusCode.ERROR if error else StatusCode.UNSET],
                        _FLAGS_REMOTE if parent_id and remote else _FLAGS_LOCAL)


def _name(name: str) -> bytes:
    """Span field 5, cached per name."""
    framed = _names.get(name)
    if framed is None:
        framed = _field(b"\x2a", name.encode())
        if len(_names) < _PAIR_CACHE_MAX:
            _names[name] = framed
    return framed


def readable(record: tuple):
    """The SDK ``ReadableSpan`` of a span record (for the SDK encoder, when this one cannot)."""
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.trace import SpanContext, Status, TraceFlags

    name, trace_id, parent_id, remote, attributes, start, end, error, resource, scope = record
    sampled = TraceFlags(TraceFlags.SAMPLED)
    trace_id = trace_id or getrandbits(128) or 1
    parent = SpanContext(trace_id, parent_id, is_remote=remote, trace_flags=sampled) if parent_id else None
    return ReadableSpan(name=name, context=SpanContext(trace_id, getrandbits(64) or 1, False, sampled),
                        parent=parent, resource=resource,
                        attributes={k: v for k, v in resolve_attributes(attributes).items() if v is not None},
                        kind=SpanKind.CLIENT, status=Status(StatusCode.ERROR if error else StatusCode.UNSET),
                        start_time=start, end_time=end, instrumentation_scope=scope)


def _span_by_properties(span) -> bytes:
    if span.events or span.links:
        raise _Fallback
    ctx = span.context
    if ctx.trace_state:
        raise _Fallback
    parent = span.parent
    out = [b"\x0a\x10", ctx.trace_id.to_bytes(16, "big"), b"\x12\x08", ctx.span_id.to_bytes(8, "big")]
    if parent is not None:
        out.append(b"\x22\x08")
        out.append(parent.span_id.to_bytes(8, "big"))
    out.append(_field(b"\x2a", span.name.encode()))
    out.append(_KIND[span.kind])
    out.append(b"\x39" + _FIXED64(span.start_time))
    out.append(b"\x41" + _FIXED64(span.end_time))
    attributes = span._attributes if hasattr(span, "_attributes") else span.attributes
    if attributes:
        out.append(_span_attributes(_plain(attributes)))
    for tag, count in ((b"\x50", span.dropped_attributes), (b"\x60", span.dropped_events),
                       (b"\x70", span.dropped_links)):
        if count:
            out.append(tag + _varint(count))
    status = span.status
    if status.description:
        out.append(_field(b"\x7a", _field(b"\x12", status.description.encode()) + _STATUS_CODE[status.status_code]))
    else:
        out.append(_STATUS[status.status_code])
    out.append(_FLAGS_REMOTE if parent is not None and parent.is_remote else _FLAGS_LOCAL)
    return _field(b"\x12", b"".join(out))  # ScopeSpans field 2


def encode(spans: Sequence) -> bytes:
    """Serialized ``ExportTraceServiceRequest`` for ``spans``, grouped by resource then scope."""
    try:
        groups: dict = {}  # by identity: Resource.__hash__ JSON-dumps its attributes every time
        for span in spans:
            if span.__class__ is tuple:  # a span record (RECORD)
                resource, scope, encoded_span = span[8], span[9] or None, _record(span)
            else:
                resource, scope, encoded_span = span.resource, span.instrumentation_scope or None, _span(span)
            group = groups.get(id(resource))
            if group is None:
                group = groups[id(resource)] = (resource, {})
            encoded = group[1].get(id(scope))
            if encoded is None:
                encoded = group[1][id(scope)] = (scope, [])
            encoded[1].append(encoded_span)
        out = []
        for resource, scopes in groups.values():
            body = [_resource(resource)]
            for scope, encoded in scopes.values():
                scope_body = _scope(scope) + b"".join(encoded)
                if scope is not None and scope.schema_url:
                    scope_body += _field(b"\x1a", scope.schema_url.encode())
                body.append(_field(b"\x12", scope_body))
            if resource.schema_url:
                body.append(_field(b"\x1a", resource.schema_url.encode()))
            out.append(_field(b"\x0a", b"".join(body)))
        return b"".join(out)
    except _Fallback:
        return encode_spans([readable(s) if s.__class__ is tuple else s for s in spans]).SerializeToString()
