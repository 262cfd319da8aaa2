"""OTLP ``ExportTraceServiceRequest`` -> ``otel_traces`` rows, exactly as the contrib ClickHouse exporter writes them.

Reference: ``exporter/clickhouseexporter/exporter_traces.go`` and pdata's ``Value.AsString``:
ids are lowercase hex (empty id -> ``''``); ``SpanKind``/``StatusCode`` use pdata's ``String()``
(``Internal``, ``Server``, ``Client``, ``Producer``, ``Consumer``, ``Unspecified``; ``Unset``, ``Ok``,
``Error``); ``ServiceName`` is the resource's ``service.name``; every attribute value is a string:
ints in decimal, bools ``true``/``false``, doubles in Go's ES6 shortest form (``0.62``, ``1``, ``1e-7``),
bytes base64, arrays and maps as compact JSON (Go ``encoding/json``: sorted keys, HTML-escaped).
"""

from __future__ import annotations

import base64
import json
import math
from decimal import Decimal

COLUMNS = (
    "Timestamp", "TraceId", "SpanId", "ParentSpanId", "TraceState", "SpanName", "SpanKind",
    "ServiceName", "ResourceAttributes", "ScopeName", "ScopeVersion", "SpanAttributes", "Duration",
    "StatusCode", "StatusMessage", "Events.Timestamp", "Events.Name", "Events.Attributes",
    "Links.TraceId", "Links.SpanId", "Links.TraceState", "Links.Attributes",
)

SPAN_KINDS = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
STATUS_CODES = ("Unset", "Ok", "Error")


class InvalidSpans(ValueError):
    """The request is well-formed protobuf but not valid OTLP (e.g. a 5-byte span id)."""


def go_float(f: float) -> str:
    """A double as pdata's ``float64AsString`` prints it (ES6 number-to-string, like JSON)."""
    if math.isnan(f) or math.isinf(f):
        return "json: unsupported value: " + ("NaN" if math.isnan(f) else ("+Inf" if f > 0 else "-Inf"))
    text = repr(f)
    magnitude = abs(f)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        mantissa, exponent = text.split("e")  # repr is already exponent form in these ranges
        if exponent[0] == "-" and len(exponent) == 3 and exponent[1] == "0":
            exponent = "-" + exponent[2]  # Go cleans e-07 to e-7
        return f"{mantissa}e{exponent}"
    if "e" in text:  # repr switched to exponent form where Go stays positional
        text = format(Decimal(text), "f")
    if text.endswith(".0"):
        text = text[:-2]
    return text


def _json_string(s: str) -> str:
    encoded = json.dumps(s, ensure_ascii=False)
    if "<" in encoded or ">" in encoded or "&" in encoded or "\u2028" in encoded or "\u2029" in encoded:
        encoded = (encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                   .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return encoded


class _Unencodable(Exception):
    pass


def _json_value(v) -> str:
    kind = v.WhichOneof("value")
    if kind == "string_value":
        return _json_string(v.string_value)
    if kind == "int_value":
        return str(v.int_value)
    if kind == "bool_value":
        return "true" if v.bool_value else "false"
    if kind == "double_value":
        f = v.double_value
        if math.isnan(f) or math.isinf(f):
            raise _Unencodable
        return go_float(f)
    if kind == "array_value":
        return "[" + ",".join(_json_value(item) for item in v.array_value.values) + "]"
    if kind == "kvlist_value":
        entries = {kv.key: kv.value for kv in v.kvlist_value.values}
        return "{" + ",".join(_json_string(k) + ":" + _json_value(entries[k]) for k in sorted(entries)) + "}"
    if kind == "bytes_value":
        return '"' + base64.b64encode(v.bytes_value).decode("ascii") + '"'
    return "null"


def value_string(v) -> str:
    """An ``AnyValue`` as the exporter stores it (pdata ``Value.AsString``)."""
    kind = v.WhichOneof("value")
    if kind == "string_value":
        return v.string_value
    if kind == "int_value":
        return str(v.int_value)
    if kind == "bool_value":
        return "true" if v.bool_value else "false"
    if kind == "double_value":
        return go_float(v.double_value)
    if kind == "array_value" or kind == "kvlist_value":
        try:
            return _json_value(v)
        except _Unencodable:
            return ""  # Go's json.Marshal fails on NaN/Inf and the exporter keeps the empty result
    if kind == "bytes_value":
        return base64.b64encode(v.bytes_value).decode("ascii")
    return ""


def attributes_map(attributes) -> dict:
    out = {}
    for kv in attributes:
        value = kv.value
        if value.WhichOneof("value") == "string_value":  # the common case, inlined
            out[kv.key] = value.string_value
        else:
            out[kv.key] = value_string(value)
    return out


_ZERO = {16: bytes(16), 8: bytes(8)}


def hex_id(raw: bytes, size: int, what: str) -> str:
    """Lowercase hex; an empty or all-zero id is ``''`` (pdata ``IsEmpty``); a wrong length is invalid."""
    if not raw or raw == _ZERO.get(len(raw)):
        return ""
    if len(raw) == size:
        return raw.hex()
    raise InvalidSpans(f"{what} must be {size} bytes, got {len(raw)}")


def span_rows(request) -> list:
    """One tuple per span, values in ``COLUMNS`` order. Raises ``InvalidSpans`` for invalid ids."""
    rows = []
    append = rows.append
    for resource_spans in request.resource_spans:
        resource_attrs = attributes_map(resource_spans.resource.attributes)
        service_name = ""
        for kv in resource_spans.resource.attributes:
            if kv.key == "service.name":
                service_name = value_string(kv.value)
        for scope_spans in resource_spans.scope_spans:
            scope_name = scope_spans.scope.name
            scope_version = scope_spans.scope.version
            for span in scope_spans.spans:
                trace_id, span_id, parent = span.trace_id, span.span_id, span.parent_span_id
                start = span.start_time_unix_nano
                end = span.end_time_unix_nano
                kind = span.kind
                code = span.status.code
                if span.events:
                    ev_times = [e.time_unix_nano for e in span.events]
                    ev_names = [e.name for e in span.events]
                    ev_attrs = [attributes_map(e.attributes) for e in span.events]
                else:
                    ev_times, ev_names, ev_attrs = [], [], []
                if span.links:
                    ln_traces = [hex_id(ln.trace_id, 16, "link trace_id") for ln in span.links]
                    ln_spans = [hex_id(ln.span_id, 8, "link span_id") for ln in span.links]
                    ln_states = [ln.trace_state for ln in span.links]
                    ln_attrs = [attributes_map(ln.attributes) for ln in span.links]
                else:
                    ln_traces, ln_spans, ln_states, ln_attrs = [], [], [], []
                append((
                    start,
                    hex_id(trace_id, 16, "trace_id"),
                    hex_id(span_id, 8, "span_id"),
                    hex_id(parent, 8, "parent_span_id"),
                    span.trace_state,
                    span.name,
                    SPAN_KINDS[kind] if 0 <= kind < 6 else "",
                    service_name,
                    resource_attrs,
                    scope_name,
                    scope_version,
                    attributes_map(span.attributes),
                    end - start if end > start else 0,
                    STATUS_CODES[code] if 0 <= code < 3 else "",
                    span.status.message,
                    ev_times, ev_names, ev_attrs,
                    ln_traces, ln_spans, ln_states, ln_attrs,
                ))
    return rows
