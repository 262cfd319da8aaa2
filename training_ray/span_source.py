"""Where a learning job reads spans and writes its job rows: a chDB store (through the collector
that owns it, or opened here when none runs), a collector's query URL, or a ClickHouse server.

Job rows go the way spans go: an ``arc.training_job`` span to the collector (OTLP, authenticated like
any span; ``21_arc_training_jobs_mv.sql`` turns it into an ``arc_training_jobs`` row), into the store
directly when this process opened it, or an ``INSERT`` with ``--clickhouse``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from arc_agent.collector import discovery, reader
from arc_agent.collector.store import default_store_path

JOB_SPAN = "arc.training_job"
JOB_INSERT = ("INSERT INTO arc_training_jobs (id, kind, status, started, finished, metrics, artifact, updated) "
              "VALUES")


class SpanSource:
    """``client`` (with ``clickhouse`` only): what sends the SQL to the server, a clickhouse-driver
    ``Client`` made from the URL unless given; anything with that class's public
    ``execute(query, params=None, with_column_types=False)`` will do (the tests give one that runs
    the statements on chDB, to show the server gets the SQL the embedded store runs)."""

    def __init__(self, store: str | None = None, url: str | None = None, clickhouse: str | None = None,
                 client: Any = None) -> None:
        if sum(bool(x) for x in (store, url, clickhouse)) != 1:
            raise ValueError("give exactly one of --store, --url, --clickhouse")
        if client is not None and not clickhouse:
            raise ValueError("a client is for --clickhouse only")
        self.store, self.url, self.clickhouse = store, url, clickhouse
        self._client: Any = client

    def describe(self) -> str:
        if self.clickhouse:
            from arc_agent.collector.store import parse_clickhouse_url

            kw = parse_clickhouse_url(self.clickhouse)
            return f"tcp://{kw['host']}:{kw['port']}"
        return self.url or str(self.store)

    def query(self, sql: str) -> list:
        """Rows of ``sql`` as dicts (aggregates only: the job never pulls spans one by one)."""
        if self.clickhouse:
            rows, columns = self._driver().execute(sql, with_column_types=True)
            names = [c[0] for c in columns]
            return [dict(zip(names, row)) for row in rows]
        return reader.query(sql, url=self.url, store=self.store)

    def _driver(self) -> Any:
        if self._client is None:
            from clickhouse_driver import Client

            self._client = Client(**driver_arguments(self.clickhouse))
        return self._client

    # -- job rows --------------------------------------------------------------------------------------
    def write_job(self, row: dict) -> None:
        """Record one state of a job: id, kind, status, started/finished (epoch s), metrics, artifact."""
        if self.clickhouse:
            finished = row.get("finished")
            self._driver().execute(
                JOB_INSERT,
                [(row["id"], row["kind"], row["status"], _dt(row["started"]), _dt(finished) if finished else None,
                  json.dumps(row.get("metrics") or {}), row.get("artifact", ""), _dt(time.time()))])
            return
        attributes = {"arc.job.id": row["id"], "arc.job.kind": row["kind"], "arc.job.status": row["status"],
                      "arc.job.started_ms": str(int(row["started"] * 1000)),
                      "arc.job.metrics": json.dumps(row.get("metrics") or {}),
                      "arc.job.artifact": row.get("artifact", "")}
        if row.get("finished"):
            attributes["arc.job.finished_ms"] = str(int(row["finished"] * 1000))
        endpoint = self._collector_otlp()
        if endpoint:
            _send_span(endpoint, attributes)
        else:
            _write_span_direct(Path(self.store), attributes)

    def _collector_otlp(self) -> str:
        """The OTLP endpoint of the collector that owns the store (or serves ``--url``), else ''."""
        folders = [Path(self.store)] if self.store else [default_store_path(), None]
        otlp = ""
        for folder in folders:
            info = discovery.read_state(discovery.state_path(folder)) or {}
            if not self.url or str(info.get("query", "")).rstrip("/") == self.url.rstrip("/"):
                otlp = str(info.get("otlp", ""))
                break
        if not otlp and self.url:
            raise ValueError(f"no `arc collector` on this machine serves {self.url} (none of its collector.json "
                             "files names that query URL; is it running, and is the URL right?): --url needs that "
                             "collector, which records the job's rows; for another ClickHouse use --clickhouse")
        return otlp


def driver_arguments(url: str) -> dict:
    """clickhouse-driver ``Client`` arguments for ``url``; a URL without a password takes
    ``ARC_CLICKHOUSE_PASSWORD``, so a job's command line (which Ray shows in its job table and
    dashboard) need not carry one."""
    from arc_agent import settings
    from arc_agent.collector.store import parse_clickhouse_url

    kwargs = parse_clickhouse_url(url)
    if "password" not in kwargs and settings.text("ARC_CLICKHOUSE_PASSWORD"):
        kwargs["password"] = settings.text("ARC_CLICKHOUSE_PASSWORD")
    return kwargs


def _dt(seconds: float) -> Any:
    """An aware UTC datetime: clickhouse-driver reads a naive one as the client's local time (or the
    server's zone when that differs), which would shift job times on any host not set to UTC."""
    import datetime

    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)


def _provider():
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider(resource=Resource.create({"service.name": "arc-training"}))
    return provider


def _send_span(endpoint: str, attributes: dict) -> None:
    """One span through the OTel SDK's own OTLP exporter (``OTEL_EXPORTER_OTLP_HEADERS`` carries a token)."""
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    target = endpoint.replace("grpc://", "").replace("grpcs://", "")
    provider = _provider()
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=target,
                                                                     insecure=not endpoint.startswith("grpcs"))))
    provider.get_tracer("arc.training").start_span(JOB_SPAN, attributes=attributes).end()
    provider.shutdown()


def _write_span_direct(store: Path, attributes: dict) -> None:
    """No collector owns the store: encode the span with the SDK's OTLP encoder and write it here."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    provider = _provider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.get_tracer("arc.training").start_span(JOB_SPAN, attributes=attributes).end()
    provider.shutdown()
    target = reader.direct_store(store)
    target.write([target.prepare(encode_spans(memory.get_finished_spans()))])
