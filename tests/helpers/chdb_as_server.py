"""Run what a learning job sends to a ClickHouse server (``--clickhouse``) on chDB instead, and record it.

No ClickHouse server that takes the OTel schema can be installed on this machine (Debian's is 18.16), so
``ChdbServerClient`` stands in for clickhouse-driver's ``Client`` through the public seam of
``training_ray.span_source.SpanSource(client=...)``: it has ``Client.execute``'s signature, records every
statement as sent, and runs it unchanged on a chDB connection to a store made from the same DDL
(``collector_config/clickhouse``). An ``INSERT ... VALUES`` with rows as parameters (the driver sends
them as Native blocks typed by the server) gets the rows appended as literals.

``python -m tests.helpers.chdb_as_server STORE`` runs ``arc learn patterns`` and ``arc train ui-policy``
(in-process, through their ``run(args, source)``) once with ``--store`` and once with ``--clickhouse``
through this client on the same store, and ``EXPLAIN AST`` over the DDL as the collector and a
production cluster render it; it prints one JSON object for ``tests/learning/test_clickhouse_sql.py``.
"""

from __future__ import annotations

import datetime
import json
import re
import sys
from pathlib import Path

from arc_agent.collector import reader
from training_ray.span_source import SpanSource

_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\S+)\s*\(([^)]*)\)\s*VALUES\s*$", re.IGNORECASE | re.DOTALL)


def literal(value, ch_type: str) -> str:
    """A Python value as a ClickHouse literal for a column of ``ch_type``."""
    if value is None:
        return "NULL"
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime: clickhouse-driver would read it in the client's time zone")
        millis = round(value.timestamp() * 1000)
        return f"fromUnixTimestamp64Milli({millis})" if "DateTime64" in ch_type else f"toDateTime({millis // 1000})"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    raise TypeError(f"no literal for {type(value).__name__}")


class ChdbServerClient:
    """clickhouse-driver ``Client.execute`` over a chDB connection; ``sent`` holds (query, params)."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.sent: list = []

    def execute(self, query: str, params=None, with_column_types: bool = False):
        self.sent.append((query, params))
        insert = _INSERT.match(query)
        if insert and isinstance(params, list):
            table, columns = insert.group(1), [c.strip() for c in insert.group(2).split(",")]
            types = dict(self._rows(f"SELECT name, type FROM system.columns WHERE table = '{table.strip('`')}' "
                                    "AND database = currentDatabase()")[0])
            missing = [c for c in columns if c not in types]
            if missing:
                raise RuntimeError(f"columns {missing} are not in {table}")
            values = ", ".join("(" + ", ".join(literal(v, types[c]) for v, c in zip(row, columns)) + ")"
                               for row in params)
            self.conn.query(f"{query} {values}")
            return len(params)
        if params:
            raise NotImplementedError("SpanSource sends no client-side parameters")
        rows, columns = self._rows(query)
        return (rows, columns) if with_column_types else rows

    def _rows(self, sql: str) -> tuple:
        text = self.conn.query(sql, "JSONCompactEachRowWithNamesAndTypes").bytes().decode("utf-8")
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            return [], []
        columns = list(zip(json.loads(lines[0]), json.loads(lines[1])))
        return [tuple(r.values()) for r in reader.parse_rows(text)], columns


class RecordingSource(SpanSource):
    """A ``SpanSource`` that records its queries (the ``--store`` side of the comparison)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list = []

    def query(self, sql: str) -> list:
        self.sent.append(sql)
        return super().query(sql)


def write_llm_spans(store) -> int:
    """Calls as the agent reports them (contract attributes), through the SDK's OTLP encoder into the store:
    reasoning-mini fails with ``temperature`` given, everything else is healthy, a few random 429s."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "sql-seam"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test")
    for i in range(60):
        model = "reasoning-mini" if i % 3 == 0 else "gpt-4o-mini"
        with_temperature = model == "gpt-4o-mini" or i % 2 == 0
        attrs = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": model,
                 "arc.request.params": sorted(["messages", "model"] + (["temperature"] if with_temperature else [])),
                 "arc.request.prompt_tokens_est": 20 + i, "arc.request.message_count": 1,
                 "arc.request.response_format": "text", "arc.outcome": "ok"}
        if with_temperature:
            attrs["gen_ai.request.temperature"] = 0.5
        if model == "reasoning-mini" and with_temperature:
            attrs.update({"arc.outcome": "http_error", "http.response.status_code": 400,
                          "arc.error.code": "unsupported_parameter", "arc.error.param": "temperature",
                          "arc.error.type": "invalid_request_error", "error.type": "BadRequestError"})
        elif i % 17 == 5:
            attrs.update({"arc.outcome": "http_error", "http.response.status_code": 429,
                          "error.type": "RateLimitError"})
        tracer.start_span("chat " + model, attributes=attrs).end()
    provider.shutdown()
    spans = memory.get_finished_spans()
    store.write([store.prepare(encode_spans(spans))])
    return len(spans)


def explain_ddl(conn) -> dict:
    """``EXPLAIN AST`` (chDB's own parser) of every DDL statement, as the collector renders it and as a
    production cluster would (database, ON CLUSTER, ReplicatedMergeTree, TTL): {label: [error or '']}."""
    from arc_agent.collector import schema

    variants = {"embedded": schema.SchemaOptions(),
                "cluster": schema.SchemaOptions(
                    database="otel", cluster="prod", ttl_seconds=30 * 86400,
                    engine="ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')")}
    out: dict = {}
    for label, options in variants.items():
        out[label] = []
        statements = schema.statements(options)
        if label == "embedded":  # the check can fail: a statement the parser refuses
            statements.append(statements[-1].replace("SELECT", "SELEKT", 1))
        for statement in statements:
            try:
                ast = conn.query(f"EXPLAIN AST {statement}", "TSVRaw").bytes().decode()
                out[label].append("" if ast.strip() else "empty AST")
            except Exception as exc:  # the parser's message is the finding
                out[label].append(str(exc)[:300])
    return out


def main(store_dir: str) -> dict:
    import chdb

    from arc_agent.collector.store import ChdbStore
    from training_ray import learn_patterns, ui_policy

    store = ChdbStore(store_dir)  # applies collector_config/clickhouse, as the collector does
    spans = write_llm_spans(store)
    server = ChdbServerClient(chdb.connect(store_dir))
    tmp = Path(store_dir).parent
    runs: dict = {}
    for label in ("store", "clickhouse"):
        if label == "store":
            source = RecordingSource(store=store_dir)
        else:
            source = SpanSource(clickhouse="tcp://clickhouse.invalid:9000/default", client=server)
        sent_before = len(server.sent)
        out = tmp / f"bundle-{label}.json"
        args = learn_patterns.parse_args([f"--{label}", store_dir if label == "store" else source.clickhouse,
                                          "--since", "1h", "--min-support", "5", "--out", str(out)])
        code = learn_patterns.run(args, source)
        ui_args = ui_policy.parse_args([f"--{label}", store_dir if label == "store" else source.clickhouse,
                                        "--since", "1h"])
        ui_code = ui_policy.run(ui_args, source)  # no UI states in this store: it reads them, fails, records
        sent = source.sent if label == "store" else server.sent[sent_before:]
        runs[label] = {"exit": code, "ui_exit": ui_code, "bundle": json.loads(out.read_text()),
                       "sent": [s if isinstance(s, str) else [s[0], _jsonable(s[1])] for s in sent]}
    jobs = server._rows("SELECT id, kind, status, toUnixTimestamp64Milli(started) AS started, "
                        "finished IS NULL AS unfinished, metrics, artifact FROM arc_training_jobs ORDER BY updated")
    return {"spans": spans, "runs": runs, "jobs": [dict(zip([c[0] for c in jobs[1]], r)) for r in jobs[0]],
            "ddl": explain_ddl(server.conn)}


def _jsonable(params):
    if not isinstance(params, list):
        return params
    return [[v.isoformat() if isinstance(v, datetime.datetime) else v for v in row] for row in params]


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
