"""``arc collector``: the embedded OTLP/gRPC collector writing spans to chDB (or a ClickHouse server).

First stdout line, once listening (ports resolved when 0 was asked for)::

    arc collector: otlp grpc://127.0.0.1:4317 query http://127.0.0.1:8123 store /home/me/.arc/store

The same facts go to ``collector.json`` in the store folder. A request is acknowledged once it is in
the span log (``spanlog``); batches are inserted in the background; spans a crash left in the log are
inserted at the next start. SIGTERM/SIGINT: stop accepting, insert everything accepted, exit 0.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from .. import settings
from ..netutil import is_loopback, read_token_file

log = logging.getLogger("arc.collector")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen", default=settings.text("ARC_COLLECTOR_LISTEN"),
                        help="OTLP/gRPC address host:port (port 0 = any free port; default %(default)s)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--store", help="chDB store folder (default $ARC_STORE or ~/.arc/store)")
    where.add_argument("--clickhouse", metavar="URL",
                       help="write to a ClickHouse server instead, e.g. tcp://host:9000/default")
    parser.add_argument("--tls-cert", help="PEM certificate: the receiver and the query endpoint then only speak TLS")
    parser.add_argument("--tls-key", help="PEM private key for --tls-cert")
    parser.add_argument("--query-listen", default="127.0.0.1:8123",
                        help="read-only SQL HTTP endpoint host:port, or 'off'; beyond loopback it needs "
                             "--tls-cert/--tls-key; clients need the token in collector.json (default %(default)s)")
    parser.add_argument("--query-timeout", type=float, default=30.0,
                        help="max_execution_time of each query, seconds (default %(default)s)")
    parser.add_argument("--query-max-memory", type=int, default=1 << 30,
                        help="max_memory_usage of each query, bytes (default %(default)s)")
    parser.add_argument("--query-max-rows", type=int, default=10_000_000,
                        help="max_result_rows of each query (default %(default)s)")
    parser.add_argument("--query-max-bytes", type=int, default=256 << 20,
                        help="max_result_bytes of each query (default %(default)s)")
    parser.add_argument("--query-concurrency", type=int, default=4,
                        help="queries run at once; more get 503 (default %(default)s)")
    parser.add_argument("--database", default=None, help="database (default: 'default', or the URL's)")
    parser.add_argument("--table", default="otel_traces", help="spans table (default %(default)s)")
    parser.add_argument("--ttl", default="0", help="drop data older than this, e.g. 72h, 30d (default: keep)")
    parser.add_argument("--cluster", default="", help="ON CLUSTER name for the DDL (ClickHouse server)")
    parser.add_argument("--engine", default="MergeTree()",
                        help="table engine for the DDL, e.g. \"ReplicatedMergeTree('/clickhouse/tables/{shard}/"
                             "{database}/{table}', '{replica}')\" (default %(default)s)")
    parser.add_argument("--print-ddl", action="store_true",
                        help="print the DDL for these options (for clickhouse-client) and exit")
    parser.add_argument("--max-queue-spans", type=int, default=100_000,
                        help="spans accepted but not yet inserted before answering RESOURCE_EXHAUSTED "
                             "(default %(default)s)")
    parser.add_argument("--max-queue-mb", type=float, default=256,
                        help="request bytes held (being parsed, or accepted but not yet inserted; memory is "
                             "several times this) before answering RESOURCE_EXHAUSTED (default %(default)s)")
    parser.add_argument("--batch-spans", type=int, default=20_000,
                        help="insert when this many spans are queued (default %(default)s)")
    parser.add_argument("--linger-ms", type=float, default=500.0,
                        help="...or when the oldest queued span waited this long (default %(default)s)")
    parser.add_argument("--wal-dir", help="span log folder (default <store>/arc_wal)")
    parser.add_argument("--fsync", action="store_true",
                        help="fsync the span log on every request: survives power loss, not just crashes")
    parser.add_argument("--writers", type=int, default=1,
                        help="concurrent INSERTs (chDB: one connection each; default %(default)s)")
    parser.add_argument("--retry-after-ms", type=int, default=1000,
                        help="RetryInfo delay sent with RESOURCE_EXHAUSTED (default %(default)s)")
    parser.add_argument("--max-request-spans", type=int, default=50_000,
                        help="spans in one OTLP request above which it is refused with RESOURCE_EXHAUSTED "
                             "(default %(default)s)")
    parser.add_argument("--max-request-mb", type=float, default=64.0,
                        help="largest OTLP request message, MiB, after decompression (default %(default)s)")
    parser.add_argument("--auth-token-file", default=settings.text("ARC_COLLECTOR_AUTH_TOKEN_FILE"),
                        help="file (mode 0600) holding a token senders must pass as 'authorization: Bearer "
                             "<token>' gRPC metadata (OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%%20<token>); "
                             "required, with --tls-cert, to listen beyond loopback")
    parser.add_argument("--dead-letter-max-mb", type=float, default=256.0,
                        help="size bound of the dead-letter folder (spans the store refuses), MiB "
                             "(default %(default)s)")


def _options(args):
    from arc_agent.collector import schema, store

    database = args.database
    if database is None and args.clickhouse:
        database = store.parse_clickhouse_url(args.clickhouse).get("database")
    return schema.SchemaOptions(database=database or schema.DEFAULT_DATABASE, table=args.table,
                                cluster=args.cluster, engine=args.engine, ttl_seconds=schema.parse_duration(args.ttl))


def _log_dir(args, span_store) -> Path:
    """``--wal-dir``, else ``<store>/arc_wal`` (chDB) or ``~/.arc/collector-wal/<host>_<port>_<db>``."""
    from arc_agent.collector import store

    if args.wal_dir:
        return Path(args.wal_dir).expanduser()
    if isinstance(span_store, store.ChdbStore):
        return span_store.path / "arc_wal"
    return _collector_dir(span_store)


def _collector_dir(span_store) -> Path:
    """The collector's own folder: the chDB store, or ``~/.arc/collector-wal/<host>_<port>_<db>``."""
    from arc_agent.collector import store

    if isinstance(span_store, store.ChdbStore):
        return span_store.path
    target = span_store.describe().split("://", 1)[-1].replace(":", "_").replace("/", "_")
    return Path("~/.arc/collector-wal").expanduser() / target


def _open(args, options):
    """Store + batch writer with the span log replayed (spans a crash left behind)."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from arc_agent.collector import deadletter, spanlog, store, writer

    limits = store.QueryLimits(max_execution_time=args.query_timeout, max_memory_usage=args.query_max_memory,
                               max_result_rows=args.query_max_rows, max_result_bytes=args.query_max_bytes,
                               max_concurrent=args.query_concurrency)
    span_store = store.open_store(args.store, args.clickhouse, options, writers=args.writers, limits=limits)
    try:
        log_ = spanlog.SpanLog(_log_dir(args, span_store), fsync=args.fsync)
        dead = deadletter.DeadLetter(_collector_dir(span_store) / "arc_dead_letter",
                                     max_bytes=int(args.dead_letter_max_mb * 1024 * 1024))
        batch_writer = writer.BatchWriter(span_store, log_, max_queue_spans=args.max_queue_spans,
                                          max_queue_bytes=int(args.max_queue_mb * 1024 * 1024),
                                          batch_spans=args.batch_spans, linger=args.linger_ms / 1000,
                                          writers=args.writers, dead_letter=dead)
        replayed = batch_writer.replay(ExportTraceServiceRequest.FromString)
    except Exception:
        span_store.close()
        raise
    if replayed:
        log.info("arc collector: inserted %d spans logged by a previous run", replayed)
    return span_store, batch_writer.start()


def _serve(args, span_store, batch_writer, token: str) -> tuple:
    """Start gRPC and (chDB only) the query endpoint; returns (grpc_server, query_server, otlp_url, query_url)."""
    from arc_agent.collector import http_query, receiver, store

    trace_receiver = receiver.TraceReceiver(batch_writer, retry_after=args.retry_after_ms / 1000,
                                            max_request_spans=args.max_request_spans, auth_token=args.auth_token)
    grpc_server, port = receiver.start_server(trace_receiver, args.listen, tls_cert=args.tls_cert,
                                              tls_key=args.tls_key,
                                              max_message_bytes=int(args.max_request_mb * 1024 * 1024))
    query_server, query_url = None, "off"
    if args.query_listen != "off" and isinstance(span_store, store.ChdbStore):
        try:
            query_server, qport = http_query.serve_queries(span_store, args.query_listen, token, batch_writer.status,
                                                           tls_cert=args.tls_cert, tls_key=args.tls_key)
        except (OSError, ValueError):
            grpc_server.stop(None)
            raise
        host = args.query_listen.rpartition(':')[0]
        host = "localhost" if host.strip("[]") in ("", "0.0.0.0", "::") else host  # what local clients can dial
        query_url = f"{'https' if args.tls_cert else 'http'}://{host}:{qport}"
    otlp_url = f"{'grpcs' if args.tls_cert else 'grpc'}://{args.listen.rpartition(':')[0]}:{port}"
    return grpc_server, query_server, otlp_url, query_url


def read_token(path: str) -> str:
    """The OTLP token: a private file's stripped content. Raises ``ValueError`` naming what is wrong."""
    return read_token_file(path, "--auth-token-file")


def check_address(option: str, listen: str) -> None:
    """``HOST:PORT`` with a port from 0 to 65535: gRPC would take 99999 as 34463 without a word."""
    port = listen.rpartition(":")[2]
    if ":" not in listen or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{option} {listen!r}: expected HOST:PORT with a port from 0 to 65535 (0 = any free port)")


def check_exposure(listen: str, *, tls: bool, token: bool) -> None:
    """Beyond loopback the OTLP port takes spans from the network: TLS and a token are required."""
    host = listen.rpartition(":")[0]
    if not is_loopback(host) and not (tls and token):
        raise ValueError(f"--listen {listen} is reachable beyond this machine: give --tls-cert/--tls-key "
                         "and --auth-token-file too (or listen on 127.0.0.1)")


def run(args) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    os.umask(0o077)  # span log, dead letters and the chDB store's files: owner only
    from arc_agent.collector import discovery, schema, store

    try:
        options = _options(args)
        if args.print_ddl:
            print(";\n\n".join(schema.statements(options)) + ";")
            return 0
        args.auth_token = read_token(args.auth_token_file) if args.auth_token_file else None
        check_address("--listen", args.listen)
        if args.query_listen != "off":
            check_address("--query-listen", args.query_listen)
        check_exposure(args.listen, tls=bool(args.tls_cert), token=bool(args.auth_token))
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        span_store, batch_writer = _open(args, options)
    except (store.StoreError, schema.SchemaError, OSError, ValueError) as exc:
        print(f"arc collector: {exc}", file=sys.stderr)
        return 2
    try:
        token = discovery.new_token()
        grpc_server, query_server, otlp_url, query_url = _serve(args, span_store, batch_writer, token)
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"arc collector: cannot start: {exc}", file=sys.stderr)
        batch_writer.close()
        span_store.close()
        return 2
    state = discovery.state_path(getattr(span_store, "path", None))
    info = {"pid": os.getpid(), "otlp": otlp_url, "query": query_url, "store": span_store.describe(),
            "started": time.time()}
    if query_server is not None:
        info["token"] = token
        if args.tls_cert:
            info["tls_cert"] = str(Path(args.tls_cert).resolve())
    discovery.write_state(state, info)  # before the line below: readers that saw it find the token
    print(f"arc collector: otlp {otlp_url} query {query_url} store {span_store.describe()}", flush=True)
    while not stop.wait(1.0):
        pass
    batch_writer.stop_accepting()  # new requests get UNAVAILABLE; what is queued is written at once
    grpc_server.stop(grace=30).wait()
    drained = batch_writer.close()
    if query_server is not None:
        query_server.shutdown()
    span_store.close()
    discovery.remove_state(state, os.getpid())
    stats = batch_writer.stats
    print(f"arc collector: stopped; {stats.spans_written} spans written in {stats.inserts} inserts "
          f"({stats.insert_seconds:.1f} s inserting), {stats.rejected_overload} overload answers, "
          f"{stats.dead_lettered_spans} spans dead-lettered"
          + (f" (in {batch_writer.dead_letter.path})" if stats.dead_lettered_spans else "")
          + (f", {stats.dead_letter_discarded_spans} discarded" if stats.dead_letter_discarded_spans else "")
          + ("" if drained else "; some spans stay in the span log for the next start"), flush=True)
    return 0 if drained else 1
