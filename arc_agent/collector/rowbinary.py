"""OTLP request -> ClickHouse RowBinary for ``otel_traces``, in one pass (the chDB fast path).

Same values as ``convert.span_rows`` (a test checks both agree), written straight to bytes: the
separate rows-then-encode route measured ~43 µs/span here, this one ~35 µs/span (10 attributes and
an event per span). Insert cost in chDB 26.9 (5,000-span batches): RowBinary ~20 µs/row of CPU,
JSONEachRow ~50 µs/row, so RowBinary it is.
"""

from __future__ import annotations

import struct

from arc_agent.collector.convert import SPAN_KINDS, STATUS_CODES, hex_id, value_string

_INT64 = struct.Struct("<q").pack
_UINT64 = struct.Struct("<Q").pack
_INT64_MAX = 2**63 - 1
_SMALL = [bytes([n]) for n in range(128)]
_KEY_CACHE_LIMIT = 20000
_key_cache: dict = {}
_PAIR_CACHE_LIMIT = 100_000
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
    """Encoded form of strings that repeat (attribute keys, kinds): cached, bounded."""
    b = _key_cache.get(s)
    if b is None:
        b = _string(s)
        if len(_key_cache) < _KEY_CACHE_LIMIT:
            _key_cache[s] = b
    return b


def _pair(kv) -> bytes:
    value = kv.value
    if value.WhichOneof("value") == "string_value":
        b = value.string_value.encode("utf-8")
    else:
        b = value_string(value).encode("utf-8")
    return _key(kv.key) + _varint(len(b)) + b


def _attributes(attributes) -> bytes:
    """A Map column value. Each (key, value) pair is cached by the KeyValue's protobuf bytes: one C
    call (~0.7 µs) instead of ~3 µs of field access and conversion; telemetry values repeat a lot."""
    parts = [_varint(len(attributes))]
    add = parts.append
    cached = _pair_cache.get
    for kv in attributes:
        raw = kv.SerializeToString()
        pair = cached(raw)
        if pair is None:
            if len(_pair_cache) >= _PAIR_CACHE_LIMIT:
                _pair_cache.clear()
            pair = _pair_cache[raw] = _pair(kv)
        add(pair)
    return b"".join(parts)


def _time(ns: int) -> bytes:
    return _INT64(ns if ns <= _INT64_MAX else _INT64_MAX)


def encode_request(request) -> tuple:
    """``(rowbinary_bytes, span_count)`` for the INSERT columns ``convert.COLUMNS``.

    Raises ``convert.InvalidSpans`` for ids of the wrong length.
    """
    buf = bytearray()
    put = buf.extend
    count = 0
    for resource_spans in request.resource_spans:
        attributes = resource_spans.resource.attributes
        resource = _attributes(attributes)
        service = ""
        for kv in attributes:
            if kv.key == "service.name":
                service = value_string(kv.value)
        service = _key(service)
        for scope_spans in resource_spans.scope_spans:
            scope = _key(scope_spans.scope.name) + _key(scope_spans.scope.version)
            for span in scope_spans.spans:
                count += 1
                start, end = span.start_time_unix_nano, span.end_time_unix_nano
                kind = span.kind
                status = span.status
                code = status.code
                put(_time(start))
                put(_string(hex_id(span.trace_id, 16, "trace_id")))
                put(_string(hex_id(span.span_id, 8, "span_id")))
                put(_string(hex_id(span.parent_span_id, 8, "parent_span_id")))
                put(_string(span.trace_state))
                put(_key(span.name))
                put(_key(SPAN_KINDS[kind] if 0 <= kind < len(SPAN_KINDS) else ""))
                put(service)
                put(resource)
                put(scope)
                put(_attributes(span.attributes))
                put(_UINT64(end - start if end > start else 0))
                put(_key(STATUS_CODES[code] if 0 <= code < len(STATUS_CODES) else ""))
                put(_string(status.message))
                events = span.events
                n = _varint(len(events))
                put(n)
                for event in events:
                    put(_time(event.time_unix_nano))
                put(n)
                for event in events:
                    put(_key(event.name))
                put(n)
                for event in events:
                    put(_attributes(event.attributes))
                links = span.links
                n = _varint(len(links))
                put(n)
                for link in links:
                    put(_string(hex_id(link.trace_id, 16, "link trace_id")))
                put(n)
                for link in links:
                    put(_string(hex_id(link.span_id, 8, "link span_id")))
                put(n)
                for link in links:
                    put(_string(link.trace_state))
                put(n)
                for link in links:
                    put(_attributes(link.attributes))
    return bytes(buf), count
