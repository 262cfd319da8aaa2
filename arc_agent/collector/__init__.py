"""Embedded collector: OTLP/gRPC in, ClickHouse ``otel_traces`` out (chDB by default), read-only SQL out.

Modules: ``schema`` (the DDL in collector_config/clickhouse), ``convert``/``rowbinary`` (OTLP -> rows
exactly as the contrib exporter writes them), ``store`` (chDB / ClickHouse server), ``spanlog`` (the
collector's write-ahead log: ack once logged), ``writer`` (large batched inserts), ``receiver``
(gRPC), ``http_query`` + ``sqlguard`` (read endpoint), ``reader`` (Python API), ``cli`` /
``query_cli`` (``arc collector`` / ``arc query``), ``discovery`` (``collector.json``).
"""
