"""Where spans are written: one interface, two implementations (chDB on disk, ClickHouse server).

A store turns an OTLP request into its own batch payload (``prepare``, run on the receiving thread),
writes many payloads as ONE insert (``write``, run on the writer thread) and, for chDB, serves
read-only queries (``query``) — chDB lets one process open a data path, so reads go through us.
"""

from __future__ import annotations

import os
import queue
import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from arc_agent import settings
from arc_agent.collector import convert, rowbinary, schema, sqlguard


class StoreError(RuntimeError):
    pass


class StoreBusy(StoreError):
    """Every query slot is taken: the caller should answer 503 and retry later."""


@dataclass(frozen=True)
class QueryLimits:
    """Bounds on every query a client runs (ClickHouse settings of its read-only session)."""

    max_execution_time: float = 30.0  # seconds
    max_memory_usage: int = 1 << 30  # bytes
    max_result_rows: int = 10_000_000
    max_result_bytes: int = 256 << 20
    max_concurrent: int = 4  # queries at once; more get StoreBusy

    def connection_settings(self, tag: str) -> str:
        """Connection-string settings; ``readonly=1`` comes last, so nothing can change them after."""
        return (f"max_execution_time={self.max_execution_time:g}&max_memory_usage={self.max_memory_usage}"
                f"&max_result_rows={self.max_result_rows}&max_result_bytes={self.max_result_bytes}"
                f"&result_overflow_mode=throw&log_comment={tag}&readonly=1")


class StoreRejected(StoreError):
    """The store did not take every row of an insert (possibly without saying so)."""


def default_store_path() -> Path:
    """``ARC_STORE`` or ``~/.arc/store``."""
    return Path(os.path.expanduser(settings.text("ARC_STORE")))


@dataclass
class Prepared:
    """A request converted for one store: ``payload`` is whatever that store's ``write`` concatenates."""

    payload: Any
    spans: int


class Store(Protocol):
    options: schema.SchemaOptions

    def describe(self) -> str: ...

    def prepare(self, request) -> Prepared: ...

    def write(self, batch: list) -> None: ...

    def query(self, sql: str, fmt: str = "TabSeparated", tag: str = "") -> bytes: ...

    def run(self, sql: str, fmt: str = "TabSeparated", tag: str = "") -> tuple: ...

    def cancel(self, tag: str) -> None: ...

    def close(self) -> None: ...


def _insert_columns(options: schema.SchemaOptions) -> str:
    cols = ", ".join(f"`{c}`" for c in convert.COLUMNS)
    return f"INSERT INTO `{options.database}`.`{options.table}` ({cols})"


def _private_dir(path: Path) -> None:
    """Create ``path`` as 0700 (span data: owner only); tighten an existing folder we own; refuse one
    another user owns (they could read or replace what the collector writes there, collector.json too)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    owner = path.stat().st_uid
    if owner != os.getuid():
        raise StoreError(f"store folder {path} belongs to uid {owner}, not to this user; use a folder you own")
    os.chmod(path, 0o700)


class ChdbStore:
    """chDB on disk. ``writers`` connections insert (one INSERT each at a time). Each query gets a
    fresh read-only session with ``limits`` (chDB keeps settings per connection), so no client's state
    reaches another and a slow query holds only its own slot; a control connection cancels queries.

    The store folder is made 0700 (an existing one we own is tightened), so the files chDB creates
    inside are unreachable for other users whatever their own modes; ``arc collector`` also runs
    with umask 077, so the files it creates are 0600 and folders 0700.
    """

    def __init__(self, path: str | os.PathLike, options: schema.SchemaOptions | None = None,
                 writers: int = 1, limits: QueryLimits | None = None) -> None:
        import chdb  # slow to import (benchmarks/RESULTS.md): only the collector and direct readers pay it

        self._chdb = chdb
        self.limits = limits or QueryLimits()
        self.path = Path(path).expanduser().resolve()
        self.options = options or schema.SchemaOptions()
        _private_dir(self.path)
        try:
            first = chdb.connect(str(self.path))
        except Exception as exc:  # chDB: "Cannot lock file .../status" when another process owns it
            raise StoreError(f"cannot open store {self.path}: {exc} "
                             "(is another `arc collector` or reader using it?)") from exc
        self._connections = [first] + [chdb.connect(str(self.path)) for _ in range(max(1, writers) - 1)]
        self._spare: queue.SimpleQueue = queue.SimpleQueue()  # idle writer connections
        for conn in self._connections:
            self._spare.put(conn)
        for statement in schema.statements(self.options):
            first.query(statement)
        self._control = chdb.connect(str(self.path))  # KILL QUERY for cancelled requests
        self._control_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max(1, self.limits.max_concurrent))
        self._allowed = sqlguard.allowed_tables(self.options)
        self._insert = _insert_columns(self.options)
        self._count_sql = f"SELECT count() FROM `{self.options.database}`.`{self.options.table}`"
        self._write_lock = threading.Lock()

    def describe(self) -> str:
        return str(self.path)

    def prepare(self, request) -> Prepared:
        data, count = rowbinary.encode_request(request)
        return Prepared(data, count)

    def _count(self, conn) -> int:
        return int(conn.query(self._count_sql, "CSV").bytes())

    def write(self, batch: list) -> None:
        """One streaming RowBinary INSERT, verified by counting the table's rows before and after.

        Why a count: chDB's streaming insert (``send_insert().finish()``) does not raise when the
        engine refuses the rows (too many partitions, a violated constraint, ...), and the
        ``rows_written`` it returns counts rows parsed, not stored (151 for a refused insert of
        151 rows). The plain ``query()`` path raises, but cannot carry RowBinary bytes intact.
        ``count()`` of a MergeTree table is answered from part metadata (no data read), so two
        counts per batch are cheap next to the insert; the lock keeps other writers' rows out of
        the difference (one process owns a chDB store, and the query side is read-only). A TTL
        drop between the counts reads as a refusal: the writer then re-inserts, which can
        duplicate rows (at-least-once) but never loses them. Raises ``StoreRejected``.
        """
        data = b"".join(p.payload for p in batch)
        if not data:
            return
        expected = sum(p.spans for p in batch)
        conn = self._spare.get()
        try:
            with self._write_lock:
                before = self._count(conn)
                with conn.send_insert(self._insert, "RowBinary") as inserter:
                    inserter.append(data)
                    inserter.finish()
                stored = self._count(conn) - before
        finally:
            self._spare.put(conn)
        if stored != expected:
            raise StoreRejected(f"chDB stored {stored} of {expected} rows of an insert (refused without an error)")

    def query(self, sql: str, fmt: str = "TabSeparated", tag: str = "") -> bytes:
        """The output of ``sql`` (see ``run``)."""
        return self.run(sql, fmt, tag)[0]

    def run(self, sql: str, fmt: str = "TabSeparated", tag: str = "") -> tuple:
        """Vet ``sql`` (``sqlguard``) and run it in its own read-only session; ``tag`` names it for
        ``cancel``. Returns ``(output, format)`` (the query's FORMAT clause wins over ``fmt``).
        Raises ``RefusedQuery``, ``StoreBusy`` or ``StoreError`` (the engine's message)."""
        if not self._slots.acquire(blocking=False):
            raise StoreBusy(f"all {self.limits.max_concurrent} query slots are busy; retry later")
        tag = tag if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", tag or "") else f"arc-query-{uuid.uuid4().hex}"
        try:
            conn = self._chdb.connect(f"{self.path}?{self.limits.connection_settings(tag)}")
        except Exception as exc:
            self._slots.release()
            raise StoreError(f"cannot open a query session: {exc}") from exc
        try:
            def engine(text: str, params: dict) -> str:
                return conn.query(text, "TSVRaw", params=params).bytes().decode("utf-8", "replace")

            vetted = sqlguard.vet(engine, sql, self._allowed)  # unqualified names: the session's `default`
            try:
                output = conn.query(vetted.sql, vetted.fmt or fmt).bytes()
            except Exception as exc:
                raise StoreError(str(exc)) from exc
            # ClickHouse checks max_result_bytes on table reads only (a result computed from no table
            # is bounded by max_memory_usage, which counts the output): the same answer for both
            if len(output) > self.limits.max_result_bytes:
                raise StoreError(f"Limit for result exceeded: {len(output)} bytes, max_result_bytes "
                                 f"{self.limits.max_result_bytes} (TOO_MANY_ROWS_OR_BYTES)")
            return output, vetted.fmt or fmt
        finally:
            conn.close()
            self._slots.release()

    def cancel(self, tag: str) -> None:
        """Stop the query tagged ``tag`` (the client went away); no-op if it already ended."""
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", tag):
            return
        with self._control_lock:
            self._control.query(f"KILL QUERY WHERE Settings['log_comment'] = '{tag}' ASYNC", "TSV")

    def close(self) -> None:
        for conn in [getattr(self, "_control", None), *getattr(self, "_connections", [])]:
            if conn is not None:
                try:
                    conn.close()
                except Exception:  # closing twice or after a failed open
                    pass


def parse_clickhouse_url(url: str) -> dict:
    """``tcp://user:pass@host:9000/db?secure=1`` -> clickhouse-driver ``Client`` keyword arguments."""
    parts = urlsplit(url)
    if parts.scheme not in ("tcp", "clickhouse", "tcps"):
        raise StoreError(f"bad --clickhouse URL {url!r}: use tcp://host:9000/database")
    if not parts.hostname:
        raise StoreError(f"bad --clickhouse URL {url!r}: no host")
    kwargs: dict = {"host": parts.hostname, "port": parts.port or 9000}
    database = parts.path.strip("/")
    if database:
        kwargs["database"] = database
    if parts.username:
        kwargs["user"] = unquote(parts.username)
    if parts.password:
        kwargs["password"] = unquote(parts.password)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if parts.scheme == "tcps" or query.get("secure") in ("1", "true"):
        kwargs["secure"] = True
    if query.get("compression"):
        kwargs["compression"] = query["compression"]
    return kwargs


class ClickHouseServerStore:
    """A ClickHouse server over the native protocol (clickhouse-driver); reads go to its own HTTP port."""

    def __init__(self, url: str, options: schema.SchemaOptions | None = None, create_schema: bool = True) -> None:
        from clickhouse_driver import Client

        kwargs = parse_clickhouse_url(url)
        if options is None:
            options = schema.SchemaOptions(database=kwargs.get("database", schema.DEFAULT_DATABASE))
        self.options = options
        self._safe_url = f"tcp://{kwargs['host']}:{kwargs['port']}/{options.database}"  # no password
        kwargs.pop("database", None)  # the DDL creates it; connect to the server's default first
        self._client = Client(**kwargs)
        self._lock = threading.Lock()
        try:
            if create_schema:
                for statement in schema.statements(options):
                    self._client.execute(statement)
        except Exception as exc:
            raise StoreError(f"cannot prepare ClickHouse at {self._safe_url}: {exc}") from exc
        self._insert = _insert_columns(options) + " VALUES"

    def describe(self) -> str:
        return self._safe_url

    def prepare(self, request) -> Prepared:
        rows = convert.span_rows(request)
        return Prepared(rows, len(rows))

    def write(self, batch: list) -> None:
        rows = [row for p in batch for row in p.payload]
        if not rows:
            return
        with self._lock:
            written = self._client.execute(self._insert, rows)  # raises on a refusal (native protocol)
        if isinstance(written, int) and written != len(rows):
            raise StoreRejected(f"ClickHouse took {written} of {len(rows)} rows of an insert")

    def cancel(self, tag: str) -> None:
        pass

    def run(self, sql: str, fmt: str = "TabSeparated", tag: str = "") -> tuple:
        return self.query(sql, fmt, tag), fmt

    def query(self, sql: str, fmt: str = "TabSeparated", tag: str = "") -> bytes:
        raise StoreError("with --clickhouse, read from the ClickHouse server's own HTTP interface "
                         "(port 8123) with a read-only user")

    def close(self) -> None:
        try:
            self._client.disconnect()
        except Exception:  # already disconnected
            pass


def open_store(store: str | None = None, clickhouse: str | None = None,
               options: schema.SchemaOptions | None = None, writers: int = 1,
               limits: QueryLimits | None = None) -> Store:
    if store and clickhouse:
        raise StoreError("give either --store PATH or --clickhouse URL, not both")
    if clickhouse:
        return ClickHouseServerStore(clickhouse, options)
    return ChdbStore(store or default_store_path(), options, writers=writers, limits=limits)
