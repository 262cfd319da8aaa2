"""Cut an OTLP request into smaller requests, for re-inserting what a store refused as one insert.

A store can refuse a whole insert because of a few of its spans: ClickHouse refuses an insert
whose rows fall in more than ``max_partitions_per_insert_block`` (default 100) partitions, and the
span table is partitioned by day, so one request with start times spread over > 100 days sinks
the batch it is in. ``by_days`` cuts such a request into pieces of at most 100 distinct days;
``halve`` cuts any request in two, so the writer can narrow a refusal down to the spans causing it.
Resource and scope are copied into every piece, so each piece is a complete, valid request.
"""

from __future__ import annotations

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

MAX_DAYS_PER_INSERT = 100  # ClickHouse's default max_partitions_per_insert_block; the table is PARTITION BY day
_DAY_NS = 86_400 * 10**9


def span_count(request) -> int:
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)


def _flatten(request) -> list:
    """``(resource_index, scope_index, span)`` for every span, in request order."""
    return [(ri, si, span) for ri, rs in enumerate(request.resource_spans)
            for si, ss in enumerate(rs.scope_spans) for span in ss.spans]


def _build(request, items: list) -> ExportTraceServiceRequest:
    """A request holding ``items`` (from ``_flatten(request)``) under copies of their resource and scope."""
    out = ExportTraceServiceRequest()
    resources: dict = {}
    scopes: dict = {}
    for ri, si, span in items:
        if ri not in resources:
            source = request.resource_spans[ri]
            target = out.resource_spans.add()
            target.resource.CopyFrom(source.resource)
            target.schema_url = source.schema_url
            resources[ri] = target
        if (ri, si) not in scopes:
            source = request.resource_spans[ri].scope_spans[si]
            target = resources[ri].scope_spans.add()
            target.scope.CopyFrom(source.scope)
            target.schema_url = source.schema_url
            scopes[(ri, si)] = target
        scopes[(ri, si)].spans.append(span)
    return out


def day_count(request) -> int:
    """Distinct UTC days of the spans' start times: the partitions an insert of this request touches."""
    return len({span.start_time_unix_nano // _DAY_NS for _, _, span in _flatten(request)})


def by_days(request, max_days: int = MAX_DAYS_PER_INSERT) -> list:
    """Pieces of ``request`` whose spans each fall on at most ``max_days`` distinct days."""
    items = sorted(_flatten(request), key=lambda item: item[2].start_time_unix_nano)
    pieces, current, days = [], [], set()
    for item in items:
        day = item[2].start_time_unix_nano // _DAY_NS
        if day not in days and len(days) == max_days:
            pieces.append(_build(request, current))
            current, days = [], set()
        days.add(day)
        current.append(item)
    if current:
        pieces.append(_build(request, current))
    return pieces


def halve(request) -> tuple:
    """Two requests with the first and second half of the spans (needs at least two spans)."""
    items = _flatten(request)
    middle = len(items) // 2
    return _build(request, items[:middle]), _build(request, items[middle:])
