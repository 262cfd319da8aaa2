"""Text that OTLP can carry: strings made valid UTF-8 before they become span attributes.

A Python ``str`` may hold lone surrogates (``json.loads('"c1\\ud83d"')`` keeps one), which no UTF-8
encoder accepts: one such value in a provider's reply would fail the encoding of a whole batch.
Here they become U+FFFD (a surrogate pair split into two code points is joined back). ASCII and
ordinary text cost one C scan (``str.isascii`` / a regex search) and are returned as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Sequence

_SURROGATE = re.compile("[\ud800-\udfff]")


def text(value: str) -> str:
    """``value`` with lone surrogates replaced by U+FFFD; the same object when there are none."""
    if value.isascii() or _SURROGATE.search(value) is None:
        return value
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def texts(values: Sequence) -> Sequence:
    """A sequence of attribute values (finish reasons, stop sequences) made encodable: the same
    object when nothing changes, else a tuple."""
    for v in values:
        if type(v) is str and text(v) is not v:
            return tuple(text(x) if type(x) is str else x for x in values)
    return values


def attributes(attrs: dict) -> dict:
    """Every value of ``attrs`` made encodable, in place (for dicts built from outside data)."""
    for key, v in attrs.items():
        if type(v) is str:
            if not v.isascii():
                attrs[key] = text(v)
        elif isinstance(v, (tuple, list)):
            attrs[key] = texts(v)
        elif isinstance(v, Mapping):
            attrs[key] = attributes({text(str(k)): x for k, x in v.items()})
    return attrs


def span(s: Any) -> Any:
    """A copy of the SDK ``ReadableSpan`` ``s`` whose every text (name, attribute keys and values,
    events, links, status, resource, scope) is encodable, built with the SDK's public
    constructors; None for anything else. For the exporter's error path only."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import Link, Status

    if not isinstance(s, ReadableSpan):
        return None

    def attrs(m: Any) -> dict:
        return attributes({text(str(k)): v for k, v in (m or {}).items()})

    scope = s.instrumentation_scope
    if scope is not None:
        scope = InstrumentationScope(text(scope.name), scope.version and text(scope.version),
                                     scope.schema_url, attrs(scope.attributes))
    resource = s.resource and Resource(attrs(s.resource.attributes), s.resource.schema_url)
    status = s.status
    if status.description:
        status = Status(status.status_code, text(status.description))
    return ReadableSpan(
        name=text(s.name), context=s.context, parent=s.parent, resource=resource,
        attributes=attrs(s.attributes),
        events=[Event(text(e.name), attrs(e.attributes), e.timestamp) for e in s.events],
        links=[Link(link.context, attrs(link.attributes)) for link in s.links],
        kind=s.kind, status=status, start_time=s.start_time, end_time=s.end_time,
        instrumentation_scope=scope)
