"""OTLP request -> ClickHouse RowBinary for ``otel_traces``, in one pass (the chDB fast path).

Same values as ``convert.span_rows`` (a test checks both agree), written straight to bytes: cheaper
than the separate rows-then-encode route, and RowBinary inserts cost chDB less CPU than JSONEachRow
(figures in benchmarks/RESULTS.md), so RowBinary it is.
"""

from __future__ import annotations

import struct

from arc_agent.collector.convert import SPAN_KINDS, STATUS_CODES, hex_id, value_string

_INT64 = struct.Struct("<q").pack
_UINT64 = struct.Struct("<Q").pack
_INT64_MAX = 2**63 - 1
_SMALL = [bytes([n]) for n in range(128)]
_KEY_CACHE_MAX_BYTES = 4 * 1024 * 1024  # encoded bytes held, over all entries
_KEY_CACHE_MAX_STRING = 256  # longer strings (a unique 4 MB span name) are encoded, never cached
_key_cache: dict = {}
_key_cache_bytes = 0
_PAIR_CACHE_LIMIT = 100_000  # entries of at most _PAIR_CACHE_MAX_BYTES: ~30 MB worst case
_PAIR_CACHE_MAX_BYTES = 160
_pair_cache: dict = {}


def _varint(n: int) -> bytes:
    if n < 128:
        return _SMALL[n]
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _string(s: str) -> bytes:
    b = s.encode("utf-8")
    return _varint(len(b)) + b


def _key(s: str) -> bytes:
    """Encoded form of strings that repeat (attribute keys, span names, kinds): cached, bounded by
    bytes (not entries: a few huge names must not pin memory). Full -> emptied, so names that
    repeat now get cached again after a flood of unique ones."""
    global _key_cache_bytes
    b = _key_cache.get(s)
    if b is None:
        b = _string(s)
        if len(b) <= _KEY_CACHE_MAX_STRING:
            if _key_cache_bytes + len(b) > _KEY_CACHE_MAX_BYTES:
                _key_cache.clear()
                _key_cache_bytes = 0
            _key_cache[s] = b
            _key_cache_bytes += len(b)
    return b


def key_cache_bytes() -> int:
    """Encoded bytes held by the string cache (each entry's key string is at most as long)."""
    return _key_cache_bytes


def _pair(kv) -> bytes:
    value = kv.value
    if value.WhichOneof("value") == "string_value":
        b = value.string_value.encode("utf-8")
    else:
        b = value_string(value).encode("utf-8")
    return _key(kv.key) + _varint(len(b)) + b


def _attributes(attributes) -> bytes:
    """A Map column value. Each (key, value) pair is cached by the KeyValue's protobuf bytes: one C
    call instead of field access and conversion (benchmarks/RESULTS.md); telemetry values repeat a lot."""
    parts = [_varint(len(attributes))]
    add = parts.append
    cached = _pair_cache.get
    for kv in attributes:
        raw = kv.SerializeToString()
        pair = cached(raw)
        if pair is None:
            pair = _pair(kv)
            if len(raw) <= _PAIR_CACHE_MAX_BYTES:  # big values (message contents) rarely repeat
                if len(_pair_cache) >= _PAIR_CACHE_LIMIT:
                    _pair_cache.clear()
                _pair_cache[raw] = pair
        add(pair)
    return b"".join(parts)


def _time(ns: int) -> bytes:
    return _INT64(ns if ns <= _INT64_MAX else _INT64_MAX)


_ZERO_TRACE, _ZERO_SPAN = bytes(16), bytes(8)
_NO_LINKS = b"\x00\x00\x00\x00"  # four empty arrays: Links.TraceId, .SpanId, .TraceState, .Attributes


def _trace_id(raw: bytes, what: str = "trace_id") -> bytes:
    if len(raw) == 16 and raw != _ZERO_TRACE:
        return b"\x20" + raw.hex().encode()  # 32 hex chars: length byte 0x20
    return _string(hex_id(raw, 16, what))


def _span_id(raw: bytes, what: str = "span_id") -> bytes:
    if len(raw) == 8 and raw != _ZERO_SPAN:
        return b"\x10" + raw.hex().encode()  # 16 hex chars
    return _string(hex_id(raw, 8, what))


def _events(events) -> bytes:
    n = _varint(len(events))
    return b"".join((n, *[_time(e.time_unix_nano) for e in events], n, *[_key(e.name) for e in events],
                     n, *[_attributes(e.attributes) for e in events]))


def _links(links) -> bytes:
    n = _varint(len(links))
    return b"".join((n, *[_trace_id(x.trace_id, "link trace_id") for x in links],
                     n, *[_span_id(x.span_id, "link span_id") for x in links],
                     n, *[_string(x.trace_state) for x in links],
                     n, *[_attributes(x.attributes) for x in links]))


def encode_request(request) -> tuple:
    """``(rowbinary_bytes, span_count)`` for the INSERT columns ``convert.COLUMNS``.

    Raises ``convert.InvalidSpans`` for ids of the wrong length.
    """
    parts: list = []
    add = parts.append
    count = 0
    kinds = [_key(k) for k in SPAN_KINDS]
    codes = [_key(c) for c in STATUS_CODES]
    empty = _key("")
    for resource_spans in request.resource_spans:
        attributes = resource_spans.resource.attributes
        resource = _attributes(attributes)
        service = ""
        for kv in attributes:
            if kv.key == "service.name":
                service = value_string(kv.value)
        service = _key(service)
        for scope_spans in resource_spans.scope_spans:
            shared = service + resource + _key(scope_spans.scope.name) + _key(scope_spans.scope.version)
            for span in scope_spans.spans:
                count += 1
                start, end = span.start_time_unix_nano, span.end_time_unix_nano
                kind = span.kind
                status = span.status
                code = status.code
                parent = span.parent_span_id
                events, links = span.events, span.links
                add(_time(start))
                add(_trace_id(span.trace_id))
                add(_span_id(span.span_id))
                add(_span_id(parent, "parent_span_id") if parent else empty)
                add(_string(span.trace_state))
                add(_key(span.name))
                add(kinds[kind] if 0 <= kind < len(kinds) else empty)
                add(shared)  # ServiceName, ResourceAttributes, ScopeName, ScopeVersion
                add(_attributes(span.attributes))
                add(_UINT64(end - start if end > start else 0))
                add(codes[code] if 0 <= code < len(codes) else empty)
                add(_string(status.message))
                add(_events(events) if events else _NO_LINKS[:3])
                add(_links(links) if links else _NO_LINKS)
    return b"".join(parts), count
